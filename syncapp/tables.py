"""django-tables2 tables of the staff screens; every table declares its columns."""

from collections.abc import Callable
from datetime import datetime

import django_tables2 as tables
from django.contrib.auth.models import AbstractUser
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from syncapp.choices import ExportBlock, NotSyncingReason, SyncKind, SyncTrigger
from syncapp.filters import history_field_label
from syncapp.models import Customer, FieldChange, SyncRun
from syncapp.run_counts import RUN_COUNTS
from syncapp.selectors.customer_order import (
    customers_in_halo_id_order,
    customers_in_last_synced_order,
    halo_id_order_parts,
    last_synced_order_parts,
)
from syncapp.selectors.customer_search import CustomerSearch
from syncapp.selectors.customers import halo_client_url
from syncapp.selectors.readiness import block_reasons
from syncapp.table_cells import OWN_CELLS_TEMPLATE, OwnCells, id_paths
from syncapp.templatetags.history_tags import old_new
from syncapp.templatetags.portal_tags import format_duration, run_status_badge, time_html

TABLE_TEMPLATE = "syncapp/_table.html"
# The counters the sync history shows per run, in this order; the last one is highlighted when not zero.
UNLINKED_WARNING = "Invoices will not export to HaloPSA without a HaloPSA id."
# The HaloPSA id cell of every unlinked customer.
UNLINKED_CELL = format_html(
    '<span class="badge badge-warn">No HaloPSA id</span><div class="cell-note warn">{}</div>', UNLINKED_WARNING
)


class CustomerTable(OwnCells, tables.Table):
    """The customers list: one row per customer, its link state from annotations (customer_table_rows).

    Its rows draw their own cells (table_cells.OwnCells): a page may hold 250 customers.
    """

    # Every order ends in the name and the id, so equal values page in a stable order.
    name = tables.Column(verbose_name="Customer", order_by=("name_sort", "id"))
    link_halo_id = tables.Column(
        verbose_name="HaloPSA id", order_by=("link_halo_id", "name_sort", "id"), empty_values=()
    )
    active_site_count = tables.Column(
        verbose_name="Sites",
        attrs={"td": {"class": "num"}, "th": {"class": "num"}},
        order_by=("active_site_count", "name_sort", "id"),
    )
    status = tables.Column(verbose_name="Status", accessor="is_active", order_by=("-is_active", "name_sort", "id"))
    link_last_synced_at = tables.Column(
        verbose_name="Last synced", empty_values=(), order_by=("link_last_synced_at", "name_sort", "id")
    )
    actions = tables.Column(verbose_name="", empty_values=(), orderable=False, attrs={"td": {"class": "row-actions"}})

    class Meta:
        model = Customer
        fields = ()
        sequence = ("name", "link_halo_id", "active_site_count", "status", "link_last_synced_at", "actions")
        template_name = OWN_CELLS_TEMPLATE
        attrs = {"class": "data-table", "id": "customer-table"}
        empty_text = "No customers match."

    # What the pager says past the deepest page it offers (see views.common.BoundedPaginator).
    beyond_depth = "Search, filter or jump to a letter to reach the others."

    def __init__(
        self,
        *args,
        search: CustomerSearch | None = None,
        checked_at: datetime | None = None,
        unlinked_only: bool = False,
        **kwargs,
    ) -> None:
        """The table of the rows of customer_table_rows(); the keywords tell the orders on the link how to walk them.

        `checked_at`: when the last complete sync finished (the rows' "last synced"); `unlinked_only`: the rows are
        filtered to unlinked customers.
        """
        self.checked_at = checked_at
        self.unlinked_only = unlinked_only
        # Set by an order whose key is on the link: how the paginator walks it (views.common.BoundedPaginator).
        self.order_parts: list[QuerySet] | None = None
        super().__init__(*args, **kwargs)
        self.search = search
        # Most syncing customers show the same "last synced" (the last complete sync): formatted once per page.
        self._synced_cells: dict[datetime | None, SafeString] = {}
        self._status_cells: dict[tuple, SafeString] = {}

    def order_link_halo_id(self, queryset: QuerySet[Customer], is_descending: bool) -> tuple[QuerySet[Customer], bool]:
        """Ids first, unlinked customers after them, whichever way; paged by index walks."""
        self.order_parts = halo_id_order_parts(queryset, descending=is_descending, unlinked_only=self.unlinked_only)
        return customers_in_halo_id_order(queryset, descending=is_descending), True

    def order_link_last_synced_at(
        self, queryset: QuerySet[Customer], is_descending: bool
    ) -> tuple[QuerySet[Customer], bool]:
        """Never synced last, whichever way; paged by index walks."""
        self.order_parts = last_synced_order_parts(queryset, checked_at=self.checked_at, descending=is_descending)
        return customers_in_last_synced_order(queryset, descending=is_descending), True

    @cached_property
    def _customer_path(self) -> Callable[[int], str]:
        return id_paths("syncapp:customer-detail")

    @cached_property
    def _sync_path(self) -> Callable[[int], str]:
        return id_paths("syncapp:customer-sync")

    def render_name(self, record: Customer) -> SafeString:
        link = format_html('<a href="{}">{}</a>', self._customer_path(record.pk), record.name)
        matched = self.search.matches(record, halo_id=record.link_halo_id) if self.search else []
        if not matched:
            return link
        return format_html('{}<div class="cell-note search-match">Matched: {}</div>', link, "; ".join(matched))

    def render_link_halo_id(self, record: Customer) -> SafeString:
        if record.link_halo_id is None:
            return UNLINKED_CELL
        url = halo_client_url(record.link_halo_id)
        if url:
            return format_html(
                '<a href="{}" target="_blank" rel="noopener" title="Open this client in HaloPSA">{}</a>',
                url,
                record.link_halo_id,
            )
        return format_html("{}", record.link_halo_id)

    def render_active_site_count(self, record: Customer) -> int:
        return record.active_site_count

    def render_link_last_synced_at(self, record: Customer) -> SafeString:
        value = record.link_last_synced_at
        if value not in self._synced_cells:
            self._synced_cells[value] = time_html(value)
        return self._synced_cells[value]

    def value_link_last_synced_at(self, value: datetime | None) -> str:
        return timezone.localtime(value).isoformat() if value else ""

    def render_status(self, record: Customer) -> SafeString:
        # Few combinations, drawn once each per page (a page may hold 250 rows).
        key = (record.is_active, record.link_halo_id is None, record.link_not_syncing_reason, record.link_halo_inactive)
        if key not in self._status_cells:
            self._status_cells[key] = self._status_html(record)
        return self._status_cells[key]

    def _status_html(self, record: Customer) -> SafeString:
        active = format_html(
            '<span class="badge {}">{}</span>',
            "badge-ok" if record.is_active else "badge-off",
            "Active" if record.is_active else "Inactive",
        )
        if record.link_halo_id is None:
            return active
        if record.link_not_syncing_reason:
            reason = NotSyncingReason(record.link_not_syncing_reason).label
            sync = format_html('<span class="badge badge-warn" title="{}">Not syncing</span>', reason)
            return format_html('{} {}<div class="cell-note">{}</div>', active, sync, reason)
        if record.link_halo_inactive:
            return format_html('{} <span class="badge">Inactive in HaloPSA</span>', active)
        return format_html('{} <span class="badge badge-info">Syncing</span>', active)

    def render_actions(self, record: Customer) -> SafeString:
        """The row menu: "Sync from HaloPSA" for a linked customer (the column is shown to Sync operators only)."""
        if record.link_halo_id is None:
            return format_html("{}", "")
        # format_html rather than a template per row: a page has up to 250 rows.
        return format_html(
            '<details class="menu row-menu">'
            '<summary class="btn btn-small" aria-label="Actions for {}" title="Actions">⋯</summary>'
            '<div class="menu-panel" role="menu">'
            '<a class="menu-item" role="menuitem" href="{}">'
            "<span><b>Sync from HaloPSA</b><small>Read HaloPSA client {} now</small></span></a></div></details>",
            record.name,
            self._sync_path(record.pk),
            record.link_halo_id,
        )


class SyncRunTable(OwnCells, tables.Table):
    """Sync history: one row per run (its rows draw their own cells: see table_cells.OwnCells)."""

    id = tables.Column(verbose_name="Run", order_by=("id",))
    status = tables.Column(verbose_name="Status")
    trigger = tables.Column(verbose_name="Started by")
    requested_by = tables.Column(verbose_name="Who", default="—", order_by=("requested_by__username",))
    queued_at = tables.Column(verbose_name="When")
    duration = tables.Column(
        verbose_name="Duration", empty_values=(), orderable=False, attrs={"td": {"class": "nowrap"}}
    )
    counts = tables.Column(verbose_name="Counts", empty_values=(), orderable=False)

    class Meta:
        model = SyncRun
        fields = ()
        sequence = ("id", "status", "trigger", "requested_by", "queued_at", "duration", "counts")
        template_name = OWN_CELLS_TEMPLATE
        attrs = {"class": "data-table", "id": "run-table"}
        empty_text = "No sync has run yet."

    def render_id(self, record: SyncRun) -> SafeString:
        return format_html('<a href="{}">#{}</a>', record.get_absolute_url(), record.pk)

    def render_status(self, record: SyncRun) -> SafeString:
        return run_status_badge(record)

    def render_trigger(self, record: SyncRun) -> str:
        if record.kind == SyncKind.HALOPSA:
            return record.get_trigger_display()
        if record.kind == SyncKind.LINK:
            return record.get_kind_display()  # one client fetched when staff linked it
        # One-client runs (a webhook, "Sync from HaloPSA", the command line) say so.
        if record.kind == SyncKind.WEBHOOK:
            return "HaloPSA webhook (one customer)"
        if record.trigger == SyncTrigger.MANUAL:
            return "Staff (Sync from HaloPSA, one customer)"
        return f"{record.get_trigger_display()} (one customer)"

    def render_requested_by(self, record: SyncRun) -> str:
        person = record.requested_by
        return (person.get_full_name() or person.get_username()) if person else "—"

    def render_queued_at(self, record: SyncRun) -> SafeString:
        return time_html(record.queued_at)

    def render_duration(self, record: SyncRun) -> str:
        return format_duration(record.duration)

    def render_counts(self, record: SyncRun) -> SafeString:
        if record.is_open:
            return format_html('<span class="muted">{}</span>', "in progress")
        # The counters alone, not run_count_rows: the list links none of them, so it works out no URLs.
        items = format_html_join(
            "",
            '<span class="{}">{} <b>{}</b></span>',
            (
                ("zero" if value == 0 else f"c-{count.key}", count.label, intcomma(value))
                for count in RUN_COUNTS
                if not count.part_of  # deactivated/reactivated are inside "Updated"; the run page itemises them
                for value in (getattr(record, count.field),)
            ),
        )
        return format_html('<span class="run-counts">{}</span>', items)


class RunChangeTable(OwnCells, tables.Table):
    """Every history row one run wrote (its rows draw their own cells: see table_cells.OwnCells)."""

    # By name on request: a sort of every change of the run (the default order is the index's, see sync_run_changes).
    customer = tables.Column(verbose_name="Customer", order_by=("customer__name", "customer_id", "id"))
    site = tables.Column(verbose_name="Site", default="—", order_by=("site__name", "id"))
    action = tables.Column(verbose_name="What")
    field = tables.Column(verbose_name="Field", empty_values=())
    change = tables.Column(verbose_name="Old → new", empty_values=(), orderable=False)
    changed_at = tables.Column(verbose_name="When")

    class Meta:
        model = FieldChange
        fields = ()
        sequence = ("customer", "site", "action", "field", "change", "changed_at")
        template_name = OWN_CELLS_TEMPLATE
        attrs = {"class": "data-table", "id": "change-table"}
        empty_text = "This run changed nothing."

    def __init__(self, *args, field_labels: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.field_labels = field_labels or {}
        # A page's rows come a customer at a time and share a few times (a run stamps each page of clients once):
        # each customer's link and each time is formatted once per page, not once per row.
        self._customer_links: dict[int, SafeString] = {}
        self._times: dict[datetime, SafeString] = {}

    beyond_depth = "Filter by customer or field to reach the others."

    def render_customer(self, record: FieldChange) -> SafeString:
        link = self._customer_links.get(record.customer_id)
        if link is None:
            customer = record.customer
            link = format_html('<a href="{}">{}</a>', customer.get_absolute_url(), customer.name)
            self._customer_links[record.customer_id] = link
        return link

    def render_site(self, record: FieldChange) -> str:
        return record.site.name if record.site_id else "—"

    def render_action(self, record: FieldChange) -> str:
        return record.get_action_display()

    def render_field(self, record: FieldChange) -> str:
        return history_field_label(record.field, self.field_labels) if record.field else "—"

    def render_change(self, record: FieldChange) -> SafeString:
        return old_new(record)

    def render_changed_at(self, record: FieldChange) -> SafeString:
        shown = self._times.get(record.changed_at)
        if shown is None:
            shown = self._times[record.changed_at] = time_html(record.changed_at, "time")
        return shown


# What staff do about each reason a customer's invoices would not export.
EXPORT_BLOCK_ADVICE = {
    ExportBlock.NO_HALO_ID: "Match it with its HaloPSA client.",
    ExportBlock.NOT_SYNCING: "Tick its Datagate box in HaloPSA, or match it again if the client is gone.",
    ExportBlock.HALO_INACTIVE: "Reactivate the client in HaloPSA, or make the customer inactive.",
    ExportBlock.NO_MAIN_SITE: "Give the client a main site in HaloPSA.",
}


class ReadinessTable(tables.Table):
    """Invoice export readiness: active customers whose invoices would not export, with why and what to do."""

    name = tables.Column(verbose_name="Customer", linkify=True, order_by=("name_sort", "id"))
    reasons = tables.Column(verbose_name="Why not", empty_values=(), orderable=False)
    advice = tables.Column(verbose_name="What to do", empty_values=(), orderable=False)
    link_halo_id = tables.Column(verbose_name="HaloPSA id", order_by=("link_halo_id", "name_sort"), default="—")

    class Meta:
        model = Customer
        fields = ()
        sequence = ("name", "reasons", "advice", "link_halo_id")
        template_name = TABLE_TEMPLATE
        attrs = {"class": "data-table", "id": "readiness-table"}
        empty_text = "Every active customer's invoices would export."

    beyond_depth = "Filter by reason or search by name to reach the others."

    def __init__(self, *args, can_match: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.can_match = can_match  # only people who may link are offered the "Match…" link

    def _reason_text(self, record: Customer, reason: ExportBlock) -> str:
        if reason is ExportBlock.NOT_SYNCING and record.link_not_syncing_reason:
            return f"{reason.label}: {NotSyncingReason(record.link_not_syncing_reason).label}"
        return str(reason.label)

    def render_reasons(self, record: Customer) -> SafeString:
        items = format_html_join(
            "",
            '<li><span class="badge badge-warn">{}</span></li>',
            ((self._reason_text(record, r),) for r in block_reasons(record)),
        )
        return format_html('<ul class="reason-list">{}</ul>', items)

    def value_reasons(self, record: Customer) -> str:
        return "; ".join(self._reason_text(record, reason) for reason in block_reasons(record))

    def render_advice(self, record: Customer) -> SafeString:
        reasons = block_reasons(record)
        text = " ".join(EXPORT_BLOCK_ADVICE[reason] for reason in reasons)
        if ExportBlock.NO_HALO_ID in reasons and self.can_match:
            url = reverse("syncapp:match-customer", args=[record.pk])
            return format_html('{} <a href="{}">Match…</a>', text, url)
        return format_html("{}", text)

    def value_advice(self, record: Customer) -> str:
        return " ".join(EXPORT_BLOCK_ADVICE[reason] for reason in block_reasons(record))

    def render_link_halo_id(self, value: int) -> SafeString:
        url = halo_client_url(value)
        if url:
            return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, value)
        return format_html("{}", value)

    def value_link_halo_id(self, value: int | None) -> str:
        return "" if value in (None, "—") else str(value)


class HistoryExportTable(tables.Table):
    """History rows as a CSV (a customer's history or a run's changes): one column per fact, exact values."""

    changed_at = tables.Column(verbose_name="When")
    customer = tables.Column(verbose_name="Customer", accessor="customer__name")
    customer_id = tables.Column(verbose_name="Customer id", accessor="customer_id")
    site = tables.Column(verbose_name="Site", accessor="site__name", default="")
    action = tables.Column(verbose_name="What")
    field_label = tables.Column(verbose_name="Field", accessor="field", empty_values=())
    field = tables.Column(verbose_name="Field name", default="")
    old_value = tables.Column(verbose_name="Old value", default="")
    new_value = tables.Column(verbose_name="New value", default="")
    origin = tables.Column(verbose_name="Origin")
    sync_run = tables.Column(verbose_name="Sync run", accessor="sync_run_id", default="")
    changed_by = tables.Column(verbose_name="Person", default="")

    class Meta:
        model = FieldChange
        fields = ()
        sequence = (
            "changed_at",
            "customer",
            "customer_id",
            "site",
            "action",
            "field_label",
            "field",
            "old_value",
            "new_value",
            "origin",
            "sync_run",
            "changed_by",
        )
        orderable = False

    def __init__(self, *args, field_labels: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.field_labels = field_labels or {}

    def value_changed_at(self, value: datetime) -> str:
        return timezone.localtime(value).isoformat()

    def value_field_label(self, value: str) -> str:
        return history_field_label(value, self.field_labels) if value else ""

    def value_sync_run(self, value: int | None) -> str:
        return f"#{value}" if value else ""

    def value_changed_by(self, value: AbstractUser | None) -> str:
        return (value.get_full_name() or value.get_username()) if value else ""
