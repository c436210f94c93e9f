"""The sync benchmark: full sync, unchanged re-sync and 1%-renamed re-sync of a simulated tenant, against floors."""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.environment import ROOT, empty_sync_tables, machine_lines, setup_django

SIM_CLIENT_ID = "bench"
SIM_TENANT = "bench"
RATE_LIMIT = 1_000_000  # the client's pacing must not dominate a loopback benchmark
SCENARIOS = ("first full sync", "unchanged re-sync", "re-sync after 1% renamed")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_bench", description=__doc__)
    parser.add_argument("--clients", type=int, default=None, help="HaloPSA clients, all ticked (default 10000)")
    parser.add_argument("--sites", type=int, default=None, help="HaloPSA sites in total (default 25000)")
    parser.add_argument(
        "--large",
        action="store_true",
        help="50,000 clients and 125,000 sites (to see cost grow linearly; not run in CI), report in large.md",
    )
    parser.add_argument(
        "--no-fetch-ahead",
        action="store_true",
        help="the HaloPSA client reads one page after the other (to see what its fetch-ahead thread earns)",
    )
    parser.add_argument(
        "--sim-port",
        type=int,
        default=int(os.environ.get("BENCH_SIM_PORT", "0")),
        help="the simulator's loopback port (default: BENCH_SIM_PORT, else any free port)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated tenant and of the renames")
    parser.add_argument("--out", default=None, help="where the Markdown report is written (bench/results/...)")
    parser.add_argument(
        "--floor-repeats", type=int, default=2, help="download floor runs before the syncs (one more runs after)"
    )
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the second pass that measures Python allocations"
    )
    parser.add_argument(
        "--unchanged-repeats", type=int, default=3, help="runs of the unchanged re-sync; the best counts (default 3)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="add a cProfile pass; the top 15 functions go into the report"
    )
    args = parser.parse_args(argv)
    clients, sites, out = (50_000, 125_000, "large.md") if args.large else (10_000, 25_000, "latest.md")
    args.clients = args.clients or clients
    args.sites = args.sites or sites
    args.out = args.out or f"bench/results/{out}"
    return args


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Bench:
    """One benchmark run: a simulator serving the generated tenant, the portal's settings pointed at it."""

    def __init__(self, args: argparse.Namespace) -> None:
        from django.conf import settings

        from bench.simulator_process import SimulatorProcess

        self.args = args
        start = time.perf_counter()
        tenant = self.new_tenant()
        self.generate_seconds = time.perf_counter() - start
        self.secret = secrets.token_urlsafe(24)
        self.sim = SimulatorProcess(
            tenant,
            client_id=SIM_CLIENT_ID,
            client_secret=self.secret,
            tenant_name=SIM_TENANT,
            state_path=ROOT / "var" / "bench" / "halosim-state.json",
            port=args.sim_port,
        )
        self._point_settings_at_simulator()
        settings.HALO_TENANT = SIM_TENANT
        settings.HALO_CLIENT_ID = SIM_CLIENT_ID
        settings.HALO_CLIENT_SECRET = self.secret
        settings.HALO_RATE_LIMIT = RATE_LIMIT
        settings.HALO_TIMEOUT = 60.0
        settings.HALO_ALLOW_HTTP_LOOPBACK = True

    def new_tenant(self) -> Any:
        from halosim import Tenant

        return Tenant.generate(
            clients=self.args.clients,
            sites_total=self.args.sites,
            seed=self.args.seed,
            ticked_ratio=1.0,
            inactive_ratio=0.0,
        )

    def reset(self) -> None:
        """An empty database and the tenant as generated (no renames), for another pass over the scenarios."""
        empty_sync_tables()
        self.sim.replace_tenant(self.new_tenant())
        self._point_settings_at_simulator()  # the restarted simulator listens on a new port

    def _point_settings_at_simulator(self) -> None:
        from django.conf import settings

        settings.HALO_RESOURCE_URL = self.sim.base_url
        settings.HALO_AUTH_URL = self.sim.auth_url

    def sync(self) -> tuple[Any, Any]:
        """One whole sync, as the command line runs it; returns the closed run and the HaloPSA client's stats."""
        from syncapp.choices import SyncTrigger
        from syncapp.halo import HaloClient, halo_settings_from_django
        from syncapp.services.runs import sync_run_execute, sync_run_request

        run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
        halo = HaloClient(halo_settings_from_django(), fetch_ahead=not self.args.no_fetch_ahead)
        return sync_run_execute(run_id=run.pk, halo=halo), halo.stats

    def rename_one_percent(self) -> int:
        """Rename a deterministic 1% of the clients in the simulator (outside any measured window)."""
        rng = random.Random(self.args.seed)
        chosen = rng.sample(sorted(self.sim.tenant.clients), k=max(1, len(self.sim.tenant.clients) // 100))

        for client_id in chosen:
            self.sim.update_client(client_id, name=self.sim.tenant.client(client_id)["name"] + " (renamed)")
        return len(chosen)

    def scenarios(self, *, trace_memory: bool = False, wrap: Callable | None = None) -> list[Any]:
        """Run the three scenarios in order on an empty database; returns their StepResults."""
        from bench.measure import StepResult, measured
        from bench.phases import phase_timer

        results = []
        for name in SCENARIOS:
            if name == SCENARIOS[2]:
                renamed = self.rename_one_percent()
            # The unchanged re-sync leaves everything as it was, so it can be repeated like the download floor
            # (best of --unchanged-repeats) and compared with it on the same footing.
            repeats = self.args.unchanged_repeats if name == SCENARIOS[1] and not trace_memory and not wrap else 1
            attempts = []
            for _ in range(repeats):
                result = StepResult(name)
                phases: dict[str, float] = {}
                with measured(result, self.sim, trace_memory=trace_memory), phase_timer(phases):
                    run, stats = wrap(name, self.sync) if wrap else self.sync()
                attempts.append((result, phases, run, stats))
            result, phases, run, stats = min(attempts, key=lambda attempt: attempt[0].wall_seconds)
            if repeats > 1:
                result.extra["runs"] = [attempt[0].wall_seconds for attempt in attempts]
            result.extra["phases"] = phases
            result.extra.update(
                status=run.status,
                error=run.error_message,
                client_waited=stats.waited_seconds,
                client_retries=stats.retries,
                created=run.created_count,
                updated=run.updated_count,
                unchanged=run.unchanged_count,
            )
            if name == SCENARIOS[2]:
                result.extra["renamed"] = renamed
            log(f"{name}: {result.wall_seconds:.2f} s, run {run.status}, {result.http_total} requests")
            results.append(result)
        return results


def profile_scenario(name: str, call: Callable[[], Any], into: dict[str, str]) -> Any:
    """Run call() under cProfile and keep its top 15 functions by cumulative time."""
    profiler = cProfile.Profile()
    result = profiler.runcall(call)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("cumulative").print_stats(15)
    into[name] = text.getvalue().strip()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the report and write it to --out; exit status 1 when a sync did not succeed."""
    args = parse_args(argv)
    database = setup_django(os.environ.get("BENCH_DATABASE_URL"))
    from bench.floors import bulk_insert_floor, download_floor, requests_floor
    from bench.measure import StepResult, measured
    from bench.report import render

    load_start = os.getloadavg()
    log(f"generating a tenant of {args.clients:,} clients and {args.sites:,} sites")
    bench = Bench(args)
    try:
        credentials = {"client_id": SIM_CLIENT_ID, "client_secret": bench.secret, "tenant_name": SIM_TENANT}
        log("download floor")
        download = download_floor(bench.sim, **credentials, repeats=args.floor_repeats)
        log(f"download floor: {download.seconds:.2f} s")
        log("bulk-insert floor")
        insert_step = StepResult("bulk-insert floor")
        with measured(insert_step, bench.sim):
            insert = bulk_insert_floor(bench.sim.tenant)
        insert.statements = insert_step.statements.total
        empty_sync_tables()
        log(f"bulk-insert floor: {insert.seconds:.2f} s")

        results = bench.scenarios()
        # Once more after the syncs, so a burst of other load on the machine cannot inflate the floor alone.
        download = download.merge(download_floor(bench.sim, **credentials, repeats=1))
        log(f"download floor after the syncs: {download.runs[-1]:.2f} s")
        if not args.no_tracemalloc:
            log("tracemalloc pass (same scenarios again on an emptied database)")
            bench.reset()
            for timed, traced in zip(results, bench.scenarios(trace_memory=True), strict=True):
                timed.tracemalloc_peak_mb = traced.tracemalloc_peak_mb
                timed.tracemalloc_wall_seconds = traced.wall_seconds
        profiles: dict[str, str] = {}
        if args.profile:
            log("cProfile pass")
            bench.reset()
            bench.scenarios(wrap=lambda name, call: profile_scenario(name, call, profiles))
    finally:
        bench.sim.stop()

    report = render(
        args=args,
        machine=machine_lines(database),
        generate_seconds=bench.generate_seconds,
        results=results,
        download=download,
        insert=insert,
        floor_requests=requests_floor(args.clients, args.sites),
        rate_limit=RATE_LIMIT,
        profiles=profiles,
        load=(load_start, os.getloadavg()),
    )
    print(report)
    out = Path(args.out)
    out = out if out.is_absolute() else ROOT / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n", encoding="utf-8")
    log(f"report written to {out}")
    return 0 if all(r.extra["status"] == "succeeded" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
