"""Celery tasks: thin adapters that take a run id and call one service."""

import logging

from celery import shared_task
from django.conf import settings

from syncapp.exceptions import SyncRunInterrupted, SyncRunLeaseLost, SyncRunNotClaimable
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
