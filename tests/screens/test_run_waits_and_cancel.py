"""A run's page and progress JSON say what HaloPSA holds it on; operators cancel runs; people never wait long."""

import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from syncapp.choices import SyncStatus
from syncapp.exceptions import SyncRunNotClaimable
from syncapp.halo import halo_settings_from_django
from syncapp.halo_budget import halo_request_budget
from syncapp.models import SyncRun
from syncapp.selectors.runs import run_current_wait, run_waiting_summary
from syncapp.services.runs import sync_run_execute
from tests.factories import CustomerFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def cancel_url(run: SyncRun) -> str:
    return reverse("syncapp:run-cancel", args=[run.pk])


def running(**fields) -> SyncRun:
    now = timezone.now()
    return SyncRunFactory(status=SyncStatus.RUNNING, started_at=now, heartbeat_at=now, **fields)


# --- what holds the run ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "seconds", "message"),
    [
        ("Waiting for HaloPSA's rate limit: {left}", 42, "Waiting for HaloPSA's rate limit: 42 s"),
        ("HaloPSA answered 503: retry 2 of 5 in {left}", 60, "HaloPSA answered 503: retry 2 of 5 in 1 min"),
        (
            "Waiting for room in the HaloPSA request budget: {left}",
            90,
            "Waiting for room in the HaloPSA request budget: 1 min 30 s",
        ),
    ],
)
def test_the_current_wait_is_counted_down_in_words(reason: str, seconds: int, message: str) -> None:
    now = timezone.now()
    run = running(wait_reason=reason, wait_until=now + timedelta(seconds=seconds))
    assert run_current_wait(run, now=now) == {
        "message": message,
        "seconds_left": seconds,
        "until": run.wait_until.isoformat(),
    }
    assert run_current_wait(run, now=now + timedelta(seconds=seconds + 5))["seconds_left"] == 0
    run.status = SyncStatus.SUCCEEDED
    assert run_current_wait(run, now=now) is None


def test_progress_json_and_the_page_show_the_wait_elapsed_time_and_totals(operator_client) -> None:
    run = running(
        wait_reason="Waiting for HaloPSA's rate limit: {left}",
        wait_until=timezone.now() + timedelta(minutes=10),
        waited_seconds=372.0,
        rate_limited_count=14,
        retry_count=16,
    )
    data = operator_client.get(reverse("syncapp:run-progress", args=[run.pk])).json()
    assert re.fullmatch(r"Waiting for HaloPSA's rate limit: (9 min 5\d s|10 min)", data["wait"]["message"])
    assert (data["waited_seconds"], data["rate_limited_count"], data["retry_count"]) == (372.0, 14, 16)
    assert data["elapsed_seconds"] is not None and data["cancel_requested"] is False
    html = operator_client.get(reverse("syncapp:run-detail", args=[run.pk])).content.decode()
    assert "Waiting for HaloPSA&#x27;s rate limit: " in html
    assert 'id="run-waited">6 min 12 s<' in html
    assert 'id="run-rate-limited">14<' in html and 'id="run-retries">16<' in html
    assert f'href="{cancel_url(run)}"' in html


def test_a_run_without_a_wait_hides_the_wait_block(operator_client) -> None:
    run = running()
    data = operator_client.get(reverse("syncapp:run-progress", args=[run.pk])).json()
    assert data["wait"] is None
    html = operator_client.get(reverse("syncapp:run-detail", args=[run.pk])).content.decode()
    assert re.search(r'id="run-wait"[^>]* hidden', html)


def test_a_run_that_succeeded_after_waiting_says_so_in_its_summary(operator_client) -> None:
    now = timezone.now()
    run = SyncRunFactory(
        status=SyncStatus.SUCCEEDED,
        started_at=now - timedelta(minutes=9),
        finished_at=now,
        waited_seconds=372.0,
        rate_limited_count=14,
        retry_count=16,
    )
    summary = "Succeeded after waiting 6 min 12 s for HaloPSA: 14 rate-limit answers (429), 16 retries."
    assert run_waiting_summary(run) == summary
    html = operator_client.get(reverse("syncapp:run-detail", args=[run.pk])).content.decode()
    assert summary in html
    assert operator_client.get(reverse("syncapp:run-progress", args=[run.pk])).json()["waiting_summary"] == summary


def test_a_run_that_never_waited_says_nothing_about_waiting() -> None:
    assert run_waiting_summary(SyncRunFactory(status=SyncStatus.SUCCEEDED)) == ""


# --- cancel ---------------------------------------------------------------------------------------------------------


def test_cancelling_a_queued_run_closes_it_at_once_with_who(operator_client, operator_user) -> None:
    run = SyncRunFactory(status=SyncStatus.QUEUED, heartbeat_at=timezone.now())
    html = operator_client.get(cancel_url(run)).content.decode()
    assert "has not started" in html and 'id="cancel-button"' in html
    assert SyncRun.objects.get(pk=run.pk).status == SyncStatus.QUEUED  # the GET changed nothing
    response = operator_client.post(cancel_url(run))
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    run.refresh_from_db()
    assert (run.status, run.cancelled_by, run.is_open) == (SyncStatus.CANCELLED, operator_user, False)
    assert run.finished_at is not None and run.error_message == "Cancelled by operator before it started."
    # The worker that picks the task up later finds nothing to do.
    with pytest.raises(SyncRunNotClaimable):
        sync_run_execute(run_id=run.pk)


def test_cancelling_a_running_run_asks_it_to_stop_after_its_page(operator_client, operator_user) -> None:
    run = running()
    operator_client.post(cancel_url(run))
    run.refresh_from_db()
    assert run.status == SyncStatus.RUNNING and run.cancelled_by == operator_user and run.cancelled_at
    html = operator_client.get(run.get_absolute_url()).content.decode()
    assert "Cancel requested by operator" in html
    assert f'href="{cancel_url(run)}"' not in html
    assert operator_client.get(reverse("syncapp:run-progress", args=[run.pk])).json()["cancel_requested"] is True
    # Asking again changes nothing and says why.
    first = run.cancelled_at
    response = operator_client.post(cancel_url(run), follow=True)
    assert "already being cancelled" in response.content.decode()
    run.refresh_from_db()
    assert run.cancelled_at == first


def test_a_run_cancelled_between_slices_ends_before_asking_halopsa(operator_user) -> None:
    run = running(lease="handed-over", progress_done=200, cancelled_at=timezone.now())
    SyncRun.objects.filter(pk=run.pk).update(cancelled_by=operator_user)
    run = sync_run_execute(run_id=run.pk, handover="handed-over")  # no HaloPSA settings needed: nothing is asked
    assert run.status == SyncStatus.CANCELLED
    assert run.error_message.startswith("Cancelled by operator. The 200 HaloPSA clients already done stay written")


def test_a_finished_run_cannot_be_cancelled(operator_client) -> None:
    run = SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    assert "has already ended" in operator_client.get(cancel_url(run)).content.decode()
    response = operator_client.post(cancel_url(run), follow=True)
    assert "has already ended (Succeeded)" in response.content.decode()
    run.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED and run.cancelled_at is None


def test_billing_staff_may_not_cancel_and_see_no_cancel_button(billing_client) -> None:
    run = running()
    assert billing_client.get(cancel_url(run)).status_code == 403
    assert billing_client.post(cancel_url(run)).status_code == 403
    assert SyncRun.objects.get(pk=run.pk).cancelled_at is None
    assert f'href="{cancel_url(run)}"' not in billing_client.get(run.get_absolute_url()).content.decode()


def test_cancel_needs_csrf(operator_user) -> None:
    run = running()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator_user)
    assert strict.post(cancel_url(run)).status_code == 403
    assert SyncRun.objects.get(pk=run.pk).cancelled_at is None


def test_cancel_of_an_unknown_run_is_404(operator_client) -> None:
    assert operator_client.post(reverse("syncapp:run-cancel", args=[999_999])).status_code == 404


# --- people never wait on a page ------------------------------------------------------------------------------------


def _hold_the_budget_for_ten_minutes() -> None:
    halo_request_budget(halo_settings_from_django()).hold(time.time() + 600)


def test_test_account_access_says_when_to_try_again_when_the_budget_is_held(admin_client_, halo_sim) -> None:
    _hold_the_budget_for_ten_minutes()
    html = admin_client_.post(reverse("syncapp:connection-test")).content.decode()
    assert re.search(r"HaloPSA&#x27;s rate limit is reached; try again in (9 min 5\d s|10 min)\.", html)
    assert halo_sim.stats() == {}  # nobody asked HaloPSA


def test_the_matching_check_says_when_to_try_again_when_the_budget_is_held(billing_client, halo_sim) -> None:
    halo_sim.edit(lambda t: t.add_client("Acme Widgets Pty Ltd", ticked=False))
    customer = CustomerFactory(name="Acme Widgets")
    _hold_the_budget_for_ten_minutes()
    url = reverse("syncapp:match-customer", args=[customer.pk])
    response = billing_client.post(url, {"halo_reference": "1", "step": "check"})
    assert response.status_code == 400  # refused on the form, like any other HaloPSA failure
    assert "rate limit is reached; try again in" in response.content.decode()
    assert halo_sim.stats() == {}
