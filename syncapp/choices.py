"""Choice sets (statuses, origins, methods) shared by models, services and screens."""

from django.db import models


class LinkMethod(models.TextChoices):
    IMPORTED = "imported", "Imported from HaloPSA"
    MATCHED = "matched", "Matched by staff"


class NotSyncingReason(models.TextChoices):
    NONE = "", "Syncing"
    UNTICKED = "unticked", "Datagate box unticked in HaloPSA"
    MISSING = "missing", "Client no longer found in HaloPSA"
    REMOVED = "removed", "Removed in HaloPSA"


class SyncKind(models.TextChoices):
    HALOPSA = "halopsa", "HaloPSA Product Sync"
    LINK = "link", "One client, fetched when staff linked it"
    SINGLE_CUSTOMER = "single", "Single customer"
    WEBHOOK = "webhook", "HaloPSA webhook"


class SyncStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partly succeeded"
    FAILED = "failed", "Failed"
    ABANDONED = "abandoned", "Abandoned"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def open_values(cls) -> tuple[str, ...]:
        """Statuses of a run that still holds the one-run-at-a-time slot."""
        return (cls.QUEUED.value, cls.RUNNING.value)


class SyncTrigger(models.TextChoices):
    MANUAL = "manual", "Staff (gears → HaloPSA)"
    SCHEDULED = "scheduled", "Schedule"
    COMMAND = "command", "Command line"
    WEBHOOK = "webhook", "HaloPSA webhook"


class ChangeOrigin(models.TextChoices):
    SYNC = "sync", "HaloPSA sync"
    STAFF = "staff", "Staff edit"
    LINK = "link", "Link change"
    MERGE = "merge", "Merge"


class ChangeAction(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    LINKED = "linked", "Linked"
    UNLINKED = "unlinked", "Unlinked"
    MERGED_FROM = "merged_from", "Merged from"
    MERGED_INTO = "merged_into", "Merged into"


class DuplicateStatus(models.TextChoices):
    OPEN = "open", "Waiting for staff"
    LINKED = "linked", "Linked to the local customer"
    DIFFERENT = "different", "Confirmed different companies"


class ReadListing(models.TextChoices):
    """The HaloPSA listings a run reads page by page and keeps with the run (SyncRunPage)."""

    SITES = "sites", "Sites"
    CLIENTS = "clients", "Clients"


class MatchLevel(models.TextChoices):
    """How likely a customer and a HaloPSA client are one company (syncapp/matching/score.py decides)."""

    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class WebhookEventStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    COALESCED = "coalesced", "Joined a sync already queued"
    APPLIED = "applied", "Applied"
    FULL_SYNC = "full_sync", "No client id: full sync queued"
    TEST = "test", "Test event"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Refused (bad body)"


class ExportBlock(models.TextChoices):
    """Why an active customer's invoices would not export to HaloPSA (the support article's warning)."""

    NO_HALO_ID = "no_halo_id", "No HaloPSA id"
    NOT_SYNCING = "not_syncing", "Not syncing"
    HALO_INACTIVE = "halo_inactive", "Inactive in HaloPSA"
    NO_MAIN_SITE = "no_main_site", "No main site in HaloPSA"
