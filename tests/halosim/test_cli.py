"""The command line: start, serve, stop on SIGTERM/SIGINT, and a state file that survives a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from halosim import Tenant

ROOT = Path(__file__).resolve().parents[2]
ENV_SECRET = "cli-test-credential"


def start(*args: str) -> tuple[subprocess.Popen, str, str]:
    env = {**os.environ, "HALOSIM_CLIENT_ID": "cli-client", "HALOSIM_CLIENT_SECRET": ENV_SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "halosim", "--port", "0", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()  # blocks until the server is listening (or the process died)
    if not line:
        proc.wait(timeout=10)
        raise AssertionError(f"simulator did not start: {proc.stderr.read()}")
    base = line.split(" on ", 1)[1].split(" ", 1)[0]
    return proc, line, base


def stop(proc: subprocess.Popen, signum: int = signal.SIGTERM) -> tuple[int, str, str]:
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=15)
    return proc.returncode, out, err


def token(base: str, tenant: str = "acme") -> str:
    response = requests.post(
        f"{base}/auth/token?tenant={tenant}",
        data={"grant_type": "client_credentials", "client_id": "cli-client", "client_secret": ENV_SECRET},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_cli_serves_and_state_survives_restart(tmp_path):
    state = tmp_path / "var" / "halosim.json"
    proc, line, base = start("--state", str(state), "--clients", "12", "--seed", "3", "--tenant-name", "acme")
    try:
        assert line.strip() == f"HaloPSA simulator on {base} (tenant acme, 12 clients)"
        assert state.exists()
        headers = {"Authorization": f"Bearer {token(base)}"}
        listing = requests.get(f"{base}/api/Client", headers=headers, params={"includeinactive": "true"}, timeout=5)
        assert listing.json()["record_count"] == 12
        client_id = listing.json()["clients"][0]["id"]
        edit = requests.post(f"{base}/clients/{client_id}", data={"name": "Survives Restart"}, timeout=5)
        assert edit.status_code == 200  # followed the redirect back to the page
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    assert ENV_SECRET not in out + err + line

    proc, line, base = start("--state", str(state), "--clients", "99", "--tenant-name", "acme")
    try:
        assert "12 clients" in line  # loaded, not regenerated
        detail = requests.get(
            f"{base}/api/Client/{client_id}", headers={"Authorization": f"Bearer {token(base)}"}, timeout=5
        )
        assert detail.json()["name"] == "Survives Restart"
    finally:
        code, _, err = stop(proc, signal.SIGINT)
    assert code == 0, err


def test_cli_config_flags(tmp_path):
    proc, _, base = start(
        "--clients",
        "5",
        "--sites-total",
        "7",
        "--checkbox-form",
        "yes",
        "--rate-limit",
        "300",
        "--set",
        "list_rows_carry_phone=true",
        "--set",
        "fail_status=502",
    )
    try:
        config = requests.get(f"{base}/_sim/config", timeout=5).json()
        assert (config["checkbox_form"], config["rate_limit"]) == ("yes", 300)
        assert (config["list_rows_carry_phone"], config["fail_status"]) == (True, 502)
        assert requests.get(f"{base}/_sim/tenant", timeout=5).json()["sites"] == 7
    finally:
        assert stop(proc)[0] == 0


@pytest.mark.parametrize("missing", ["HALOSIM_CLIENT_ID", "HALOSIM_CLIENT_SECRET"])
def test_cli_requires_credentials_from_the_environment(missing):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HALOSIM_")}
    env.update({"HALOSIM_CLIENT_ID": "x", "HALOSIM_CLIENT_SECRET": "y"})
    del env[missing]
    command = [sys.executable, "-m", "halosim", "--port", "0"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "HALOSIM_CLIENT_ID and HALOSIM_CLIENT_SECRET" in result.stderr


def test_cli_rejects_an_unknown_switch():
    env = {**os.environ, "HALOSIM_CLIENT_ID": "x", "HALOSIM_CLIENT_SECRET": "y"}
    command = [sys.executable, "-m", "halosim", "--port", "0", "--set", "no_such_switch=1"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "no_such_switch" in result.stderr


def test_generated_state_file_loads_as_a_tenant(tmp_path):
    state = tmp_path / "s.json"
    proc, _, _ = start("--state", str(state), "--clients", "4")
    assert stop(proc)[0] == 0
    assert len(Tenant.load(state).clients) == 4
