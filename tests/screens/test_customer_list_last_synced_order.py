"""The Customers list sorted by last synced: paged by walks of parts, in exactly the order one sort would give."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from syncapp.choices import LinkMethod, NotSyncingReason, SyncKind, SyncStatus
from syncapp.models import Customer, HaloLink
from syncapp.selectors.customer_order import last_synced_order_parts
from syncapp.selectors.customers import customer_table_rows, last_synced_at
from syncapp.selectors.ordered_parts import ids_of_parts
from tests.factories import SyncRunFactory, bulk_create_links
from tests.screens.customer_pages import customers_filtered, ids_on_every_page

URL = reverse("syncapp:customer-list")
pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)
CHECKED_AT = NOW - timedelta(hours=2)


def _complete_sync() -> None:
    SyncRunFactory(kind=SyncKind.HALOPSA, status=SyncStatus.SUCCEEDED, finished_at=CHECKED_AT, dry_run=False)


def _customers(count: int) -> None:
    """Every kind of "last synced": unlinked; checked by the last complete sync (with or without a time of their
    own, older or newer); linked since; not syncing, with a time before, at, after the check or none; ties."""
    customers = Customer.objects.bulk_create(
        Customer(name=f"{'aAbB'[n % 4]}customer {(n * 7919) % count:05d}", is_active=n % 5 != 0) for n in range(count)
    )
    times = [None, CHECKED_AT - timedelta(days=3), CHECKED_AT, CHECKED_AT + timedelta(minutes=30), NOW]
    links = []
    for n, customer in enumerate(customers):
        if n % 6 == 0:
            continue  # unlinked
        linked_later = n % 11 == 0
        links.append(
            HaloLink(
                customer=customer,
                halo_id=n + 1,
                method=LinkMethod.IMPORTED,
                linked_at=CHECKED_AT + timedelta(minutes=10) if linked_later else CHECKED_AT - timedelta(days=30),
                not_syncing_reason=NotSyncingReason.UNTICKED if n % 4 == 0 else "",
                last_synced_at=times[(n // 3) % len(times)],
            )
        )
    bulk_create_links(links)


def _expected(queryset, *, descending: bool) -> list[int]:
    """The promised order, in Python: the value each row shows (never synced last), then name and id."""
    rows = [(c.pk, c.name.lower(), last_synced_at(getattr(c, "halo_link", None))) for c in queryset]
    timed = sorted((r for r in rows if r[2] is not None), key=lambda r: (r[2], r[1], r[0]), reverse=descending)
    never = sorted((r for r in rows if r[2] is None), key=lambda r: (r[1], r[0]), reverse=descending)
    return [r[0] for r in [*timed, *never]]


@pytest.mark.parametrize("complete_sync", [True, False], ids=["after a complete sync", "no complete sync yet"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(
    "condition", [{}, {"is_active": False}, {"halo_linked": True}], ids=["all", "inactive", "linked"]
)
def test_every_window_equals_the_promised_order(complete_sync: bool, descending: bool, condition: dict) -> None:
    if complete_sync:
        _complete_sync()
    _customers(150)
    checked_at = CHECKED_AT if complete_sync else None
    rows = customer_table_rows(checked_at=checked_at).filter(**condition)
    expected = _expected(Customer.objects.filter(**condition).select_related("halo_link"), descending=descending)
    parts = last_synced_order_parts(rows, checked_at=checked_at, descending=descending)
    for size in (9, 25):
        for bottom in range(0, len(expected) + size, size):
            assert ids_of_parts(parts, bottom=bottom, top=bottom + size) == expected[bottom : bottom + size]


def test_the_parts_hold_every_row_once(db) -> None:
    _complete_sync()
    _customers(150)
    parts = last_synced_order_parts(customer_table_rows(checked_at=CHECKED_AT), checked_at=CHECKED_AT, descending=True)
    listed = [pk for part in parts for pk in part.values_list("pk", flat=True)]
    assert sorted(listed) == sorted(Customer.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("sort", ["link_last_synced_at", "-link_last_synced_at"])
@pytest.mark.parametrize("query", [{}, {"active": "no"}, {"syncing": "no"}, {"linked": "yes"}])
def test_the_screen_pages_through_the_promised_order(billing_client, sort: str, query: dict) -> None:
    _complete_sync()
    _customers(110)
    expected = _expected(customers_filtered(query), descending=sort.startswith("-"))
    assert ids_on_every_page(billing_client, {**query, "sort": sort}, count=len(expected)) == expected


def test_the_customers_the_last_complete_sync_checked_are_a_walk_in_name_order(billing_client) -> None:
    _complete_sync()
    _customers(3_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # The first page wholly past the few links synced since the check (about 300 of 3,000 here): a page near the
    # start of the checked customers, as most pages are among 100,000 (a page deep into 3,000 may rightly be sorted).
    rows = customer_table_rows(checked_at=CHECKED_AT)
    synced_since = last_synced_order_parts(rows, checked_at=CHECKED_AT, descending=True)[0].count()
    with CaptureQueriesContext(connection) as captured:
        billing_client.get(URL, {"sort": "-link_last_synced_at", "page": synced_since // 25 + 2})
    # The part of the customers the last complete sync checked (the others' parts negate that condition).
    checked = [q["sql"] for q in captured.captured_queries if '"syncapp_halolink"."linked_at" <=' in q["sql"]]
    walk = next(sql for sql in checked if "NOT (" not in sql and "COUNT(" not in sql)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(prefix + walk)
        explained = "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())
    assert "customer_name_sort_idx" in explained, explained
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in explained, explained
    else:
        assert "Sort" not in explained, explained
