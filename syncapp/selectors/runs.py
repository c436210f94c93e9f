"""Reads of sync runs and the schedule."""

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from syncapp.choices import SyncKind, SyncStatus
from syncapp.models import FieldChange, SyncRun, SyncSchedule


def open_sync_run() -> SyncRun | None:
    """The run holding the one-at-a-time slot (queued or running), if any."""
    return SyncRun.objects.filter(status__in=SyncStatus.open_values()).select_related("requested_by").first()


def last_finished_sync_run() -> SyncRun | None:
    """The last full sync that closed (one-client runs are not what the gears' confirm page reports)."""
    finished = SyncRun.objects.filter(kind=SyncKind.HALOPSA).exclude(status__in=SyncStatus.open_values())
    return finished.order_by("-finished_at", "-id").first()


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
