"""First smoke test of the engine."""

from syncapp.models import Customer


def test_import(run_sync, add_client) -> None:
    add_client("Acme Pty Ltd", accountsemailaddress="a@acme.example; b@acme.example")
    run = run_sync()
    assert run.status == "succeeded", run.error_message
    customer = Customer.objects.get()
    assert customer.name == "Acme Pty Ltd"
    assert customer.city == "Sydney"
