"""Sync run lifecycle: request (one at a time), claim by a worker, heartbeat, close, and abandon stale runs."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from syncapp.choices import SyncStatus, SyncTrigger
from syncapp.exceptions import PortalError, SyncAlreadyRunning, SyncCancelled, SyncRunNotClaimable
from syncapp.halo import ClientStats, HaloClient, HaloError
from syncapp.halo_budget import portal_halo_client
from syncapp.models import SyncRun
from syncapp.selectors.runs import open_sync_run, sync_schedule
from syncapp.services.run_watch import sync_run_kept_alive
from syncapp.sync.engine import SliceOutcome, SyncEngine

logger = logging.getLogger("syncapp.sync")


def sync_run_request(
    *, actor: AbstractBaseUser | None, trigger: SyncTrigger, dry_run: bool = False, _retry: bool = False
) -> SyncRun:
    """Queue a sync run and its task (on commit); raise SyncAlreadyRunning with the open run if there is one."""
    abandon_stale_sync_runs()
    now = timezone.now()
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                trigger=trigger,
                requested_by=actor if actor is not None and actor.is_authenticated else None,
                dry_run=dry_run,
                status=SyncStatus.QUEUED,
                queued_at=now,
                heartbeat_at=now,
            )
    except IntegrityError:
        # The partial unique constraint is the arbiter: whoever lost the race is told who won.
        running = open_sync_run()
        if running is None and not _retry:  # the other run closed in between: try once more
            return sync_run_request(actor=actor, trigger=trigger, dry_run=dry_run, _retry=True)
        if running is None:
            raise PortalError("Another sync started and finished at this very moment; please try again.") from None
        raise SyncAlreadyRunning(running) from None
    # The command line runs its sync in the foreground; every other trigger hands it to a worker.
    if trigger != SyncTrigger.COMMAND:
        from syncapp.tasks import run_halo_sync

        transaction.on_commit(lambda: run_halo_sync.delay(run.pk))
    return run


def sync_run_claim(*, run_id: int) -> SyncRun:
    """Move a queued run to running atomically, so two workers can never both run it."""
    now = timezone.now()
    claimed = SyncRun.objects.filter(pk=run_id, status=SyncStatus.QUEUED).update(
        status=SyncStatus.RUNNING, started_at=now, heartbeat_at=now, stage="starting"
    )
    if not claimed:
        raise SyncRunNotClaimable(f"Sync run #{run_id} is not waiting to start.")
    return SyncRun.objects.get(pk=run_id)


def sync_run_resume(*, run_id: int) -> SyncRun:
    """Take up a running run's next slice (the previous slice checkpointed and re-queued it)."""
    now = timezone.now()
    resumed = (
        SyncRun.objects.filter(pk=run_id, status=SyncStatus.RUNNING).exclude(checkpoint={}).update(heartbeat_at=now)
    )
    if not resumed:
        raise SyncRunNotClaimable(f"Sync run #{run_id} has no checkpoint to resume from.")
    return SyncRun.objects.get(pk=run_id)


def sync_run_finish(*, run: SyncRun, status: SyncStatus, error_message: str = "") -> SyncRun:
    """Close a run with its outcome; only a run still running is closed (an abandoned one stays abandoned)."""
    run.status = status
    run.error_message = error_message
    run.finished_at = timezone.now()
    run.heartbeat_at = run.finished_at
    run.stage = "done"
    run.checkpoint = {}
    run.wait_reason, run.wait_until = "", None
    fields = {f.attname for f in SyncRun._meta.concrete_fields} - {"id", "kind", "queued_at", "requested_by_id"}
    SyncRun.objects.filter(pk=run.pk, status=SyncStatus.RUNNING).update(**{name: getattr(run, name) for name in fields})
    run.refresh_from_db()
    return run


def abandon_stale_sync_runs() -> int:
    """Close open runs whose heartbeat is older than SYNC_STALE_AFTER_SECONDS, so they never block the next one."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    stale = SyncRun.objects.filter(heartbeat_at__lt=cutoff)
    never_started = stale.filter(status=SyncStatus.QUEUED).update(
        status=SyncStatus.ABANDONED,
        finished_at=now,
        stage="done",
        error_message="No worker picked this sync up in time; check that the Celery worker is running.",
    )
    died = stale.filter(status=SyncStatus.RUNNING).update(
        status=SyncStatus.ABANDONED,
        finished_at=now,
        stage="done",
        error_message="The worker running this sync stopped answering; the run was closed as abandoned.",
    )
    return never_started + died


def sync_run_execute(
    *,
    run_id: int,
    resume: bool = False,
    slice_seconds: float | None = None,
    halo: HaloClient | None = None,
    on_page: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Claim (or resume) a run and run one slice of it; close it unless it checkpointed for another slice.

    A transient HaloPSA error (rate limited past the client's retries, HaloPSA down) is re-raised with the run left
    running and checkpointed, so the caller may retry it later; any other failure closes the run as failed.
    """
    run = sync_run_resume(run_id=run_id) if resume else sync_run_claim(run_id=run_id)
    if run.cancelled_at is not None:  # cancelled between two slices (or two task attempts)
        return _finish_cancelled(run)
    spent = SliceTraffic(requests_before=run.requests_made, rate_limited_before=run.rate_limited_count)
    try:
        with sync_run_kept_alive(run_id=run.pk) as watch, halo or portal_halo_client(sleep=watch.sleep) as client:
            client.on_wait = watch.show_wait
            before = replace(client.stats, requests=client.stats.requests.copy())
            try:
                engine = SyncEngine(
                    run=run, halo=client, slice_seconds=slice_seconds, on_page=on_page, should_stop=watch.stop_requested
                )
                outcome = engine.execute()
            finally:
                client.on_wait = None
                spent.measure(before, client.stats)
    except SyncCancelled:
        return _finish_cancelled(_with_waits(run, spent))
    except HaloError as error:
        if error.transient:
            _add_waits(run.pk, spent)
            raise
        return sync_run_finish(run=_with_waits(run, spent), status=SyncStatus.FAILED, error_message=str(error))
    except Exception as error:
        logger.exception("Sync run #%s failed unexpectedly", run.pk)
        sync_run_finish(
            run=_with_waits(run, spent),
            status=SyncStatus.FAILED,
            error_message=f"The sync stopped on an unexpected error ({type(error).__name__}); see the worker log.",
        )
        raise
    if outcome is SliceOutcome.CHECKPOINTED:
        _add_waits(run.pk, spent)
        return _reloaded(run)
    run = _with_waits(run, spent)
    return sync_run_finish(run=run, status=SyncStatus.PARTIAL if run.failed_count else SyncStatus.SUCCEEDED)


@dataclass
class SliceTraffic:
    """One slice's HaloPSA traffic and waiting, added to the run's totals when the slice ends, however it ends.

    The engine records requests per page; requests after the last page (retries that gave up) count too.
    """

    requests_before: int
    rate_limited_before: int
    requests: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    retries: int = 0

    def measure(self, before: ClientStats, after: ClientStats) -> None:
        self.requests = after.total_requests - before.total_requests
        self.rate_limited = after.rate_limited - before.rate_limited
        self.waited_seconds = after.waited_seconds - before.waited_seconds
        self.retries = after.retries - before.retries


def _with_waits(run: SyncRun, spent: SliceTraffic) -> SyncRun:
    """The run as stored, plus this slice's traffic and waiting, for sync_run_finish to write in its one update."""
    run = _reloaded(run)
    run.requests_made = spent.requests_before + spent.requests
    run.rate_limited_count = spent.rate_limited_before + spent.rate_limited
    run.waited_seconds += spent.waited_seconds
    run.retry_count += spent.retries
    return run


def _add_waits(run_id: int, spent: SliceTraffic) -> None:
    """Add a slice's traffic and waiting to the run's totals and clear its current wait (nothing holds it now)."""
    SyncRun.objects.filter(pk=run_id).update(
        requests_made=spent.requests_before + spent.requests,
        rate_limited_count=spent.rate_limited_before + spent.rate_limited,
        waited_seconds=F("waited_seconds") + spent.waited_seconds,
        retry_count=F("retry_count") + spent.retries,
        wait_reason="",
        wait_until=None,
    )


def _finish_cancelled(run: SyncRun) -> SyncRun:
    who = run.cancelled_by.get_username() if run.cancelled_by else "somebody"
    message = (
        f"Cancelled by {who}. The {run.progress_done:,} HaloPSA clients already done stay written; "
        "nothing was marked missing."
    )
    return sync_run_finish(run=run, status=SyncStatus.CANCELLED, error_message=message)


def sync_run_cancel(*, run_id: int, actor: AbstractBaseUser) -> SyncRun:
    """Cancel a queued run at once, or ask a running one to stop after its current page (or wait).

    PortalError when the run is already closed or already being cancelled.
    """
    now = timezone.now()
    queued = SyncRun.objects.filter(pk=run_id, status=SyncStatus.QUEUED).update(
        status=SyncStatus.CANCELLED,
        cancelled_by=actor,
        cancelled_at=now,
        finished_at=now,
        heartbeat_at=now,
        stage="done",
        error_message=f"Cancelled by {actor.get_username()} before it started.",
    )
    if not queued:
        running = SyncRun.objects.filter(pk=run_id, status=SyncStatus.RUNNING, cancelled_at__isnull=True)
        if not running.update(cancelled_by=actor, cancelled_at=now):
            run = SyncRun.objects.get(pk=run_id)
            if run.is_open:
                raise PortalError(f"Sync run #{run_id} is already being cancelled; it stops after its current page.")
            raise PortalError(f"Sync run #{run_id} has already ended ({run.get_status_display()}).")
    return SyncRun.objects.get(pk=run_id)


def sync_run_fail(*, run_id: int, error_message: str) -> SyncRun:
    """Close a running run as failed (e.g. a transient HaloPSA error outlived the task's retries)."""
    return sync_run_finish(run=SyncRun.objects.get(pk=run_id), status=SyncStatus.FAILED, error_message=error_message)


def scheduled_sync_request_if_due() -> SyncRun | None:
    """Beat's tick: queue a scheduled run when the schedule is on and its interval has passed since the last one."""
    abandon_stale_sync_runs()
    schedule = sync_schedule()
    if not schedule.enabled:
        return None
    last = SyncRun.objects.filter(trigger=SyncTrigger.SCHEDULED).order_by("-queued_at").first()
    if last is not None and last.queued_at > timezone.now() - timedelta(minutes=schedule.interval_minutes):
        return None
    try:
        return sync_run_request(actor=None, trigger=SyncTrigger.SCHEDULED)
    except PortalError:
        return None  # a manual run is going on (or just ended): the next tick tries again


def _reloaded(run: SyncRun) -> SyncRun:
    run.refresh_from_db()
    return run
