"""The import hold-back: a ticked client that scores High against an unlinked customer is not imported twice."""

import pytest

from syncapp.choices import DuplicateStatus, SyncStatus
from syncapp.models import Customer, DuplicateCandidate, HaloClientEntry, HaloLink
from tests.factories import CustomerFactory, HaloLinkFactory

pytestmark = pytest.mark.django_db


def test_a_similar_name_with_the_same_phone_is_held_back_with_its_score_and_reasons(run_sync, add_client) -> None:
    # The case: typed as "Knight and Gibson", ticked in HaloPSA as "Knight & Gibson Partners".
    local = CustomerFactory(name="Knight and Gibson", contact_phone="(02) 9000 0000", postcode="2000", city="")
    client = add_client("Knight & Gibson Partners")

    run = run_sync()

    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    assert (run.created_count, run.duplicate_count) == (0, 1)
    assert list(Customer.objects.all()) == [local]
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.customer, candidate.halo_id, candidate.status) == (local, client["id"], DuplicateStatus.OPEN)
    assert candidate.score >= 60
    assert "same phone" in candidate.reasons and "same postcode" in candidate.reasons
    assert any(reason.startswith("same name") for reason in candidate.reasons)


def test_the_score_not_the_name_decides_same_phone_and_domain_under_another_name(run_sync, add_client) -> None:
    local = CustomerFactory(
        name="Coastal IT", contact_phone="02 9000 0000", invoice_email_to="accounts@coastal-it.example"
    )
    add_client("Coastal Information Technology", accountsemailaddress="billing@coastal-it.example")
    run = run_sync()
    assert (run.created_count, run.duplicate_count) == (0, 1)
    assert set(DuplicateCandidate.objects.get().reasons) >= {"same phone", "same e-mail domain"}
    assert DuplicateCandidate.objects.get().customer == local


def test_a_firm_in_the_same_suburb_is_imported_not_held_back(run_sync, add_client) -> None:
    CustomerFactory(name="Harbour View Dental", postcode="2000", city="Sydney", contact_phone="")
    add_client("George Street Plumbing")  # main site in Sydney 2000 too
    run = run_sync()
    assert (run.created_count, run.duplicate_count) == (1, 0)
    assert not DuplicateCandidate.objects.exists()


def test_different_companies_is_remembered_and_the_next_sync_imports(run_sync, add_client) -> None:
    local = CustomerFactory(name="Knight and Gibson", contact_phone="02 9000 0000")
    client = add_client("Knight & Gibson Partners")
    run_sync()
    run_sync()
    assert DuplicateCandidate.objects.count() == 1  # recorded once, not once per run
    DuplicateCandidate.objects.update(status=DuplicateStatus.DIFFERENT)
    run = run_sync()
    assert (run.created_count, run.duplicate_count) == (1, 0)
    assert HaloLink.objects.get().halo_id == client["id"]
    assert not HaloLink.objects.filter(customer=local).exists()


def test_the_hold_back_threshold_is_a_setting(run_sync, add_client, settings) -> None:
    settings.DUPLICATE_HOLD_BACK_SCORE = 95  # only name + phone + more would reach it
    CustomerFactory(name="Knight and Gibson", contact_phone="02 9000 0000")
    add_client("Knight & Gibson Partners")
    run = run_sync()
    assert (run.created_count, run.duplicate_count) == (1, 0)


def test_linked_and_merged_away_customers_never_hold_a_client_back(run_sync, add_client) -> None:
    kept = HaloLinkFactory(halo_id=999, customer__name="Other Firm").customer
    CustomerFactory(name="Acme Pty Ltd", merged_into=kept, is_active=False)
    HaloLinkFactory(halo_id=998, customer__name="Acme Proprietary Limited")
    add_client("Acme Pty Ltd")
    run = run_sync()
    assert (run.created_count, run.duplicate_count) == (1, 0)


def test_the_clients_seen_keep_what_the_score_compares(run_sync, add_client) -> None:
    client = add_client("Acme Pty Ltd", ticked=False, accountsemailaddress="Accounts@Acme.example")
    run_sync()
    entry = HaloClientEntry.objects.get(halo_id=client["id"])
    assert (entry.phone_digits, entry.email_domain, entry.postcode, entry.address_1, entry.city, entry.name_tokens) == (
        "90000000",
        "acme.example",
        "2000",
        "1 george st",
        "sydney",
        "acme",
    )
    run = run_sync()
    assert run.status == SyncStatus.SUCCEEDED
    assert HaloClientEntry.objects.get(halo_id=client["id"]).last_seen_at == entry.last_seen_at  # nothing rewritten
