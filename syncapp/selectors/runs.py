"""Reads of sync runs and the schedule."""

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from syncapp.choices import SyncStatus
from syncapp.models import FieldChange, SyncRun, SyncSchedule


def open_sync_run() -> SyncRun | None:
    """The run holding the one-at-a-time slot (queued or running), if any."""
    return SyncRun.objects.filter(status__in=SyncStatus.open_values()).select_related("requested_by").first()


def last_finished_sync_run() -> SyncRun | None:
    return SyncRun.objects.exclude(status__in=SyncStatus.open_values()).order_by("-finished_at", "-id").first()


def sync_run_list() -> QuerySet[SyncRun]:
    return SyncRun.objects.select_related("requested_by").order_by("-queued_at", "-id")


def sync_schedule() -> SyncSchedule:
    """The schedule row, created on first read with the deployment's defaults (on for the demo, off otherwise)."""
    schedule, _ = SyncSchedule.objects.get_or_create(
        singleton=1,
        defaults={
            "enabled": settings.SYNC_SCHEDULE_DEFAULT_ENABLED,
            "interval_minutes": settings.SYNC_SCHEDULE_DEFAULT_INTERVAL_MINUTES,
        },
    )
    return schedule


def sync_run_for_page(*, pk: int) -> SyncRun:
    return get_object_or_404(SyncRun.objects.select_related("requested_by"), pk=pk)


def sync_run_changes(*, run: SyncRun) -> QuerySet[FieldChange]:
    """Every history row the run wrote, with the customer and site loaded (one query per page)."""
    return (
        FieldChange.objects.filter(sync_run=run)
        .select_related("customer", "site")
        .order_by("customer__name", "customer_id", "site_id", "field", "id")
    )


def ticked_clients_note() -> str:
    """How many HaloPSA clients were ticked when a sync last read them, for the access check (which reads one page)."""
    from django.utils import timezone
    from django.utils.formats import date_format

    from syncapp.models import HaloClientEntry

    last = (
        SyncRun.objects.filter(status__in=(SyncStatus.SUCCEEDED, SyncStatus.PARTIAL), dry_run=False)
        .order_by("-finished_at")
        .first()
    )
    if last is None or last.finished_at is None:
        return "ticked clients are counted by the first sync"
    ticked = HaloClientEntry.objects.filter(is_ticked=True).count()
    return f"{ticked:,} ticked at the last sync ({date_format(timezone.localtime(last.finished_at), 'j M Y, H:i')})"
