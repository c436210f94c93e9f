"""The sync through a real Celery worker process (Redis and PostgreSQL in CI's second pass)."""

import time

import pytest

from syncapp.choices import SyncStatus, SyncTrigger
from syncapp.models import Customer, SyncRun
from syncapp.services.runs import sync_run_request

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_until_closed(run_id: int, worker, timeout: float = 90.0) -> SyncRun:
    """Poll the run row (as the run page does) until the worker closes it; on timeout, show the worker log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = SyncRun.objects.get(pk=run_id)
        if not run.is_open:
            return run
        time.sleep(0.2)
    raise AssertionError(
        f"Run #{run_id} still {run.status} after {timeout} s. Worker log:\n" + "".join(worker.log_lines[-60:])
    )


@pytest.fixture
def sliced_sync(settings):
    """Make every task slice one page long, so a run is carried through several chained tasks."""
    settings.SYNC_SLICE_SECONDS = 0


def test_a_queued_run_is_carried_out_by_a_real_worker(sliced_sync, celery_worker_process, halo_sim) -> None:
    def edit(tenant):
        for n in range(205):
            client = tenant.add_client(f"Worker Client {n:03d}", ticked=True)
            tenant.add_site(client["id"], "HQ", main=True, line1=f"{n} Queen St", line3="Brisbane")

    halo_sim.edit(edit)
    run = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    run = _wait_until_closed(run.pk, celery_worker_process)
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    assert (run.created_count, run.progress_done, run.progress_total) == (205, 205, 205)
    assert Customer.objects.filter(city="Brisbane").count() == 205
    log = "".join(celery_worker_process.log_lines)
    assert log.count("syncapp.tasks.run_halo_sync") >= 3  # one task per page-long slice
