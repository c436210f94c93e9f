"""Migration 0012: PostgreSQL's trigram indexes serve the searches (EXPLAIN); SQLite has none and needs none."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from syncapp.choices import LinkMethod, NotSyncingReason
from syncapp.models import Customer, HaloLink
from syncapp.selectors.customer_search import search_customers
from syncapp.selectors.customers import customer_table_rows, syncing_condition
from syncapp.selectors.readiness import export_blocked_customers
from syncapp.selectors.runs import customers_named
from syncapp.views import readiness as readiness_views
from tests.factories import bulk_create_links

pytestmark = pytest.mark.django_db
TRIGRAM_INDEXES = {"customer_search_trgm_idx", "customer_name_trgm_idx"}
ROWS = 3_000


@pytest.fixture
def many_customers() -> list[Customer]:
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {n:05d} {'Knight' if n % 100 == 0 else 'Plain'}", city=f"Town {n % 50}")
        for n in range(ROWS)
    )
    bulk_create_links(
        HaloLink(customer=c, halo_id=n + 1, method=LinkMethod.IMPORTED) for n, c in enumerate(customers) if n % 2
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return customers


def customer_indexes() -> dict[str, dict]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, Customer._meta.db_table)


def explain(sql: str, params=()) -> str:
    """The plan, with PostgreSQL asked not to read whole tables: at 3,000 rows it may rightly prefer to."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(prefix + sql, params)
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())


def explain_queryset(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    return explain(sql, params)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
class TestPostgreSQL:
    def test_the_migration_builds_both_trigram_indexes(self) -> None:
        indexes = customer_indexes()
        for name in TRIGRAM_INDEXES:
            assert indexes[name]["type"] == "gin", indexes.get(name)

    def test_a_search_word_is_found_through_the_search_index(self, many_customers) -> None:
        explained = explain_queryset(
            search_customers(customer_table_rows(checked_at=None, searching=True), "knight").values("pk")
        )
        assert "customer_search_trgm_idx" in explained, explained

    def test_a_number_that_may_be_a_halopsa_id_still_uses_the_search_index(self, many_customers) -> None:
        # "1234" is a word and a HaloPSA id: the id's customer is OR-ed in without reading every customer.
        explained = explain_queryset(
            search_customers(customer_table_rows(checked_at=None, searching=True), "1234").values("pk")
        )
        assert "customer_search_trgm_idx" in explained, explained
        assert "Seq Scan on syncapp_customer" not in explained, explained

    def test_name_filters_are_found_through_the_name_index(self, many_customers) -> None:
        explained = explain_queryset(customers_named("knig").values("pk"))
        assert "customer_name_trgm_idx" in explained, explained

    def test_the_customer_list_search_page_uses_the_index(self, billing_client, many_customers) -> None:
        with CaptureQueriesContext(connection) as captured:
            assert billing_client.get(reverse("syncapp:customer-list"), {"q": "knight"}).status_code == 200
        # The statement that finds and counts the matches (the page's rows are then read by primary key).
        [found] = [q["sql"] for q in captured.captured_queries if "LIKE" in q["sql"] and "OVER ()" in q["sql"]]
        # Logged with its values in place: a literal "%" is not a placeholder.
        assert "customer_search_trgm_idx" in explain(found.replace("%", "%%")), found


def _sorts(explained: str) -> bool:
    """Whether the plan sorts the rows found (rather than walking an index in the order asked for)."""
    return "TEMP B-TREE FOR ORDER BY" in explained if connection.vendor == "sqlite" else "Sort" in explained


def test_a_readiness_name_search_sorts_its_matches_instead_of_walking_every_name(many_customers) -> None:
    """While searching, the readiness rows are ordered by a name no index serves (name_sort_key).

    Otherwise PostgreSQL walked every active customer in name order testing each name (118 ms at 100,000) rather
    than looking the text up in the trigram index, and SQLite did the same walk.
    """
    assert not _sorts(explain_queryset(export_blocked_customers().values("pk")[:25]))
    searched = search_customers(export_blocked_customers(searching=True), "knight")
    explained = explain_queryset(searched.values("pk")[:25])
    assert _sorts(explained), explained


@pytest.mark.parametrize(
    ("query", "searching"), [({}, False), ({"q": "knight"}, True), ({"reason": "no_halo_id"}, False)]
)
def test_the_readiness_page_asks_for_the_searching_order_only_when_searching(
    billing_client, monkeypatch, query: dict, searching: bool
) -> None:
    asked = []

    def recording(**kwargs):
        asked.append(kwargs.get("searching", False))
        return export_blocked_customers(**kwargs)

    monkeypatch.setattr(readiness_views, "export_blocked_customers", recording)
    assert billing_client.get(reverse("syncapp:export-readiness"), query).status_code == 200
    assert asked == [searching]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="what SQLite does with migration 0012")
def test_sqlite_skips_the_trigram_indexes_and_still_searches(many_customers) -> None:
    assert not TRIGRAM_INDEXES & set(customer_indexes())
    found = search_customers(Customer.objects.all(), "knight")
    assert found.count() == ROWS // 100


@pytest.mark.parametrize("text", ["knight", "KNIGHT", "town 7", "00100"])
def test_searches_find_the_same_customers_as_a_python_scan(many_customers, text: str) -> None:
    """Whatever the index, a search finds exactly the customers whose text holds every word."""
    words = text.lower().split()
    halo_ids = dict(HaloLink.objects.values_list("customer_id", "halo_id"))
    expected = {
        c.pk
        for c in many_customers
        if all(word in f"{c.name} {c.city}".lower() for word in words)
        or (text.isdigit() and halo_ids.get(c.pk) == int(text))  # a number is also looked up as a HaloPSA id
    }
    assert set(search_customers(Customer.objects.all(), text).values_list("pk", flat=True)) == expected


def test_the_not_syncing_filter_is_unlinked_or_a_link_not_syncing(billing_client, many_customers) -> None:
    HaloLink.objects.filter(halo_id__in=[2, 4, 6]).update(not_syncing_reason=NotSyncingReason.UNTICKED)
    expected = {
        c.pk
        for c in Customer.objects.select_related("halo_link")
        if not hasattr(c, "halo_link") or c.halo_link.not_syncing_reason
    }
    assert set(Customer.objects.filter(syncing_condition(syncing=False)).values_list("pk", flat=True)) == expected
    syncing = set(Customer.objects.filter(syncing_condition(syncing=True)).values_list("pk", flat=True))
    assert syncing == set(Customer.objects.values_list("pk", flat=True)) - expected
