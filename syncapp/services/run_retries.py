"""After a transient HaloPSA failure: show the run waiting, then resume it from its checkpoint (task and command)."""

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from syncapp.choices import SyncStatus
from syncapp.halo import HaloClient, HaloError
from syncapp.models import SyncRun
from syncapp.services.runs import sync_run_execute, sync_run_fail

logger = logging.getLogger("syncapp.sync")

# A HaloPSA outage that outlasts the client's retries: the run keeps its checkpoint and resumes after these many
# seconds (the Celery task and the command alike), each shorter than SYNC_STALE_AFTER_SECONDS, then fails.
TRANSIENT_RETRY_DELAYS = (30, 60, 120)


def sync_run_wait_to_resume(*, run_id: int, error: HaloError, seconds: float, attempt: int, attempts: int) -> None:
    """Show on the run that HaloPSA failed and when the run tries again (the task's checkpoint-and-retry)."""
    reason = f"{error} The sync resumes in {{left}} (attempt {attempt} of {attempts})."
    SyncRun.objects.filter(pk=run_id, status=SyncStatus.RUNNING).update(
        wait_reason=reason if len(reason) <= 200 else "HaloPSA is unavailable. The sync resumes in {left}.",
        wait_until=timezone.now() + timedelta(seconds=seconds),
        heartbeat_at=timezone.now(),
        waited_seconds=F("waited_seconds") + seconds,  # counted ahead: the task waits without a client to count it
    )


def sync_run_in_foreground(
    *,
    run_id: int,
    on_page: Callable[[SyncRun], None] | None = None,
    halo_factory: Callable[[], HaloClient] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncRun:
    """Run a queued run to its end in this process (`sync_halo`), slice after slice.

    After a transient HaloPSA error it waits and resumes from the checkpoint like the Celery task does
    (TRANSIENT_RETRY_DELAYS), then fails.
    """
    resume, attempt = False, 0
    while True:
        try:
            run = sync_run_execute(
                run_id=run_id, resume=resume, halo=halo_factory() if halo_factory else None, on_page=on_page
            )
        except HaloError as error:  # transient only: the run is checkpointed
            if attempt >= len(TRANSIENT_RETRY_DELAYS):
                return sync_run_fail(run_id=run_id, error_message=f"{error} (gave up after {attempt} retries)")
            delay = TRANSIENT_RETRY_DELAYS[attempt]
            attempt += 1
            logger.warning("Sync run #%s: %s; resuming in %s s", run_id, error, delay)
            sync_run_wait_to_resume(
                run_id=run_id, error=error, seconds=delay, attempt=attempt, attempts=len(TRANSIENT_RETRY_DELAYS)
            )
            sleep(delay)
            resume = True
            continue
        if not run.is_open:
            return run
        resume = True
