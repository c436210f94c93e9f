"""The benchmark's Markdown report: setup notes, the three syncs side by side, the floors and the targets."""

from __future__ import annotations

import math
import os
import time
from typing import Any

from bench.floors import PAGE_SIZE, DownloadFloor, InsertFloor
from bench.phases import PHASES

MEMORY_LIMIT_MB = 300
FULL_SYNC_FACTOR = 1.3  # first sync ≤ 1.3 x (download floor + bulk-insert floor)
UNCHANGED_FACTOR = 1.5  # unchanged re-sync ≤ 1.5 x download floor
REQUEST_SLACK = 1  # the custom-field discovery request
STATEMENTS_PER_PAGE_LIMIT = 30
ENDPOINTS = ("POST /auth/token", "GET /api/FieldInfo", "GET /api/Site", "GET /api/Client")


def _s(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:,.2f} s"


def _mb(megabytes: float | None) -> str:
    return "n/a" if megabytes is None else f"{megabytes:,.1f} MB"


def _load(averages: tuple[float, ...]) -> str:
    return " / ".join(f"{value:.2f}" for value in averages)


def _verdict(ok: bool) -> str:
    return "**PASS**" if ok else "**FAIL**"


def _row(label: str, values: list[Any]) -> str:
    return f"| {label} | " + " | ".join(str(v) for v in values) + " |"


def _status(result: Any) -> str:
    error = result.extra["error"]
    return result.extra["status"] + (f" ({error})" if error else "")


def _counts(result: Any) -> str:
    extra = result.extra
    return f"{extra['created']:,} / {extra['updated']:,} / {extra['unchanged']:,}"


def _table_cell(result: Any, table: str) -> str:
    inserted, updated, deleted = result.rows_by_table().get(table, (0, 0, 0))
    return f"{inserted:,} ins / {updated:,} upd" + (f" / {deleted:,} del" if deleted else "")


def _other_statements(result: Any) -> str:
    other = result.statements.other
    detail = ", ".join(f"{keyword} {count:,}" for keyword, count in other.most_common())
    return f"{sum(other.values()):,}" + (f" ({detail})" if detail else "")


def _wall_time(result: Any) -> str:
    runs = result.extra.get("runs")
    if not runs:
        return f"**{_s(result.wall_seconds)}**"
    return f"**{_s(result.wall_seconds)}** (best of {len(runs)}: {', '.join(_s(seconds) for seconds in runs)})"


def _overlap(result: Any) -> str:
    phases = result.extra.get("phases", {})
    counted = sum(seconds for phase, seconds in phases.items() if not phase.startswith("·"))
    return _s(counted - result.wall_seconds) if phases else "n/a"


def _sync_table(results: list[Any], client_pages: int) -> list[str]:
    lines = [_row("", [r.name for r in results]), "|---|" + "--:|" * len(results)]

    def add(label: str, cell: Any) -> None:
        lines.append(_row(label, [cell(r) for r in results]))

    add("run status", _status)
    add("clients created / updated / unchanged", _counts)
    add("**wall time**", _wall_time)
    add("**HTTP requests** (served by the simulator)", lambda r: f"**{r.http_total:,}**")
    endpoints = list(ENDPOINTS) + sorted({e for r in results for e in r.http} - set(ENDPOINTS))
    for endpoint in endpoints:
        add(f"· {endpoint}", lambda r, e=endpoint: f"{r.http.get(e, 0):,}")
    add("**SQL statements** (run record excluded)", lambda r: f"**{r.statements.total:,}**")
    for kind in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        add(f"· {kind}", lambda r, k=kind: f"{r.statements.kinds[k]:,}")
    add("· other", _other_statements)
    per_page = f"SQL statements per client page ({client_pages:,} pages)"
    add(per_page, lambda r: f"{r.statements.total / client_pages:.1f}")
    add("statements on the run record (bookkeeping, apart)", lambda r: f"{r.statements.run_statements:,}")
    add("**rows written** (run record excluded)", lambda r: f"**{r.rows_written:,}**")
    for table in sorted({table for r in results for table in r.rows_by_table()}):
        add(f"· {table}", lambda r, t=table: _table_cell(r, t))
    add("**history rows** (FieldChange added)", lambda r: f"**{r.inserted.get('syncapp_fieldchange', 0):,}**")
    for phase in PHASES:
        add(f"time: {phase}", lambda r, p=phase: _s(r.extra["phases"].get(p, 0.0)) if "phases" in r.extra else "n/a")
    add("time: phases minus wall time (overlap of read-ahead and database work)", _overlap)
    add("**peak Python allocations** (tracemalloc, own pass)", lambda r: f"**{_mb(r.tracemalloc_peak_mb)}**")
    add("rise of the process's peak RSS during the sync", lambda r: _mb(r.rss_rise_mb))
    add("process peak RSS after the sync (simulator included)", lambda r: _mb(r.rss_peak_mb))
    add("wall time under tracemalloc (not judged)", lambda r: _s(r.tracemalloc_wall_seconds))
    add("load average (1 min) when the sync started", lambda r: f"{r.extra['load_before']:.2f}")
    add("client-side pacing waits / retries", lambda r: f"{_s(r.extra['client_waited'])} / {r.extra['client_retries']}")
    return lines


def _targets(
    results: list[Any], download: DownloadFloor, insert: InsertFloor, floor_requests: int, client_pages: int
) -> list[str]:
    first, unchanged, _ = results
    lines = ["| target | measured | limit | verdict |", "|---|--:|--:|:-:|"]
    full_limit = FULL_SYNC_FACTOR * (download.seconds + insert.seconds)
    full_how = f"{FULL_SYNC_FACTOR} x ({_s(download.seconds)} + {_s(insert.seconds)}) = {_s(full_limit)}"
    lines.append(
        _row(
            f"first full sync ≤ {FULL_SYNC_FACTOR} x (download floor + bulk-insert floor)",
            [_s(first.wall_seconds), full_how, _verdict(first.wall_seconds <= full_limit)],
        )
    )
    quiet_limit = UNCHANGED_FACTOR * download.seconds
    quiet_how = f"{UNCHANGED_FACTOR} x {_s(download.seconds)} = {_s(quiet_limit)}"
    lines.append(
        _row(
            f"unchanged re-sync ≤ {UNCHANGED_FACTOR} x download floor",
            [_s(unchanged.wall_seconds), quiet_how, _verdict(unchanged.wall_seconds <= quiet_limit)],
        )
    )
    lines.append(
        _row(
            "unchanged re-sync writes 0 rows (run record aside)",
            [f"{unchanged.rows_written:,}", "0", _verdict(unchanged.rows_written == 0)],
        )
    )
    made = [r.http_total for r in results]
    lines.append(
        _row(
            "HTTP requests ≤ floor + 1, each sync (the +1 is the custom-field discovery request)",
            [
                " / ".join(f"{m:,}" for m in made),
                f"≤ {floor_requests + REQUEST_SLACK:,}",
                _verdict(all(m <= floor_requests + REQUEST_SLACK for m in made)),
            ],
        )
    )
    traced = [r.tracemalloc_peak_mb for r in results if r.tracemalloc_peak_mb is not None]
    rss = max(r.rss_rise_mb for r in results)
    measured = (f"tracemalloc {_mb(max(traced))}; " if traced else "tracemalloc not run; ") + f"RSS rise {_mb(rss)}"
    lines.append(
        _row(
            "peak memory < 300 MB (largest of the three syncs, both measures)",
            [measured, f"{MEMORY_LIMIT_MB} MB", _verdict(max([*traced, rss]) < MEMORY_LIMIT_MB)],
        )
    )
    per_page = [r.statements.total / client_pages for r in results]
    lines.append(
        _row(
            "SQL statements O(pages), not O(records): statements per client page",
            [
                " / ".join(f"{p:.1f}" for p in per_page),
                f"≤ {STATEMENTS_PER_PAGE_LIMIT} per page of {PAGE_SIZE} clients (one write per record would be ≥ 100)",
                _verdict(max(per_page) <= STATEMENTS_PER_PAGE_LIMIT),
            ],
        )
    )
    return lines


def _floors(args: Any, download: DownloadFloor, insert: InsertFloor, floor_requests: int) -> list[str]:
    client_pages = math.ceil(args.clients / PAGE_SIZE)
    site_pages = math.ceil(args.sites / PAGE_SIZE)
    runs = ", ".join(_s(s) for s in download.runs)
    download_how = (
        f"best of {len(download.runs)} runs ({runs}; the last after the syncs): {download.requests:,} requests "
        f"({download.pages:,} pages, {download.megabytes:,.1f} MB) over one keep-alive `requests.Session`: the token, "
        "the FieldInfo "
        "custom-field request, every site page and every client page with the sync's exact parameters; "
        "`json.loads` of each body, nothing else"
    )
    insert_how = (
        f"bare `bulk_create` of {insert.customers:,} customers, {insert.links:,} links and {insert.sites:,} sites "
        f"(minimal mapping from the tenant's data), one committed transaction per {PAGE_SIZE} clients like the "
        f"engine; {insert.statements:,} statements; building the model instances is {_s(insert.build_seconds)} "
        "of it. Written into the freshly migrated, empty benchmark database before the first sync, then removed "
        "(SQLite: DELETE, sequences reset, VACUUM; PostgreSQL: TRUNCATE … RESTART IDENTITY) so the syncs start "
        "empty too. The sync also writes history and directory rows, which this floor does not"
    )
    requests_how = (
        f"1 token + ceil({args.clients:,}/100) client pages + ceil({args.sites:,}/100) site pages = 1 + "
        f"{client_pages:,} + {site_pages:,}. The sync also makes one custom-field discovery request "
        "(GET /api/FieldInfo), so it needs floor + 1"
    )
    return [
        "| floor | value | how |",
        "|---|--:|---|",
        _row("download", [_s(download.seconds), download_how]),
        _row("bulk insert", [_s(insert.seconds), insert_how]),
        _row("requests", [f"{floor_requests:,}", requests_how]),
    ]


def _notes(args: Any, generate_seconds: float, renamed: int, rate_limit: int, floor_requests: int) -> list[str]:
    # A rolling window of 300 requests per 5 minutes lets the first 300 through at once, then one window per 300.
    minutes_waiting = floor_requests // 300 * 5  # floor + 1 requests
    return [
        f"- Tenant: generated by the simulator (seed {args.seed}) in {_s(generate_seconds)}: {args.clients:,} "
        f"clients, all ticked and active; {args.sites:,} sites; {renamed:,} clients (1%) renamed in the "
        "simulator before the third sync.",
        "- The HaloPSA simulator runs as its own process on 127.0.0.1 (`python -m halosim`), as HaloPSA is another "
        "machine in production; the download floor and the syncs talk to the same process over loopback.",
        f"- HALO_RATE_LIMIT is {rate_limit:,} requests per window, so the client's pacing never waits on loopback "
        f"(at a real tenant's 300 requests per rolling 5 minutes, the sync's {floor_requests + 1:,} requests would "
        + (f"wait about {minutes_waiting} minutes for the window" if minutes_waiting else "fit in one window")
        + "). DEBUG is off, as in production.",
        "- Each sync is `sync_run_request(trigger=command)` then `sync_run_execute(...)`, as `manage.py sync_halo` "
        "runs it. The three syncs run in this order on one database that starts empty. The unchanged re-sync "
        "changes nothing, so it runs three times and the best counts, as for the download floor.",
        "- Memory, two measures: *peak Python allocations* is tracemalloc's peak of the allocations made during "
        "the sync, taken in a second pass of the same three syncs on an emptied database (tracemalloc slows "
        "Python down, so the timed pass runs without it); *RSS* is getrusage's peak resident set of the whole "
        "process (the simulator's tenant included), and how much the sync raised it.",
        "- The time-by-phase rows come from thin timers wrapped around the engine's coarse functions during the "
        "timed pass (a few tens of thousands of calls; their cost is negligible). HTTP includes the simulator "
        "building each page. HTTP and parsing run in the sync's read-ahead thread, overlapping the database "
        "phases, so the phases add up to more than the wall time; the overlap row says by how much.",
        "- Rows written are rows inserted (table counts before and after) plus rows matched by UPDATE and DELETE "
        "statements (cursor.rowcount). Statements on the run's own record are counted apart.",
    ]


def render(
    *,
    args: Any,
    machine: list[str],
    generate_seconds: float,
    results: list[Any],
    download: DownloadFloor,
    insert: InsertFloor,
    floor_requests: int,
    rate_limit: int,
    profiles: dict[str, str],
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> str:
    """The whole report as Markdown."""
    client_pages = max(1, math.ceil(args.clients / PAGE_SIZE))
    renamed = results[2].extra.get("renamed", 0)
    command = f"python -m bench.sync_bench --clients {args.clients} --sites {args.sites} --seed {args.seed}"
    command += " --no-fetch-ahead" if args.no_fetch_ahead else ""
    lines = [
        f"# HaloPSA sync benchmark: {args.clients:,} clients, {args.sites:,} sites",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} with `{command}` (`make bench` runs the default sizes).",
        "",
        *(f"- {line}" for line in machine),
        f"- Load average (1/5/15 min) at the start: {_load(load[0])}; at the end: {_load(load[1])}. Other work on "
        f"the machine shares its {os.cpu_count()} CPUs with the benchmark and makes the times noisy.",
        *_notes(args, generate_seconds, renamed, rate_limit, floor_requests),
        "",
        "## The three syncs",
        "",
        *_sync_table(results, client_pages),
        "",
        "## Floors (same run, same tenant, same database)",
        "",
        *_floors(args, download, insert, floor_requests),
        "",
        "## Targets (reported, not asserted)",
        "",
        *_targets(results, download, insert, floor_requests, client_pages),
    ]
    for name, text in profiles.items():
        title = f"## cProfile: {name} (top 15 by cumulative time; profiling slows it down)"
        lines += ["", title, "", "```", text, "```"]
    return "\n".join(lines)
