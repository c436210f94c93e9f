"""History you can audit: a customer's history and a run's changes filtered and exported as CSV."""

import csv
import io
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.choices import ChangeAction, ChangeOrigin, SyncStatus
from syncapp.models import FieldChange
from tests.factories import (
    CustomerFactory,
    FieldChangeFactory,
    HaloLinkFactory,
    SiteFactory,
    SyncRunFactory,
    UserFactory,
)

# Session, user, group and user permissions, the customer with its link, the Extra Field labels, the person
# choices, the last complete sync, customers merged into it, its one-client sync state, the page's version (for
# the self-refresh), the sites, the history count and page (a linked customer has no duplicates).
CUSTOMER_PAGE_QUERIES = 14


def _at(day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(2026, 11, day, hour, 0))


@pytest.fixture
def history(billing_user):
    """A linked customer with sync, staff and link rows on three days, by two people."""
    customer = CustomerFactory(name="Acme Pty Ltd")
    HaloLinkFactory(customer=customer)
    run = SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=_at(2))
    casey = UserFactory(username="casey", first_name="Casey", last_name="Clerk")
    rows = {
        "sync_name": FieldChangeFactory(customer=customer, sync_run=run, field="name", changed_at=_at(2)),
        "sync_city": FieldChangeFactory(customer=customer, sync_run=run, field="city", changed_at=_at(2)),
        "staff_country": FieldChangeFactory(
            customer=customer,
            sync_run=None,
            origin=ChangeOrigin.STAFF,
            changed_by=casey,
            field="country",
            old_value="",
            new_value="Australia",
            changed_at=_at(3),
        ),
        "link": FieldChangeFactory(
            customer=customer,
            sync_run=None,
            origin=ChangeOrigin.LINK,
            changed_by=billing_user,
            action=ChangeAction.LINKED,
            field="halo_id",
            old_value="",
            new_value="77",
            changed_at=_at(4),
        ),
    }
    return customer, run, casey, rows


def _ids(response) -> set[int]:
    return {change.pk for change in response.context["history_page"].object_list}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"sync_name", "sync_city", "staff_country", "link"}),
        ({"field": "city"}, {"sync_city"}),
        ({"origin": "sync"}, {"sync_name", "sync_city"}),
        ({"origin": "staff"}, {"staff_country"}),
        ({"since": "2026-11-03"}, {"staff_country", "link"}),
        ({"until": "2026-11-02"}, {"sync_name", "sync_city"}),
        ({"since": "2026-11-03", "until": "2026-11-03"}, {"staff_country"}),
        ({"origin": "sync", "field": "name"}, {"sync_name"}),
    ],
)
def test_customer_history_filters(billing_client, history, query: dict, expected: set[str]) -> None:
    customer, _, _, rows = history
    assert _ids(billing_client.get(customer.get_absolute_url(), query)) == {rows[name].pk for name in expected}


def test_customer_history_filters_by_person(billing_client, history, billing_user) -> None:
    customer, _, casey, rows = history
    response = billing_client.get(customer.get_absolute_url(), {"person": casey.pk})
    assert _ids(response) == {rows["staff_country"].pk}
    # Only people who changed this customer are offered.
    offered = {user.pk for user in response.context["history_filter"].form.fields["person"].queryset}
    assert offered == {casey.pk, billing_user.pk}


@pytest.mark.parametrize("query", [{"since": "not-a-date"}, {"person": "999999"}, {"origin": "aliens"}])
def test_a_bad_filter_value_is_said_on_the_form_and_filters_nothing(billing_client, history, query: dict) -> None:
    customer, _, _, rows = history
    response = billing_client.get(customer.get_absolute_url(), query)
    assert response.status_code == 200
    assert _ids(response) == {row.pk for row in rows.values()}
    assert 'class="field-error"' in response.content.decode()


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_customer_history_csv_has_the_filtered_rows_with_who_and_which_run(billing_client, history) -> None:
    customer, run, _, _ = history
    url = reverse("syncapp:customer-history-csv", args=[customer.pk])
    everything = _csv(billing_client.get(url))
    assert len(everything) == 4
    staff = _csv(billing_client.get(url, {"origin": "staff"}))
    assert staff == [
        {
            "When": timezone.localtime(_at(3)).isoformat(),
            "Customer": "Acme Pty Ltd",
            "Customer id": str(customer.pk),
            "Site": "",
            "What": "Changed",
            "Field": "Country",
            "Field name": "country",
            "Old value": "",
            "New value": "Australia",
            "Origin": "Staff edit",
            "Sync run": "",
            "Person": "Casey Clerk",
        }
    ]
    synced = _csv(billing_client.get(url, {"origin": "sync"}))
    assert {row["Sync run"] for row in synced} == {f"#{run.pk}"}


def test_the_export_link_carries_the_filters(billing_client, history) -> None:
    customer, *_ = history
    html = billing_client.get(customer.get_absolute_url(), {"origin": "staff"}).content.decode()
    assert f"{reverse('syncapp:customer-history-csv', args=[customer.pk])}?origin=staff" in html


@pytest.mark.parametrize("changes", [2, 40])
def test_the_customer_page_takes_the_same_queries_however_long_its_history(
    billing_client, django_assert_num_queries, changes: int
) -> None:
    customer = CustomerFactory()
    HaloLinkFactory(customer=customer)
    run = SyncRunFactory()
    FieldChange.objects.bulk_create(
        FieldChange(customer=customer, sync_run=run, origin=ChangeOrigin.SYNC, field="city", new_value=str(n))
        for n in range(changes)
    )
    with django_assert_num_queries(CUSTOMER_PAGE_QUERIES):
        billing_client.get(customer.get_absolute_url(), {"origin": "sync"})


# --- a run's changes ---------------------------------------------------------------------------------------------


@pytest.fixture
def run_changes():
    run = SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    acme = CustomerFactory(name="Acme Pty Ltd")
    blue = CustomerFactory(name="Blue Sky")
    site = SiteFactory(customer=acme, name="Depot")
    rows = {
        "created": FieldChangeFactory(
            customer=acme, sync_run=run, action=ChangeAction.CREATED, field="", new_value="Acme"
        ),
        "renamed": FieldChangeFactory(customer=acme, sync_run=run, field="name"),
        "deactivated": FieldChangeFactory(
            customer=blue, sync_run=run, field="is_active", old_value="Active", new_value="Inactive"
        ),
        "site_created": FieldChangeFactory(
            customer=acme, site=site, sync_run=run, action=ChangeAction.CREATED, field="", new_value="Depot"
        ),
        "site_closed": FieldChangeFactory(
            customer=acme, site=site, sync_run=run, field="is_active", old_value="Active", new_value="Inactive"
        ),
    }
    return run, rows


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"what": "created", "record": "customer"}, {"created"}),
        ({"what": "changed"}, {"renamed", "deactivated", "site_closed"}),
        ({"what": "deactivated", "record": "customer"}, {"deactivated"}),
        ({"what": "deactivated", "record": "site"}, {"site_closed"}),
        ({"record": "site"}, {"site_created", "site_closed"}),
        ({"customer": "blue"}, {"deactivated"}),
        ({"field": "name"}, {"renamed"}),
        ({"what": "reactivated"}, set()),
    ],
)
def test_run_change_filters(billing_client, run_changes, query: dict, expected: set[str]) -> None:
    run, rows = run_changes
    response = billing_client.get(run.get_absolute_url(), query)
    assert {row.record.pk for row in response.context["table"].rows} == {rows[name].pk for name in expected}


def test_run_changes_csv_has_the_filtered_rows(billing_client, run_changes) -> None:
    run, rows = run_changes
    url = reverse("syncapp:run-changes-csv", args=[run.pk])
    assert len(_csv(billing_client.get(url))) == len(rows)
    deactivated = _csv(billing_client.get(url, {"what": "deactivated"}))
    assert sorted((row["Customer"], row["Site"], row["New value"]) for row in deactivated) == [
        ("Acme Pty Ltd", "Depot", "Inactive"),
        ("Blue Sky", "", "Inactive"),
    ]
    assert {row["Sync run"] for row in deactivated} == {f"#{run.pk}"}


@pytest.mark.parametrize("name", ["customer-history-csv", "run-changes-csv"])
def test_csv_exports_need_the_view_permission(client, django_user_model, history, name: str) -> None:
    customer, run, *_ = history
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    pk = customer.pk if name == "customer-history-csv" else run.pk
    assert client.get(reverse(f"syncapp:{name}", args=[pk])).status_code == 403


def test_csv_of_an_unknown_customer_or_run_is_404(billing_client) -> None:
    assert billing_client.get(reverse("syncapp:customer-history-csv", args=[999_999])).status_code == 404
    assert billing_client.get(reverse("syncapp:run-changes-csv", args=[999_999])).status_code == 404


def test_a_deactivation_is_not_shown_in_success_green(billing_client, run_changes) -> None:
    _, rows = run_changes
    html = billing_client.get(rows["deactivated"].customer.get_absolute_url()).content.decode()
    assert '<span class="state-off new-state">Inactive</span>' in html
    assert '<ins class="new">Inactive</ins>' not in html


def test_history_times_carry_their_zone(billing_client, history, settings) -> None:
    settings.TIME_ZONE = "Australia/Perth"
    customer, *_ = history
    html = billing_client.get(customer.get_absolute_url()).content.decode()
    assert "2 Nov 2026, 20:00 AWST" in html  # noon UTC is 8 pm in Perth
    assert 'title="Mon 2 Nov 2026, 20:00:00 AWST (Australia/Perth)"' in html
