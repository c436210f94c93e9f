"""The engine's promises: constant queries per page, crash convergence, one run at a time, slices and retries."""

import math
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from syncapp.choices import ChangeAction, SyncStatus, SyncTrigger
from syncapp.exceptions import SyncAlreadyRunning, SyncRunInterrupted
from syncapp.halo import HaloClient, HaloUnavailable, halo_settings_from_django
from syncapp.models import Customer, FieldChange, HaloLink, Site, SyncRun, SyncRunPage, SyncSchedule
from syncapp.services.runs import scheduled_sync_request_if_due, sync_run_execute, sync_run_request
from syncapp.sync import engine as engine_module
from syncapp.sync.staging import RunReadPages
from tests.factories import SyncRunFactory


def _add_clients(halo_sim, count: int, prefix: str = "Client") -> list[int]:
    def edit(tenant):
        ids = []
        for n in range(count):
            client = tenant.add_client(f"{prefix} {n:04d}", ticked=True)
            tenant.add_site(client["id"], f"{prefix} {n:04d} HQ", main=True, line1=f"{n} Main St", line3="Sydney")
            ids.append(client["id"])
        return ids

    return halo_sim.edit(edit)


def _rename(halo_sim, ids: list[int], suffix: str) -> None:
    halo_sim.edit(lambda t: [t.update_client(i, name=t.client(i)["name"] + suffix) for i in ids])


# Queries of one whole run of a single page of clients in which something changed. Around the page (29): closing
# stale runs (3), looking for an open run before inserting (1), the run's insert in a savepoint (3), claim (2),
# where the run stands (next client page, clients seen: 2), four stage updates, keeping the custom field ids (1),
# the custom field labels (one read when unchanged), the kept site pages (1 read, 1 insert per site page), the
# run's context (unlinked customers, duplicate decisions), the missing-links read and its count, closing the run
# with dropping its read pages in a savepoint (5). The page (12): four reads (links, their customers and sites,
# the directory), then in one savepoint pair the customer, link and directory updates, the history insert, the
# page kept with the run, and the progress. Django splits a bulk write into batches of the database's parameter
# limit (999 on SQLite, none to speak of on PostgreSQL): each further batch is one more statement.
QUERIES_PER_CHANGED_PAGE = 12
QUERIES_FOR_ONE_CHANGED_PAGE = 29 + QUERIES_PER_CHANGED_PAGE


def _further_batches(model: type, rows: int) -> int:
    """Statements beyond the first that Django's bulk_create needs for `rows` rows of `model` on this database."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    batch = connection.ops.bulk_batch_size(fields, [None] * rows)
    return math.ceil(rows / batch) - 1


@pytest.mark.django_db
@pytest.mark.parametrize("changed", [1, 100])
def test_a_page_costs_the_same_queries_whether_one_or_a_hundred_clients_changed(
    run_sync, halo_sim, django_assert_num_queries, changed: int
) -> None:
    ids = _add_clients(halo_sim, 100)
    run_sync()
    _rename(halo_sim, ids[:changed], " (renamed)")
    with django_assert_num_queries(QUERIES_FOR_ONE_CHANGED_PAGE + _further_batches(FieldChange, changed)):
        run = run_sync()
    assert run.updated_count == changed
    assert FieldChange.objects.filter(sync_run=run, field="name").count() == changed


@pytest.mark.django_db
def test_queries_grow_with_pages_not_records(run_sync, halo_sim) -> None:
    from django.test.utils import CaptureQueriesContext

    ids = _add_clients(halo_sim, 250)  # three pages
    with CaptureQueriesContext(connection) as first:
        run_sync()
    _rename(halo_sim, ids, "!")
    with CaptureQueriesContext(connection) as renamed_all:
        run = run_sync()
    assert run.updated_count == 250
    batches = sum(_further_batches(FieldChange, rows) for rows in (100, 100, 50))
    # Two more client pages, and two more site pages (250 sites) kept with the run: one insert each.
    assert len(renamed_all) == QUERIES_FOR_ONE_CHANGED_PAGE + 2 * QUERIES_PER_CHANGED_PAGE + batches + 2
    assert len(first) < 150  # three pages of imports: a few dozen statements each, not one per record


def _state() -> tuple:
    return (
        sorted(Customer.objects.values_list("name", "city", "is_active")),
        sorted(Site.objects.values_list("halo_id", "name")),
        sorted(HaloLink.objects.values_list("halo_id", "customer__name")),
        sorted(
            FieldChange.objects.values_list("customer__name", "site__halo_id", "action", "field", "new_value"), key=repr
        ),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("crash_on_page", [1, 2, 3])
def test_a_rerun_after_a_crash_at_any_page_converges(run_sync, halo_sim, monkeypatch, crash_on_page: int) -> None:
    ids = _add_clients(halo_sim, 250)
    run_sync()
    _rename(halo_sim, ids, " v2")
    _add_clients(halo_sim, 30, prefix="Newco")  # imports land on the last page
    real_write = engine_module.write_page_plan
    calls = {"n": 0}

    def crashing_write(plan, context):
        calls["n"] += 1
        if calls["n"] == crash_on_page:
            raise RuntimeError("worker killed")
        return real_write(plan, context)

    monkeypatch.setattr(engine_module, "write_page_plan", crashing_write)
    with pytest.raises(RuntimeError):
        run_sync()
    assert SyncRun.objects.latest("id").status == SyncStatus.FAILED
    monkeypatch.setattr(engine_module, "write_page_plan", real_write)
    run_sync()
    converged = _state()
    assert len(converged[0]) == 280
    assert (
        sum(1 for row in converged[3] if row[2] == ChangeAction.CHANGED and row[3] == "name" and row[1] is None) == 250
    )
    assert sum(1 for row in converged[3] if row[2] == ChangeAction.CREATED) == 2 * 280
    run = run_sync()  # and a further run finds nothing left to do
    assert (run.updated_count, run.created_count, run.unchanged_count) == (0, 0, 280)
    assert _state() == converged


@pytest.mark.django_db
def test_a_sliced_run_resumes_where_it_checkpointed(halo_sim) -> None:
    _add_clients(halo_sim, 250)
    run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
    run = sync_run_execute(run_id=run.pk, slice_seconds=0)
    slices = 1
    while run.is_open:
        assert RunReadPages(run).next_client_page() == slices + 1
        assert len(RunReadPages(run).seen_client_ids()) == 100 * slices
        run = sync_run_execute(run_id=run.pk, handover=run.lease, slice_seconds=0)
        slices += 1
    assert slices == 3
    assert run.status == SyncStatus.SUCCEEDED and run.checkpoint == {} and run.lease == ""
    assert not SyncRunPage.objects.exists()  # what the run read served only to resume it
    assert (run.created_count, Customer.objects.count(), run.progress_done, run.progress_total) == (250, 250, 250, 250)
    assert not HaloLink.objects.exclude(not_syncing_reason="").exists()  # seen ids survived the slices


@pytest.mark.django_db
def test_a_transient_halopsa_failure_keeps_the_checkpoint_for_a_retry(halo_sim) -> None:
    _add_clients(halo_sim, 150)
    run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
    halo = HaloClient(halo_settings_from_django())
    real_pages = halo.iter_client_pages

    def pages_then_outage(**kwargs):
        pages = real_pages(**kwargs)
        yield next(pages)
        raise HaloUnavailable("HaloPSA at the simulator could not be reached: connection refused")

    halo.iter_client_pages = pages_then_outage
    with pytest.raises(SyncRunInterrupted) as interrupted:
        sync_run_execute(run_id=run.pk, halo=halo)
    assert isinstance(interrupted.value.__cause__, HaloUnavailable)
    run.refresh_from_db()
    assert run.status == SyncStatus.RUNNING and run.lease == interrupted.value.handover
    assert RunReadPages(run).next_client_page() == 2 and len(RunReadPages(run).seen_client_ids()) == 100
    assert Customer.objects.count() == 100
    run = sync_run_execute(run_id=run.pk, handover=interrupted.value.handover)
    assert run.status == SyncStatus.SUCCEEDED and Customer.objects.count() == 150
    assert run.created_count == 150 and run.progress_done == 150


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_make_one_run(halo_sim) -> None:
    barrier = threading.Barrier(20)
    outcomes: list[object] = []
    lock = threading.Lock()

    def request() -> None:
        try:
            barrier.wait()
            outcome: object = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
        except SyncAlreadyRunning as error:
            outcome = error
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runs = [o for o in outcomes if isinstance(o, SyncRun)]
    refused = [o for o in outcomes if isinstance(o, SyncAlreadyRunning)]
    assert (len(runs), len(refused)) == (1, 19)
    assert {error.run.pk for error in refused} == {runs[0].pk}
    assert "already running since" in str(refused[0])
    assert SyncRun.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [SyncStatus.QUEUED, SyncStatus.RUNNING])
def test_an_abandoned_run_does_not_block_the_next(status, settings, django_capture_on_commit_callbacks) -> None:
    stale = SyncRunFactory(
        status=status, heartbeat_at=timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS + 1)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        run = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    assert run.status == SyncStatus.QUEUED and len(callbacks) == 1
    stale.refresh_from_db()
    assert stale.status == SyncStatus.ABANDONED and stale.finished_at and stale.error_message


@pytest.mark.django_db
def test_a_live_run_still_blocks(settings) -> None:
    SyncRunFactory(status=SyncStatus.RUNNING, heartbeat_at=timezone.now())
    with pytest.raises(SyncAlreadyRunning):
        sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)


@pytest.mark.django_db
def test_the_schedule_queues_a_run_only_when_on_and_due(settings, django_capture_on_commit_callbacks) -> None:
    settings.SYNC_SCHEDULE_DEFAULT_ENABLED = False
    assert scheduled_sync_request_if_due() is None
    assert not SyncSchedule.objects.exists()  # reading the schedule's defaults wrote no row
    SyncSchedule.objects.create(enabled=True, interval_minutes=30)
    with django_capture_on_commit_callbacks():
        run = scheduled_sync_request_if_due()
    assert run is not None and run.trigger == SyncTrigger.SCHEDULED
    SyncRun.objects.filter(pk=run.pk).update(status=SyncStatus.SUCCEEDED)
    assert scheduled_sync_request_if_due() is None  # not due yet
    SyncRun.objects.filter(pk=run.pk).update(queued_at=timezone.now() - timedelta(minutes=31))
    with django_capture_on_commit_callbacks():
        assert scheduled_sync_request_if_due() is not None


@pytest.mark.django_db
def test_sync_halo_command_prints_a_summary(halo_sim, capsys) -> None:
    _add_clients(halo_sim, 3)
    call_command("sync_halo")
    out = capsys.readouterr().out
    assert "Succeeded" in out and "created: 3;" in out and "sites created: 3" in out
    call_command("sync_halo", "--dry-run")
    assert "dry run" in capsys.readouterr().out
    assert SyncRun.objects.filter(dry_run=True, status=SyncStatus.SUCCEEDED).count() == 1


@pytest.mark.django_db
def test_sync_halo_command_exits_non_zero_when_the_run_fails(halo_sim, settings) -> None:
    settings.HALO_CLIENT_SECRET = "wrong"
    with pytest.raises(CommandError, match="failed"):
        call_command("sync_halo")
    assert SyncRun.objects.get().status == SyncStatus.FAILED


@pytest.mark.django_db(transaction=True)
def test_a_run_held_between_pages_keeps_its_heartbeat_and_is_not_abandoned(settings) -> None:
    import time

    from syncapp.services.runs import abandon_stale_sync_runs, sync_run_kept_alive

    stale_since = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS + 60)
    run = SyncRunFactory(status=SyncStatus.RUNNING, heartbeat_at=stale_since, lease="held-by-this-worker")
    with sync_run_kept_alive(run_id=run.pk, lease=run.lease, every=0.01):
        # As if HaloPSA's pacing held the engine mid-page: only the background beat can keep the run alive.
        deadline = time.monotonic() + 10
        while SyncRun.objects.get(pk=run.pk).heartbeat_at == stale_since and time.monotonic() < deadline:
            time.sleep(0.01)
        assert abandon_stale_sync_runs() == 0
    run.refresh_from_db()
    assert run.status == SyncStatus.RUNNING and run.heartbeat_at > stale_since


@pytest.mark.django_db
def test_the_heartbeat_has_one_source_the_keep_alive_thread(halo_sim, settings) -> None:
    # With the thread's beat an hour away, nothing else may move the heartbeat during a two-page sync.
    settings.SYNC_HEARTBEAT_SECONDS = 3600
    _add_clients(halo_sim, 150)
    run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
    beats: list = []
    run = sync_run_execute(
        run_id=run.pk, on_page=lambda r: beats.append(SyncRun.objects.values_list("heartbeat_at", flat=True).get())
    )
    assert run.status == SyncStatus.SUCCEEDED and len(beats) == 2
    assert set(beats) == {run.started_at}  # the claim's beat, untouched by the engine
