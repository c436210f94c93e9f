"""Reads for invoice export readiness: active customers whose invoices would not export to HaloPSA, and why."""

from django.db.models import BooleanField, Count, ExpressionWrapper, F, IntegerField, Q, QuerySet, Subquery, Value

from syncapp.choices import ExportBlock, NotSyncingReason
from syncapp.models import HALO_LINK_EXPORT_BLOCKED, Customer, HaloLink
from syncapp.selectors.customers import name_sort_key

# One condition per reason; a customer may have several (a not-syncing link whose client also lost its main site).
EXPORT_BLOCK_CONDITIONS: dict[str, Q] = {
    # halo_linked (kept equal to "has a link" by syncapp.signals) rather than a join: its partial index serves it.
    ExportBlock.NO_HALO_ID: Q(halo_linked=False),
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
    """Any reason: no link, or a link in a blocking state (found in the links' small partial index).

    The same as OR-ing EXPORT_BLOCK_CONDITIONS, but an OR across the join to the link makes the database join every
    customer to its link before it can tell; this reads the blocked links once and the customers in name order.
    """
    blocked_links = HaloLink.objects.filter(HALO_LINK_EXPORT_BLOCKED).values("customer_id")
    return Q(halo_linked=False) | Q(pk__in=blocked_links)


def export_blocked_customers(*, reason: str = "", searching: bool = False) -> QuerySet[Customer]:
    """Active customers whose invoices would not export, each flagged per reason; one query per page, any size.

    `searching`: the rows will be searched by name, so their name order is one no index serves (name_sort_key).
    """
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
            name_sort=name_sort_key(searching=searching),
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
    customers on SQLite), and even counting every customer and every link costs PostgreSQL tens of milliseconds.
    Instead the statement counts two small partial indexes:
    - active customers without a HaloPSA id (customer_no_halo_id_idx, on Customer.halo_linked);
    - the links in a blocking state whose customer is active (halolink_export_blocked_idx, which holds only such
      links and every column the counts read), one count per reason.
    """
    inactive = Customer.objects.filter(is_active=False)
    blocked_links = HaloLink.objects.filter(HALO_LINK_EXPORT_BLOCKED).exclude(customer__in=inactive.values("pk"))
    # Links are counted by their customer, a column the partial index holds (its id is not: PostgreSQL would read
    # every such link to count it).
    counts = (
        _one_row(blocked_links)
        .annotate(
            blocked=Count("customer"),
            **{name: Count("customer", filter=condition) for name, condition in LINK_BLOCK_CONDITIONS.items()},
            no_halo_id=_count(Customer.objects.filter(is_active=True, halo_linked=False)),
        )
        .get()
    )
    return {
        "total": counts["no_halo_id"] + counts["blocked"],
        ExportBlock.NO_HALO_ID: counts["no_halo_id"],
        **{name: counts[name] for name in LINK_BLOCK_CONDITIONS},
    }


def block_reasons(customer: Customer) -> list[ExportBlock]:
    """The reasons flagged on a row of export_blocked_customers(), in the declared order."""
    return [ExportBlock(name) for name in EXPORT_BLOCK_CONDITIONS if getattr(customer, f"block_{name}", False)]
