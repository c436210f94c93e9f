"""The run counters are declared once; an undeclared counter is an error, and every screen shows the declared ones."""

import pytest

from syncapp.models import SyncRun
from syncapp.sync.counters import RunCounter, RunCounts, run_counter_fields
from syncapp.views.runs import run_progress_payload

# SyncRun fields that end in _count but measure HaloPSA traffic, not what the sync did to records.
TRAFFIC_FIELDS = {"rate_limited_count", "retry_count"}


def test_every_counter_is_a_run_field_and_every_run_count_field_is_a_counter() -> None:
    count_fields = {f.name for f in SyncRun._meta.concrete_fields if f.name.endswith("_count")} - TRAFFIC_FIELDS
    assert set(run_counter_fields()) == count_fields


def test_an_unknown_counter_is_an_error() -> None:
    counts = RunCounts()
    counts[RunCounter.CREATED] += 2
    counts["updated"] += 1
    assert counts == {RunCounter.CREATED: 2, RunCounter.UPDATED: 1}
    with pytest.raises(ValueError):
        counts["sites_moved"] += 1
    with pytest.raises(ValueError):
        RunCounts({"creatd": 1})
    assert "sites_moved" not in counts


def test_the_progress_json_carries_every_counter() -> None:
    run = SyncRun(**{counter.field: n for n, counter in enumerate(RunCounter, start=1)})
    payload = run_progress_payload(run)
    assert {counter.value: payload[counter.value] for counter in RunCounter} == {
        counter.value: n for n, counter in enumerate(RunCounter, start=1)
    }


def test_every_counter_shows_once_on_the_run_pages() -> None:
    from syncapp.run_counts import RUN_COUNTS

    shown = [count.counter for count in RUN_COUNTS]
    assert sorted(shown) == sorted(RunCounter) and len(shown) == len(set(shown))
