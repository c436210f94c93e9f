"""Administrator writes to the "HaloPSA Product Sync" schedule (the single SyncSchedule row)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from syncapp.models import SCHEDULE_MIN_INTERVAL_MINUTES, SyncSchedule


def update_sync_schedule(*, enabled: bool, interval_minutes: int, actor: AbstractBaseUser) -> SyncSchedule:
    """Switch the schedule on or off and set its interval; beat's tick reads the row on its next minute."""
    if interval_minutes < SCHEDULE_MIN_INTERVAL_MINUTES:
        raise ValueError(f"The interval must be at least {SCHEDULE_MIN_INTERVAL_MINUTES} minutes.")
    with transaction.atomic():
        # The row exists from the first save on; until then reading the schedule gives the defaults, unsaved.
        schedule, _ = SyncSchedule.objects.update_or_create(
            singleton=1, defaults={"enabled": enabled, "interval_minutes": interval_minutes, "updated_by": actor}
        )
    return schedule
