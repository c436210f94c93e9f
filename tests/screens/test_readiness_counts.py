"""The readiness counts (one statement off indexes) equal a count of every active customer, whatever the mix."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from syncapp.choices import ExportBlock, NotSyncingReason
from syncapp.models import Customer, HaloLink
from syncapp.selectors.readiness import block_reasons, export_blocked_customers, export_readiness_counts
from tests.factories import CustomerFactory, HaloLinkFactory, bulk_create_links

pytestmark = pytest.mark.django_db


def _every_state() -> None:
    """One customer for every combination of active, linked and the three blocking states of a link."""
    reasons = ["", NotSyncingReason.UNTICKED, NotSyncingReason.MISSING]
    for n, (active, reason, halo_inactive, site_missing) in enumerate(
        itertools.product([True, False], reasons, [False, True], [False, True])
    ):
        linked = CustomerFactory(name=f"Linked {n}", is_active=active)
        HaloLinkFactory(
            customer=linked, not_syncing_reason=reason, halo_inactive=halo_inactive, main_site_missing=site_missing
        )
    CustomerFactory.create_batch(3, is_active=True)
    CustomerFactory.create_batch(2, is_active=False)


def _reasons_one_by_one() -> dict[int, list[ExportBlock]]:
    """Each active customer's reasons, worked out customer by customer in Python (only those with any)."""
    found = {}
    for customer in Customer.objects.filter(is_active=True).select_related("halo_link"):
        link = getattr(customer, "halo_link", None)
        reasons = (
            [ExportBlock.NO_HALO_ID]
            if link is None
            else [
                reason
                for reason, applies in (
                    (ExportBlock.NOT_SYNCING, bool(link.not_syncing_reason)),
                    (ExportBlock.HALO_INACTIVE, link.halo_inactive),
                    (ExportBlock.NO_MAIN_SITE, link.main_site_missing),
                )
                if applies
            ]
        )
        if reasons:
            found[customer.pk] = reasons
    return found


def _counted_one_by_one() -> dict[str, int]:
    """What the counts mean, worked out customer by customer in Python."""
    reasons = _reasons_one_by_one()
    counts = {"total": len(reasons)}
    for reason in ExportBlock:
        counts[reason] = sum(reason in found for found in reasons.values())
    return counts


def test_counts_equal_a_count_of_every_customer() -> None:
    _every_state()
    assert export_readiness_counts() == _counted_one_by_one()


def test_counts_equal_the_rows_the_readiness_list_shows() -> None:
    _every_state()
    counts = export_readiness_counts()
    rows = list(export_blocked_customers())
    assert counts["total"] == len(rows)
    for reason in ExportBlock:
        assert counts[reason] == sum(reason in block_reasons(row) for row in rows), reason


def test_the_list_holds_exactly_the_customers_with_a_reason_each_flagged_with_its_reasons() -> None:
    _every_state()
    expected = _reasons_one_by_one()
    assert {row.pk: block_reasons(row) for row in export_blocked_customers()} == expected
    for reason in ExportBlock:
        listed = set(export_blocked_customers(reason=reason).values_list("pk", flat=True))
        assert listed == {pk for pk, reasons in expected.items() if reason in reasons}, reason


def test_counts_follow_a_change_at_once() -> None:
    _every_state()
    before = export_readiness_counts()
    HaloLink.objects.filter(not_syncing_reason=NotSyncingReason.UNTICKED).update(not_syncing_reason="")
    Customer.objects.filter(halo_link__isnull=True, is_active=True).update(is_active=False)
    after = export_readiness_counts()
    assert after == _counted_one_by_one()
    assert after[ExportBlock.NO_HALO_ID] == 0 and after[ExportBlock.NOT_SYNCING] < before[ExportBlock.NOT_SYNCING]


def test_no_customer_counts_zero_everywhere() -> None:
    assert export_readiness_counts() == dict.fromkeys(["total", *ExportBlock.values], 0)


def test_counts_are_one_statement_read_off_the_partial_indexes() -> None:
    """EXPLAIN on SQLite and PostgreSQL: the blocked links and inactive customers come from their partial indexes."""
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {n}", is_active=n % 20 != 0) for n in range(3_000)
    )
    bulk_create_links(
        HaloLink(
            customer=customer,
            halo_id=n + 1,
            method="imported",
            not_syncing_reason=NotSyncingReason.UNTICKED if n % 25 == 0 else "",
        )
        for n, customer in enumerate(customers)
        if n % 5
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as captured:
        export_readiness_counts()
    assert len(captured.captured_queries) == 1
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # At 3,000 rows PostgreSQL may rightly read a table whole; asked not to, it shows the indexes serve.
            cursor.execute("SET LOCAL enable_seqscan = off")
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(prefix + captured.captured_queries[0]["sql"])
        explained = "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())
    assert "halolink_export_blocked_idx" in explained, explained
    assert "customer_no_halo_id_idx" in explained, explained
    if connection.vendor == "sqlite":
        assert "customer_inactive_idx" in explained, explained
    else:  # either index on is_active serves the inactive customers there
        assert "Seq Scan" not in explained, explained
