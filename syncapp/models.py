"""Customers, sites, HaloPSA links, sync runs and the per-field history: the portal's data model."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower, Replace
from django.urls import reverse
from django.utils import timezone

from syncapp.choices import (
    ChangeAction,
    ChangeOrigin,
    DuplicateStatus,
    LinkMethod,
    NotSyncingReason,
    ReadListing,
    SyncKind,
    SyncStatus,
    SyncTrigger,
    WebhookEventStatus,
)

# The shortest interval of the "HaloPSA Product Sync" schedule: the database, the form and the service all use it.
SCHEDULE_MIN_INTERVAL_MINUTES = 5

TEXT = {"max_length": 255, "blank": True, "default": ""}
LONG_TEXT = {"max_length": 1000, "blank": True, "default": ""}


def _digits_only(expression):
    """The expression with the separators people type in phone numbers removed (database-side, immutable)."""
    for separator in (" ", "-", "(", ")", "+", ".", "/"):
        expression = Replace(expression, Value(separator), Value(""))
    return expression


# name | e-mail to | e-mail cc | city | postcode | phone digits, lower-cased; "|" keeps one field's end from
# running into the next field's start.
CUSTOMER_SEARCH_TEXT = Lower(
    Concat(
        "name",
        Value("|"),
        "invoice_email_to",
        Value("|"),
        "invoice_email_cc",
        Value("|"),
        "city",
        Value("|"),
        "postcode",
        Value("|"),
        _digits_only(F("contact_phone")),
        output_field=models.TextField(),
    )
)


class Customer(models.Model):
    """A Datagate customer; HaloPSA-managed fields are overwritten by the sync when it is linked."""

    name = models.CharField("Customer name", max_length=255)
    postal_address_1 = models.CharField("Postal Address 1", **TEXT)
    postal_address_2 = models.CharField("Postal Address 2", **TEXT)
    city = models.CharField("City", **TEXT)
    state = models.CharField("State", **TEXT)
    postcode = models.CharField("Zip/Postal Code", max_length=40, blank=True, default="")
    country = models.CharField("Country", **TEXT)
    contact_phone = models.CharField("Contact Phone", max_length=80, blank=True, default="")
    invoice_email_to = models.CharField("Email invoice to", **LONG_TEXT)
    invoice_email_cc = models.CharField("CC Invoice to", **LONG_TEXT)
    invoice_attention = models.CharField("Invoice attention of", **TEXT)
    extra_field_1 = models.CharField("Extra Field 1", **LONG_TEXT)
    extra_field_2 = models.CharField("Extra Field 2", **LONG_TEXT)
    extra_field_3 = models.CharField("Extra Field 3", **LONG_TEXT)
    extra_field_4 = models.CharField("Extra Field 4", **LONG_TEXT)
    extra_field_5 = models.CharField("Extra Field 5", **LONG_TEXT)
    is_active = models.BooleanField("Active", default=True)
    # Whether a HaloLink exists for this customer, so "active customers without a HaloPSA id" (the readiness counts
    # on every Customers page) is a count of a small partial index, not a join of every customer to its link.
    # Kept by syncapp.signals (links saved or deleted one by one, the admin) and the sync's bulk import.
    halo_linked = models.BooleanField("Has a HaloPSA id", default=False, editable=False)
    # The customer's active sites, stored so the list's Sites column needs no count per row and its Sites sort walks
    # an index (counting every customer's sites to sort them took 0.1-0.5 s at 100,000 customers). Counted again by
    # syncapp.site_counts after every write of sites: the sync, merges, and sites saved one by one (signals).
    active_site_count = models.PositiveIntegerField("Active sites", default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when staff merged this (hand-typed) customer into another: it stays, inactive, pointing at the kept one.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_customers", editable=False
    )
    # What the customer search reads, computed and stored by the database itself, so no writer (the sync's bulk
    # writes, the admin, staff edits) can leave it stale: one lower-cased text per customer instead of a LIKE per
    # field per row.
    search_text = models.GeneratedField(
        expression=CUSTOMER_SEARCH_TEXT, output_field=models.TextField(), db_persist=True
    )

    class Meta:
        ordering = ["name", "id"]
        permissions = [("match_customer", "Can link and unlink customers to HaloPSA clients")]
        indexes = [
            models.Index(fields=["name"], name="customer_name_idx"),
            # The list's case-insensitive order ("acme" next to "Acme"): a page is a walk along this index on
            # SQLite and PostgreSQL alike, however deep, instead of a sort of every customer.
            models.Index(Lower("name"), F("id"), name="customer_name_sort_idx"),
            # The Status sort and the active / inactive filter in that same order.
            models.Index(F("is_active").desc(), Lower("name"), F("id"), name="customer_active_sort_idx"),
            # The active filter walks active customers in name order without reading a row ("is_active" alone,
            # not "= true", is how the filter is written, so a partial index serves it where the sort index can't).
            models.Index(Lower("name"), F("id"), condition=Q(is_active=True), name="customer_active_name_idx"),
            # The same for the few inactive customers; it also gives the readiness counts (which are about active
            # ones) the inactive customers without reading a row.
            models.Index(
                Lower("name"), F("id"), F("is_active"), condition=Q(is_active=False), name="customer_inactive_idx"
            ),
            # The Sites sort (either way), in name order among equal counts.
            models.Index(F("active_site_count"), Lower("name"), F("id"), name="customer_site_count_sort_idx"),
            # The "not linked" filter of the customer list, in name order.
            models.Index(Lower("name"), F("id"), condition=Q(halo_linked=False), name="customer_unlinked_name_idx"),
            # Active customers without a HaloPSA id, counted on every Customers page (readiness counts).
            models.Index(fields=["id"], condition=Q(is_active=True, halo_linked=False), name="customer_no_halo_id_idx"),
            # The customers merged into one, in name order (its page lists them): few rows carry merged_into, and
            # without this the planner, told the column is nearly all NULL, walks every customer in name order.
            models.Index(
                fields=["merged_into", "name", "id"],
                condition=Q(merged_into__isnull=False),
                name="customer_merged_into_idx",
            ),
            # The matching queue's order (name, id) with "not merged" in the index itself: a page of unlinked
            # customers walks this index without reading each customer passed over (7x faster at page 50).
            models.Index(fields=["name", "id", "merged_into"], name="customer_unlinked_queue_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("syncapp:customer-detail", args=[self.pk])


class Site(models.Model):
    """A customer's site; sites of linked customers mirror HaloPSA sites, matched on the HaloPSA site id."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField("Name", max_length=255)
    address_1 = models.CharField("Address 1", **TEXT)
    address_2 = models.CharField("Address 2", **TEXT)
    city = models.CharField("City", **TEXT)
    postcode = models.CharField("Zip/Postal Code", max_length=40, blank=True, default="")
    country = models.CharField("Country", **TEXT)
    halo_id = models.PositiveIntegerField("HaloPSA site id", unique=True, null=True, blank=True)
    is_active = models.BooleanField("Active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_id", "name", "id"]
        # The customer list counts each customer's active sites from this index alone (no site row is read).
        indexes = [models.Index(fields=["customer", "is_active"], name="site_customer_active_idx")]

    def __str__(self) -> str:
        return self.name


# A link whose customer's invoices would not export (syncapp.selectors.readiness): not syncing, its client inactive
# in HaloPSA or without a main site. Few links are, so a partial index of just them makes the counts cheap.
HALO_LINK_EXPORT_BLOCKED = ~Q(not_syncing_reason="") | Q(halo_inactive=True) | Q(main_site_missing=True)


class HaloLink(models.Model):
    """The link of a customer to one HaloPSA client, with what the last sync saw of that client."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="halo_link")
    halo_id = models.PositiveIntegerField("HaloPSA client id", unique=True)
    method = models.CharField(max_length=20, choices=LinkMethod.choices)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    linked_at = models.DateTimeField(default=timezone.now)
    in_scope = models.BooleanField("Datagate box ticked", default=True)
    halo_inactive = models.BooleanField("Inactive in HaloPSA", default=False)
    not_syncing_reason = models.CharField(max_length=20, choices=NotSyncingReason.choices, blank=True, default="")
    main_site_missing = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["halo_id"]
        indexes = [
            # Holds every column the readiness counts read, so they never visit the links themselves.
            models.Index(
                fields=["customer", "not_syncing_reason", "halo_inactive", "main_site_missing"],
                condition=HALO_LINK_EXPORT_BLOCKED,
                name="halolink_export_blocked_idx",
            )
        ]

    def __str__(self) -> str:
        return f"HaloPSA client {self.halo_id}"

    @property
    def is_syncing(self) -> bool:
        return not self.not_syncing_reason


class SyncRun(models.Model):
    """One HaloPSA sync, from queued to its outcome; at most one is queued or running at a time."""

    kind = models.CharField(max_length=20, choices=SyncKind.choices, default=SyncKind.HALOPSA, editable=False)
    status = models.CharField(max_length=20, choices=SyncStatus.choices, default=SyncStatus.QUEUED)
    trigger = models.CharField(max_length=20, choices=SyncTrigger.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    dry_run = models.BooleanField(default=False)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    stage = models.CharField(max_length=40, blank=True, default="")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    deactivated_count = models.PositiveIntegerField(default=0)
    reactivated_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    not_syncing_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    sites_created_count = models.PositiveIntegerField(default=0)
    sites_updated_count = models.PositiveIntegerField(default=0)
    sites_deactivated_count = models.PositiveIntegerField(default=0)
    requests_made = models.PositiveIntegerField(default=0)
    rate_limited_count = models.PositiveIntegerField(default=0)
    used_detail_fallback = models.BooleanField(default=False)
    error_message = models.TextField(blank=True, default="")
    failures = models.JSONField(default=list, blank=True)
    planned_changes = models.JSONField(default=list, blank=True)
    checkpoint = models.JSONField(default=dict, blank=True)
    # Who works on the run now: a worker's claim sets a fresh token and every write of the run checks it, so a
    # worker that was taken over (it stopped beating) can never write a page after its successor.
    lease = models.CharField(max_length=32, blank=True, default="", editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # What holds the run right now ("{left}" stands for the time still to wait, counted down on the page) and until
    # when; then the totals across slices: seconds spent waiting, and retries (429 waits and 5xx/connection retries).
    wait_reason = models.CharField(max_length=200, blank=True, default="")
    wait_until = models.DateTimeField(null=True, blank=True)
    waited_seconds = models.FloatField(default=0.0)
    retry_count = models.PositiveIntegerField(default=0)
    # Who asked to cancel the run, and when; a running run stops after the page it is on (or its current wait).
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        permissions = [("run_halo_sync", "Can start a HaloPSA sync")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(status__in=SyncStatus.open_values()),
                name="one_open_sync_run_per_kind",
                violation_error_message="A sync is already queued or running.",
            ),
        ]

    def __str__(self) -> str:
        return f"Sync run #{self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("syncapp:run-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in SyncStatus.open_values()

    @property
    def is_not_responding(self) -> bool:
        """Open, but without a heartbeat for SYNC_STALE_AFTER_SECONDS: its worker is gone or none picked it up.

        Read alone, so a page can say so without writing; beat's tick or the next sync request closes the run.
        """
        if not self.is_open:
            return False
        cutoff = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
        return self.heartbeat_at is None or self.heartbeat_at < cutoff

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class FieldChangeQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("FieldChange history is append-only.")

    def delete(self):
        raise TypeError("FieldChange history is append-only.")


class FieldChange(models.Model):
    """One history row: a changed field (or a creation, link or unlink) of a customer or a site. Append-only."""

    # PROTECT: billing history outlives any attempt to delete its customer or site, a cascade included.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="field_changes")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="field_changes")
    action = models.CharField(max_length=20, choices=ChangeAction.choices, default=ChangeAction.CHANGED)
    field = models.CharField(max_length=64, blank=True, default="")
    old_value = models.TextField(blank=True, default="")
    new_value = models.TextField(blank=True, default="")
    origin = models.CharField(max_length=20, choices=ChangeOrigin.choices)
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.PROTECT, related_name="field_changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = FieldChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(origin=ChangeOrigin.SYNC, sync_run__isnull=False) | ~Q(origin=ChangeOrigin.SYNC),
                name="sync_change_names_its_run",
            ),
            models.CheckConstraint(
                condition=~Q(action=ChangeAction.CHANGED) | ~Q(field=""),
                name="field_change_names_its_field",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-changed_at"], name="fieldchange_customer_idx"),
            # A run's page: its changes per customer in the order written, and the customer filter's probes, read
            # in index order whatever the run's size (selectors.runs.sync_run_changes).
            models.Index(fields=["sync_run", "customer", "id"], name="fieldchange_run_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.field or self.action}: {self.old_value!r} → {self.new_value!r}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("FieldChange history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("FieldChange history is append-only.")


class HaloClientEntry(models.Model):
    """Every HaloPSA client the sync has seen (ticked or not): feeds match suggestions without live calls."""

    halo_id = models.PositiveIntegerField("HaloPSA client id", unique=True)
    name = models.CharField(max_length=255)
    is_ticked = models.BooleanField("Datagate box ticked", default=False)
    is_inactive = models.BooleanField("Inactive in HaloPSA", default=False)
    last_seen_at = models.DateTimeField(default=timezone.now)
    # What the match score compares besides the name, from the client's main site and accounts e-mail.
    phone_digits = models.CharField("Main site phone (digits)", max_length=40, blank=True, default="")
    email_domain = models.CharField("Accounts e-mail domain", max_length=255, blank=True, default="")
    postcode = models.CharField("Main site postcode", max_length=40, blank=True, default="")
    address_1 = models.CharField("Main site address line 1", max_length=255, blank=True, default="")
    city = models.CharField("Main site city", max_length=255, blank=True, default="")
    # The name's words as the match score compares them, computed once by the sync rather than on every page.
    name_tokens = models.CharField("Name as compared", max_length=255, blank=True, default="")
    # Whether a customer is linked to this client: matching ranks the clients not linked, read off a partial index
    # (finding them by looking every client seen up among the links took 40-60 ms at 100,000 customers). Kept by
    # syncapp.signals (links made or removed one by one, entries saved one by one) and the sync's page writes.
    linked = models.BooleanField("Linked to a customer", default=False, editable=False)

    class Meta:
        ordering = ["name", "halo_id"]
        verbose_name = "HaloPSA client seen"
        verbose_name_plural = "HaloPSA clients seen"
        indexes = [
            # Matching's directory: the clients seen and not linked, in the model's order.
            models.Index(fields=["name", "halo_id"], condition=Q(linked=False), name="directory_unlinked_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.halo_id})"


class DuplicateCandidate(models.Model):
    """A ticked HaloPSA client not imported because an unlinked local customer scores High against it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="duplicate_candidates")
    halo_id = models.PositiveIntegerField("HaloPSA client id")
    halo_name = models.CharField(max_length=255)
    status = models.CharField(max_length=20, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    detected_at = models.DateTimeField(default=timezone.now)
    detected_by_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    resolved_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField("Match score", default=0)
    reasons = models.JSONField("Why they may be one company", default=list, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "halo_id"], name="one_duplicate_record_per_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.halo_name} ({self.halo_id}) may be {self.customer}"


class SyncSchedule(models.Model):
    """The "HaloPSA Product Sync" schedule: one row, edited by an administrator, read by Celery beat's tick."""

    singleton = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    enabled = models.BooleanField("Run on a schedule", default=False)
    interval_minutes = models.PositiveIntegerField("Every (minutes)", default=60)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sync schedule"
        constraints = [
            models.CheckConstraint(condition=Q(singleton=1), name="sync_schedule_is_a_singleton"),
            models.CheckConstraint(
                condition=Q(interval_minutes__gte=SCHEDULE_MIN_INTERVAL_MINUTES),
                name="sync_schedule_interval_at_least_5",
            ),
        ]

    def __str__(self) -> str:
        return f"Every {self.interval_minutes} min" if self.enabled else "Off"


class SyncRunPage(models.Model):
    """A page a sync run has read from HaloPSA, kept with the run so a resumed slice never reads it again.

    Site pages keep their records (the client pages need them); client pages keep the ids they applied, written
    in the same transaction as the page, so "where to go on" and "which clients were seen" can never disagree
    with what was written. The rows of a run are removed when it closes.
    """

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="read_pages")
    listing = models.CharField(max_length=10, choices=ReadListing.choices)
    page_no = models.PositiveIntegerField()
    record_count = models.PositiveIntegerField()
    records = models.JSONField(default=list)

    class Meta:
        ordering = ["run_id", "listing", "page_no"]
        constraints = [
            models.UniqueConstraint(fields=["run", "listing", "page_no"], name="one_read_page_per_run_listing_page"),
        ]

    def __str__(self) -> str:
        return f"Run #{self.run_id} {self.listing} page {self.page_no}"


class WebhookEvent(models.Model):
    """One event received from HaloPSA's outbound webhooks: what it named and what became of it (no body kept)."""

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    event = models.CharField(max_length=80, blank=True, default="")
    object_type = models.CharField(max_length=20, blank=True, default="")  # "client", "site" or "" (unknown)
    object_id = models.PositiveIntegerField("HaloPSA object id", null=True, blank=True)
    client_halo_id = models.PositiveIntegerField("HaloPSA client id", null=True, blank=True, db_index=True)
    status = models.CharField(max_length=20, choices=WebhookEventStatus.choices, default=WebhookEventStatus.QUEUED)
    error = models.TextField(blank=True, default="")
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event or 'event'} {self.object_type} {self.object_id or ''} ({self.get_status_display()})"


class HaloClientSync(models.Model):
    """Per HaloPSA client: a queued one-client sync (coalescing webhooks) and the outcome of the last one."""

    halo_id = models.PositiveIntegerField("HaloPSA client id", unique=True)
    # Set while a one-client sync task is queued and has not started reading HaloPSA: later events join it.
    queued_at = models.DateTimeField(null=True, blank=True)
    # The last webhook event for this client: its read waits until events have been quiet for a moment.
    last_event_at = models.DateTimeField(null=True, blank=True)
    # A HaloPSA delete event was received: a client HaloPSA no longer has is "removed", not merely "missing".
    delete_seen = models.BooleanField(default=False)
    # Each read of HaloPSA takes a number; a read older than one already applied is never written over it.
    fetch_seq = models.PositiveIntegerField(default=0)
    applied_seq = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(null=True, blank=True)  # a person's "Sync from HaloPSA"
    finished_at = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = "one-client sync"

    def __str__(self) -> str:
        return f"HaloPSA client {self.halo_id}"


class HaloCustomFieldLabel(models.Model):
    """The HaloPSA client custom field behind Extra Field N, as the last sync read its definition."""

    position = models.PositiveSmallIntegerField("Extra Field number", unique=True)
    halo_id = models.PositiveIntegerField("HaloPSA custom field id")
    name = models.CharField("HaloPSA name", max_length=255)
    label = models.CharField("HaloPSA label", max_length=255, blank=True, default="")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position"]
        verbose_name = "HaloPSA custom field label"

    def __str__(self) -> str:
        return f"Extra Field {self.position}: {self.label or self.name}"
