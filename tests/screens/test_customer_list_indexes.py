"""Migration 0004: the customer list's queries are served by its indexes (EXPLAIN, on SQLite and PostgreSQL)."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from syncapp.choices import LinkMethod
from syncapp.models import Customer, HaloLink, Site
from syncapp.selectors.customers import customer_table_rows, customers_from_letter
from tests.factories import bulk_create_links

URL = reverse("syncapp:customer-list")
pytestmark = pytest.mark.django_db
# Enough rows that a planner prefers an index walk for 25 rows to reading the table and sorting it.
ROWS = 3_000


@pytest.fixture
def many_customers() -> None:
    customers = Customer.objects.bulk_create(
        Customer(name=f"{'abcdefghijklmnopqrstuvwxyz'[n % 26]}ustomer {n:05d}", is_active=n % 10 != 0)
        for n in range(ROWS)
    )
    bulk_create_links(
        HaloLink(customer=c, halo_id=n + 1, method=LinkMethod.IMPORTED) for n, c in enumerate(customers) if n % 2
    )
    Site.objects.bulk_create(Site(customer=c, name="Head office") for c in customers)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def plan(queryset) -> str:
    return queryset.explain()


def page_queries(client, query: dict) -> list[str]:
    """The SQL the customer list runs for one page (the count and the page's rows)."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, query).status_code == 200
    return [q["sql"] for q in captured.captured_queries if '"syncapp_customer"' in q["sql"]]


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(prefix + sql)
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())


def uses_index_for_order(explained: str, index: str) -> bool:
    if connection.vendor == "sqlite":
        return index in explained and "TEMP B-TREE FOR ORDER BY" not in explained
    return f"Index Scan using {index}" in explained or f"Index Only Scan using {index}" in explained


def test_the_default_order_walks_the_name_sort_index(many_customers) -> None:
    explained = plan(customer_table_rows(checked_at=None).values("pk")[:25])
    assert uses_index_for_order(explained, "customer_name_sort_idx"), explained


def test_a_deep_page_walks_the_same_index(many_customers) -> None:
    # A sixth of the way in: as deep, relative to the table, as the list's last page is at 30,000 customers.
    explained = plan(customer_table_rows(checked_at=None).values("pk")[500:525])
    assert uses_index_for_order(explained, "customer_name_sort_idx"), explained


def test_a_letter_starts_a_range_on_the_index(many_customers) -> None:
    explained = plan(customers_from_letter(customer_table_rows(checked_at=None), "m").values("pk")[:25])
    assert uses_index_for_order(explained, "customer_name_sort_idx"), explained
    if connection.vendor == "sqlite":
        assert "customer_name_sort_idx (<expr>>?)" in explained, explained


def test_the_status_order_walks_the_active_sort_index(many_customers) -> None:
    rows = customer_table_rows(checked_at=None).order_by(F("is_active").desc(), "name_sort", "id")
    explained = plan(rows.values("pk")[:25])
    assert uses_index_for_order(explained, "customer_active_sort_idx"), explained


def test_the_screens_own_queries_use_the_indexes(billing_client, many_customers) -> None:
    """The page as the screen asks for it: its ids walk the index; its rows are found by primary key."""
    for query, index in (({}, "customer_name_sort_idx"), ({"sort": "-status"}, "customer_active_sort_idx")):
        page_sql = page_queries(billing_client, query)[-1]
        explained = explain(page_sql)
        assert index in explained, explained
        if connection.vendor == "sqlite":
            assert "SEARCH syncapp_customer USING INTEGER PRIMARY KEY" in explained, explained


@pytest.mark.parametrize("sort", ["active_site_count", "-active_site_count"])
def test_the_sites_order_walks_the_site_count_index(billing_client, many_customers, sort: str) -> None:
    """The stored count of active sites (Customer.active_site_count) is the Sites sort's index: no count per row."""
    page_sql = page_queries(billing_client, {"sort": sort, "page": 3})[-1]
    assert "syncapp_site" not in page_sql, page_sql
    explained = explain(page_sql)
    # The page's ids walk the index (what is sorted after it is the page's own 25 rows, read by primary key).
    assert "customer_site_count_sort_idx" in explained, explained
