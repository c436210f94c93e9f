"""Redis restarted under a real worker: the worker survives, the run completes, and later runs are still taken."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from syncapp.choices import SyncStatus, SyncTrigger
from syncapp.models import Customer, SyncRun
from syncapp.services.runs import sync_run_request
from syncapp.tasks import scheduled_sync_tick

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, worker, what: str, timeout: float = 120.0):
    """Poll until condition() is truthy (as the run page polls); on timeout, show the worker's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        assert worker.poll() is None, f"The worker exited ({worker.returncode}) while waiting for {what}:\n" + "".join(
            worker.log_lines[-400:]
        )
        time.sleep(0.1)
    raise AssertionError(f"Timed out waiting for {what}. Worker log:\n" + "".join(worker.log_lines[-80:]))


def _closed(run_id: int):
    run = SyncRun.objects.get(pk=run_id)
    return None if run.is_open else run


@pytest.fixture
def tenant_of_250(halo_sim) -> None:
    halo_sim.edit(lambda tenant: [tenant.add_client(f"Restart Client {n:03d}") for n in range(250)])


def test_the_worker_survives_a_redis_restart_during_a_task_and_the_run_completes(
    settings, tenant_of_250, halo_sim, redis_broker, celery_worker_process
) -> None:
    halo_sim.config.latency_seconds = 0.4  # each HaloPSA request is slow, so the task is mid-run at the restart
    first = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    _wait_for(
        lambda: SyncRun.objects.filter(pk=first.pk, status=SyncStatus.RUNNING).exists(),
        celery_worker_process,
        "the run to start",
    )

    # Redis goes away and stays away until the worker has noticed and failed to reconnect at least once.
    redis_broker.stop()
    _wait_for(
        lambda: "Cannot connect to" in "".join(celery_worker_process.log_lines),
        celery_worker_process,
        "the worker to notice Redis is gone",
    )
    redis_broker.start()

    first = _wait_for(lambda: _closed(first.pk), celery_worker_process, "the first run to close")
    assert first.status == SyncStatus.SUCCEEDED, first.error_message
    assert Customer.objects.count() == 250
    # The worker is still alive and still consuming after the restart: the next run is carried out too.
    halo_sim.config.latency_seconds = 0
    second = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    second = _wait_for(lambda: _closed(second.pk), celery_worker_process, "the second run to close")
    assert second.status == SyncStatus.SUCCEEDED, second.error_message
    assert celery_worker_process.poll() is None


def test_a_queued_run_whose_message_was_lost_is_sent_again_by_the_tick_and_completes(
    settings, tenant_of_250, redis_broker, celery_worker_process
) -> None:
    settings.SYNC_RESEND_AFTER_SECONDS = 60
    # A queued run whose task message the broker lost (restarted without persistence): no message exists at all.
    now = timezone.now()
    lost = SyncRun.objects.create(
        trigger=SyncTrigger.MANUAL, status=SyncStatus.QUEUED, queued_at=now - timedelta(seconds=61), heartbeat_at=now
    )

    assert scheduled_sync_tick() == f"sent run #{lost.pk} again; not due"

    lost = _wait_for(lambda: _closed(lost.pk), celery_worker_process, "the resent run to close")
    assert lost.status == SyncStatus.SUCCEEDED, lost.error_message
    assert Customer.objects.count() == 250
