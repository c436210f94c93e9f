"""The broker down at Confirm: a clear message, no 500, no phantom queued run; lost tasks are sent again."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.choices import SyncStatus, SyncTrigger
from syncapp.exceptions import TaskQueueUnavailable
from syncapp.models import SyncRun
from syncapp.selectors.runs import open_sync_run
from syncapp.services.runs import sync_run_request, sync_runs_recover
from tests.factories import SyncRunFactory

CONFIRM = reverse("syncapp:sync-halopsa")

pytestmark = pytest.mark.faults


@pytest.mark.django_db(transaction=True)
def test_confirm_with_the_broker_down_says_the_queue_is_unavailable_and_leaves_no_open_run(
    client, operator_user, broker_down
) -> None:
    client.force_login(operator_user)

    response = client.post(CONFIRM, follow=True)

    assert response.status_code == 200
    assert "The task queue is unavailable" in response.content.decode()
    assert open_sync_run() is None  # nothing blocks the next attempt
    run = SyncRun.objects.get()
    assert (run.status, run.finished_at is not None) == (SyncStatus.FAILED, True)
    assert run.error_message == TaskQueueUnavailable.message


@pytest.mark.django_db(transaction=True)
def test_the_schedule_with_the_broker_down_leaves_no_open_run(broker_down) -> None:
    with pytest.raises(TaskQueueUnavailable):
        sync_run_request(actor=None, trigger=SyncTrigger.SCHEDULED)
    assert open_sync_run() is None


@pytest.mark.django_db(transaction=True)
def test_refused_confirms_do_not_use_up_run_numbers(client, operator_user, django_capture_on_commit_callbacks) -> None:
    client.force_login(operator_user)
    running = SyncRunFactory(status=SyncStatus.RUNNING, heartbeat_at=timezone.now())

    for _ in range(5):
        response = client.post(CONFIRM)
        assert response.status_code == 302 and response.url == running.get_absolute_url()

    SyncRun.objects.filter(pk=running.pk).update(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False):
        following = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    assert following.pk == running.pk + 1


@pytest.mark.django_db
def test_only_queued_runs_nobody_claimed_in_time_are_sent_again(settings, redis_broker) -> None:
    settings.SYNC_RESEND_AFTER_SECONDS = 3600  # far from the boundary, however slow the machine
    now = timezone.now()
    lost = SyncRunFactory(status=SyncStatus.QUEUED, queued_at=now - timedelta(hours=2), heartbeat_at=now)
    SyncRunFactory(status=SyncStatus.SUCCEEDED, queued_at=now - timedelta(seconds=600), heartbeat_at=now)
    SyncRunFactory(status=SyncStatus.FAILED, queued_at=now - timedelta(seconds=600), heartbeat_at=now)

    assert sync_runs_recover() == [lost.pk]
    assert redis_broker.queued_task_args() == [[lost.pk]]

    SyncRun.objects.filter(pk=lost.pk).update(queued_at=timezone.now())  # queued just now: not lost yet
    assert sync_runs_recover() == []
    assert redis_broker.queued_task_args() == [[lost.pk]]
