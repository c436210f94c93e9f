"""Gears → HaloPSA → Confirm, a run's page with progress and summary, its JSON progress, and sync history."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.choices import ChangeAction, SyncStatus, SyncTrigger
from syncapp.models import SyncRun, SyncSchedule
from tests.factories import CustomerFactory, FieldChangeFactory, SiteFactory, SyncRunFactory

CONFIRM = reverse("syncapp:sync-halopsa")
RUNS = reverse("syncapp:run-list")
# Session, user, group and user permissions, the run, the Extra Field labels, the first ids of the change list (its
# count) and the page's rows (a GET writes nothing).
RUN_PAGE_QUERIES = 8

pytestmark = pytest.mark.django_db


def run_url(run: SyncRun) -> str:
    return reverse("syncapp:run-detail", args=[run.pk])


def progress_url(run: SyncRun) -> str:
    return reverse("syncapp:run-progress", args=[run.pk])


# --- the confirm step ----------------------------------------------------------------------------------------------


def test_confirm_page_says_what_will_happen_the_last_run_and_the_schedule(operator_client) -> None:
    SyncSchedule.objects.create(enabled=True, interval_minutes=30)
    last = SyncRunFactory(status=SyncStatus.FAILED, finished_at=timezone.now(), error_message="HaloPSA said no.")
    html = operator_client.get(CONFIRM).content.decode()
    assert "every HaloPSA client whose Datagate box is ticked" in html
    assert f"#{last.pk}" in html and "Failed" in html and "HaloPSA said no." in html
    assert "every 30 minutes" in html
    assert 'id="confirm-sync"' in html


def test_confirm_page_for_a_first_sync_with_the_schedule_off(operator_client) -> None:
    SyncSchedule.objects.create(enabled=False)
    html = operator_client.get(CONFIRM).content.decode()
    assert "Never: this will be the first sync." in html
    assert "Off: syncs run only when started here." in html


def test_confirm_page_links_to_the_open_run_instead_of_offering_a_second(operator_client) -> None:
    run = SyncRunFactory(status=SyncStatus.RUNNING, heartbeat_at=timezone.now())
    html = operator_client.get(CONFIRM).content.decode()
    assert "already running since" in html
    assert f'href="{run_url(run)}"' in html
    assert 'id="confirm-sync"' not in html


def test_a_stale_open_run_is_shown_not_responding_and_confirm_closes_it(
    operator_client, settings, django_capture_on_commit_callbacks
) -> None:
    stale = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS + 60)
    run = SyncRunFactory(status=SyncStatus.RUNNING, heartbeat_at=stale)
    html = operator_client.get(CONFIRM).content.decode()
    run.refresh_from_db()
    assert run.status == SyncStatus.RUNNING  # the GET only reads
    assert 'id="not-responding"' in html and 'id="confirm-sync"' in html
    progress = operator_client.get(reverse("syncapp:run-progress", args=[run.pk])).json()
    assert progress["not_responding"] and progress["status_label"] == "Not responding"
    assert "Not responding" in operator_client.get(run_url(run)).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(CONFIRM)
    run.refresh_from_db()
    assert run.status == SyncStatus.ABANDONED
    assert response["Location"] == run_url(SyncRun.objects.get(status=SyncStatus.QUEUED))


def test_confirm_queues_a_run_and_shows_it(operator_client, operator_user, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = operator_client.post(CONFIRM)
    run = SyncRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == run_url(run)
    assert (run.status, run.trigger, run.requested_by) == (SyncStatus.QUEUED, SyncTrigger.MANUAL, operator_user)
    assert len(callbacks) == 1  # the task is queued once the run is committed


def test_confirm_while_a_run_is_open_starts_no_second_run(operator_client) -> None:
    running = SyncRunFactory(status=SyncStatus.RUNNING, heartbeat_at=timezone.now())
    response = operator_client.post(CONFIRM, follow=True)
    assert response.redirect_chain[-1][0] == run_url(running)
    assert "already running since" in response.content.decode()
    assert SyncRun.objects.count() == 1


def test_without_run_halo_sync_the_confirm_page_explains_and_post_is_refused(billing_client) -> None:
    html = billing_client.get(CONFIRM).content.decode()
    assert 'id="confirm-sync"' not in html
    assert "not start one" in html
    assert billing_client.post(CONFIRM).status_code == 403
    assert not SyncRun.objects.exists()


# --- a run's page --------------------------------------------------------------------------------------------------


def test_an_open_run_shows_progress_and_refreshes_without_javascript(billing_client) -> None:
    run = SyncRunFactory(
        status=SyncStatus.RUNNING, stage="Syncing HaloPSA clients", progress_done=40, progress_total=160
    )
    html = billing_client.get(run_url(run)).content.decode()
    assert '<progress id="run-progress" max="100" value="25"' in html
    assert "Syncing HaloPSA clients" in html and "40 of 160" in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert "portal/run_progress.js" in html
    assert progress_url(run) in html


def test_a_finished_run_shows_its_summary_failures_and_no_refresh(billing_client) -> None:
    run = SyncRunFactory(
        status=SyncStatus.PARTIAL,
        finished_at=timezone.now(),
        created_count=3,
        updated_count=2,
        unchanged_count=7,
        deactivated_count=1,
        failed_count=1,
        sites_created_count=4,
        failures=[{"halo_id": 77, "name": "Broken Co", "message": "HaloPSA failed while answering client 77"}],
        error_message="1 client could not be synced.",
    )
    response = billing_client.get(run_url(run))
    html = response.content.decode()
    assert 'http-equiv="refresh"' not in html and "run_progress.js" not in html
    counts = {count["key"]: count["value"] for count in response.context["counts"]}
    assert counts["created"] == 3 and counts["updated"] == 2 and counts["unchanged"] == 7
    assert counts["deactivated"] == 1 and counts["failed"] == 1 and counts["sites_created"] == 4
    assert "Broken Co (77)" in html and "HaloPSA failed while answering client 77" in html
    assert "Partly succeeded" in html and "badge-warn" in html


def _run_with_changes(count: int) -> SyncRun:
    run = SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    for n in range(count):
        customer = CustomerFactory(name=f"Customer {n:03d}")
        FieldChangeFactory(customer=customer, sync_run=run, field="city", old_value="Perth", new_value="Fremantle")
        FieldChangeFactory(customer=customer, sync_run=run, field="name", old_value=f"Old {n}", new_value=customer.name)
        site = SiteFactory(customer=customer)
        FieldChangeFactory(
            customer=customer, site=site, sync_run=run, action=ChangeAction.CREATED, field="", new_value=site.name
        )
    return run


def test_the_change_list_filters_by_customer_and_field(billing_client) -> None:
    run = _run_with_changes(3)
    all_rows = billing_client.get(run_url(run)).context["table"].paginator.count
    assert all_rows == 9
    by_field = billing_client.get(run_url(run), {"field": "city"}).context["table"]
    assert {row.field for row in by_field.data} == {"city"}
    by_customer = billing_client.get(run_url(run), {"customer": "001"}).context["table"]
    assert {row.customer.name for row in by_customer.data} == {"Customer 001"}
    assert by_customer.paginator.count == 3
    html = billing_client.get(run_url(run), {"field": "extra_field_5"}).content.decode()
    assert "No changes match these filters" in html


def test_a_run_that_changed_nothing_says_so(billing_client) -> None:
    run = SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=timezone.now(), unchanged_count=12)
    html = billing_client.get(run_url(run)).content.decode()
    assert "This run changed no customer or site." in html
    assert "Everything was already up to date." in html


@pytest.mark.parametrize("changes", [2, 40])
def test_the_change_list_takes_the_same_queries_whatever_its_length(
    billing_client, django_assert_num_queries, changes: int
) -> None:
    run = _run_with_changes(changes)
    with django_assert_num_queries(RUN_PAGE_QUERIES):
        response = billing_client.get(run_url(run))
    assert response.context["table"].paginator.count == changes * 3


def test_progress_json(billing_client) -> None:
    run = SyncRunFactory(
        status=SyncStatus.RUNNING, stage="Reading HaloPSA sites", progress_done=5, progress_total=20, created_count=2
    )
    response = billing_client.get(progress_url(run))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    data = response.json()
    assert data["status"] == "running" and data["status_label"] == "Running"
    assert data["is_open"] is True and data["finished"] is False
    assert data["stage"] == "Reading HaloPSA sites"
    assert (data["progress_done"], data["progress_total"], data["percent"]) == (5, 20, 25)
    assert data["created"] == 2 and data["error_message"] == ""
    for key in ("updated", "unchanged", "deactivated", "failed", "sites_created", "sites_updated"):
        assert data[key] == 0


def test_progress_json_of_a_finished_run_is_complete(billing_client) -> None:
    run = SyncRunFactory(status=SyncStatus.FAILED, finished_at=timezone.now(), error_message="Listing incomplete.")
    data = billing_client.get(progress_url(run)).json()
    assert data["finished"] is True and data["percent"] == 100 and data["error_message"] == "Listing incomplete."


def test_unknown_run_is_404(billing_client) -> None:
    assert billing_client.get(reverse("syncapp:run-detail", args=[999])).status_code == 404
    assert billing_client.get(reverse("syncapp:run-progress", args=[999])).status_code == 404


# --- sync history --------------------------------------------------------------------------------------------------


def test_history_lists_runs_with_trigger_who_when_duration_status_and_counts(billing_client, operator_user) -> None:
    started = timezone.now() - timedelta(minutes=3)
    SyncRunFactory(
        status=SyncStatus.SUCCEEDED,
        trigger=SyncTrigger.MANUAL,
        requested_by=operator_user,
        started_at=started,
        finished_at=started + timedelta(seconds=125),
        created_count=5,
        updated_count=3,
    )
    SyncRunFactory(status=SyncStatus.FAILED, trigger=SyncTrigger.SCHEDULED, finished_at=timezone.now())
    SyncRunFactory(status=SyncStatus.RUNNING, trigger=SyncTrigger.COMMAND)
    html = billing_client.get(RUNS).content.decode()
    assert "Staff (gears → HaloPSA)" in html and "Schedule" in html and "Command line" in html
    assert operator_user.get_full_name() in html
    assert "2 min 05 s" in html
    assert 'class="badge badge-ok" data-status="succeeded"' in html
    assert 'class="badge badge-bad" data-status="failed"' in html
    assert 'class="badge badge-info" data-status="running"' in html
    assert '<span class="c-created">Created <b>5</b></span>' in html
    assert '<span class="c-updated">Updated <b>3</b></span>' in html
    assert '<span class="zero">Possible duplicates <b>0</b></span>' in html  # every count, with its label


def test_history_without_runs_explains_how_to_start_one(billing_client) -> None:
    html = billing_client.get(RUNS).content.decode()
    assert "No sync has run yet" in html
