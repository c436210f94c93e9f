"""Where a sync's time goes: thin timers around the engine's coarse functions, patched in around each measured sync."""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# (module, attribute path, phase). Functions are looked up where the engine calls them from; a name that is
# missing (the engine changed) is skipped, so the benchmark still runs and the phase shows as 0.
TIMED = (
    ("syncapp.halo.client", "HaloClient._request", "HTTP + JSON decode (HaloClient._request)"),
    ("syncapp.halo.client", "parse_client", "parse client rows"),
    ("syncapp.halo.client", "parse_site", "parse site rows"),
    ("syncapp.sync.engine", "load_page_state", "load page state (SELECTs + model instances)"),
    ("syncapp.sync.engine", "PagePlanner.plan_page", "plan pages (map, normalise, diff)"),
    ("syncapp.sync.engine", "write_page_plan", "write pages (bulk INSERT/UPDATE)"),
    ("syncapp.sync.engine", "SyncEngine._mark_missing", "mark missing links"),
)
PHASES = tuple(phase for _, _, phase in TIMED)


def _wrap(function: Any, totals: dict[str, float], phase: str) -> Any:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[phase] = totals.get(phase, 0.0) + time.perf_counter() - start

    return timed


@contextmanager
def phase_timer(totals: dict[str, float]) -> Iterator[dict[str, float]]:
    """Accumulate seconds per phase into `totals` while the block runs; the originals are restored afterwards."""
    restore = []
    for module_name, path, phase in TIMED:
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        original = owner.__dict__.get(name) if owner is not None else None
        if original is None:
            continue
        setattr(owner, name, _wrap(original, totals, phase))
        restore.append((owner, name, original))
    try:
        yield totals
    finally:
        for owner, name, original in restore:
            setattr(owner, name, original)
