"""Fixtures for the simulator tests: a fake clock, a seeded tenant served on loopback, and an API helper."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from halosim import SimConfig, Simulator, Tenant

from .helpers import CLIENT_ID, SECRET, TENANT, Api, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tenant() -> Tenant:
    # 130 clients, ~10% inactive: more active clients than one capped page (100), more than the default page (50).
    return Tenant.generate(clients=130, seed=7, sites_per_client=(1, 3), inactive_ratio=0.1)


@pytest.fixture
def sim(tenant: Tenant, clock: FakeClock) -> Iterator[Simulator]:
    simulator = Simulator(
        tenant=tenant, client_id=CLIENT_ID, client_secret=SECRET, tenant_name=TENANT, config=SimConfig(), clock=clock
    )
    simulator.start(host="127.0.0.1", port=0)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def api(sim: Simulator) -> Api:
    client = Api(sim)
    client.login()
    return client
