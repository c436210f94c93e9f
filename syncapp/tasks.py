"""Celery tasks: thin adapters that take a run id and call one service."""

import logging

from celery import shared_task
from django.conf import settings

from syncapp.exceptions import SyncRunNotClaimable
from syncapp.halo import HaloError
from syncapp.services.runs import (
    resend_unclaimed_sync_runs,
    scheduled_sync_request_if_due,
    sync_run_execute,
    sync_run_fail,
)

logger = logging.getLogger("syncapp.sync")

TRANSIENT_RETRY_DELAYS = (30, 60, 120)  # seconds; each shorter than SYNC_STALE_AFTER_SECONDS, so the run stays alive


@shared_task(bind=True, name="syncapp.tasks.run_halo_sync", max_retries=len(TRANSIENT_RETRY_DELAYS))
def run_halo_sync(self, run_id: int, resume: bool = False) -> str:
    """Run one slice of sync run `run_id`; queue the next slice when it checkpointed."""
    try:
        run = sync_run_execute(run_id=run_id, resume=resume, slice_seconds=settings.SYNC_SLICE_SECONDS)
    except SyncRunNotClaimable as error:
        # Another worker has it, or it was closed (abandoned) meanwhile: nothing to do, and nothing to retry.
        logger.info("%s", error)
        return "skipped"
    except HaloError as error:  # only transient ones reach here; the run is checkpointed
        if self.request.retries >= self.max_retries:
            sync_run_fail(run_id=run_id, error_message=f"{error} (gave up after {self.max_retries} retries)")
            return "failed"
        delay = TRANSIENT_RETRY_DELAYS[self.request.retries]
        logger.warning("Sync run #%s: %s; retrying in %s s", run_id, error, delay)
        raise self.retry(kwargs={"run_id": run_id, "resume": True}, countdown=delay) from error
    if run.is_open:
        run_halo_sync.delay(run_id=run_id, resume=True)
    return run.status


@shared_task(name="syncapp.tasks.scheduled_sync_tick")
def scheduled_sync_tick() -> str:
    """Celery beat's periodic tick: re-send lost tasks of queued runs, then queue the scheduled sync when it is due."""
    resend_unclaimed_sync_runs()
    run = scheduled_sync_request_if_due()
    return f"queued run #{run.pk}" if run else "not due"
