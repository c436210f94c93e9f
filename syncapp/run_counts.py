"""The sync run counters the screens show, declared once: label, group, overlap and the list behind each count."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from syncapp.models import SyncRun


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
    """One counter of a run: its JSON key, SyncRun field, label, group, what it is part of, where its rows are."""

    key: str
    field: str
    label: str
    group: str  # "customers" or "sites"
    target: Callable[[SyncRun], str] | None = None
    part_of: str = ""  # the key of the count that already includes this one

    def url(self, run: SyncRun) -> str | None:
        return self.target(run) if self.target else None


# In the order staff read them. Deactivated and reactivated customers are also counted as updated (part_of), so
# the customer counts add up: created + updated + unchanged + not syncing + possible duplicates + failed.
RUN_COUNTS: tuple[RunCount, ...] = (
    RunCount("created", "created_count", "Created", "customers", _changes(record="customer", what="created")),
    RunCount("updated", "updated_count", "Updated", "customers", _changes(what="changed")),
    RunCount(
        "deactivated",
        "deactivated_count",
        "Deactivated",
        "customers",
        _changes(record="customer", what="deactivated"),
        part_of="updated",
    ),
    RunCount(
        "reactivated",
        "reactivated_count",
        "Reactivated",
        "customers",
        _changes(record="customer", what="reactivated"),
        part_of="updated",
    ),
    RunCount("unchanged", "unchanged_count", "Unchanged", "customers"),
    RunCount(
        "not_syncing",
        "not_syncing_count",
        "Not syncing",
        "customers",
        _fixed("syncapp:customer-list", "?linked=yes&syncing=no"),
    ),
    RunCount(
        "duplicates", "duplicate_count", "Possible duplicates", "customers", _fixed("syncapp:matching", "#duplicates")
    ),
    RunCount("failed", "failed_count", "Failed", "customers", _failures),
    RunCount("sites_created", "sites_created_count", "Sites created", "sites", _changes(record="site", what="created")),
    RunCount("sites_updated", "sites_updated_count", "Sites updated", "sites", _changes(record="site", what="changed")),
    RunCount(
        "sites_deactivated",
        "sites_deactivated_count",
        "Sites deactivated",
        "sites",
        _changes(record="site", what="deactivated"),
    ),
)
RUN_COUNT_LABELS: dict[str, str] = {count.key: count.label for count in RUN_COUNTS}


def run_count_rows(run: SyncRun) -> list[dict]:
    """Each counter of the run with its value and the URL of the list behind it (None when there is no list)."""
    return [
        {
            "key": count.key,
            "label": count.label,
            "group": count.group,
            "value": getattr(run, count.field),
            "url": count.url(run) if getattr(run, count.field) else None,
            "part_of": RUN_COUNT_LABELS.get(count.part_of, ""),
        }
        for count in RUN_COUNTS
    ]
