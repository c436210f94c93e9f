"""Shared fixtures: users with the staff groups, and a HaloPSA simulator served over real HTTP on loopback."""

from collections.abc import Iterator

import pytest

from tests.factories import UserFactory

SIM_CLIENT_ID = "portal-test"
# A throwaway credential of the in-process simulator, not a secret of any real tenant.
SIM_CLIENT_SECRET = "simulator-only-credential"


@pytest.fixture
def billing_user(db):
    return UserFactory(username="billing", groups=["Billing staff"])


@pytest.fixture
def operator_user(db):
    return UserFactory(username="operator", groups=["Sync operators"])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="administrator", is_staff=True, is_superuser=True)


@pytest.fixture
def halo_sim(settings) -> Iterator:
    """An empty HaloPSA tenant served on an ephemeral loopback port, with the portal's settings pointed at it."""
    from halosim import Simulator, Tenant

    sim = Simulator(tenant=Tenant.empty(), client_id=SIM_CLIENT_ID, client_secret=SIM_CLIENT_SECRET, tenant_name="demo")
    sim.start(host="127.0.0.1", port=0)
    settings.HALO_RESOURCE_URL = sim.base_url
    settings.HALO_AUTH_URL = sim.auth_url
    settings.HALO_TENANT = "demo"
    settings.HALO_CLIENT_ID = SIM_CLIENT_ID
    settings.HALO_CLIENT_SECRET = SIM_CLIENT_SECRET
    settings.HALO_RATE_LIMIT = 100_000
    settings.HALO_TIMEOUT = 10.0
    try:
        yield sim
    finally:
        sim.stop()
