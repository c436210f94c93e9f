"""Whole syncs through HaloPSA rate-limit storms, a shared budget and outages, over real HTTP on a fake clock.

The simulator and every HaloPSA client share one fake clock (also their wall clock, so HTTP dates and Unix times in
headers agree); waits of many minutes take no real time. The simulator counts the requests it served in each
rolling window, which is the budget invariant: never more than the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from halosim import Simulator, Tenant
from syncapp.choices import NotSyncingReason, SyncStatus, SyncTrigger
from syncapp.halo import HaloClient, LocalBudgetStore, RequestBudget, halo_settings_from_django
from syncapp.halo_budget import halo_request_budget
from syncapp.models import Customer, HaloLink, SyncRun
from syncapp.services.run_retries import sync_run_in_foreground
from syncapp.services.runs import sync_run_request
from tests.conftest import SIM_CLIENT_ID, SIM_CLIENT_SECRET

pytestmark = pytest.mark.django_db

LIMIT = 20  # requests per window, for HaloPSA (the simulator) and the portal alike
WINDOW = 300.0
HEADER_STYLES = ["none", "retry_after_seconds", "retry_after_date", "reset_seconds", "reset_unix", "remaining"]


class WallFakeClock:
    """A fake clock that reads like the wall clock (Unix time), moved only by sleeps; safe across threads."""

    def __init__(self) -> None:
        import threading

        self.now = 1_800_000_000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def clock() -> WallFakeClock:
    return WallFakeClock()


@pytest.fixture
def tenant() -> Tenant:
    # 250 clients: three client pages; ~400 sites: five site pages.
    return Tenant.generate(clients=250, seed=11, sites_per_client=(1, 2), ticked_ratio=0.6, inactive_ratio=0.1)


@pytest.fixture
def sim(tenant: Tenant, clock: WallFakeClock, settings) -> Iterator[Simulator]:
    simulator = Simulator(
        tenant=tenant, client_id=SIM_CLIENT_ID, client_secret=SIM_CLIENT_SECRET, tenant_name="demo", clock=clock
    )
    simulator.config.update({"rate_limit": LIMIT, "rate_window_seconds": WINDOW})
    simulator.start(host="127.0.0.1", port=0)
    settings.HALO_RESOURCE_URL = simulator.base_url
    settings.HALO_AUTH_URL = simulator.auth_url
    settings.HALO_TENANT = "demo"
    settings.HALO_CLIENT_ID = SIM_CLIENT_ID
    settings.HALO_CLIENT_SECRET = SIM_CLIENT_SECRET
    settings.HALO_ALLOW_HTTP_LOOPBACK = True
    settings.HALO_RATE_LIMIT = LIMIT
    settings.HALO_RATE_WINDOW = WINDOW
    settings.HALO_RATE_LIMIT_PATIENCE = 900.0
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def portal_client(clock: WallFakeClock, sim: Simulator) -> Callable[..., HaloClient]:
    """A HaloClient as the portal builds one (shared budget), on the fake clock: like another process each time."""
    made: list[HaloClient] = []

    def make(*, interactive: bool = False, budget: RequestBudget | None = None) -> HaloClient:
        halo_settings = halo_settings_from_django(interactive=interactive)
        client = HaloClient(
            halo_settings,
            clock=clock,
            sleep=clock.sleep,
            jitter=lambda: 0.0,
            budget=budget or halo_request_budget(halo_settings),
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def _sync(portal_client, clock, *, on_page: Callable[[SyncRun], None] | None = None) -> SyncRun:
    run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
    return sync_run_in_foreground(run_id=run.pk, halo_factory=portal_client, sleep=clock.sleep, on_page=on_page)


def _ticked_names(tenant: Tenant) -> list[str]:
    return sorted(tenant.clients[i]["name"] for i in tenant.clients if tenant.is_ticked(i))


def _assert_right_data(tenant: Tenant) -> None:
    assert sorted(Customer.objects.values_list("name", flat=True)) == _ticked_names(tenant)
    assert not HaloLink.objects.filter(not_syncing_reason=NotSyncingReason.MISSING).exists()


def _start_after_first_page(sim: Simulator, **switches: Any) -> Callable[[SyncRun], None]:
    """An on_page hook that throws the switches at HaloPSA once the first client page is written."""

    def hook(run: SyncRun) -> None:
        if run.progress_done == 100:
            sim.config.update(switches)

    return hook


@pytest.mark.parametrize("style", HEADER_STYLES)
def test_a_storm_longer_than_the_window_is_waited_out_in_every_header_style(sim, tenant, portal_client, clock, style):
    sim.config.update({"rate_limit_headers": style})
    start = clock()
    run = _sync(portal_client, clock, on_page=_start_after_first_page(sim, storm_seconds=400))
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    _assert_right_data(tenant)
    assert sim.window_stats()["max_in_window"] <= LIMIT
    # The run record shows the waiting: every 429 the simulator sent, and at least the storm's length.
    assert run.rate_limited_count == sim.stats()["429"] >= 2
    assert run.retry_count >= run.rate_limited_count
    assert 400 <= run.waited_seconds <= clock() - start
    assert "Succeeded after waiting" in _summary_of(run)


def _summary_of(run: SyncRun) -> str:
    from syncapp.selectors.runs import run_waiting_summary

    return run_waiting_summary(run)


def test_hints_are_followed_exactly_and_a_storm_without_hints_backs_off_to_the_window(sim, portal_client, clock):
    sim.config.update({"rate_limit_headers": "retry_after_date"})
    run = _sync(portal_client, clock, on_page=_start_after_first_page(sim, storm_seconds=400))
    # Retry-After said 400 s; a rolling window never needs more than 300 s, then it said the remaining 100 s.
    assert run.rate_limited_count == 2
    assert run.waited_seconds == 400
    sim.config.update({"rate_limit_headers": "none"})
    run = _sync(portal_client, clock, on_page=_start_after_first_page(sim, storm_seconds=400))
    # Half of 5, 10 ... 300 s without jitter: 2.5 + 5 + 10 + 20 + 40 + 80 + 150 + 150 = 457.5 > 400: 8 refusals.
    assert run.rate_limited_count == 8
    assert run.waited_seconds == 457.5
    assert run.status == SyncStatus.SUCCEEDED


def test_another_integration_using_half_the_budget_slows_the_run_but_never_fails_it(sim, tenant, portal_client, clock):
    sim.config.update({"shared_consumer_requests": LIMIT // 2, "rate_limit_headers": "remaining"})
    run = _sync(portal_client, clock)
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    _assert_right_data(tenant)
    assert sim.window_stats()["max_in_window"] <= LIMIT // 2
    assert run.waited_seconds > 0


def test_a_process_making_its_own_calls_shares_the_window_and_nobody_is_refused(sim, tenant, portal_client, clock):
    other_process = portal_client()  # its own client and budget object, the same shared store

    def checks_meanwhile(run: SyncRun) -> None:
        for client_id in list(tenant.clients)[:8]:
            other_process.get_client(client_id)

    run = _sync(portal_client, clock, on_page=checks_meanwhile)
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    _assert_right_data(tenant)
    assert other_process.stats.total_requests == 1 + 3 * 8
    assert sim.window_stats()["max_in_window"] <= LIMIT
    assert sim.stats().get("429", 0) == 0


def test_without_the_shared_budget_the_same_two_would_exceed_the_window(sim, tenant, portal_client, clock):
    # The contrast that makes the test above mean something: two budgets of their own overrun HaloPSA's one.
    def own_budget() -> RequestBudget:
        return RequestBudget(LocalBudgetStore(), limit=LIMIT, window=WINDOW, reserve=LIMIT // 10)

    other_process = portal_client(budget=own_budget())

    def checks_meanwhile(run: SyncRun) -> None:
        for client_id in list(tenant.clients)[:8]:
            other_process.get_client(client_id)

    run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
    sync_run_in_foreground(
        run_id=run.pk,
        halo_factory=lambda: portal_client(budget=own_budget()),
        sleep=clock.sleep,
        on_page=checks_meanwhile,
    )
    assert sim.stats().get("429", 0) > 0


def test_a_several_minute_503_outage_is_ridden_out_by_retries_and_the_checkpoint(sim, tenant, portal_client, clock):
    shown: list[str] = []

    def resume_later(seconds: float) -> None:
        # What the run page shows while the run waits to resume from its checkpoint.
        shown.append(SyncRun.objects.get().wait_reason)
        clock.sleep(seconds)

    run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
    run = sync_run_in_foreground(
        run_id=run.pk,
        halo_factory=portal_client,
        sleep=resume_later,
        on_page=_start_after_first_page(sim, outage_seconds=200),
    )
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    _assert_right_data(tenant)
    assert sim.stats()["outage"] > 5
    # More than one slice's retries were needed: the client gave up, the run resumed from its checkpoint.
    assert shown and run.retry_count > 5
    assert shown[0].startswith("HaloPSA failed while answering")
    assert shown[0].endswith("The sync resumes in {left} (attempt 1 of 3).")
    # Only sleeping moves the clock, and nothing got through for 200 s: all of it is on the record.
    assert run.waited_seconds >= 200
    assert run.wait_reason == ""
    # Every request of every slice is on the record, the retries that gave up included.
    assert run.requests_made == sum(count for name, count in sim.stats().items() if name not in ("429", "outage"))
    assert sim.window_stats()["max_in_window"] <= LIMIT


def test_a_storm_longer_than_the_patience_fails_the_run_clearly_and_marks_nothing_missing(
    sim, tenant, portal_client, clock
):
    _sync(portal_client, clock)  # everything linked
    run = _sync(portal_client, clock, on_page=_start_after_first_page(sim, storm_seconds=2000))
    assert run.status == SyncStatus.FAILED
    assert "refused every request for 15 min because its rate limit was reached" in run.error_message
    assert "HALO_RATE_LIMIT_PATIENCE" in run.error_message
    # The first page (and the second, if it was fetched ahead before the storm began) stays written.
    assert run.progress_done in (100, 200)
    assert not HaloLink.objects.filter(not_syncing_reason=NotSyncingReason.MISSING).exists()
    assert HaloLink.objects.count() == len(_ticked_names(tenant))
    # Failed on the patience alone: no task-style retries stretched it.
    assert 900 <= run.waited_seconds < 900 + 30


def test_the_celery_task_fails_on_the_patience_at_once_without_its_outage_retries(sim, tenant, settings):
    from syncapp.tasks import run_halo_sync

    settings.HALO_RATE_LIMIT_PATIENCE = 0  # the first refusal already uses up the patience: no real waiting
    sim.config.update({"storm_seconds": 60})
    run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)  # no task queued: this test runs it
    assert run_halo_sync.apply(kwargs={"run_id": run.pk}).get() == SyncStatus.FAILED
    run.refresh_from_db()
    assert "HALO_RATE_LIMIT_PATIENCE" in run.error_message
    assert "gave up after 3 retries" not in run.error_message
    assert sim.stats()["429"] == 1


def test_the_celery_task_resumes_after_an_outage_and_records_the_waits(sim, tenant, settings):
    from syncapp.tasks import run_halo_sync

    settings.HALO_MAX_RETRIES = 0  # the client gives up at once; the task's own retries are what is tested
    sim.config.update({"outage_seconds": 3600})
    run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
    # Run eagerly, Celery performs the task's retries one after the other, without their countdowns.
    run_halo_sync.apply(kwargs={"run_id": run.pk})
    run.refresh_from_db()
    assert run.status == SyncStatus.FAILED
    assert run.error_message.endswith("(gave up after 3 retries)")
    assert run.waited_seconds == 30 + 60 + 120  # what the run waited to resume, counted on the run
    assert (run.wait_reason, run.wait_until) == ("", None)
    assert not HaloLink.objects.filter(not_syncing_reason=NotSyncingReason.MISSING).exists()
