"""The screens benchmark: every staff screen, its common filters, searches, sorts and deep pages at N customers."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass

from bench.environment import BENCH_VAR, machine_lines, setup_django, write_report

SCREENS_DB = BENCH_VAR / "screens.sqlite3"
SEED_FILE = BENCH_VAR / "screens-seed.json"
LIST_TARGET_MS = 60
SCREEN_TARGET_MS = 100


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.screens_bench", description=__doc__)
    parser.add_argument(
        "--customers", type=int, nargs="+", default=[10_000, 100_000], help="sizes to seed and time, in turn"
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per screen (after 2 warm-up ones)")
    parser.add_argument(
        "--only", default="", help="time only the screens whose label contains one of these comma-separated texts"
    )
    parser.add_argument("--out", default="bench/results/screens-latest.md", help="where the Markdown report goes")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the database the last run seeded (its largest size) without seeding it again: e.g. measure the "
        "original code, then migrate the same rows to this code and measure again",
    )
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[screens {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Timing:
    label: str
    url: str
    status: int
    queries: int
    p50_ms: float
    p95_ms: float
    cpu_p50_ms: float
    cpu_p95_ms: float
    is_list: bool

    @property
    def target_ms(self) -> int:
        return LIST_TARGET_MS if self.is_list else SCREEN_TARGET_MS


def screens(ids: dict) -> list[tuple[str, str, bool]]:
    """(label, URL, is it the customer list) for every screen timed; values to search for come from the seed."""
    from django.urls import reverse

    from syncapp.models import Customer

    sample = Customer.objects.get(pk=ids["sample_customer"])
    name_word = sample.name.split()[0].strip("&-").lower()
    digits = "".join(ch for ch in sample.contact_phone if ch.isdigit())
    customers = reverse("syncapp:customer-list")
    listed = [
        ("list: first page", ""),
        ("list: 250 per page", "per_page=250"),
        ("list: page 40", "page=40"),
        ("list: page 400", "page=400"),
        ("list: page 1,500 (or the deepest offered)", "page=1500"),
        ("list: jump to letter M", "from=m"),
        ("list: jump to letter M, page 20", "from=m&page=20"),
        ("list: linked", "linked=yes"),
        ("list: not linked", "linked=no"),
        ("list: inactive", "active=no"),
        ("list: not syncing", "syncing=no"),
        ("list: not linked, page 40", "linked=no&page=40"),
        ("list: sort name desc", "sort=-name"),
        ("list: sort HaloPSA id", "sort=link_halo_id"),
        ("list: sort HaloPSA id desc", "sort=-link_halo_id"),
        ("list: sort sites desc", "sort=-active_site_count"),
        ("list: sort status", "sort=status"),
        ("list: sort status desc", "sort=-status"),
        ("list: sort last synced desc", "sort=-link_last_synced_at"),
        ("list: sort last synced desc, page 40", "sort=-link_last_synced_at&page=40"),
        ("search: common word", {"q": name_word}),
        ("search: one customer's full name", {"q": sample.name}),
        ("search: nothing matches", "q=zzqxv"),
        ("search: HaloPSA id", {"q": ids["sample_halo_id"]}),
        ("search: e-mail", {"q": sample.invoice_email_to}),
        ("search: phone digits", {"q": digits}),
        ("search: phone as typed", {"q": sample.contact_phone}),
        ("search: postcode", {"q": sample.postcode}),
        ("search: city", {"q": sample.city}),
        ("search: city, not linked", {"q": sample.city, "linked": "no"}),
    ]

    result = [(label, f"{customers}?{_encode(query)}" if query else customers, True) for label, query in listed]
    heavy = reverse("syncapp:customer-detail", args=[ids["heavy_customer"]])
    result += [
        ("customer page", reverse("syncapp:customer-detail", args=[ids["sample_customer"]]), False),
        ("customer page, 5,000 history rows", heavy, False),
        ("customer page, history page 150", f"{heavy}?history_page=150", False),
        ("export readiness", reverse("syncapp:export-readiness"), False),
        ("export readiness: not syncing", f"{reverse('syncapp:export-readiness')}?reason=not_syncing", False),
        (
            "export readiness: no HaloPSA id, page 100",
            f"{reverse('syncapp:export-readiness')}?reason=no_halo_id&page=100",
            False,
        ),
        ("export readiness: name search", f"{reverse('syncapp:export-readiness')}?q={name_word}", False),
        ("matching queue", reverse("syncapp:matching"), False),
        ("matching queue, page 50", f"{reverse('syncapp:matching')}?page=50", False),
        ("match one customer", reverse("syncapp:match-customer", args=[ids["unlinked_customer"]]), False),
        ("sync history", reverse("syncapp:run-list"), False),
        ("run page, 100,000 changes", reverse("syncapp:run-detail", args=[ids["import_run"]]), False),
        ("run page, change page 1,000", f"{reverse('syncapp:run-detail', args=[ids['import_run']])}?page=1000", False),
        ("run page, customer filter", f"{reverse('syncapp:run-detail', args=[ids['import_run']])}?customer=kni", False),
        ("run progress JSON", reverse("syncapp:run-progress", args=[ids["busy_run"]]), False),
        ("HaloPSA confirm step", reverse("syncapp:sync-halopsa"), False),
        ("field mappings", reverse("syncapp:field-mappings"), False),
        ("HaloPSA connection", reverse("syncapp:connection"), False),
    ]
    return result


def _encode(query: str | dict) -> str:
    """A literal query string as written, or one built from values (a seeded name may hold "&" or "=")."""
    from urllib.parse import urlencode

    return urlencode(query) if isinstance(query, dict) else query


def time_screen(client, label: str, url: str, *, repeat: int, is_list: bool) -> Timing:
    from django.db import connection

    for _ in range(2):
        client.get(url)
    statements = []
    # Counted by a wrapper, not connection.queries: each request resets the query log when it starts.
    with connection.execute_wrapper(lambda execute, sql, *rest: statements.append(sql) or execute(sql, *rest)):
        response = client.get(url)
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return Timing(label, url, response.status_code, len(statements), *_p50_p95(wall), *_p50_p95(cpu), is_list)


def _p50_p95(samples: list[float]) -> tuple[float, float]:
    if len(samples) == 1:
        return samples[0], samples[0]
    return statistics.median(samples), statistics.quantiles(samples, n=20, method="inclusive")[18]


def seed_size(count: int) -> dict:
    """An empty database seeded with `count` customers; the ids the screens need are kept for --reuse."""
    from django.contrib.auth import get_user_model

    from bench.environment import empty_sync_tables
    from bench.screens_seed import seed

    empty_sync_tables()
    get_user_model().objects.filter(username="bench-operator").delete()
    start = time.perf_counter()
    ids = seed(count, log=log)
    log(f"seeded {count:,} customers in {time.perf_counter() - start:.1f} s")
    SEED_FILE.write_text(json.dumps(ids))
    return ids


def run_size(ids: dict, args: argparse.Namespace) -> list[Timing]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    _analyze()
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-operator"))
    timings = []
    for label, url, is_list in screens(ids):
        if args.only and not any(part.strip() in label for part in args.only.split(",")):
            continue
        timing = time_screen(client, label, url, repeat=args.repeat, is_list=is_list)
        log(
            f"{label}: p50 {timing.p50_ms:.1f} ms, p95 {timing.p95_ms:.1f} ms "
            f"(CPU {timing.cpu_p50_ms:.1f} / {timing.cpu_p95_ms:.1f} ms), {timing.queries} queries"
        )
        timings.append(timing)
    return timings


def _analyze() -> None:
    """Fresh planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE would give a production database.

    On PostgreSQL VACUUM too: autovacuum also sets the visibility map, without which no index-only scan is
    index-only (a freshly seeded table would be read row by row where production reads an index alone).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def report(results: dict[int, list[Timing]], database: str, args: argparse.Namespace) -> str:
    sizes = sorted(results)
    lines = [
        "# Screens benchmark",
        "",
        *(f"- {line}" for line in machine_lines(database)),
        f"- {args.repeat} timed requests per screen after 2 warm-up ones; one signed-in user; DEBUG off; "
        f"load average {os.getloadavg()[0]:.2f} at the end",
        "- wall = elapsed time of the request; CPU = this process's CPU time in it (with SQLite that includes the "
        "database's work; with PostgreSQL the server's work is not in it). On a shared machine wall time includes "
        "waiting for a CPU; CPU time does not.",
        "",
        "| screen | "
        + " | ".join(f"{size:,}: wall p50 / p95 ms · CPU p50 / p95 ms (queries)" for size in sizes)
        + " | target p95 |",
        "|---|" + "--:|" * len(sizes) + ":-:|",
    ]
    by_label = {size: {t.label: t for t in results[size]} for size in sizes}
    for timing in results[sizes[-1]]:
        cells = []
        for size in sizes:
            t = by_label[size].get(timing.label)
            if t is None:
                cells.append("—")
                continue
            status = "" if t.status == 200 else f" HTTP {t.status}"
            cells.append(
                f"{t.p50_ms:.1f} / {t.p95_ms:.1f} · {t.cpu_p50_ms:.1f} / {t.cpu_p95_ms:.1f} ({t.queries}){status}"
            )
        largest = by_label[sizes[-1]][timing.label]
        verdict = "PASS" if largest.p95_ms < largest.target_ms else "over"
        lines.append(f"| {timing.label} | " + " | ".join(cells) + f" | < {timing.target_ms} ms: {verdict} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database_url = os.environ.get("BENCH_DATABASE_URL")
    if args.reuse:
        ids = json.loads(SEED_FILE.read_text())
        database_url = database_url or f"sqlite:///{SCREENS_DB}"
    database = setup_django(database_url, keep_rows=args.reuse, sqlite_file=SCREENS_DB)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    results = {}
    if args.reuse:
        results[ids["customers"]] = run_size(ids, args)
    for count in [] if args.reuse else args.customers:
        results[count] = run_size(seed_size(count), args)
    write_report(args.out, report(results, database, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
