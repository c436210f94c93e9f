"""Celery tasks: thin adapters that take a run id and call one service."""

import logging

from celery import shared_task
from django.conf import settings

from syncapp.choices import SyncKind, SyncTrigger
from syncapp.exceptions import SyncRunInterrupted, SyncRunLeaseLost, SyncRunNotClaimable
from syncapp.halo import HaloError
from syncapp.services.client_sync import (
    RECHECK_EVERY_SECONDS,
    client_sync_execute,
    client_sync_request,
    client_sync_wait_seconds,
    recheck_after_full_sync,
)
from syncapp.services.run_retries import TRANSIENT_RETRY_DELAYS, sync_run_wait_to_resume
from syncapp.services.runs import scheduled_sync_request_if_due, sync_run_execute, sync_run_fail, sync_runs_recover

logger = logging.getLogger("syncapp.sync")


@shared_task(bind=True, name="syncapp.tasks.run_halo_sync", max_retries=len(TRANSIENT_RETRY_DELAYS))
def run_halo_sync(self, run_id: int, handover: str = "", resume: bool = False) -> str:
    """Carry out one slice of sync run `run_id`; queue the next slice when it handed over.

    `handover` is the token the previous slice left; without it only a queued run, or a running one whose worker
    died, is taken. (`resume` is accepted for messages queued before the token existed; it is not needed.)
    """
    try:
        run = sync_run_execute(run_id=run_id, handover=handover, slice_seconds=settings.SYNC_SLICE_SECONDS)
    except (SyncRunNotClaimable, SyncRunLeaseLost) as error:
        # Closed meanwhile, or another live worker has it: nothing to do here, and nothing to retry.
        logger.info("%s", error)
        return "skipped"
    except SyncRunInterrupted as error:  # transient: the run is open, its written pages kept
        if self.request.retries >= self.max_retries:
            sync_run_fail(
                run_id=run_id,
                lease=error.handover,
                error_message=f"{error} (gave up after {self.max_retries} retries)",
            )
            return "failed"
        delay = TRANSIENT_RETRY_DELAYS[self.request.retries]
        logger.warning("Sync run #%s: %s; retrying in %s s", run_id, error, delay)
        sync_run_wait_to_resume(
            run_id=run_id,
            lease=error.handover,
            reason=str(error),
            seconds=delay,
            attempt=self.request.retries + 1,
            attempts=len(TRANSIENT_RETRY_DELAYS),
        )
        raise self.retry(kwargs={"run_id": run_id, "handover": error.handover}, countdown=delay) from error
    if run.is_open:
        run_halo_sync.delay(run_id=run_id, handover=run.lease)
    return run.status


@shared_task(name="syncapp.tasks.scheduled_sync_tick")
def scheduled_sync_tick() -> str:
    """Celery beat's periodic tick: take up runs that lost their worker, then queue a scheduled run when due."""
    recovered = sync_runs_recover()
    run = scheduled_sync_request_if_due()
    said = [f"sent run #{run_id} again" for run_id in recovered]
    said.append(f"queued run #{run.pk}" if run else "not due")
    return "; ".join(said)


@shared_task(bind=True, name="syncapp.tasks.sync_halo_client", max_retries=len(TRANSIENT_RETRY_DELAYS))
def sync_halo_client(self, halo_id: int, kind: str, trigger: str, actor_id: int | None = None) -> str:
    """Read one HaloPSA client and apply it (a webhook, "Sync from HaloPSA"); a transient failure reads it again."""
    if kind == SyncKind.WEBHOOK and (wait := client_sync_wait_seconds(halo_id=halo_id)) > 0:
        # Events for this client are still arriving: read once they have gone quiet.
        sync_halo_client.apply_async(
            kwargs={"halo_id": halo_id, "kind": kind, "trigger": trigger, "actor_id": actor_id}, countdown=wait
        )
        return "waiting"
    try:
        result = client_sync_execute(
            halo_id=halo_id, kind=SyncKind(kind), trigger=SyncTrigger(trigger), actor_id=actor_id
        )
    except HaloError as error:
        if not error.transient or self.request.retries >= self.max_retries:
            logger.warning("One-client sync of HaloPSA client %s failed: %s", halo_id, error)
            return "failed"
        delay = TRANSIENT_RETRY_DELAYS[self.request.retries]
        logger.warning("One-client sync of HaloPSA client %s: %s; retrying in %s s", halo_id, error, delay)
        # Queued as a fresh request, so events arriving meanwhile join it instead of queueing their own.
        client_sync_request(halo_id=halo_id, kind=SyncKind(kind), trigger=SyncTrigger(trigger), countdown=delay)
        return "retrying"
    return result.outcome


@shared_task(bind=True, name="syncapp.tasks.recheck_client_after_full_sync", max_retries=None)
def recheck_client_after_full_sync(
    self, halo_id: int, run_id: int, kind: str, trigger: str, expected: list[str] | None = None
) -> str:
    """After a full sync that overlapped a one-client sync closes, read that client again if the sync overwrote it."""
    outcome = recheck_after_full_sync(
        halo_id=halo_id, run_id=run_id, kind=SyncKind(kind), trigger=SyncTrigger(trigger), expected=expected
    )
    if outcome == "waiting":
        raise self.retry(countdown=RECHECK_EVERY_SECONDS)
    return outcome
