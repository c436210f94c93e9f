"""Fixtures for the HaloPSA client tests: a fake clock, client settings, and simulators on loopback ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from syncapp.halo import HaloClient, HaloSettings

SIM_CLIENT_ID = "sim-client"
# A throwaway credential of the in-process simulator; distinctive so a leak into logs or messages is easy to spot.
SIM_SECRET = "sim-secret-Q7x2pLm9"
TENANT_NAME = "demo"
API = "https://halo.example.com"
AUTH = "https://halo.example.com/auth"


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it (or a test advances it)."""

    def __init__(self, start: float = 10_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def unit_settings(**overrides: Any) -> HaloSettings:
    """Settings for `responses`-mocked unit tests against a made-up https tenant."""
    values: dict[str, Any] = {
        "resource_url": API,
        "auth_url": AUTH,
        "tenant": TENANT_NAME,
        "client_id": SIM_CLIENT_ID,
        "client_secret": SIM_SECRET,
        "scope": "all",
        "rate_limit": 300,
        "timeout": 30.0,
        "max_retries": 5,
    }
    return HaloSettings(**{**values, **overrides})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., HaloClient]]:
    """Build HaloClients on the fake clock (no real sleeping); pass `sim=` to point one at a simulator."""
    clients: list[HaloClient] = []

    def make(
        sim: Any = None,
        *,
        client_clock: FakeClock | None = None,
        budget: Any = None,
        on_wait: Any = None,
        **overrides: Any,
    ) -> HaloClient:
        if sim is not None:
            overrides = {"resource_url": sim.base_url, "auth_url": sim.auth_url, "allow_http": True, **overrides}
        used_clock = client_clock or clock
        client = HaloClient(
            unit_settings(**overrides),
            clock=used_clock,
            sleep=used_clock.sleep,
            jitter=lambda: 0.0,
            budget=budget,
            on_wait=on_wait,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def make_sim(clock: FakeClock) -> Iterator[Callable[..., Any]]:
    """Start simulators on ephemeral loopback ports (sharing the fake clock unless told otherwise); stop them after."""
    from halosim import Simulator, Tenant

    started: list[Any] = []

    def make(tenant: Any = None, *, sim_clock: Any = None, **config: Any) -> Any:
        sim = Simulator(
            tenant=tenant if tenant is not None else Tenant.empty(),
            client_id=SIM_CLIENT_ID,
            client_secret=SIM_SECRET,
            tenant_name=TENANT_NAME,
            clock=sim_clock or clock,
        )
        for name, value in config.items():
            setattr(sim.config, name, value)
        sim.start(host="127.0.0.1", port=0)
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture(scope="session")
def big_tenant() -> Any:
    """A realistic 1,234-client tenant, generated once: tests must not change it (use small tenants for edits)."""
    from halosim import Tenant

    return Tenant.generate(clients=1234, seed=7, sites_per_client=(1, 3), ticked_ratio=0.7, inactive_ratio=0.1)


@pytest.fixture
def small_tenant() -> Any:
    """A fresh 40-client tenant a test may edit."""
    from halosim import Tenant

    return Tenant.generate(clients=40, seed=1, sites_per_client=(1, 3), ticked_ratio=0.7, inactive_ratio=0.1)
