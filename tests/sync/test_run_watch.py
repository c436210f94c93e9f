"""The watch thread of a running sync: it writes what HaloPSA holds the run on and notices a cancel request."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from syncapp.choices import SyncStatus
from syncapp.exceptions import SyncCancelled
from syncapp.halo import WaitNotice
from syncapp.models import SyncRun
from syncapp.services.run_watch import sync_run_kept_alive
from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _until(condition, timeout: float = 10.0) -> None:
    """Poll until the watch thread did its part (it looks every second); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the watch thread did not act"
        time.sleep(0.02)


def test_the_wait_the_client_reports_reaches_the_run_and_is_cleared_after() -> None:
    run = SyncRunFactory(status=SyncStatus.RUNNING, heartbeat_at=timezone.now(), lease="this-worker")
    with sync_run_kept_alive(run_id=run.pk, lease="this-worker") as watch:
        watch.show_wait(WaitNotice("server", 60, "HaloPSA answered 503: retry 2 of 5 in 1 min", 503, 2, 5))
        _until(lambda: SyncRun.objects.get(pk=run.pk).wait_reason)
        stored = SyncRun.objects.get(pk=run.pk)
        assert stored.wait_reason == "HaloPSA answered 503: retry 2 of 5 in {left}"
        assert timezone.now() < stored.wait_until <= timezone.now() + timedelta(seconds=60)
        watch.show_wait(None)
        _until(lambda: not SyncRun.objects.get(pk=run.pk).wait_reason)
    assert SyncRun.objects.get(pk=run.pk).wait_until is None


def test_a_cancel_request_ends_a_wait_at_once(operator_user) -> None:
    run = SyncRunFactory(status=SyncStatus.RUNNING, heartbeat_at=timezone.now(), lease="this-worker")
    with sync_run_kept_alive(run_id=run.pk, lease="this-worker") as watch:
        assert not watch.stop_requested()
        SyncRun.objects.filter(pk=run.pk).update(cancelled_at=timezone.now(), cancelled_by=operator_user)
        with pytest.raises(SyncCancelled):
            watch.sleep(600)  # HaloPSA asked for ten minutes; the cancel cuts it short
        assert watch.stop_requested()


def test_a_closed_run_is_left_alone() -> None:
    from syncapp.services.run_watch import RunWatch, _look_once

    run = SyncRunFactory(status=SyncStatus.SUCCEEDED, heartbeat_at=timezone.now(), cancelled_at=timezone.now())
    watch = RunWatch()
    _look_once(run.pk, run.lease, {"wait_reason": "Waiting for HaloPSA's rate limit: {left}"}, watch)
    assert SyncRun.objects.get(pk=run.pk).wait_reason == ""
    assert not watch.stop_requested()
