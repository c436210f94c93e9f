"""The Customers screen: columns, filters, sorting, paging, the gears and a constant number of queries."""

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.choices import NotSyncingReason, SyncStatus, SyncTrigger
from syncapp.models import Customer, HaloLink, Site
from syncapp.selectors.customers import customer_table_rows, last_complete_sync_at, last_synced_at
from syncapp.views.customers import CUSTOMER_LIST_DEPTH
from tests.factories import CustomerFactory, HaloLinkFactory, SiteFactory, SyncRunFactory, bulk_create_links

URL = reverse("syncapp:customer-list")
UNLINKED_WARNING = "Invoices will not export to HaloPSA without a HaloPSA id."
# Session, user, the user's group and direct permissions, the invoice export readiness counts, the last finished run
# (carrying when the last complete sync finished), the count and the page itself.
CUSTOMER_LIST_QUERIES = 8

pytestmark = pytest.mark.django_db


def names_in(response) -> list[str]:
    return [row.name for row in response.context["table"].page.object_list.data]


def test_lists_customers_with_their_columns(billing_client, settings) -> None:
    settings.HALO_RESOURCE_URL = "https://acme.halopsa.com"
    link = HaloLinkFactory(customer__name="Linked Co", halo_id=321)
    SiteFactory(customer=link.customer)
    SiteFactory(customer=link.customer)
    SiteFactory(customer=link.customer, is_active=False)
    CustomerFactory(name="Typed In Ltd")
    response = billing_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for header in ("Customer", "HaloPSA id", "Sites", "Status", "Last synced"):
        assert header in html
    assert 'href="https://acme.halopsa.com/customers?clientid=321"' in html
    assert UNLINKED_WARNING in html
    rows = {row.name: row for row in response.context["table"].page.object_list.data}
    assert rows["Linked Co"].active_site_count == 2
    assert rows["Typed In Ltd"].link_halo_id is None


def test_halopsa_id_is_plain_text_without_a_resource_url(billing_client, settings) -> None:
    settings.HALO_RESOURCE_URL = ""
    HaloLinkFactory(halo_id=654)
    html = billing_client.get(URL).content.decode()
    assert "654" in html
    assert "clientid=654" not in html


def test_status_shows_not_syncing_with_the_reason(billing_client) -> None:
    HaloLinkFactory(customer__name="Unticked Co", not_syncing_reason=NotSyncingReason.UNTICKED)
    HaloLinkFactory(customer__name="Gone Co", not_syncing_reason=NotSyncingReason.MISSING, customer__is_active=False)
    html = billing_client.get(URL).content.decode()
    assert "Not syncing" in html
    assert "Datagate box unticked in HaloPSA" in html
    assert "Client no longer found in HaloPSA" in html
    assert "Inactive" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "acme"}, ["Acme Linked", "acme unlinked"]),
        ({"linked": "yes"}, ["Acme Linked", "Paused Co"]),
        ({"linked": "no"}, ["acme unlinked", "Dormant Ltd"]),
        ({"active": "no"}, ["Dormant Ltd"]),
        ({"active": "yes"}, ["Acme Linked", "acme unlinked", "Paused Co"]),
        ({"syncing": "yes"}, ["Acme Linked"]),
        ({"syncing": "no"}, ["acme unlinked", "Dormant Ltd", "Paused Co"]),
        ({"q": "acme", "linked": "no"}, ["acme unlinked"]),
    ],
)
def test_filters(billing_client, query: dict, expected: list[str]) -> None:
    HaloLinkFactory(customer__name="Acme Linked")
    HaloLinkFactory(customer__name="Paused Co", not_syncing_reason=NotSyncingReason.UNTICKED)
    CustomerFactory(name="acme unlinked")
    CustomerFactory(name="Dormant Ltd", is_active=False)
    response = billing_client.get(URL, query)
    assert response.status_code == 200
    assert names_in(response) == expected


def test_a_bad_filter_value_is_ignored_not_a_crash(billing_client) -> None:
    CustomerFactory(name="Anything")
    response = billing_client.get(URL, {"linked": "maybe", "page": "x", "per_page": "9999", "sort": "nonsense"})
    assert response.status_code == 200


def test_filters_matching_nothing_say_so_and_offer_to_clear(billing_client) -> None:
    CustomerFactory(name="Acme")
    html = billing_client.get(URL, {"q": "zzz"}).content.decode()
    assert "No customers match these filters" in html
    assert "Clear filters" in html


def test_no_customers_at_all_points_to_the_gears(operator_client) -> None:
    html = operator_client.get(URL).content.decode()
    assert "No customers yet" in html
    assert reverse("syncapp:sync-halopsa") in html


def test_billing_staff_are_not_offered_a_sync_they_may_not_start(billing_client) -> None:
    html = billing_client.get(URL).content.decode()
    assert reverse("syncapp:sync-halopsa") not in html  # neither the gears item nor the empty state's button
    assert 'aria-disabled="true"' in html and "needs the “Sync operators” role" in html


def test_while_the_first_import_runs_the_empty_list_says_so(billing_client) -> None:
    run = SyncRunFactory(status=SyncStatus.RUNNING, trigger=SyncTrigger.SCHEDULED, heartbeat_at=timezone.now())
    html = billing_client.get(URL).content.decode()
    assert "A sync (schedule) is importing the ticked HaloPSA clients now" in html
    assert run.get_absolute_url() in html


def test_sorts_by_sites_and_by_halopsa_id(billing_client) -> None:
    few = HaloLinkFactory(customer__name="Few", halo_id=900).customer
    many = HaloLinkFactory(customer__name="Many", halo_id=100).customer
    SiteFactory.create_batch(3, customer=many)
    SiteFactory(customer=few)
    assert names_in(billing_client.get(URL, {"sort": "-active_site_count"})) == ["Many", "Few"]
    assert names_in(billing_client.get(URL, {"sort": "link_halo_id"})) == ["Many", "Few"]
    assert names_in(billing_client.get(URL, {"sort": "-name"})) == ["Many", "Few"]


def test_pages_and_page_sizes(billing_client) -> None:
    Customer.objects.bulk_create(Customer(name=f"Customer {n:03d}") for n in range(60))
    first = billing_client.get(URL)
    assert len(names_in(first)) == 25
    assert "1\N{EN DASH}25 of 60" in first.content.decode()
    last = billing_client.get(URL, {"page": 3})
    assert names_in(last) == [f"Customer {n:03d}" for n in range(50, 60)]
    assert len(names_in(billing_client.get(URL, {"per_page": 50}))) == 50
    assert len(names_in(billing_client.get(URL, {"per_page": 7}))) == 25  # not an offered size
    assert names_in(billing_client.get(URL, {"page": 99})) == names_in(last)  # past the end: the last page


def test_gears_offer_halopsa_when_no_run_is_open(billing_client) -> None:
    SyncRunFactory(status=SyncStatus.SUCCEEDED)
    html = billing_client.get(URL).content.decode()
    assert 'id="sync-halopsa-link"' in html
    assert "Sync running since" not in html


@pytest.mark.parametrize("status", [SyncStatus.QUEUED, SyncStatus.RUNNING])
def test_gears_link_to_the_open_run_instead_of_a_second_one(billing_client, status: str) -> None:
    run = SyncRunFactory(status=status)
    html = billing_client.get(URL).content.decode()
    assert "Sync running since" in html
    assert f'href="{run.get_absolute_url()}"' in html
    assert 'id="sync-halopsa-link"' not in html


def test_needs_the_view_permission(client, django_user_model) -> None:
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(URL).status_code == 403


def _bulk_customers(count: int) -> None:
    """`count` customers: every other one linked (some not syncing), each with a site; bulk inserts keep it fast."""
    customers = Customer.objects.bulk_create(Customer(name=f"Customer {n:05d}") for n in range(count))
    bulk_create_links(
        HaloLink(
            customer=customer,
            halo_id=10_000 + n,
            method="imported",
            not_syncing_reason=NotSyncingReason.UNTICKED if n % 10 == 0 else "",
        )
        for n, customer in enumerate(customers)
        if n % 2 == 0
    )
    Site.objects.bulk_create(Site(customer=customer, name="Head office") for customer in customers)


@pytest.mark.parametrize("count", [10, 10_000])
def test_queries_do_not_grow_with_the_number_of_customers(billing_client, django_assert_num_queries, count) -> None:
    _bulk_customers(count)
    with django_assert_num_queries(CUSTOMER_LIST_QUERIES):
        response = billing_client.get(URL)
    assert response.status_code == 200
    paginator = response.context["table"].paginator
    assert paginator.count == min(count, CUSTOMER_LIST_DEPTH)
    assert paginator.capped == (count > CUSTOMER_LIST_DEPTH)


@pytest.mark.parametrize("per_page", [25, 250])
def test_queries_do_not_grow_with_the_page_size(billing_client, django_assert_num_queries, per_page) -> None:
    _bulk_customers(300)
    with django_assert_num_queries(CUSTOMER_LIST_QUERIES):
        response = billing_client.get(URL, {"per_page": per_page, "sort": "-active_site_count", "linked": "yes"})
    assert len(names_in(response)) == min(per_page, 150)


def test_last_synced_is_the_last_complete_sync_for_syncing_customers(billing_client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from syncapp.choices import NotSyncingReason, SyncStatus
    from tests.factories import HaloLinkFactory, SyncRunFactory

    long_ago = timezone.now() - timedelta(days=30)
    checked = timezone.now() - timedelta(hours=1)
    syncing = HaloLinkFactory(customer__name="Syncing Co", linked_at=long_ago, last_synced_at=long_ago)
    HaloLinkFactory(
        customer__name="Unticked Co",
        linked_at=long_ago,
        last_synced_at=long_ago,
        not_syncing_reason=NotSyncingReason.UNTICKED,
    )
    SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=checked)
    SyncRunFactory(status=SyncStatus.FAILED, finished_at=timezone.now())  # a failed run checked nothing
    rows = {c.name: c.link_last_synced_at for c in customer_table_rows(checked_at=last_complete_sync_at())}
    assert rows == {"Syncing Co": checked, "Unticked Co": long_ago}
    assert last_synced_at(syncing) == checked


def test_pages_stop_at_the_depth_and_say_how_to_go_further(billing_client, settings, monkeypatch) -> None:
    monkeypatch.setattr("syncapp.views.customers.CUSTOMER_LIST_DEPTH", 50)
    Customer.objects.bulk_create(Customer(name=f"Customer {n:03d}") for n in range(80))
    first = billing_client.get(URL).content.decode()
    assert "1\N{EN DASH}25 of more than 50" in first
    assert "Pages stop after" not in first
    last = billing_client.get(URL, {"page": 99})  # past the depth: the deepest page offered
    assert names_in(last) == [f"Customer {n:03d}" for n in range(25, 50)]
    assert "Pages stop after the first 50. Search, filter or jump to a letter" in last.content.decode()
    searched = billing_client.get(URL, {"q": "customer 07"}).content.decode()  # 007 and 070-079
    assert "1\N{EN DASH}11 of 11" in searched


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"letter": "m"}, ["Mango", "mid co", "Zeta"]),
        ({"letter": "M"}, ["Mango", "mid co", "Zeta"]),
        ({"letter": "m", "sort": "-name"}, ["mid co", "Mango", "Alpha", "7-Eleven"]),
        ({"letter": "n"}, ["Zeta"]),
        ({"letter": "0"}, ["7-Eleven", "Alpha", "Mango", "mid co", "Zeta"]),  # not a letter: the whole list
        ({"letter": "mm"}, ["7-Eleven", "Alpha", "Mango", "mid co", "Zeta"]),
        # Letters jump along the name order only; another order ignores them (equal counts: name order, reversed).
        ({"letter": "m", "sort": "-active_site_count"}, ["Zeta", "mid co", "Mango", "Alpha", "7-Eleven"]),
    ],
)
def test_jump_to_a_letter(billing_client, query, expected) -> None:
    for name in ("Zeta", "mid co", "Alpha", "Mango", "7-Eleven"):
        CustomerFactory(name=name)
    response = billing_client.get(URL, query)
    assert response.status_code == 200
    assert names_in(response) == expected


def test_the_letter_bar_keeps_the_filters_and_starts_at_page_one(billing_client) -> None:
    CustomerFactory(name="Mango")
    html = billing_client.get(URL, {"linked": "no", "page": "1"}).content.decode()
    assert 'href="?linked=no&amp;letter=m"' in html
    assert 'aria-label="Jump to a letter"' not in billing_client.get(URL, {"sort": "status"}).content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"page": 2},
        {"page": 9999},
        {"letter": "c", "page": 3},
        {"sort": "-active_site_count", "page": 4},
        {"q": "0001"},
    ],
)
def test_deep_and_past_the_end_pages_run_the_same_queries(billing_client, django_assert_num_queries, query) -> None:
    _bulk_customers(300)
    with django_assert_num_queries(CUSTOMER_LIST_QUERIES):
        response = billing_client.get(URL, query)
    assert response.status_code == 200
    assert names_in(response)
