"""The halo_check management command against the simulator: the success line, and clear failures with exit 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.halo.conftest import SIM_CLIENT_ID, SIM_SECRET, TENANT_NAME
from tests.halo.test_faults import closed_loopback_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def real_time_sim(small_tenant):
    """A simulator on the real clock: the command builds its own client with real time."""
    from halosim import Simulator

    sim = Simulator(tenant=small_tenant, client_id=SIM_CLIENT_ID, client_secret=SIM_SECRET, tenant_name=TENANT_NAME)
    sim.start(host="127.0.0.1", port=0)
    yield sim
    sim.stop()


@pytest.fixture
def halo_settings(settings, real_time_sim, db):
    settings.DEBUG = False
    settings.HALO_ALLOW_HTTP_LOOPBACK = True
    settings.HALO_RESOURCE_URL = real_time_sim.base_url
    settings.HALO_AUTH_URL = real_time_sim.auth_url
    settings.HALO_TENANT = TENANT_NAME
    settings.HALO_CLIENT_ID = SIM_CLIENT_ID
    settings.HALO_CLIENT_SECRET = SIM_SECRET
    settings.HALO_RATE_LIMIT = 300
    settings.HALO_TIMEOUT = 10
    return settings


def run(*args: str) -> str:
    out = StringIO()
    call_command("halo_check", *args, stdout=out)
    return out.getvalue()


def fails(*args: str) -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("halo_check", *args, stdout=out)
    assert caught.value.returncode == 1
    return str(caught.value), out.getvalue()


def test_success_line(halo_settings, real_time_sim, small_tenant) -> None:
    assert run().strip() == (
        f"HaloPSA access OK: {real_time_sim.base_url} tenant demo; Datagate field id 142; 40 clients, "
        "ticked clients are counted by the first sync."
    )


def test_a_slow_halopsa_is_reported_within_the_time_limit(halo_settings, real_time_sim) -> None:
    halo_settings.HALO_INTERACTIVE_BUDGET_SECONDS = 0.5
    real_time_sim.config.latency_seconds = 1.0
    real_time_sim.reset_stats()
    message, _ = fails()
    assert message == (
        f"HaloPSA check failed: HaloPSA at {real_time_sim.base_url} is slow: it did not answer within 0.5 seconds, "
        "the limit for a check made while you wait. Try again in a few minutes; a sync in the background waits longer."
    )
    assert real_time_sim.stats() == {"POST /auth/token": 1}


def test_thousands_are_grouped(halo_settings, real_time_sim, big_tenant) -> None:
    real_time_sim.replace_tenant(big_tenant, persist=False)
    assert "1,234 clients" in run()


def test_success_as_json(halo_settings, real_time_sim) -> None:
    result = json.loads(run("--json"))
    assert result["ok"] is True
    assert (result["datagate_field_id"], result["client_count"], result["tenant"]) == (142, 40, "demo")
    assert result["extra_field_ids"] == [140, 141, 143, 144, 145]
    assert SIM_SECRET not in json.dumps(result)


def test_detail_fallback_is_mentioned(halo_settings, real_time_sim) -> None:
    real_time_sim.config.honour_include_custom_fields = False
    assert "read one by one" in run()


def test_wrong_secret(halo_settings) -> None:
    halo_settings.HALO_CLIENT_SECRET = "not-the-secret"
    message, _ = fails()
    assert message == "HaloPSA check failed: HaloPSA refused the client ID or secret (invalid_client)"


def test_wrong_secret_as_json(halo_settings) -> None:
    halo_settings.HALO_CLIENT_SECRET = "not-the-secret"
    _, out = fails("--json")
    assert json.loads(out) == {
        "ok": False,
        "error": "HaloAuthError",
        "status": 401,
        "transient": False,
        "message": "HaloPSA check failed: HaloPSA refused the client ID or secret (invalid_client)",
    }


def test_unreachable_host(halo_settings) -> None:
    url = f"http://127.0.0.1:{closed_loopback_port()}"
    halo_settings.HALO_RESOURCE_URL, halo_settings.HALO_AUTH_URL = url, url + "/auth"
    halo_settings.HALO_MAX_RETRIES = 0  # the command sleeps for real between retries
    message, _ = fails()
    assert message == f"HaloPSA check failed: HaloPSA at {url} could not be reached: the connection was refused."


def test_missing_datagate_field(halo_settings, real_time_sim) -> None:
    def drop_datagate(tenant) -> None:
        tenant.custom_field_defs = [d for d in tenant.custom_field_defs if d["name"] != "CFDatagate"]

    real_time_sim.edit(drop_datagate, persist=False)
    message, _ = fails()
    assert message.startswith("HaloPSA check failed: HaloPSA has no client custom field named CFDatagate")


def test_missing_datagate_field_without_field_info(halo_settings, real_time_sim) -> None:
    real_time_sim.config.fieldinfo_form = "missing"
    real_time_sim.edit(lambda t: setattr(t, "custom_field_defs", t.custom_field_defs[:2]), persist=False)
    message, _ = fails()
    assert "no client custom field named CFDatagate" in message


def test_no_permission(halo_settings, real_time_sim) -> None:
    # FieldInfo refused (403) sends discovery to the client list, which is refused too.
    real_time_sim.config.fail_status = 403
    real_time_sim.config.fail_next = 2
    message, _ = fails()
    assert message.startswith(
        "HaloPSA check failed: HaloPSA denied access to the client list: "
        "the API application or its agent lacks a permission (HTTP 403)"
    )


@pytest.mark.parametrize(
    ("allow_loopback", "reason"),
    [(False, "must start with https://"), (True, "uses plain http, which is allowed only for this computer")],
)
def test_plain_http_to_a_remote_host(halo_settings, allow_loopback, reason) -> None:
    halo_settings.HALO_ALLOW_HTTP_LOOPBACK = allow_loopback
    halo_settings.HALO_RESOURCE_URL = "http://halo.example.com"
    halo_settings.HALO_AUTH_URL = ""
    message, _ = fails()
    assert message.startswith(f"HaloPSA check failed: The HaloPSA resource URL (HALO_RESOURCE_URL) {reason}")


def test_the_real_command_prints_to_stderr_and_exits_1(real_time_sim) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "HALO_RESOURCE_URL": real_time_sim.base_url,
        "HALO_AUTH_URL": real_time_sim.auth_url,
        "HALO_TENANT": TENANT_NAME,
        "HALO_CLIENT_ID": SIM_CLIENT_ID,
        "HALO_CLIENT_SECRET": "not-the-secret",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "halo_check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "HaloPSA check failed: HaloPSA refused the client ID or secret (invalid_client)" in done.stderr
    assert done.stdout == ""
