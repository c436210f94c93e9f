"""Webhook benchmark: latency from a change on the simulator to the portal's database row, and HaloPSA requests.

Starts the whole chain as `make run` does, each its own process: the simulator (sending webhooks), the web server
(`manage.py runserver`), a Celery worker (concurrency 2). Then, on a tenant of --clients ticked clients synced once:

1. --edits renames, one at a time, each of another client, through the simulator's control endpoint; the time from
   sending the edit to seeing the new name in the portal's database (polled every 5 ms) is one latency sample;
2. one-client syncs run in this process with the simulator's webhooks off: HaloPSA requests per sync;
3. a burst of 20 renames of one client: HaloPSA requests in all, once the last name is in the database.

Embedded defaults (SQLite, filesystem broker) unless --database-url / --broker-url are given (PostgreSQL, Redis).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = ROOT / "var" / "bench-webhooks"
ONE_CLIENT_SYNCS = 10
BURST = 20


def log(message: str) -> None:
    print(f"[webhook-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_bench", description=__doc__)
    parser.add_argument("--edits", type=int, default=100, help="renames timed one by one (default 100)")
    parser.add_argument("--clients", type=int, default=200, help="ticked clients in the tenant (default 200)")
    parser.add_argument("--database-url", help="e.g. postgres://postgres@127.0.0.1:5432/NAME (default: new SQLite)")
    parser.add_argument("--broker-url", help="e.g. redis://127.0.0.1:6379/7 (default: filesystem broker)")
    parser.add_argument("--web-port", type=int, default=8162)
    parser.add_argument("--sim-port", type=int, default=8163)
    parser.add_argument("--out", help="also write the Markdown report here")
    return parser.parse_args(argv)


def environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment every process of the chain shares (the bench's own database, broker and credentials)."""
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url
    if database_url is None:
        db = BENCH_VAR / "portal.sqlite3"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        database_url = f"sqlite:///{db}"
    broker_dir = BENCH_VAR / "broker"
    if args.broker_url is None:
        subprocess.run(["rm", "-rf", str(broker_dir)], check=True)
    secret, token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    sim_url = f"http://127.0.0.1:{args.sim_port}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_DEBUG": "true",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": args.broker_url or "filesystem://",
        "CELERY_BROKER_DIR": str(broker_dir),
        "HALO_RESOURCE_URL": sim_url,
        "HALO_AUTH_URL": sim_url + "/auth",
        "HALO_TENANT": "bench",
        "HALO_CLIENT_ID": "bench",
        "HALO_CLIENT_SECRET": secret,
        "HALO_RATE_LIMIT": "1000000",
        "HALO_ALLOW_HTTP_LOOPBACK": "true",
        "HALO_WEBHOOK_TOKEN": token,
        "HALOSIM_CLIENT_ID": "bench",
        "HALOSIM_CLIENT_SECRET": secret,
        "HALOSIM_WEBHOOK_TOKEN": token,
    }


class Chain:
    """The simulator, web server and worker processes; stopped together."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str]) -> None:
        from halosim import Tenant

        self.args, self.env = args, env
        self.processes: list[subprocess.Popen] = []
        self.http = requests.Session()
        self.sim_url = env["HALO_RESOURCE_URL"]
        state = BENCH_VAR / "halosim.json"
        Tenant.generate(clients=args.clients, seed=3, ticked_ratio=1.0, inactive_ratio=0.0).save(state)
        python = sys.executable
        webhook_url = f"http://127.0.0.1:{args.web_port}/halo/webhook/"
        sim_args = ["--port", str(args.sim_port), "--state", str(state), "--tenant-name", "bench"]
        self._start([python, "-m", "halosim", *sim_args, "--webhook-url", webhook_url], "simulator")
        self._start([python, "manage.py", "runserver", f"127.0.0.1:{args.web_port}", "--noreload"], "web")
        celery = str(Path(python).with_name("celery"))
        self._start([celery, "-A", "portal", "worker", "--loglevel", "WARNING", "--concurrency", "2"], "worker")
        self._wait_for_port(args.sim_port)
        self._wait_for_port(args.web_port)

    def _start(self, command: list[str], name: str) -> None:
        log_file = open(BENCH_VAR / f"{name}.log", "w")  # noqa: SIM115 (open while the process runs)
        self.processes.append(
            subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT)
        )

    def _wait_for_port(self, port: int, timeout: float = 60.0) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"nothing listens on port {port}; see {BENCH_VAR}/*.log")

    def sim(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.sim_url}/_sim/{path}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(condition, what: str, timeout: float = 60.0, every: float = 0.005, explain=None) -> float:
    """Poll until condition() holds; return the time it first held (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if condition():
            return time.perf_counter()
        time.sleep(every)
    raise RuntimeError(f"{what} did not happen within {timeout} s" + (f": {explain()}" if explain else ""))


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def run(args: argparse.Namespace) -> str:
    env = environment(args)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings
    from django.db import connection

    from syncapp.choices import SyncKind, SyncTrigger, WebhookEventStatus
    from syncapp.models import Customer, HaloLink, WebhookEvent
    from syncapp.services.client_sync import client_sync_execute
    from syncapp.services.runs import sync_run_execute, sync_run_request

    for table in ("fieldchange", "webhookevent", "haloclientsync", "duplicatecandidate", "halocliententry"):
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM syncapp_{table}")
    for table in ("site", "halolink", "customer", "syncrun"):
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM syncapp_{table}")

    chain = Chain(args, env)
    try:
        log("full sync of the generated tenant")
        run_ = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
        run_ = sync_run_execute(run_id=run_.pk)
        assert run_.created_count == args.clients, run_.error_message
        halo_ids = sorted(HaloLink.objects.values_list("halo_id", flat=True))

        def name_is(halo_id: int, name: str) -> bool:
            return Customer.objects.filter(halo_link__halo_id=halo_id, name=name).exists()

        log("one warm-up rename (the worker's first task opens its connections); not counted")
        warm_id = halo_ids[-2]
        warm_started = time.perf_counter()
        chain.sim("POST", f"clients/{warm_id}", json={"name": "Warm-up"})
        warm_up = wait_for(lambda: name_is(warm_id, "Warm-up"), "the warm-up edit") - warm_started

        log(f"{args.edits} renames, one at a time")
        chain.sim("POST", "stats/reset")
        first_event = WebhookEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        latencies = []
        for n in range(args.edits):
            halo_id = halo_ids[n % len(halo_ids)]
            name = f"Renamed client {halo_id} edit {n}"
            started = time.perf_counter()
            chain.sim("POST", f"clients/{halo_id}", json={"name": name})
            seen = wait_for(lambda halo_id=halo_id, name=name: name_is(halo_id, name), f"edit {n}")
            latencies.append(seen - started)
        # Every event's read is done once its name shows; the event rows are closed in the same transaction.
        stats = chain.sim("GET", "stats")
        per_event = sum(v for k, v in stats.items() if k != "429") / args.edits
        applied = WebhookEvent.objects.filter(pk__gt=first_event, status=WebhookEventStatus.APPLIED).count()

        log("one-client syncs in this process, webhooks off")
        chain.sim("POST", "config", json={"webhook_url": ""})
        per_sync = []
        sync_times = []
        for halo_id in halo_ids[:ONE_CLIENT_SYNCS]:
            chain.sim("POST", f"clients/{halo_id}", json={"name": f"Single sync {halo_id}"})
            chain.sim("POST", "stats/reset")
            started = time.perf_counter()
            result = client_sync_execute(halo_id=halo_id, kind=SyncKind.SINGLE_CUSTOMER, trigger=SyncTrigger.COMMAND)
            sync_times.append(time.perf_counter() - started)
            assert result.outcome == "applied" and name_is(halo_id, f"Single sync {halo_id}")
            per_sync.append(sum(chain.sim("GET", "stats").values()))

        log(f"a burst of {BURST} renames of one client")
        chain.sim("POST", "config", json={"webhook_url": f"http://127.0.0.1:{args.web_port}/halo/webhook/"})
        burst_id = halo_ids[-1]
        chain.sim("POST", "stats/reset")
        before = WebhookEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        started = time.perf_counter()
        for n in range(BURST):
            chain.sim("POST", f"clients/{burst_id}", json={"name": f"Burst {n}"})
        chain.sim("POST", "webhooks/wait", json={"timeout": 60})
        wait_for(lambda: name_is(burst_id, f"Burst {BURST - 1}"), "the burst's last name")
        burst_seen = time.perf_counter() - started
        wait_for(
            lambda: (
                WebhookEvent.objects.filter(pk__gt=before).count() == BURST
                and not WebhookEvent.objects.filter(
                    client_halo_id=burst_id, status__in=(WebhookEventStatus.QUEUED, WebhookEventStatus.COALESCED)
                ).exists()
            ),
            "the burst's events closed",
            explain=lambda: list(
                WebhookEvent.objects.filter(pk__gt=before).values_list("id", "status", "client_halo_id")
            ),
        )
        burst_requests = sum(chain.sim("GET", "stats").values())
        coalesced = WebhookEvent.objects.filter(pk__gt=before, sync_run__isnull=False).values("sync_run")
        burst_runs = len({row["sync_run"] for row in coalesced.order_by().distinct()})
    finally:
        chain.stop()

    database = "SQLite (WAL)" if env["DATABASE_URL"].startswith("sqlite") else "PostgreSQL"
    broker = "filesystem broker" if env["CELERY_BROKER_URL"].startswith("filesystem") else "Redis"
    lines = [
        f"## Webhook latency, {database} + {broker} ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"{args.clients} ticked clients; {args.edits} renames one at a time; coalescing window "
        f"(quiet period) {settings.HALO_WEBHOOK_COALESCE_SECONDS:g} s; worker concurrency 2; "
        "the simulator sends one webhook per change, unbatched.",
        "",
        "| measure | value |",
        "|---|--:|",
        f"| change → database row, p50 | {statistics.median(latencies):.2f} s |",
        f"| change → database row, p95 | {percentile(latencies, 0.95):.2f} s |",
        f"| change → database row, max | {max(latencies):.2f} s |",
        f"| first change after the worker started (not in the above) | {warm_up:.2f} s |",
        f"| HaloPSA requests per webhook event | {per_event:.2f} |",
        f"| events applied | {applied} of {args.edits} |",
        f"| HaloPSA requests per one-client sync | {statistics.mean(per_sync):.2f} (max {max(per_sync)}) |",
        f"| one-client sync in-process, median | {statistics.median(sync_times) * 1000:.0f} ms |",
        f"| burst of {BURST} renames of one client: requests in all | {burst_requests} |",
        f"| burst: one-client runs it cost | {burst_runs} |",
        f"| burst: first edit sent → last name in the database | {burst_seen:.2f} s |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    print(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
