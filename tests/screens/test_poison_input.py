"""Staff input holding NUL or other control characters gets a clear answer, never a 500 (PostgreSQL refuses NUL)."""

import pytest
from django.urls import reverse

from syncapp.models import Customer, FieldChange
from tests.factories import CustomerFactory, FieldChangeFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

POISON = ["a\x00b", "\x00", "x\x1by", "x\x7fy"]


@pytest.fixture
def customer() -> Customer:
    customer = CustomerFactory(name="Acme Pty Ltd")
    FieldChangeFactory(customer=customer, field="name", old_value="Acme", new_value="Acme Pty Ltd")
    return customer


@pytest.mark.parametrize("value", POISON)
def test_the_history_field_filter_refuses_poison_and_says_so(editor_client, customer, value) -> None:
    response = editor_client.get(reverse("syncapp:customer-detail", args=[customer.pk]), {"field": value})
    # The field filter is a choice: an unknown value is refused beside the field and filters nothing (no query
    # ever carries it, so PostgreSQL never sees the NUL).
    html = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in html and "\x00" not in html
    assert "Acme Pty Ltd" in html  # the page itself is still shown


@pytest.mark.parametrize("value", POISON)
@pytest.mark.parametrize("param", ["q", "linked", "active", "syncing", "sort", "page", "per_page"])
def test_the_customer_list_answers_poison_filters_with_a_message(billing_client, customer, param, value) -> None:
    response = billing_client.get(reverse("syncapp:customer-list"), {param: value})
    refused = param == "q" and "\x00" in value
    assert response.status_code == (400 if refused else 200)
    assert "\x00" not in response.content.decode()
    if param == "q" and "\x00" in value:
        assert response.status_code == 400
        assert "Null characters are not allowed" in response.content.decode()


@pytest.mark.parametrize("value", POISON)
def test_a_run_change_filter_with_poison_is_refused_with_a_message(billing_client, value) -> None:
    run = SyncRunFactory()
    response = billing_client.get(reverse("syncapp:run-detail", args=[run.pk]), {"customer": value})
    assert response.status_code == (400 if "\x00" in value else 200)
    response = billing_client.get(reverse("syncapp:run-detail", args=[run.pk]), {"field": value})
    assert response.status_code == 200  # a choice that is not one is ignored, and said so
    assert "Select a valid choice" in response.content.decode()
    assert "\x00" not in response.content.decode()


@pytest.mark.parametrize("value", POISON)
def test_a_poisoned_edit_is_refused_and_changes_nothing(editor_client, value) -> None:
    customer = CustomerFactory(name="Local Co")
    rows = FieldChange.objects.count()
    response = editor_client.post(reverse("syncapp:customer-edit", args=[customer.pk]), {"name": value, "city": value})
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.name == "Local Co" and FieldChange.objects.count() == rows
    assert "\x00" not in response.content.decode() and "\x1b" not in response.content.decode()


@pytest.mark.parametrize("value", POISON)
def test_a_poisoned_halopsa_reference_is_refused(billing_client, value) -> None:
    customer = CustomerFactory(name="Local Co")
    response = billing_client.post(
        reverse("syncapp:match-customer", args=[customer.pk]), {"halo_reference": value, "step": "check"}
    )
    assert response.status_code == 400
    assert "\x00" not in response.content.decode() and "\x1b" not in response.content.decode()


def test_a_run_page_shows_stored_failures_escaped_and_short(billing_client) -> None:
    run = SyncRunFactory(
        status="partial",
        failed_count=1,
        failures=[{"halo_id": 7, "name": "Bad\x1b" + "y" * 5000, "message": "z" * 900}],
    )
    html = billing_client.get(reverse("syncapp:run-detail", args=[run.pk])).content.decode()
    assert "\x1b" not in html and "Bad\\x1b" in html  # PostgreSQL jsonb refuses NUL itself
    assert "y" * 300 not in html and "z" * 300 not in html
