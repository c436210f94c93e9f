"""Administrator writes to the "HaloPSA Product Sync" schedule (the single SyncSchedule row)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from syncapp.models import SyncSchedule
from syncapp.selectors.runs import sync_schedule

MIN_INTERVAL_MINUTES = 5


def update_sync_schedule(*, enabled: bool, interval_minutes: int, actor: AbstractBaseUser) -> SyncSchedule:
    """Switch the schedule on or off and set its interval; beat's tick reads the row on its next minute."""
    if interval_minutes < MIN_INTERVAL_MINUTES:
        raise ValueError(f"The interval must be at least {MIN_INTERVAL_MINUTES} minutes.")
    with transaction.atomic():
        schedule = sync_schedule()
        schedule.enabled = enabled
        schedule.interval_minutes = interval_minutes
        schedule.updated_by = actor
        schedule.save(update_fields=["enabled", "interval_minutes", "updated_by", "updated_at"])
    return schedule
