"""How the screens show the run counters (declared in syncapp/sync/counters.py): group, overlap, the list behind."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from syncapp.models import SyncRun
from syncapp.sync.counters import RunCounter


def _changes(**query: str) -> Callable[[SyncRun], str]:
    """The run's own change list, filtered (the page's #changes section)."""

    def url(run: SyncRun) -> str:
        params = "&".join(f"{name}={value}" for name, value in query.items())
        return f"{reverse('syncapp:run-detail', args=[run.pk])}?{params}#changes"

    return url


def _fixed(name: str, suffix: str = "") -> Callable[[SyncRun], str]:
    return lambda run: reverse(name) + suffix


def _failures(run: SyncRun) -> str:
    return f"{reverse('syncapp:run-detail', args=[run.pk])}#failures"


@dataclass(frozen=True)
class RunCount:
    """How one run counter shows: its group, the count that already includes it, and where its rows are."""

    counter: RunCounter
    group: str  # "customers" or "sites"
    target: Callable[[SyncRun], str] | None = None
    part_of: RunCounter | None = None

    @property
    def key(self) -> str:
        return self.counter.value

    @property
    def field(self) -> str:
        return self.counter.field

    @property
    def label(self) -> str:
        return self.counter.label

    def url(self, run: SyncRun) -> str | None:
        return self.target(run) if self.target else None


# In the order staff read them. Deactivated and reactivated customers are also counted as updated (part_of), so
# the customer counts add up: created + updated + unchanged + not syncing + possible duplicates + failed.
RUN_COUNTS: tuple[RunCount, ...] = (
    RunCount(RunCounter.CREATED, "customers", _changes(record="customer", what="created")),
    RunCount(RunCounter.UPDATED, "customers", _changes(what="changed")),
    RunCount(
        RunCounter.DEACTIVATED,
        "customers",
        _changes(record="customer", what="deactivated"),
        part_of=RunCounter.UPDATED,
    ),
    RunCount(
        RunCounter.REACTIVATED,
        "customers",
        _changes(record="customer", what="reactivated"),
        part_of=RunCounter.UPDATED,
    ),
    RunCount(RunCounter.UNCHANGED, "customers"),
    RunCount(RunCounter.NOT_SYNCING, "customers", _fixed("syncapp:customer-list", "?linked=yes&syncing=no")),
    RunCount(RunCounter.DUPLICATES, "customers", _fixed("syncapp:matching", "#duplicates")),
    RunCount(RunCounter.FAILED, "customers", _failures),
    RunCount(RunCounter.SITES_CREATED, "sites", _changes(record="site", what="created")),
    RunCount(RunCounter.SITES_UPDATED, "sites", _changes(record="site", what="changed")),
    RunCount(RunCounter.SITES_DEACTIVATED, "sites", _changes(record="site", what="deactivated")),
)


def run_count_rows(run: SyncRun) -> list[dict]:
    """Each counter of the run with its value and the URL of the list behind it (None when there is no list)."""
    return [
        {
            "key": count.key,
            "label": count.label,
            "group": count.group,
            "value": getattr(run, count.field),
            "url": count.url(run) if getattr(run, count.field) else None,
            "part_of": count.part_of.label if count.part_of else "",
        }
        for count in RUN_COUNTS
    ]
