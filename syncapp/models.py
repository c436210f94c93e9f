"""Customers, sites, HaloPSA links, sync runs and the per-field history: the portal's data model."""

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
    SyncKind,
    SyncStatus,
    SyncTrigger,
)

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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
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
    # Digest of the HaloPSA data the sync last applied; "" forces a full comparison at the next sync.
    fingerprint = models.CharField(max_length=32, blank=True, default="", editable=False)

    class Meta:
        ordering = ["halo_id"]

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

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="field_changes")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="field_changes")
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
        indexes = [models.Index(fields=["customer", "-changed_at"], name="fieldchange_customer_idx")]

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

    class Meta:
        ordering = ["name", "halo_id"]
        verbose_name = "HaloPSA client seen"
        verbose_name_plural = "HaloPSA clients seen"

    def __str__(self) -> str:
        return f"{self.name} ({self.halo_id})"


class DuplicateCandidate(models.Model):
    """A ticked HaloPSA client not imported because an unlinked local customer has the same name."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="duplicate_candidates")
    halo_id = models.PositiveIntegerField("HaloPSA client id")
    halo_name = models.CharField(max_length=255)
    status = models.CharField(max_length=20, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    detected_at = models.DateTimeField(default=timezone.now)
    detected_by_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    resolved_at = models.DateTimeField(null=True, blank=True)

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
            models.CheckConstraint(condition=Q(interval_minutes__gte=5), name="sync_schedule_interval_at_least_5"),
        ]

    def __str__(self) -> str:
        return f"Every {self.interval_minutes} min" if self.enabled else "Off"
