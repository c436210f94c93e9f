"""Sync run lifecycle: request (one at a time), claim by a worker, heartbeat, close, and abandon stale runs."""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connections, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from syncapp.choices import SyncStatus, SyncTrigger
from syncapp.exceptions import (
    PortalError,
    SyncAlreadyRunning,
    SyncCancelled,
    SyncRunInterrupted,
    SyncRunLeaseLost,
    SyncRunNotClaimable,
    TaskQueueUnavailable,
)
from syncapp.halo import ClientStats, HaloClient, HaloError
from syncapp.halo_budget import portal_halo_client
from syncapp.models import SyncRun, SyncRunPage
from syncapp.selectors.runs import open_sync_run, sync_schedule
from syncapp.services.run_watch import sync_run_kept_alive
from syncapp.sync.engine import SliceOutcome, SyncEngine
from syncapp.sync.staging import forget_read_pages

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


def sync_run_claim(*, run_id: int, handover: str = "") -> SyncRun:
    """Take a run to work on, atomically, with a fresh lease; raise SyncRunNotClaimable when it may not be taken.

    A worker may take a queued run; the next slice of a running run, when it brings the `handover` token its
    previous slice left; or a running run whose worker stopped beating for SYNC_TAKEOVER_AFTER_SECONDS (it died:
    the run goes on from its last written page). Anything else is closed, or busy with a live worker.
    """
    now = timezone.now()
    claimable = Q(status=SyncStatus.QUEUED) | _silent_for(settings.SYNC_TAKEOVER_AFTER_SECONDS, now)
    if handover:
        claimable |= Q(status=SyncStatus.RUNNING, lease=handover)
    lease = secrets.token_hex(16)
    claimed = SyncRun.objects.filter(claimable, pk=run_id).update(
        status=SyncStatus.RUNNING,
        lease=lease,
        started_at=Coalesce("started_at", Value(now)),
        heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        current = SyncRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
        if current == SyncStatus.RUNNING:
            raise SyncRunNotClaimable(f"Sync run #{run_id} is being carried out by another worker.", busy=True)
        raise SyncRunNotClaimable(f"Sync run #{run_id} is not waiting to start (it is {current or 'gone'}).")
    return SyncRun.objects.get(pk=run_id)


def sync_run_hand_over(*, run: SyncRun) -> str:
    """End this worker's slice of a running run and leave a token for whoever takes the next slice."""
    handover = secrets.token_hex(16)
    if not SyncRun.objects.filter(pk=run.pk, lease=run.lease, status=SyncStatus.RUNNING).update(lease=handover):
        raise SyncRunLeaseLost(f"Sync run #{run.pk} was taken over by another worker.")
    run.lease = handover
    return handover


def sync_run_finish(*, run: SyncRun, status: SyncStatus, error_message: str = "") -> SyncRun:
    """Close a run with its outcome; only a run still running is closed (an abandoned one stays abandoned)."""
    run.status = status
    run.error_message = error_message
    run.finished_at = timezone.now()
    run.heartbeat_at = run.finished_at
    run.stage = "done"
    run.checkpoint = {}
    held_by = run.lease
    run.lease = ""
    run.wait_reason, run.wait_until = "", None
    fields = {f.attname for f in SyncRun._meta.concrete_fields} - {"id", "kind", "queued_at", "requested_by_id"}
    with transaction.atomic():
        closed = SyncRun.objects.filter(pk=run.pk, status=SyncStatus.RUNNING, lease=held_by).update(
            **{name: getattr(run, name) for name in fields}
        )
        if closed:
            forget_read_pages(run.pk)
    run.refresh_from_db()
    return run


def abandon_stale_sync_runs() -> int:
    """Close the open runs nobody can carry on, so they never block the next one.

    A queued run no worker took within SYNC_STALE_AFTER_SECONDS (no worker is running), a running run whose
    worker stopped beating and that no worker took over in that time, and a running run that has already been
    taken up SYNC_MAX_ATTEMPTS times (each time its worker died: something in it kills workers).
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    closed = {"status": SyncStatus.ABANDONED, "finished_at": now, "stage": "done", "lease": ""}
    never_started = SyncRun.objects.filter(status=SyncStatus.QUEUED, heartbeat_at__lt=cutoff).update(
        **closed, error_message="No worker picked this sync up in time; check that the Celery worker is running."
    )
    died = SyncRun.objects.filter(_silent_for(settings.SYNC_STALE_AFTER_SECONDS, now)).update(
        **closed,
        error_message="The worker running this sync stopped answering and no worker took it over; "
        "check that the Celery worker is running.",
    )
    kills_workers = SyncRun.objects.filter(
        _silent_for(settings.SYNC_TAKEOVER_AFTER_SECONDS, now), attempts__gte=settings.SYNC_MAX_ATTEMPTS
    ).update(
        **closed,
        error_message=f"The worker carrying out this sync stopped {settings.SYNC_MAX_ATTEMPTS} times; "
        "the run was closed as abandoned (see the worker log).",
    )
    if never_started or died or kills_workers:
        SyncRunPage.objects.filter(run__status=SyncStatus.ABANDONED).delete()
    return never_started + died + kills_workers


def sync_runs_recover() -> list[int]:
    """Beat's tick: send again the task of every open run whose worker or message was lost; return their ids.

    A running run whose worker stopped beating (killed, machine restarted) is taken over from its last written
    page by whichever worker gets the message; a queued run that no worker has taken for a while may have lost
    its message (a broker restarted without persistence). A duplicate message is harmless: the claim decides.
    """
    from syncapp.tasks import run_halo_sync

    abandon_stale_sync_runs()
    now = timezone.now()
    resend_cutoff = now - timedelta(seconds=settings.SYNC_RESEND_AFTER_SECONDS)
    lost = SyncRun.objects.filter(
        _silent_for(settings.SYNC_TAKEOVER_AFTER_SECONDS, now)
        | Q(status=SyncStatus.QUEUED, queued_at__lt=resend_cutoff)
    ).exclude(trigger=SyncTrigger.COMMAND)  # the command line carries out its own run, in the foreground
    run_ids = list(lost.order_by("pk").values_list("pk", flat=True))
    for run_id in run_ids:
        logger.warning("Sync run #%s lost its worker or its message; sending it to the workers again", run_id)
        run_halo_sync.apply_async(args=(run_id,), retry_policy=TASK_SEND_RETRY_POLICY)
    return run_ids


def sync_run_execute(
    *,
    run_id: int,
    handover: str = "",
    slice_seconds: float | None = None,
    halo: HaloClient | None = None,
    on_page: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Claim a run and carry out one slice of it; close it unless it handed over to another slice.

    A checkpointed run comes back open with `run.lease` holding the token for its next slice. A transient
    failure (HaloPSA rate limited past the client's retries or down, the database connection lost) raises
    SyncRunInterrupted with the run left running and handed over, so the caller may retry it; any other failure
    closes the run as failed. Whatever pages were written stay written: the next slice goes on after them.
    """
    run = sync_run_claim(run_id=run_id, handover=handover)
    lease = run.lease
    if run.cancelled_at is not None:  # cancelled between two slices (or two task attempts)
        return _finish_cancelled(run)
    spent = SliceTraffic(requests_before=run.requests_made, rate_limited_before=run.rate_limited_count)
    try:
        with (
            sync_run_kept_alive(run_id=run.pk, lease=lease) as watch,
            halo or portal_halo_client(sleep=watch.sleep) as client,
        ):
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
    except SyncRunLeaseLost:
        logger.warning("Sync run #%s was taken over by another worker; this slice stops", run_id)
        raise
    except SyncCancelled:
        return _finish_cancelled(_with_waits(run, lease, spent))
    except HaloError as error:
        if error.transient:
            _add_waits(run.pk, lease, spent)
            raise SyncRunInterrupted(str(error), handover=_hand_over_if_held(run, lease)) from error
        return sync_run_finish(run=_with_waits(run, lease, spent), status=SyncStatus.FAILED, error_message=str(error))
    except (OperationalError, InterfaceError) as error:
        # The connection died under the sync (database restarted, connection killed): a new one is opened for
        # the bookkeeping, and the run is retried like any transient failure, from its last written page.
        close_dead_connections()
        logger.warning("Sync run #%s lost its database connection: %s", run_id, error)
        reason = f"The database connection was lost ({_short(error)})."
        raise SyncRunInterrupted(reason, handover=_hand_over_if_held(run, lease)) from error
    except Exception as error:
        logger.exception("Sync run #%s failed unexpectedly", run.pk)
        sync_run_finish(
            run=_with_waits(run, lease, spent),
            status=SyncStatus.FAILED,
            error_message=f"The sync stopped on an unexpected error ({type(error).__name__}); see the worker log.",
        )
        raise
    if outcome is SliceOutcome.CHECKPOINTED:
        _add_waits(run.pk, lease, spent)
        run = _reloaded(run, lease)
        sync_run_hand_over(run=run)
        return run
    run = _with_waits(run, lease, spent)
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


def _with_waits(run: SyncRun, lease: str, spent: SliceTraffic) -> SyncRun:
    """The run as stored, plus this slice's traffic and waiting, for sync_run_finish to write in its one update."""
    run = _reloaded(run, lease)
    run.requests_made = spent.requests_before + spent.requests
    run.rate_limited_count = spent.rate_limited_before + spent.rate_limited
    run.waited_seconds += spent.waited_seconds
    run.retry_count += spent.retries
    return run


def _add_waits(run_id: int, lease: str, spent: SliceTraffic) -> None:
    """Add a slice's traffic and waiting to the run's totals and clear its current wait (nothing holds it now)."""
    SyncRun.objects.filter(pk=run_id, lease=lease).update(
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


def sync_run_fail(*, run_id: int, error_message: str, lease: str) -> SyncRun:
    """Close a running run held by `lease` as failed (e.g. a transient failure outlived the task's retries)."""
    run = SyncRun.objects.get(pk=run_id)
    run.lease = lease
    return sync_run_finish(run=run, status=SyncStatus.FAILED, error_message=error_message)


def scheduled_sync_request_if_due() -> SyncRun | None:
    """Beat's tick: queue a scheduled run when the schedule is on and its interval has passed since the last one.

    Stale runs were closed by the tick's sync_runs_recover() just before (and sync_run_request closes them too).
    """
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


def _silent_for(seconds: float, now: datetime) -> Q:
    """Running runs whose worker has not beaten for `seconds` and that are not waiting out a planned retry."""
    cutoff = now - timedelta(seconds=seconds)
    return Q(status=SyncStatus.RUNNING, heartbeat_at__lt=cutoff) & (
        Q(wait_until__isnull=True) | Q(wait_until__lt=cutoff)
    )


def _reloaded(run: SyncRun, lease: str) -> SyncRun:
    """The run as the database holds it, with this worker's lease (a run taken over is not this worker's to close)."""
    run.refresh_from_db()
    if run.lease != lease and run.status == SyncStatus.RUNNING:
        raise SyncRunLeaseLost(f"Sync run #{run.pk} was taken over by another worker.")
    run.lease = lease
    return run


def _hand_over_if_held(run: SyncRun, lease: str) -> str:
    """Leave a token for the retry of this run, if the database can be reached; "" if not (it takes over later)."""
    run.lease = lease
    try:
        return sync_run_hand_over(run=run)
    except (DatabaseError, SyncRunLeaseLost) as error:
        logger.warning("Sync run #%s could not be handed over (%s); a later worker takes it over", run.pk, error)
        close_dead_connections()
        return ""


def close_dead_connections() -> None:
    """Close this thread's dead database connections, so the next query opens a new one instead of failing again."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.is_usable():
            connection.close()


def _short(error: BaseException, limit: int = 200) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
