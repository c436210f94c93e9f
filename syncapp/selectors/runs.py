"""Reads of sync runs and the schedule."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from syncapp.choices import NotSyncingReason, SyncKind, SyncStatus, SyncTrigger
from syncapp.halo.waiting import in_words
from syncapp.models import Customer, FieldChange, HaloLink, SyncRun, SyncSchedule
from syncapp.textclean import quote_value

# A run's wait_reason holds this where the time still to wait goes; the page counts it down.
LEFT = "{left}"


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
    """The schedule row; before an administrator first saves it, an unsaved one with the deployment's defaults.

    A read never writes: the row is created by the first save (services.schedule.update_sync_schedule).
    """
    schedule = SyncSchedule.objects.filter(singleton=1).first()
    if schedule is None:
        schedule = SyncSchedule(
            singleton=1,
            enabled=settings.SYNC_SCHEDULE_DEFAULT_ENABLED,
            interval_minutes=settings.SYNC_SCHEDULE_DEFAULT_INTERVAL_MINUTES,
        )
    return schedule


def sync_run_for_page(*, pk: int) -> SyncRun:
    return get_object_or_404(SyncRun.objects.select_related("requested_by"), pk=pk)


def sync_run_changes(*, run: SyncRun) -> QuerySet[FieldChange]:
    """Every history row the run wrote, with the customer and site loaded (one query per page).

    Each customer's changes together, in the order the run wrote them (its own row, then its sites'), customers in
    the order they came to the portal: for an import run that is the order HaloPSA listed them. The index on
    (sync_run, customer, id) holds the rows in this order, so the list is read along it rather than every change of
    the run sorted by customer name; the Customer column still sorts by name on request.
    """
    return FieldChange.objects.filter(sync_run=run).select_related("customer", "site").order_by("customer_id", "id")


def run_changes_with_ids(ids: Sequence[int], *, order_by: Sequence[str]) -> QuerySet[FieldChange]:
    """One page of a run's changes: the rows whose ids are `ids`, loaded by primary key, in the page's order.

    Not filtered by the run again: with that condition SQLite, which keeps no statistics on the table, would walk
    the run's index in the page's order and test every change of the run against the page's ids.
    """
    return FieldChange.objects.filter(pk__in=ids).select_related("customer", "site").order_by(*order_by)


def customers_named(text: str) -> QuerySet[Customer]:
    """The customers whose name contains `text`, as a subquery to filter a run's changes by.

    A contains-search reads every customer's name once per statement; the changes of the customers found are then
    read through the index on (sync_run, customer). Joining instead would look up the customer of every change of
    the run to test its name.
    """
    return Customer.objects.filter(name__icontains=text).values("pk")


def run_current_wait(run: SyncRun, *, now: datetime | None = None) -> dict[str, Any] | None:
    """What holds an open run right now, counted down to `now`: {"message", "seconds_left", "until"}."""
    if not run.is_open or not run.wait_reason:
        return None
    now = now or timezone.now()
    left = max((run.wait_until - now).total_seconds(), 0.0) if run.wait_until else 0.0
    return {
        "seconds_left": math.ceil(left),
        "until": run.wait_until.isoformat() if run.wait_until else None,
        "message": run.wait_reason.replace(LEFT, in_words(left)),
    }


def run_elapsed_seconds(run: SyncRun, *, now: datetime | None = None) -> int | None:
    """Seconds since the run started, until it finished (None before it started)."""
    if run.started_at is None:
        return None
    end = run.finished_at or now or timezone.now()
    return max(int((end - run.started_at).total_seconds()), 0)


def run_waiting_summary(run: SyncRun) -> str:
    """One sentence on how long HaloPSA held the run ("" when it never waited)."""
    if not run.waited_seconds and not run.rate_limited_count and not run.retry_count:
        return ""
    parts = [f"{run.rate_limited_count} rate-limit answer{'s' if run.rate_limited_count != 1 else ''} (429)"]
    parts.append(f"{run.retry_count} retr{'ies' if run.retry_count != 1 else 'y'}")
    outcome = {
        SyncStatus.SUCCEEDED: "Succeeded after waiting",
        SyncStatus.PARTIAL: "Partly succeeded after waiting",
    }.get(run.status, "Waited")
    return f"{outcome} {in_words(run.waited_seconds)} for HaloPSA: {', '.join(parts)}."


NAMED_NOT_SYNCING = 20  # the run page names this many not-syncing customers and links to the full list


@dataclass(frozen=True)
class NamedCustomers:
    """A few customers by name, and how many there are in all."""

    customers: list[Customer]
    total: int


def not_syncing_customers(*, limit: int = NAMED_NOT_SYNCING) -> NamedCustomers:
    """Customers whose link is not syncing now, by name (two queries, any number of customers)."""
    links = Customer.objects.filter(halo_link__isnull=False).exclude(
        halo_link__not_syncing_reason=NotSyncingReason.NONE
    )
    named = list(links.select_related("halo_link").order_by("name", "id")[:limit])
    total = len(named) if len(named) < limit else links.count()
    return NamedCustomers(customers=named, total=total)


def run_failures(*, run: SyncRun) -> list[dict]:
    """A run's failures as rows: HaloPSA id, name, reason, and the customer linked to that client if there is one."""
    rows = []
    for failure in run.failures or []:
        if isinstance(failure, dict):
            halo_id = failure.get("halo_id") or failure.get("client_id") or failure.get("id")
            name = failure.get("name") or failure.get("customer") or failure.get("halo_name") or ""
            reason = failure.get("reason") or failure.get("error") or failure.get("message") or ""
        else:
            halo_id, name, reason = None, "", failure
        # Control characters escaped and at most ~200 characters: a poisoned record must not poison the page.
        rows.append(
            {"halo_id": halo_id, "name": quote_value(str(name)), "reason": quote_value(str(reason)), "customer": None}
        )
    ids = {row["halo_id"] for row in rows if isinstance(row["halo_id"], int)}
    if ids:
        linked = {
            link.halo_id: link.customer for link in HaloLink.objects.filter(halo_id__in=ids).select_related("customer")
        }
        for row in rows:
            row["customer"] = linked.get(row["halo_id"])
    return rows


@dataclass(frozen=True)
class ScheduleTimes:
    """The schedule's last scheduled run and when the next one is due (None when the schedule is off)."""

    last_run: SyncRun | None
    next_due: datetime | None


def schedule_times(schedule: SyncSchedule) -> ScheduleTimes:
    """When the schedule last ran and next runs; beat ticks every minute, so "due" means within a minute of it."""
    last = SyncRun.objects.filter(trigger=SyncTrigger.SCHEDULED).order_by("-queued_at", "-id").first()
    if not schedule.enabled:
        return ScheduleTimes(last_run=last, next_due=None)
    now = timezone.now()
    due = last.queued_at + timedelta(minutes=schedule.interval_minutes) if last else now
    return ScheduleTimes(last_run=last, next_due=max(due, now))


def complete_sync_runs() -> QuerySet[SyncRun]:
    """Full syncs that succeeded (not dry runs), newest first: each checked every syncing customer against HaloPSA."""
    return SyncRun.objects.filter(status=SyncStatus.SUCCEEDED, dry_run=False, kind=SyncKind.HALOPSA).order_by(
        "-finished_at"
    )


def last_sync_summary() -> SyncRun | None:
    """The last finished run that wrote something (not a dry run), for the Customers page's "last sync" line.

    It carries `last_complete_at`, when the last full sync that succeeded finished (the list's "Last synced" reads
    it; see selectors.customers.last_complete_sync_at), so the page asks for both in one query.
    """
    return (
        SyncRun.objects.exclude(status__in=SyncStatus.open_values())
        .filter(dry_run=False)
        .select_related("requested_by")
        .annotate(last_complete_at=Subquery(complete_sync_runs().values("finished_at")[:1]))
        .order_by("-finished_at", "-id")
        .first()
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
