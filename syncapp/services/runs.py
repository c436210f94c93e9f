"""Sync run lifecycle: request (one at a time), claim by a worker, heartbeat, close, and abandon stale runs."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from syncapp.choices import SyncStatus, SyncTrigger
from syncapp.exceptions import SyncAlreadyRunning, SyncRunNotClaimable
from syncapp.models import SyncRun
from syncapp.selectors.runs import open_sync_run


def sync_run_request(*, actor: AbstractBaseUser | None, trigger: SyncTrigger, dry_run: bool = False) -> SyncRun:
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
        if running is None:  # the other run closed in between; one retry is enough to be fair
            return sync_run_request(actor=actor, trigger=trigger, dry_run=dry_run)
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
