"""django-tables2 tables of the staff screens; every table declares its columns."""

import django_tables2 as tables
from django.contrib.auth.models import AbstractUser
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString

from syncapp.choices import NotSyncingReason
from syncapp.filters import history_field_label
from syncapp.models import Customer, FieldChange, SyncRun
from syncapp.selectors.customer_search import CustomerSearch
from syncapp.selectors.customers import halo_client_url
from syncapp.templatetags.portal_tags import format_duration, run_status_badge

TABLE_TEMPLATE = "syncapp/_table.html"
UNLINKED_WARNING = "Invoices will not export to HaloPSA without a HaloPSA id."


class CustomerTable(tables.Table):
    """The customers list: one row per customer, its link state from annotations (see selectors.customer_list)."""

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
    link_last_synced_at = tables.DateTimeColumn(
        verbose_name="Last synced",
        format="j M Y, H:i",
        default="—",
        order_by=("link_last_synced_at", "name_sort", "id"),
    )

    class Meta:
        model = Customer
        fields = ()
        sequence = ("name", "link_halo_id", "active_site_count", "status", "link_last_synced_at")
        template_name = TABLE_TEMPLATE
        attrs = {"class": "data-table", "id": "customer-table"}
        empty_text = "No customers match."

    # What the pager says past the deepest page it offers (see views.common.BoundedPaginator).
    beyond_depth = "Search, filter or jump to a letter to reach the others."

    def __init__(self, *args, search: CustomerSearch | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.search = search

    def render_name(self, record: Customer, value: str) -> SafeString:
        link = format_html('<a href="{}">{}</a>', record.get_absolute_url(), value)
        matched = self.search.matches(record, halo_id=record.link_halo_id) if self.search else []
        if not matched:
            return link
        return format_html('{}<div class="cell-note search-match">Matched: {}</div>', link, "; ".join(matched))

    def render_link_halo_id(self, value: int | None) -> SafeString:
        if value is None:
            return format_html(
                '<span class="badge badge-warn">No HaloPSA id</span><div class="cell-note warn">{}</div>',
                UNLINKED_WARNING,
            )
        url = halo_client_url(value)
        if url:
            return format_html(
                '<a href="{}" target="_blank" rel="noopener" title="Open this client in HaloPSA">{}</a>', url, value
            )
        return format_html("{}", value)

    def render_status(self, record: Customer) -> SafeString:
        active = format_html(
            '<span class="badge {}">{}</span>',
            "badge-ok" if record.is_active else "",
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


class SyncRunTable(tables.Table):
    """Sync history: one row per run."""

    id = tables.Column(verbose_name="Run", linkify=True, order_by=("id",))
    status = tables.Column(verbose_name="Status")
    trigger = tables.Column(verbose_name="Started by")
    requested_by = tables.Column(verbose_name="Who", default="—", order_by=("requested_by__username",))
    queued_at = tables.DateTimeColumn(verbose_name="When", format="j M Y, H:i")
    duration = tables.Column(verbose_name="Duration", empty_values=(), orderable=False)
    counts = tables.Column(
        verbose_name="Created · updated · unchanged · deactivated · failed", empty_values=(), orderable=False
    )

    class Meta:
        model = SyncRun
        fields = ()
        sequence = ("id", "status", "trigger", "requested_by", "queued_at", "duration", "counts")
        template_name = TABLE_TEMPLATE
        attrs = {"class": "data-table", "id": "run-table"}
        empty_text = "No sync has run yet."

    def render_id(self, value: int) -> str:
        return f"#{value}"

    def render_status(self, record: SyncRun) -> SafeString:
        return run_status_badge(record)

    def render_trigger(self, record: SyncRun) -> str:
        return record.get_trigger_display()

    def render_requested_by(self, value: AbstractUser) -> str:
        return value.get_full_name() or value.get_username()

    def render_duration(self, record: SyncRun) -> str:
        return format_duration(record.duration)

    def render_counts(self, record: SyncRun) -> SafeString:
        if record.is_open:
            return format_html('<span class="muted">{}</span>', "in progress")
        return format_html(
            '<span class="counts"><b class="c-created">{}</b> · <b class="c-updated">{}</b> · {} · {} · '
            '<b class="{}">{}</b></span>',
            record.created_count,
            record.updated_count,
            record.unchanged_count,
            record.deactivated_count,
            "c-failed" if record.failed_count else "",
            record.failed_count,
        )


class RunChangeTable(tables.Table):
    """Every history row one run wrote."""

    customer = tables.Column(verbose_name="Customer", linkify=True, order_by=("customer__name", "id"))
    site = tables.Column(verbose_name="Site", default="—", order_by=("site__name", "id"))
    action = tables.Column(verbose_name="What")
    field = tables.Column(verbose_name="Field", empty_values=())
    change = tables.Column(verbose_name="Old → new", empty_values=(), orderable=False)
    changed_at = tables.DateTimeColumn(verbose_name="When", format="H:i:s")

    class Meta:
        model = FieldChange
        fields = ()
        sequence = ("customer", "site", "action", "field", "change", "changed_at")
        template_name = TABLE_TEMPLATE
        attrs = {"class": "data-table", "id": "change-table"}
        empty_text = "This run changed nothing."

    beyond_depth = "Filter by customer or field to reach the others."

    def render_action(self, record: FieldChange) -> str:
        return record.get_action_display()

    def render_field(self, value: str) -> str:
        return history_field_label(value) if value else "—"

    def render_change(self, record: FieldChange) -> SafeString:
        return render_to_string("syncapp/_old_new.html", {"change": record})
