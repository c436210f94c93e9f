"""Sync run lifecycle: request (one at a time), claim by a worker, heartbeat, close, and abandon stale runs."""

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

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
    SyncRunInterrupted,
    SyncRunLeaseLost,
    SyncRunNotClaimable,
)
from syncapp.halo import HaloClient, HaloError, halo_settings_from_django
from syncapp.models import SyncRun, SyncRunPage
from syncapp.selectors.runs import open_sync_run, sync_schedule
from syncapp.sync.engine import SliceOutcome, SyncEngine
from syncapp.sync.staging import forget_read_pages

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


def sync_run_claim(*, run_id: int, handover: str = "") -> SyncRun:
    """Take a run to work on, atomically, with a fresh lease; raise SyncRunNotClaimable when it may not be taken.

    A worker may take a queued run; the next slice of a running run, when it brings the `handover` token its
    previous slice left; or a running run whose worker stopped beating for SYNC_TAKEOVER_AFTER_SECONDS (it died:
    the run goes on from its last written page). Anything else is closed, or busy with a live worker.
    """
    now = timezone.now()
    takeover_cutoff = now - timedelta(seconds=settings.SYNC_TAKEOVER_AFTER_SECONDS)
    claimable = Q(status=SyncStatus.QUEUED) | Q(status=SyncStatus.RUNNING, heartbeat_at__lt=takeover_cutoff)
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
    fields = {f.attname for f in SyncRun._meta.concrete_fields} - {"id", "kind", "queued_at", "requested_by_id"}
    with transaction.atomic():
        closed = SyncRun.objects.filter(pk=run.pk, status=SyncStatus.RUNNING, lease=held_by).update(
            **{name: getattr(run, name) for name in fields}
        )
        if closed:
            forget_read_pages(run.pk)
    run.refresh_from_db()
    return run


@contextmanager
def sync_run_kept_alive(*, run_id: int, lease: str, every: float | None = None) -> Iterator[None]:
    """Beat a running run's heartbeat from a background thread while the block runs: the run's one heartbeat.

    A beat every SYNC_HEARTBEAT_SECONDS whatever the sync is doing, also while HaloPSA's pacing (300 requests per
    rolling 5 minutes) holds one request for minutes; the engine itself never writes the heartbeat. A worker that
    dies takes this thread with it, so its run goes stale and is shown as not responding.
    """
    interval = settings.SYNC_HEARTBEAT_SECONDS if every is None else every
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(interval):
                try:
                    held = SyncRun.objects.filter(pk=run_id, status=SyncStatus.RUNNING, lease=lease).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    close_dead_connections()
                    continue  # the database is away for a moment; the sync itself will notice and retry
                if not held:
                    return  # closed, or taken over by another worker: nothing of ours to keep alive
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
    """Close the open runs nobody can carry on, so they never block the next one.

    A queued run no worker took within SYNC_STALE_AFTER_SECONDS (no worker is running), a running run whose
    worker stopped beating and that no worker took over in that time, and a running run that has already been
    taken up SYNC_MAX_ATTEMPTS times (each time its worker died: something in it kills workers).
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    takeover_cutoff = now - timedelta(seconds=settings.SYNC_TAKEOVER_AFTER_SECONDS)
    closed = {"status": SyncStatus.ABANDONED, "finished_at": now, "stage": "done", "lease": ""}
    never_started = SyncRun.objects.filter(status=SyncStatus.QUEUED, heartbeat_at__lt=cutoff).update(
        **closed, error_message="No worker picked this sync up in time; check that the Celery worker is running."
    )
    died = SyncRun.objects.filter(status=SyncStatus.RUNNING, heartbeat_at__lt=cutoff).update(
        **closed,
        error_message="The worker running this sync stopped answering and no worker took it over; "
        "check that the Celery worker is running.",
    )
    kills_workers = SyncRun.objects.filter(
        status=SyncStatus.RUNNING, heartbeat_at__lt=takeover_cutoff, attempts__gte=settings.SYNC_MAX_ATTEMPTS
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
    takeover_cutoff = now - timedelta(seconds=settings.SYNC_TAKEOVER_AFTER_SECONDS)
    lost = SyncRun.objects.filter(
        Q(status=SyncStatus.RUNNING) | Q(status=SyncStatus.QUEUED), heartbeat_at__lt=takeover_cutoff
    ).exclude(trigger=SyncTrigger.COMMAND)  # the command line carries out its own run, in the foreground
    run_ids = list(lost.values_list("pk", flat=True))
    for run_id in run_ids:
        logger.warning("Sync run #%s lost its worker or its message; sending it to the workers again", run_id)
        run_halo_sync.delay(run_id=run_id)
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
    try:
        with sync_run_kept_alive(run_id=run.pk, lease=lease), halo or HaloClient(halo_settings_from_django()) as client:
            outcome = SyncEngine(run=run, halo=client, slice_seconds=slice_seconds, on_page=on_page).execute()
    except SyncRunLeaseLost:
        logger.warning("Sync run #%s was taken over by another worker; this slice stops", run_id)
        raise
    except HaloError as error:
        if error.transient:
            raise SyncRunInterrupted(str(error), handover=_hand_over_if_held(run, lease)) from error
        return sync_run_finish(run=_reloaded(run, lease), status=SyncStatus.FAILED, error_message=str(error))
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
            run=_reloaded(run, lease),
            status=SyncStatus.FAILED,
            error_message=f"The sync stopped on an unexpected error ({type(error).__name__}); see the worker log.",
        )
        raise
    run = _reloaded(run, lease)
    if outcome is SliceOutcome.CHECKPOINTED:
        sync_run_hand_over(run=run)
        return run
    return sync_run_finish(run=run, status=SyncStatus.PARTIAL if run.failed_count else SyncStatus.SUCCEEDED)


def sync_run_fail(*, run_id: int, error_message: str, lease: str) -> SyncRun:
    """Close a running run held by `lease` as failed (e.g. a transient failure outlived the task's retries)."""
    run = SyncRun.objects.get(pk=run_id)
    run.lease = lease
    return sync_run_finish(run=run, status=SyncStatus.FAILED, error_message=error_message)


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
