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


def _wait_for(condition, worker, what: str, timeout: float = 90.0) -> SyncRun:
    """Poll the run row until `condition(run)` holds; on timeout, show the worker log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = SyncRun.objects.get()
        if condition(run):
            return run
        time.sleep(0.2)
    raise AssertionError(f"Waited {timeout} s for {what}. Worker log:\n" + "".join(worker.log_lines[-60:]))


def test_cancelling_a_running_run_on_a_real_worker_keeps_the_pages_written_and_a_new_run_converges(
    celery_worker_process, halo_sim, operator_user, client, settings
) -> None:
    from pathlib import Path

    from django.urls import reverse

    from syncapp.choices import NotSyncingReason
    from syncapp.models import HaloLink
    from syncapp.services.runs import sync_run_execute

    def edit(tenant):
        for n in range(250):
            created = tenant.add_client(f"Cancel Client {n:03d}", ticked=True)
            tenant.add_site(created["id"], "HQ", main=True, line1=f"{n} King St", line3="Perth")

    halo_sim.edit(edit)
    # HaloPSA lets through the token, the field list, three site pages and the first client page, then holds the
    # next page for minutes (Retry-After): the run writes one page and waits there until it is cancelled.
    halo_sim.config.update({"rate_limit": 6, "rate_limit_headers": "retry_after_seconds"})
    run = sync_run_request(actor=operator_user, trigger=SyncTrigger.MANUAL)
    _wait_for(
        lambda r: r.progress_done == 100 and r.wait_reason.startswith("Waiting for HaloPSA's rate limit"),
        celery_worker_process,
        "the first page and the wait",
    )

    client.force_login(operator_user)
    confirm = client.get(reverse("syncapp:run-cancel", args=[run.pk]))
    assert b"Cancel the run" in confirm.content
    response = client.post(reverse("syncapp:run-cancel", args=[run.pk]))
    assert response.status_code == 302
    run = _wait_until_closed(run.pk, celery_worker_process, timeout=30)

    assert run.status == SyncStatus.CANCELLED
    assert run.cancelled_by == operator_user and run.cancelled_at is not None
    assert run.error_message.startswith("Cancelled by operator.")
    assert run.progress_done == 100
    # The data is exactly the page written: the first 100 clients, nothing marked missing.
    expected = [f"Cancel Client {n:03d}" for n in range(100)]
    assert sorted(Customer.objects.values_list("name", flat=True)) == expected
    assert not HaloLink.objects.filter(not_syncing_reason=NotSyncingReason.MISSING).exists()

    # HaloPSA's storm is over (and its pause forgotten): the next run brings in the rest.
    halo_sim.config.update({"rate_limit": None})
    Path(settings.HALO_BUDGET_FILE).unlink(missing_ok=True)
    again = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
    again = sync_run_execute(run_id=again.pk)
    assert again.status == SyncStatus.SUCCEEDED, again.error_message
    assert (again.created_count, again.unchanged_count) == (150, 100)
    assert Customer.objects.filter(city="Perth").count() == 250
