"""The Customers list sorted by HaloPSA id: ids first, then the unlinked by name, paged by index walks, not sorts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from syncapp.choices import LinkMethod, NotSyncingReason
from syncapp.models import Customer, HaloLink
from syncapp.selectors.customer_order import halo_id_order_parts
from syncapp.selectors.customers import customer_table_rows
from syncapp.selectors.ordered_parts import ids_of_parts
from tests.factories import bulk_create_links
from tests.screens.customer_pages import customers_filtered, ids_on_every_page

URL = reverse("syncapp:customer-list")
pytestmark = pytest.mark.django_db
# As tests/screens/test_customer_list.py: a list page in HaloPSA id order reads the page's ids, then its rows.
CUSTOMER_LIST_QUERIES = 8
HALO_ID_ORDER_QUERIES = CUSTOMER_LIST_QUERIES + 1


def _customers(count: int, *, linked_every: int = 3) -> list[Customer]:
    """Mixed case names, inactive and not-syncing ones; every `linked_every`-th one unlinked; ids out of name order."""
    customers = Customer.objects.bulk_create(
        Customer(name=f"{'aAbB'[n % 4]}customer {(n * 7919) % count:05d}", is_active=n % 5 != 0) for n in range(count)
    )
    bulk_create_links(
        HaloLink(
            customer=customer,
            halo_id=(n * 104_729) % 1_000_003 + 1,
            method=LinkMethod.IMPORTED,
            not_syncing_reason=NotSyncingReason.UNTICKED if n % 7 == 0 else "",
        )
        for n, customer in enumerate(customers)
        if n % linked_every
    )
    return customers


def _expected(queryset, *, descending: bool) -> list[int]:
    """The order staff are promised, worked out in Python: ids (either way), then the unlinked by name and id."""
    rows = list(queryset.values_list("pk", "name", "halo_link__halo_id"))
    linked = sorted((row for row in rows if row[2] is not None), key=lambda row: row[2], reverse=descending)
    unlinked = sorted(
        (row for row in rows if row[2] is None), key=lambda row: (row[1].lower(), row[0]), reverse=descending
    )
    return [row[0] for row in [*linked, *unlinked]]


FILTERS = [{}, {"is_active": False}, {"halo_link__not_syncing_reason": NotSyncingReason.UNTICKED}]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("condition", FILTERS, ids=["all", "inactive", "not syncing"])
def test_every_window_equals_the_promised_order(descending: bool, condition: dict) -> None:
    _customers(120)
    rows = customer_table_rows(checked_at=None).filter(**condition)
    expected = _expected(rows, descending=descending)
    parts = halo_id_order_parts(rows, descending=descending)
    for size in (7, 25):
        for bottom in range(0, len(expected) + size, size):
            assert ids_of_parts(parts, bottom=bottom, top=bottom + size) == expected[bottom : bottom + size]


@pytest.mark.parametrize("descending", [False, True])
def test_unlinked_only_rows_page_in_name_order(descending: bool) -> None:
    _customers(60)
    rows = customer_table_rows(checked_at=None).filter(halo_linked=False)
    expected = _expected(rows, descending=descending)
    parts = halo_id_order_parts(rows, descending=descending, unlinked_only=True)
    for bottom in range(0, len(expected) + 10, 10):
        assert ids_of_parts(parts, bottom=bottom, top=bottom + 10) == expected[bottom : bottom + 10]


@pytest.mark.parametrize("sort", ["link_halo_id", "-link_halo_id"])
@pytest.mark.parametrize("query", [{}, {"linked": "no"}, {"active": "no"}, {"syncing": "no"}, {"linked": "yes"}])
def test_the_screen_pages_through_the_promised_order(billing_client, sort: str, query: dict) -> None:
    """Every page of the screen, in turn, holds the next rows of the promised order: none lost, none twice."""
    _customers(90)
    expected = _expected(customers_filtered(query), descending=sort.startswith("-"))
    assert ids_on_every_page(billing_client, {**query, "sort": sort}, count=len(expected)) == expected


@pytest.mark.parametrize("count", [60, 3_000])
def test_queries_do_not_grow_with_the_number_of_customers(billing_client, django_assert_num_queries, count) -> None:
    _customers(count)
    with django_assert_num_queries(HALO_ID_ORDER_QUERIES):
        assert billing_client.get(URL, {"sort": "link_halo_id"}).status_code == 200


def test_a_page_past_the_linked_rows_counts_them_once_then_walks_the_unlinked(
    billing_client, django_assert_num_queries
) -> None:
    _customers(130, linked_every=2)  # 65 linked: page 3 (rows 51-75) crosses into the unlinked, page 4 is past them
    with django_assert_num_queries(HALO_ID_ORDER_QUERIES + 1):  # the linked rows, then the unlinked ones
        billing_client.get(URL, {"sort": "link_halo_id", "page": 3})
    with django_assert_num_queries(HALO_ID_ORDER_QUERIES + 2):  # none linked; how many linked it skips; unlinked
        billing_client.get(URL, {"sort": "link_halo_id", "page": 4})


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # 3,000 rows may rightly be read whole otherwise
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(prefix + sql.replace("%", "%%"))
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())


def test_the_linked_rows_are_a_walk_along_the_halopsa_id_index(billing_client) -> None:
    _customers(3_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as captured:
        billing_client.get(URL, {"sort": "-link_halo_id", "page": 10})
    [walk] = [q["sql"] for q in captured.captured_queries if 'INNER JOIN "syncapp_halolink"' in q["sql"]]
    explained = _plan(walk)
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in explained, explained
        assert "SCAN syncapp_halolink USING INDEX sqlite_autoindex_syncapp_halolink" in explained, explained
    else:
        assert "syncapp_halolink_halo_id_key" in explained, explained
        assert "Sort" not in explained, explained
