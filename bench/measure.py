"""Measuring one step: wall time, memory, SQL statements and rows by table, HTTP requests by endpoint."""

from __future__ import annotations

import os
import re
import resource
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# The run's own record and the pages it keeps to resume from (SyncRunPage): bookkeeping, reported apart.
RUN_TABLES = ("syncapp_syncrun", "syncapp_syncrunpage")
WRITE_RE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE)


@dataclass
class StatementCounter:
    """A connection.execute_wrapper: counts statements by kind and rows touched by table (cursor.rowcount)."""

    kinds: Counter = field(default_factory=Counter)
    other: Counter = field(default_factory=Counter)  # first keyword of statements that are not DML (BEGIN, ...)
    updated: Counter = field(default_factory=Counter)  # table -> rows matched by UPDATE statements
    deleted: Counter = field(default_factory=Counter)
    run_statements: int = 0  # statements on the run record and its kept pages (bookkeeping, reported apart)

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        result = execute(sql, params, many, context)
        keyword = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        kind = keyword if keyword in ("SELECT", "INSERT", "UPDATE", "DELETE") else "other"
        match = WRITE_RE.match(sql)
        table = match.group(2).lower() if match else ""
        if table in RUN_TABLES or (kind == "SELECT" and any(f'FROM "{name}"' in sql for name in RUN_TABLES)):
            self.run_statements += 1
            return result
        self.kinds[kind] += 1
        if kind == "other":
            self.other[keyword] += 1
        rowcount = getattr(context.get("cursor"), "rowcount", -1)
        if kind == "UPDATE" and rowcount > 0:
            self.updated[table] += rowcount
        elif kind == "DELETE" and rowcount > 0:
            self.deleted[table] += rowcount
        return result

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def table_counts() -> dict[str, int]:
    """Rows in each table a sync writes (run outside the measured window)."""
    from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink, Site

    models = (Customer, Site, HaloLink, FieldChange, HaloClientEntry, DuplicateCandidate)
    return {model._meta.db_table: model.objects.count() for model in models}


def max_rss_mb() -> float:
    """The process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class StepResult:
    """Everything measured for one step (a sync or a floor)."""

    name: str
    wall_seconds: float = 0.0
    rss_peak_mb: float = 0.0  # process peak RSS after the step (simulator's tenant and Django included)
    rss_rise_mb: float = 0.0  # how much the step raised the process peak
    tracemalloc_peak_mb: float | None = None  # peak of Python allocations made during the step
    tracemalloc_wall_seconds: float | None = None  # the step's time in the tracemalloc pass (slower, not judged)
    http: dict[str, int] = field(default_factory=dict)
    statements: StatementCounter = field(default_factory=StatementCounter)
    inserted: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def http_total(self) -> int:
        return sum(count for endpoint, count in self.http.items() if endpoint != "429")

    @property
    def rows_written(self) -> int:
        s = self.statements
        return sum(self.inserted.values()) + sum(s.updated.values()) + sum(s.deleted.values())

    def rows_by_table(self) -> dict[str, tuple[int, int, int]]:
        tables = set(self.inserted) | set(self.statements.updated) | set(self.statements.deleted)
        rows = {
            table: (self.inserted.get(table, 0), self.statements.updated[table], self.statements.deleted[table])
            for table in sorted(tables)
        }
        return {table: counts for table, counts in rows.items() if any(counts)}


@contextmanager
def measured(result: StepResult, sim: Any, *, trace_memory: bool = False) -> Iterator[StepResult]:
    """Measure the block into `result`: time, RSS, SQL on the default connection, rows inserted, HTTP served."""
    from django.db import connection

    before = table_counts()
    result.extra["load_before"] = os.getloadavg()[0]
    sim.reset_stats()
    rss_before = max_rss_mb()
    if trace_memory:
        tracemalloc.start()
    start = time.perf_counter()
    with connection.execute_wrapper(result.statements):
        yield result
    result.wall_seconds = time.perf_counter() - start
    if trace_memory:
        result.tracemalloc_peak_mb = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    result.rss_peak_mb = max_rss_mb()
    result.rss_rise_mb = result.rss_peak_mb - rss_before
    result.http = sim.stats()
    after = table_counts()
    result.inserted = {table: after[table] - before[table] for table in after}
