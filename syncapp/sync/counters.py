"""The run counters, declared once: the planner counts by them, the engine adds them up, every screen shows them."""

from collections import Counter
from collections.abc import Mapping
from enum import StrEnum


class RunCounter(StrEnum):
    """One counter of a sync run: its key (the planner's and the progress JSON's), its SyncRun field, its label."""

    CREATED = "created", "created_count", "Created"
    UPDATED = "updated", "updated_count", "Updated"
    UNCHANGED = "unchanged", "unchanged_count", "Unchanged"
    DEACTIVATED = "deactivated", "deactivated_count", "Deactivated"
    REACTIVATED = "reactivated", "reactivated_count", "Reactivated"
    NOT_SYNCING = "not_syncing", "not_syncing_count", "Not syncing"
    DUPLICATES = "duplicates", "duplicate_count", "Possible duplicates"
    FAILED = "failed", "failed_count", "Failed"
    SITES_CREATED = "sites_created", "sites_created_count", "Sites created"
    SITES_UPDATED = "sites_updated", "sites_updated_count", "Sites updated"
    SITES_DEACTIVATED = "sites_deactivated", "sites_deactivated_count", "Sites deactivated"

    field: str
    label: str

    def __new__(cls, key: str, field: str, label: str) -> "RunCounter":
        member = str.__new__(cls, key)
        member._value_ = key
        member.field = field
        member.label = label
        return member


class RunCounts(Counter):
    """A Counter that accepts only run counters: a misspelt or undeclared counter is an error, never dropped."""

    def __missing__(self, key: object) -> int:
        RunCounter(key)  # ValueError for an unknown counter
        return 0

    def __setitem__(self, key: object, value: int) -> None:
        super().__setitem__(RunCounter(key), value)

    def update(self, iterable: object = None, /, **kwds: int) -> None:
        # Counter.update fills an empty counter with dict.update, past __setitem__: check the names first.
        if isinstance(iterable, Mapping):
            for key in iterable:
                RunCounter(key)
        for key in kwds:
            RunCounter(key)
        super().update(iterable, **kwds)


def run_counter_fields() -> tuple[str, ...]:
    """Every SyncRun field that holds a counter."""
    return tuple(counter.field for counter in RunCounter)
