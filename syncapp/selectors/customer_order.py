"""The Customers list's orders whose keys live on the link: the rows in that order, and the order as index walks.

Sorting by HaloPSA id or by last synced used to sort every customer joined to its link (90-130 ms at 100,000
customers on either database). Each of these orders is instead a few parts listed one after another, each part in
an order an index gives (the links' HaloPSA id index, the name sort indexes), so a page reads the rows it shows and
those it skips, never every customer (selectors.ordered_parts.ids_of_parts). The same order written as one ORDER BY
(customers_in_*_order) sorts the page's own rows, and is what tests compare the walks with.

Rows without a value (unlinked customers, a link never synced) come last either way, on either database: left to
themselves SQLite puts NULL first going up and PostgreSQL first going down.
"""

from datetime import datetime

from django.db.models import F, Q, QuerySet

from syncapp.choices import NotSyncingReason
from syncapp.models import Customer

BY_NAME = ("name_sort", "id")
BY_NAME_DESCENDING = ("-name_sort", "-id")


def _names(descending: bool) -> tuple[str, str]:
    return BY_NAME_DESCENDING if descending else BY_NAME


def customers_in_halo_id_order(rows: QuerySet[Customer], *, descending: bool) -> QuerySet[Customer]:
    """The rows by HaloPSA id (up or down), then the unlinked customers by name (the same way)."""
    halo_id = F("link_halo_id")
    key = halo_id.desc(nulls_last=True) if descending else halo_id.asc(nulls_last=True)
    return rows.order_by(key, *_names(descending))


def halo_id_order_parts(rows: QuerySet[Customer], *, descending: bool, unlinked_only: bool = False) -> list[QuerySet]:
    """customers_in_halo_id_order as two walks: the links' unique HaloPSA id index, then customer_unlinked_name_idx.

    `unlinked_only`: the rows are filtered to unlinked customers ("Not linked"), so there is no linked part (the
    database cannot tell, and would walk every link to find none).
    """
    # halo_linked (kept equal to "has a link": syncapp.signals, the sync's import) so the unlinked part is a walk
    # of its partial index; the two parts hold every row once (tests/screens/test_customer_list_halo_id_order.py).
    unlinked = rows.filter(halo_linked=False).order_by(*_names(descending))
    if unlinked_only:
        return [unlinked]
    halo_id = F("halo_link__halo_id")
    # halo_link__isnull=False makes the join an inner one, which the database may start from the links' index.
    linked = rows.filter(halo_link__isnull=False).order_by(halo_id.desc() if descending else halo_id.asc())
    return [linked, unlinked]


def customers_in_last_synced_order(rows: QuerySet[Customer], *, descending: bool) -> QuerySet[Customer]:
    """The rows by "last synced" (customer_table_rows' link_last_synced_at), never synced last, then by name."""
    synced = F("link_last_synced_at")
    key = synced.desc(nulls_last=True) if descending else synced.asc(nulls_last=True)
    return rows.order_by(key, *_names(descending))


def last_synced_order_parts(
    rows: QuerySet[Customer], *, checked_at: datetime | None, descending: bool
) -> list[QuerySet]:
    """customers_in_last_synced_order as parts, by how the value is made (selectors.customers._last_synced).

    Most linked customers show the last complete sync (`checked_at`): they are one part, all equal, in name order,
    a walk along the name index. Links showing a time of their own after it, and those before it, are the few not
    syncing or linked since, each part sorted on its own; the rows never synced (and the unlinked) come last.
    """
    synced = F("halo_link__last_synced_at")
    names = _names(descending)
    by_time = (synced.desc() if descending else synced.asc(), *names)
    if checked_at is None:  # no complete sync yet: every link shows its own time
        timed = rows.filter(halo_link__isnull=False, halo_link__last_synced_at__isnull=False)
        never = Q(halo_linked=False) | Q(halo_link__isnull=False, halo_link__last_synced_at__isnull=True)
        return [timed.order_by(*by_time), rows.filter(never).order_by(*names)]
    checked = Q(halo_link__not_syncing_reason=NotSyncingReason.NONE, halo_link__linked_at__lte=checked_at)
    own_time = Q(halo_link__isnull=False) & ~checked
    later = rows.filter(own_time, halo_link__last_synced_at__gt=checked_at).order_by(*by_time)
    at_check = rows.filter(checked | Q(halo_link__last_synced_at=checked_at)).order_by(*names)
    earlier = rows.filter(own_time, halo_link__last_synced_at__lt=checked_at).order_by(*by_time)
    never = rows.filter(Q(halo_linked=False) | (own_time & Q(halo_link__last_synced_at__isnull=True))).order_by(*names)
    return [later, at_check, earlier, never] if descending else [earlier, at_check, later, never]
