"""Reads for invoice export readiness: active customers whose invoices would not export to HaloPSA, and why."""

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Lower

from syncapp.choices import ExportBlock, NotSyncingReason
from syncapp.models import Customer

# One condition per reason; a customer may have several (a not-syncing link whose client also lost its main site).
EXPORT_BLOCK_CONDITIONS: dict[str, Q] = {
    ExportBlock.NO_HALO_ID: Q(halo_link__isnull=True),
    ExportBlock.NOT_SYNCING: Q(halo_link__isnull=False) & ~Q(halo_link__not_syncing_reason=NotSyncingReason.NONE),
    ExportBlock.HALO_INACTIVE: Q(halo_link__halo_inactive=True),
    ExportBlock.NO_MAIN_SITE: Q(halo_link__main_site_missing=True),
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


def export_readiness_counts() -> dict[str, int]:
    """How many active customers would not export, in total and per reason: one query."""
    counts = Customer.objects.filter(is_active=True).aggregate(
        total=Count("pk", filter=_any_block()),
        **{name: Count("pk", filter=cond) for name, cond in EXPORT_BLOCK_CONDITIONS.items()},
    )
    return {name: value or 0 for name, value in counts.items()}


def block_reasons(customer: Customer) -> list[ExportBlock]:
    """The reasons flagged on a row of export_blocked_customers(), in the declared order."""
    return [ExportBlock(name) for name in EXPORT_BLOCK_CONDITIONS if getattr(customer, f"block_{name}", False)]
