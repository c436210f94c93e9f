"""Screen-test fixtures: logged-in clients per role and a HaloPSA address where nothing answers."""

import socket

import pytest
from django.test import Client

from tests.factories import UserFactory


@pytest.fixture
def billing_client(client, billing_user) -> Client:
    client.force_login(billing_user)
    return client


@pytest.fixture
def operator_client(client, operator_user) -> Client:
    client.force_login(operator_user)
    return client


@pytest.fixture
def admin_client_(client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


@pytest.fixture
def editor_user(db):
    """Billing staff who may also edit customer fields (change_customer)."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username="editor", groups=["Billing staff"])
    user.user_permissions.add(Permission.objects.get(codename="change_customer", content_type__app_label="syncapp"))
    return user


@pytest.fixture
def editor_client(client, editor_user) -> Client:
    client.force_login(editor_user)
    return client


@pytest.fixture
def viewer_client(client, staff_groups) -> Client:
    """Someone who may only view customers (no group): what the portal shows without editing rights."""
    from django.contrib.auth.models import Permission

    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_customer", content_type__app_label="syncapp"))
    client.force_login(viewer)
    return client


@pytest.fixture
def halo_unreachable(settings) -> str:
    """Point the portal at a loopback port nobody listens on, with no retries, so the failure is immediate."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.HALO_RESOURCE_URL = f"http://127.0.0.1:{port}"
    settings.HALO_AUTH_URL = f"http://127.0.0.1:{port}/auth"
    settings.HALO_CLIENT_SECRET = "unused"
    settings.HALO_ALLOW_HTTP_LOOPBACK = True  # or the https rule, not the dead port, would be what fails
    settings.HALO_MAX_RETRIES = 0  # a person-facing check retries once at most anyway; none keeps tests quick
    settings.HALO_TIMEOUT = 2.0
    return settings.HALO_RESOURCE_URL
