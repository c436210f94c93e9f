"""SIGKILL of a real worker at any point of a sync: a restarted worker finishes the same run, no click needed."""

import os
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from syncapp.choices import ChangeAction, ReadListing, SyncStatus, SyncTrigger
from syncapp.models import Customer, FieldChange, HaloLink, Site, SyncRun, SyncRunPage
from syncapp.services.runs import sync_run_request, sync_runs_recover

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CLIENTS = 2000


@pytest.fixture
def tenant(halo_sim, settings):
    """A few thousand clients with a site each, served a little slowly so a kill lands where it is meant to."""
    settings.SYNC_HEARTBEAT_SECONDS = 1
    settings.SYNC_TAKEOVER_AFTER_SECONDS = 3

    def edit(tenant):
        for n in range(CLIENTS):
            client = tenant.add_client(f"Fault Client {n:04d}", ticked=True)
            tenant.add_site(client["id"], f"Fault Site {n:04d}", main=True, line1=f"{n} Hay St", line3="Perth")

    halo_sim.edit(edit)
    halo_sim.config.latency_seconds = 0.03
    return halo_sim


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting until {what}")
        time.sleep(0.02)


def _run(run_id: int) -> SyncRun:
    return SyncRun.objects.get(pk=run_id)


def _pool_child(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert children, "the prefork worker has no pool process"
    return int(children[0])


KILL_POINTS = {
    "early (reading sites)": lambda run: SyncRunPage.objects.filter(run=run, listing=ReadListing.SITES).count() >= 3,
    "mid (clients)": lambda run: _run(run.pk).progress_done >= CLIENTS * 2 // 5,
    "late (clients)": lambda run: _run(run.pk).progress_done >= CLIENTS * 4 // 5,
}


@pytest.mark.parametrize(
    ("point", "victim"),
    [
        ("early (reading sites)", "main process"),
        ("mid (clients)", "main process"),
        ("late (clients)", "main process"),
        ("mid (clients)", "pool process"),
    ],
)
def test_a_killed_worker_s_run_is_finished_by_the_next_worker(
    tenant, celery_worker_factory, point: str, victim: str
) -> None:
    pool = "solo" if victim == "main process" else "prefork"
    worker = celery_worker_factory(pool=pool)
    run = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    _wait_for(lambda: KILL_POINTS[point](run), f"the run reached the {point} point")
    assert _run(run.pk).is_open, "the sync finished before the kill point; slow the simulator down"
    if victim == "main process":
        os.kill(worker.pid, signal.SIGKILL)
        worker.process.wait(timeout=20)
        worker = celery_worker_factory(pool=pool)  # the restarted worker (a supervisor would do this)
    else:
        os.kill(_pool_child(worker.pid), signal.SIGKILL)  # the main process starts a new pool process

    # Beat's tick, once the dead worker's heartbeat is old enough to be sure it is dead.
    takeover_after = timedelta(seconds=3)
    _wait_for(lambda: _run(run.pk).heartbeat_at < timezone.now() - takeover_after, "the dead worker's run went stale")
    assert sync_runs_recover() == [run.pk]
    _wait_for(lambda: not _run(run.pk).is_open, "the run closed")

    run = _run(run.pk)
    log = "".join(worker.log_lines[-80:])
    assert run.status == SyncStatus.SUCCEEDED, f"{run.status}: {run.error_message}\n{log}"
    assert run.attempts >= 2 and SyncRun.objects.count() == 1  # the same run, taken up again
    assert (run.progress_done, run.progress_total) == (CLIENTS, CLIENTS)
    expected = {client["id"]: client["name"] for client in tenant.tenant.clients.values()}
    assert dict(HaloLink.objects.values_list("halo_id", "customer__name")) == expected
    assert Customer.objects.count() == CLIENTS and Site.objects.count() == CLIENTS
    created = FieldChange.objects.filter(action=ChangeAction.CREATED)
    assert created.count() == 2 * CLIENTS  # one per customer and per site: nothing written twice
    assert created.values("customer_id", "site_id").distinct().count() == 2 * CLIENTS
    assert not HaloLink.objects.exclude(not_syncing_reason="").exists()
    assert not SyncRunPage.objects.exists()
