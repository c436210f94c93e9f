"""A run whose worker died is taken over from its last written page; what it read is not read again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from syncapp.choices import ChangeAction, ReadListing, SyncStatus, SyncTrigger
from syncapp.exceptions import SyncRunInterrupted, SyncRunLeaseLost, SyncRunNotClaimable
from syncapp.models import Customer, FieldChange, HaloLink, Site, SyncRun, SyncRunPage
from syncapp.services import runs as runs_service
from syncapp.services.runs import (
    abandon_stale_sync_runs,
    sync_run_claim,
    sync_run_execute,
    sync_run_request,
    sync_runs_recover,
)
from syncapp.sync import engine as engine_module
from syncapp.sync.staging import RunReadPages
from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the worker catches it, so nothing gets to close the run."""


def _add_clients(halo_sim, count: int, sites_each: int = 1) -> list[int]:
    def edit(tenant):
        ids = []
        for n in range(count):
            client = tenant.add_client(f"Client {n:04d}", ticked=True)
            for s in range(sites_each):
                tenant.add_site(client["id"], f"Site {n:04d}-{s}", main=s == 0, line1=f"{n} Main St", line3="Perth")
            ids.append(client["id"])
        return ids

    return halo_sim.edit(edit)


def _requests(halo_sim, path: str) -> int:
    return sum(count for key, count in halo_sim.stats().items() if path in key)


def _stale(run: SyncRun, settings) -> None:
    """As if the worker holding the run had stopped beating longer than the takeover delay."""
    old = timezone.now() - timedelta(seconds=settings.SYNC_TAKEOVER_AFTER_SECONDS + 1)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=old)


def _kill_when(monkeypatch, *, page_no: int) -> None:
    """Die right after client page `page_no` was written, as a SIGKILL between pages would."""
    real_apply = engine_module.SyncEngine._apply

    def apply_then_die(self, plan, context, *, page_no: int, **kwargs):
        real_apply(self, plan, context, page_no=page_no, **kwargs)
        if page_no == kill_after:
            raise WorkerKilled

    kill_after = page_no
    monkeypatch.setattr(engine_module.SyncEngine, "_apply", apply_then_die)


def _history_is_whole(expected_customers: int, expected_sites: int) -> None:
    created = FieldChange.objects.filter(action=ChangeAction.CREATED)
    assert created.filter(site__isnull=True).count() == expected_customers
    assert created.filter(site__isnull=False).count() == expected_sites
    assert created.values("customer_id", "site_id").distinct().count() == created.count()  # no row twice


def test_a_killed_run_is_taken_over_from_its_last_written_page(halo_sim, settings, monkeypatch) -> None:
    _add_clients(halo_sim, 350)  # four client pages, four site pages
    run = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    _kill_when(monkeypatch, page_no=2)
    with pytest.raises(WorkerKilled):
        sync_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SyncStatus.RUNNING and Customer.objects.count() == 200
    monkeypatch.undo()

    with pytest.raises(SyncRunNotClaimable) as busy:  # still beating, as far as anyone can tell
        sync_run_claim(run_id=run.pk)
    assert busy.value.busy
    _stale(run, settings)
    halo_sim.reset_stats()
    run = sync_run_execute(run_id=run.pk)

    assert run.status == SyncStatus.SUCCEEDED and run.attempts == 2
    assert (run.created_count, run.progress_done, run.progress_total) == (350, 350, 350)
    assert sorted(Customer.objects.values_list("name", flat=True)) == [f"Client {n:04d}" for n in range(350)]
    assert HaloLink.objects.count() == 350 and Site.objects.count() == 350
    assert not HaloLink.objects.exclude(not_syncing_reason="").exists()  # the first slice's clients were seen
    _history_is_whole(350, 350)
    # The taker read neither the sites nor the custom fields again, and only the client pages not yet written.
    assert _requests(halo_sim, "/api/Site") == 0
    assert _requests(halo_sim, "/api/FieldInfo") == 0
    assert _requests(halo_sim, "/api/Client") == 2
    assert not SyncRunPage.objects.exists()


def test_a_run_killed_while_reading_sites_reads_only_the_rest(halo_sim, settings, monkeypatch) -> None:
    _add_clients(halo_sim, 100, sites_each=3)  # three site pages
    run = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    real_create = SyncRunPage.objects.create
    kept = []

    def keep_then_die(**kwargs):
        row = real_create(**kwargs)
        kept.append(row)
        if len(kept) == 2:
            raise WorkerKilled
        return row

    monkeypatch.setattr(SyncRunPage.objects, "create", keep_then_die)
    with pytest.raises(WorkerKilled):
        sync_run_execute(run_id=run.pk)
    monkeypatch.undo()
    assert SyncRunPage.objects.filter(run=run, listing=ReadListing.SITES).count() == 2
    _stale(run, settings)
    halo_sim.reset_stats()
    run = sync_run_execute(run_id=run.pk)
    assert run.status == SyncStatus.SUCCEEDED
    assert _requests(halo_sim, "/api/Site") == 1  # page 3 only
    assert Site.objects.count() == 300
    _history_is_whole(100, 300)


def test_a_worker_that_was_taken_over_can_write_nothing_more(halo_sim, settings, monkeypatch) -> None:
    _add_clients(halo_sim, 250)
    run = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    taken_over = {}
    real_apply = engine_module.SyncEngine._apply

    def taken_over_after_first_page(self, plan, context, *, page_no: int, **kwargs):
        if page_no == 2 and not taken_over:
            # While this worker was stalled, another took the run (it looked dead) and holds it now.
            _stale(run, settings)
            taken_over["run"] = sync_run_claim(run_id=run.pk)
        real_apply(self, plan, context, page_no=page_no, **kwargs)

    monkeypatch.setattr(engine_module.SyncEngine, "_apply", taken_over_after_first_page)
    with pytest.raises(SyncRunLeaseLost):
        sync_run_execute(run_id=run.pk)
    monkeypatch.undo()
    assert Customer.objects.count() == 100  # its second page was rolled back with the refused progress write
    assert SyncRun.objects.get(pk=run.pk).lease == taken_over["run"].lease
    with pytest.raises(SyncRunNotClaimable):
        sync_run_execute(run_id=taken_over["run"].pk, handover="not-the-token")
    run = sync_run_execute(run_id=taken_over["run"].pk, handover=taken_over["run"].lease)
    assert run.status == SyncStatus.SUCCEEDED and Customer.objects.count() == 250
    _history_is_whole(250, 250)


def test_the_beat_tick_sends_lost_runs_again_and_abandons_those_nobody_can_carry(settings, monkeypatch) -> None:
    sent = []
    monkeypatch.setattr("syncapp.tasks.run_halo_sync.apply_async", lambda args, **options: sent.append(args))
    long_ago = timezone.now() - timedelta(seconds=settings.SYNC_TAKEOVER_AFTER_SECONDS + 5)
    dead_worker = SyncRunFactory(status=SyncStatus.RUNNING, heartbeat_at=timezone.now(), lease="x", attempts=1)
    assert sync_runs_recover() == [] and sent == []  # still beating: its worker is alive
    SyncRun.objects.filter(pk=dead_worker.pk).update(heartbeat_at=long_ago)
    assert sync_runs_recover() == [dead_worker.pk]
    assert sent == [(dead_worker.pk,)]
    assert SyncRun.objects.get(pk=dead_worker.pk).status == SyncStatus.RUNNING  # for the taker to go on with

    SyncRun.objects.filter(pk=dead_worker.pk).update(attempts=settings.SYNC_MAX_ATTEMPTS)
    assert abandon_stale_sync_runs() == 1
    dead_worker.refresh_from_db()
    assert dead_worker.status == SyncStatus.ABANDONED
    assert f"stopped {settings.SYNC_MAX_ATTEMPTS} times" in dead_worker.error_message


def test_a_lost_queued_message_is_sent_again(settings, monkeypatch) -> None:
    sent = []
    monkeypatch.setattr("syncapp.tasks.run_halo_sync.apply_async", lambda args, **options: sent.append(args))
    long_ago = timezone.now() - timedelta(seconds=settings.SYNC_RESEND_AFTER_SECONDS + 5)
    queued = SyncRunFactory(
        status=SyncStatus.QUEUED, queued_at=long_ago, heartbeat_at=long_ago, trigger=SyncTrigger.MANUAL
    )
    assert sync_runs_recover() == [queued.pk]
    assert sent == [(queued.pk,)]


@pytest.mark.django_db(transaction=True)
def test_a_lost_database_connection_interrupts_the_run_and_the_retry_finishes_it(halo_sim, monkeypatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("terminating a database connection needs PostgreSQL (CI's second pass runs this)")
    from django.db import connections

    _add_clients(halo_sim, 250)
    run = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    pages = []

    def kill_my_connection(current: SyncRun) -> None:
        pages.append(current.progress_done)
        if len(pages) == 1:
            # From a second connection, as a database restart or an administrator would.
            victim = connection.connection.info.backend_pid
            other = connections.create_connection("default")
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [victim])
            other.close()

    with pytest.raises(SyncRunInterrupted) as interrupted:
        sync_run_execute(run_id=run.pk, on_page=kill_my_connection)
    assert "database connection was lost" in str(interrupted.value)
    assert interrupted.value.handover  # recorded on a new connection
    run.refresh_from_db()
    assert run.status == SyncStatus.RUNNING and Customer.objects.count() == 100
    run = sync_run_execute(run_id=run.pk, handover=interrupted.value.handover)
    assert run.status == SyncStatus.SUCCEEDED and Customer.objects.count() == 250


def test_a_transient_failure_past_the_retries_closes_the_run_with_the_real_reason(halo_sim) -> None:
    run = SyncRunFactory(status=SyncStatus.RUNNING, lease="handed-over", heartbeat_at=timezone.now())
    closed = runs_service.sync_run_fail(run_id=run.pk, lease="handed-over", error_message="HaloPSA is down.")
    assert closed.status == SyncStatus.FAILED and closed.error_message == "HaloPSA is down."
    other = SyncRunFactory(status=SyncStatus.RUNNING, lease="someone-else", heartbeat_at=timezone.now())
    untouched = runs_service.sync_run_fail(run_id=other.pk, lease="handed-over", error_message="x")
    assert untouched.status == SyncStatus.RUNNING  # not ours to close: another worker holds it
    assert RunReadPages(untouched).next_client_page() == 1
