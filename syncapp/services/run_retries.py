"""After a transient failure: show the run waiting, then resume it from its last written page (task and command)."""

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from syncapp.choices import SyncStatus
from syncapp.exceptions import SyncRunInterrupted
from syncapp.halo import HaloClient
from syncapp.models import SyncRun
from syncapp.services.runs import sync_run_execute, sync_run_fail

logger = logging.getLogger("syncapp.sync")

# A HaloPSA outage that outlasts the client's retries, or a lost database connection: the run keeps what it wrote
# and resumes after these many seconds (the Celery task and the command alike), then fails with the real reason.
TRANSIENT_RETRY_DELAYS = (30, 60, 120)


def sync_run_wait_to_resume(
    *, run_id: int, lease: str, reason: str, seconds: float, attempt: int, attempts: int
) -> None:
    """Show on the run what stopped it and when it tries again; a run waiting so is not taken over meanwhile."""
    shown = f"{reason} The sync resumes in {{left}} (attempt {attempt} of {attempts})."
    SyncRun.objects.filter(pk=run_id, status=SyncStatus.RUNNING, lease=lease).update(
        wait_reason=shown if len(shown) <= 200 else "HaloPSA is unavailable. The sync resumes in {left}.",
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
    """Carry out a queued run to its end in this process (`sync_halo`), slice after slice.

    After a transient failure it waits and resumes from its last written page like the Celery task does
    (TRANSIENT_RETRY_DELAYS), then fails with the real reason.
    """
    handover, attempt = "", 0
    while True:
        try:
            run = sync_run_execute(
                run_id=run_id, handover=handover, halo=halo_factory() if halo_factory else None, on_page=on_page
            )
        except SyncRunInterrupted as error:  # transient: the run is open, its written pages kept
            if attempt >= len(TRANSIENT_RETRY_DELAYS):
                return sync_run_fail(
                    run_id=run_id, lease=error.handover, error_message=f"{error} (gave up after {attempt} retries)"
                )
            delay = TRANSIENT_RETRY_DELAYS[attempt]
            attempt += 1
            logger.warning("Sync run #%s: %s; resuming in %s s", run_id, error, delay)
            sync_run_wait_to_resume(
                run_id=run_id,
                lease=error.handover,
                reason=str(error),
                seconds=delay,
                attempt=attempt,
                attempts=len(TRANSIENT_RETRY_DELAYS),
            )
            sleep(delay)
            handover = error.handover
            continue
        if not run.is_open:
            return run
        handover = run.lease
