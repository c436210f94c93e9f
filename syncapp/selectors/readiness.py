"""Reads for invoice export readiness: active customers whose invoices would not export to HaloPSA, and why."""

from django.db.models import BooleanField, Count, ExpressionWrapper, F, IntegerField, Q, QuerySet, Subquery, Value
from django.db.models.functions import Lower

from syncapp.choices import ExportBlock, NotSyncingReason
from syncapp.models import HALO_LINK_EXPORT_BLOCKED, Customer, HaloLink

# One condition per reason; a customer may have several (a not-syncing link whose client also lost its main site).
EXPORT_BLOCK_CONDITIONS: dict[str, Q] = {
    ExportBlock.NO_HALO_ID: Q(halo_link__isnull=True),
    ExportBlock.NOT_SYNCING: Q(halo_link__isnull=False) & ~Q(halo_link__not_syncing_reason=NotSyncingReason.NONE),
    ExportBlock.HALO_INACTIVE: Q(halo_link__halo_inactive=True),
    ExportBlock.NO_MAIN_SITE: Q(halo_link__main_site_missing=True),
}
# The same reasons seen from the link (every reason but "no HaloPSA id" is a state of the link).
LINK_BLOCK_CONDITIONS: dict[str, Q] = {
    ExportBlock.NOT_SYNCING: ~Q(not_syncing_reason=NotSyncingReason.NONE),
    ExportBlock.HALO_INACTIVE: Q(halo_inactive=True),
    ExportBlock.NO_MAIN_SITE: Q(main_site_missing=True),
}


def _any_block() -> Q:
    combined = Q()
    for condition in EXPORT_BLOCK_CONDITIONS.values():
        combined |= condition
    return combined


def export_blocked_customers(*, reason: str = "") -> QuerySet[Customer]:
    """Active customers whose invoices would not export, each flagged per reason; one query per page, any size."""
    condition = EXPORT_BLOCK_CONDITIONS.get(reason) if reason else _any_block()
    if condition is None:
        condition = _any_block()
    flags = {
        f"block_{name}": ExpressionWrapper(cond, output_field=BooleanField())
        for name, cond in EXPORT_BLOCK_CONDITIONS.items()
    }
    return (
        Customer.objects.filter(is_active=True)
        .filter(condition)
        .annotate(
            link_halo_id=F("halo_link__halo_id"),
            link_not_syncing_reason=F("halo_link__not_syncing_reason"),
            name_sort=Lower("name"),
            **flags,
        )
        .order_by("name_sort", "id")
    )


def _one_row(rows: QuerySet) -> QuerySet:
    """The rows "grouped" by a constant: aggregates annotated on it give one row, also when there are no rows."""
    return rows.order_by().annotate(one=Value(1)).values("one")


def _count(rows: QuerySet) -> Subquery:
    """COUNT(*) of the rows, as a scalar subquery (SQLite counts a whole table off its b-tree, reading no row)."""
    return Subquery(_one_row(rows).annotate(n=Count("*")).values("n"), output_field=IntegerField())


def export_readiness_counts() -> dict[str, int]:
    """How many active customers would not export, in total and per reason: one query, read off indexes alone.

    Counting the reasons over every active customer joins each to its link (a whole-table pass, 0.4 s at 100,000
    customers on SQLite). Instead one statement adds up small counts:
    - every customer and every link (each link has one customer, so customers - links have no HaloPSA id);
    - inactive customers without a link (customer_inactive_idx), taken off: readiness is about active ones;
    - the links in a blocking state whose customer is active (halolink_export_blocked_idx, a partial index that
      holds only such links and every column the counts read), one count per reason.
    """
    inactive = Customer.objects.filter(is_active=False)
    blocked_links = HaloLink.objects.filter(HALO_LINK_EXPORT_BLOCKED).exclude(customer__in=inactive.values("pk"))
    counts = (
        _one_row(blocked_links)
        .annotate(
            blocked=Count("pk"),
            **{name: Count("pk", filter=condition) for name, condition in LINK_BLOCK_CONDITIONS.items()},
            customers=_count(Customer.objects.all()),
            links=_count(HaloLink.objects.all()),
            inactive_unlinked=_count(inactive.filter(halo_link__isnull=True)),
        )
        .get()
    )
    no_halo_id = counts["customers"] - counts["links"] - counts["inactive_unlinked"]
    return {
        "total": no_halo_id + counts["blocked"],
        ExportBlock.NO_HALO_ID: no_halo_id,
        **{name: counts[name] for name in LINK_BLOCK_CONDITIONS},
    }


def block_reasons(customer: Customer) -> list[ExportBlock]:
    """The reasons flagged on a row of export_blocked_customers(), in the declared order."""
    return [ExportBlock(name) for name in EXPORT_BLOCK_CONDITIONS if getattr(customer, f"block_{name}", False)]
