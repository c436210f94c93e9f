"""A bounded load test of the portal under gunicorn: customer list, customer page and progress JSON, idle and mid-sync.

    python -m bench.load_test [--users 10] [--seconds 15] [--clients 10000] [--sites 25000]

Loopback only, bounded in time (three phases of --seconds each, 60 s at most): a single user, then --users
concurrent users while nothing else runs, then the same users while a sync that renames every client writes
to the database (a separate `manage.py sync_halo` process, niced as deploy/ runs the worker). Reports p50/p95/max
and errors per screen.
Not run in CI: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.environment import BENCH_VAR, ROOT, machine_lines, setup_django, write_report

MAX_PHASE_SECONDS = 20


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, screen: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault(screen, []).append(seconds)
            if not ok:
                self.errors[screen] = self.errors.get(screen, 0) + 1


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15.0, help=f"per phase, at most {MAX_PHASE_SECONDS}")
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=25_000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--out", default="bench/results/load.md")
    args = parser.parse_args(argv)
    args.seconds = min(args.seconds, MAX_PHASE_SECONDS)
    return args


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited before serving")
        try:
            requests.get(url, timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on {url}")


def _user_loop(base: str, cookie: str, targets: list[tuple[str, str]], stop: threading.Event, into: Samples) -> None:
    session = requests.Session()
    session.headers["Cookie"] = cookie  # the session cookie is Secure; on loopback http it is sent by hand
    rng = random.Random()
    while not stop.is_set():
        screen, path = rng.choice(targets)
        started = time.perf_counter()
        try:
            response = session.get(base + path, timeout=30, allow_redirects=False)
            ok = response.status_code == 200
        except requests.RequestException:
            ok = False
        into.add(screen, time.perf_counter() - started, ok)


def run_phase(base: str, cookie: str, targets: list, users: int, seconds: float, until=None) -> tuple[Samples, float]:
    samples, stop = Samples(), threading.Event()
    threads = [
        threading.Thread(target=_user_loop, args=(base, cookie, targets, stop, samples), daemon=True)
        for _ in range(users)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while time.monotonic() - started < seconds and not (until and until()):
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(timeout=35)
    return samples, time.monotonic() - started


def _percentile(values: list[float], pct: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def report_rows(phase: str, users: int, samples: Samples, seconds: float) -> list[str]:
    rows = []
    for screen in sorted(samples.latencies):
        values = samples.latencies[screen]
        rows.append(
            f"| {phase} | {users} | {screen} | {len(values)} | {1000 * _percentile(values, 50):.0f} ms "
            f"| {1000 * _percentile(values, 95):.0f} ms | {1000 * max(values):.0f} ms "
            f"| {samples.errors.get(screen, 0)} | {seconds:.1f} s |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database_url = args.database_url
    if database_url is None:
        path = BENCH_VAR / "load.sqlite3"
        BENCH_VAR.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database_url = f"sqlite:///{path}"
    database = setup_django(database_url)

    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.test import Client

    from bench.simulator_process import SimulatorProcess
    from halosim import Tenant
    from syncapp.choices import SyncTrigger
    from syncapp.models import Customer, SyncRun
    from syncapp.services.runs import sync_run_execute, sync_run_request
    from tests.factories import UserFactory

    secret = secrets.token_urlsafe(24)
    tenant = Tenant.generate(clients=args.clients, sites_total=args.sites, seed=11, ticked_ratio=1.0)
    # The simulator stands in for HaloPSA, another machine: niced, its page building does not take the CPU the
    # web workers are measured on.
    sim = SimulatorProcess(
        tenant,
        client_id="load",
        client_secret=secret,
        tenant_name="load",
        state_path=BENCH_VAR / "load-sim.json",
        nice=10,
    )
    halo_env = {
        "HALO_RESOURCE_URL": sim.base_url,
        "HALO_AUTH_URL": sim.auth_url,
        "HALO_TENANT": "load",
        "HALO_CLIENT_ID": "load",
        "HALO_CLIENT_SECRET": secret,
        "HALO_RATE_LIMIT": "1000000",
        "HALO_ALLOW_HTTP_LOOPBACK": "true",
    }
    settings.HALO_RESOURCE_URL, settings.HALO_AUTH_URL = sim.base_url, sim.auth_url
    settings.HALO_TENANT = settings.HALO_CLIENT_ID = "load"
    settings.HALO_CLIENT_SECRET = secret
    settings.HALO_RATE_LIMIT = 1_000_000
    settings.HALO_ALLOW_HTTP_LOOPBACK = True
    gunicorn = None
    try:
        log(f"first sync of {args.clients:,} clients ({args.sites:,} sites)")
        first = sync_run_execute(run_id=sync_run_request(actor=None, trigger=SyncTrigger.COMMAND).pk)
        assert first.status == "succeeded", first.error_message
        secret_key = secrets.token_urlsafe(50)
        settings.SECRET_KEY = secret_key  # the session made here must be valid for the gunicorn workers
        user = UserFactory(username=f"load-{secrets.token_hex(4)}")
        user.groups.add(Group.objects.get(name="Sync operators"))
        browser = Client()
        browser.force_login(user)
        cookie = f"sessionid={browser.cookies['sessionid'].value}"
        customer_ids = list(Customer.objects.values_list("pk", flat=True))
        rng = random.Random(3)
        port = _free_port()
        env = {
            **os.environ,
            **halo_env,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
        }
        env.pop("DJANGO_TESTING", None)
        # Production serves the collected, hashed static files (a page naming a missing one is an error).
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        gunicorn = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                *("portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)),
                *("--timeout", "30", "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        _wait_until_serving(base + "/login/", gunicorn)

        def targets(run_id: int) -> list[tuple[str, str]]:
            picks = [("customer page", f"/customers/{rng.choice(customer_ids)}/") for _ in range(50)]
            return [("customer list", "/")] * 50 + picks + [("progress JSON", f"/runs/{run_id}/progress.json")] * 50

        rows = []
        log("phase 1: one user, idle")
        samples, took = run_phase(base, cookie, targets(first.pk), 1, args.seconds)
        rows += report_rows("idle", 1, samples, took)
        log(f"phase 2: {args.users} users, idle")
        samples, took = run_phase(base, cookie, targets(first.pk), args.users, args.seconds)
        rows += report_rows("idle", args.users, samples, took)

        log("phase 3: the same users while a sync renames every client")
        for client in tenant.clients.values():
            client["name"] += " (renamed)"
        sim.replace_tenant(tenant)
        halo_env["HALO_RESOURCE_URL"], halo_env["HALO_AUTH_URL"] = sim.base_url, sim.auth_url
        # Niced as the production recipe runs the worker (deploy/): a sync is background work.
        sync = subprocess.Popen(
            ["nice", "-n", "10", sys.executable, "manage.py", "sync_halo", "-v", "0"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            env={**env, **halo_env, "DJANGO_ALLOWED_HOSTS": "127.0.0.1"},
        )
        while not SyncRun.objects.filter(status="running").exists() and sync.poll() is None:
            time.sleep(0.05)
        running = SyncRun.objects.filter(status="running").first()
        samples, took = run_phase(
            base, cookie, targets(running.pk if running else first.pk), args.users, args.seconds, sync.poll
        )
        sync.wait(timeout=600)
        rows += report_rows("during a sync", args.users, samples, took)
        renamed = Customer.objects.filter(name__endswith="(renamed)").count()
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        sim.stop()

    lines = [
        "# Load test",
        "",
        *(f"- {line}" for line in machine_lines(database)),
        f"- gunicorn with {args.workers} workers; {args.clients:,} customers; sync during phase 3 renamed "
        f"{renamed:,} of them",
        "",
        "| phase | users | screen | requests | p50 | p95 | max | errors | phase length |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|",
        *rows,
    ]
    write_report(args.out, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
