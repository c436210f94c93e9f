"""Sync run lifecycle: request (one at a time), claim by a worker, heartbeat, close, and abandon stale runs."""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from syncapp.choices import SyncStatus, SyncTrigger
from syncapp.exceptions import PortalError, SyncAlreadyRunning, SyncRunNotClaimable, TaskQueueUnavailable
from syncapp.halo import HaloClient, HaloError, halo_settings_from_django
from syncapp.models import SyncRun
from syncapp.selectors.runs import open_sync_run, sync_schedule
from syncapp.sync.engine import SliceOutcome, SyncEngine

logger = logging.getLogger("syncapp.sync")

# A person is waiting on Confirm: try the broker a few times over about a second, then say it is unavailable.
TASK_SEND_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.4, "interval_max": 0.5}


def sync_run_request(
    *, actor: AbstractBaseUser | None, trigger: SyncTrigger, dry_run: bool = False, _retry: bool = False
) -> SyncRun:
    """Queue a sync run and its task (on commit); raise SyncAlreadyRunning with the open run if there is one.

    An open run is looked for first, so a refused request creates no row (on PostgreSQL a rolled-back insert would
    still use up a run number); the partial unique constraint stays the arbiter of a race between two requests.
    TaskQueueUnavailable when the task cannot be handed to the broker: the run is then closed as failed.
    """
    abandon_stale_sync_runs()
    running = open_sync_run()
    if running is not None:
        raise SyncAlreadyRunning(running)
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
        transaction.on_commit(lambda: _send_sync_task(run.pk))
    return run


def _send_sync_task(run_id: int) -> None:
    """Hand the run's task to the broker; if it cannot take it, close the run as failed and say so.

    Without this, a broker that is down left a queued run nobody would ever start, blocking syncs until it was
    abandoned, and the person who clicked Confirm got a server error.
    """
    from syncapp.tasks import run_halo_sync

    try:
        run_halo_sync.apply_async(args=(run_id,), retry_policy=TASK_SEND_RETRY_POLICY)
    except Exception as error:
        logger.error("Sync run #%s could not be queued: the task queue is unavailable (%s)", run_id, error)
        SyncRun.objects.filter(pk=run_id, status=SyncStatus.QUEUED).update(
            status=SyncStatus.FAILED,
            finished_at=timezone.now(),
            stage="done",
            error_message=TaskQueueUnavailable.message,
        )
        raise TaskQueueUnavailable() from error


def resend_unclaimed_sync_runs() -> list[int]:
    """Send the task of every queued run that no worker has claimed for SYNC_RESEND_AFTER_SECONDS again.

    A broker restarted without persistence loses queued messages; the run would otherwise wait until it is
    abandoned. A duplicate message is harmless: claiming accepts a queued run once, the other message is skipped.
    """
    from syncapp.tasks import run_halo_sync

    cutoff = timezone.now() - timedelta(seconds=settings.SYNC_RESEND_AFTER_SECONDS)
    run_ids = list(
        SyncRun.objects.filter(status=SyncStatus.QUEUED, queued_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for run_id in run_ids:
        logger.warning("Sync run #%s is still waiting for a worker; sending its task again", run_id)
        run_halo_sync.apply_async(args=(run_id,), retry_policy=TASK_SEND_RETRY_POLICY)
    return run_ids


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
    fields = {f.attname for f in SyncRun._meta.concrete_fields} - {"id", "kind", "queued_at", "requested_by_id"}
    SyncRun.objects.filter(pk=run.pk, status=SyncStatus.RUNNING).update(**{name: getattr(run, name) for name in fields})
    run.refresh_from_db()
    return run


@contextmanager
def sync_run_kept_alive(*, run_id: int, every: float | None = None) -> Iterator[None]:
    """Beat a running run's heartbeat from a background thread while the block runs.

    The engine also writes the heartbeat with every page, but HaloPSA's pacing (300 requests per rolling 5 minutes)
    can hold one request for minutes; without beats in between, the next request for a run would close this live
    one as abandoned and start a second. A worker that dies takes this thread with it, so its run still goes stale.
    """
    interval = settings.SYNC_HEARTBEAT_SECONDS if every is None else every
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(interval):
                SyncRun.objects.filter(pk=run_id, status=SyncStatus.RUNNING).update(heartbeat_at=timezone.now())
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=beat, name=f"sync-run-{run_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


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
    try:
        with sync_run_kept_alive(run_id=run.pk), halo or HaloClient(halo_settings_from_django()) as client:
            outcome = SyncEngine(run=run, halo=client, slice_seconds=slice_seconds, on_page=on_page).execute()
    except HaloError as error:
        if error.transient:
            raise
        return sync_run_finish(run=_reloaded(run), status=SyncStatus.FAILED, error_message=str(error))
    except Exception as error:
        logger.exception("Sync run #%s failed unexpectedly", run.pk)
        sync_run_finish(
            run=_reloaded(run),
            status=SyncStatus.FAILED,
            error_message=f"The sync stopped on an unexpected error ({type(error).__name__}); see the worker log.",
        )
        raise
    run = _reloaded(run)
    if outcome is SliceOutcome.CHECKPOINTED:
        return run
    return sync_run_finish(run=run, status=SyncStatus.PARTIAL if run.failed_count else SyncStatus.SUCCEEDED)


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
