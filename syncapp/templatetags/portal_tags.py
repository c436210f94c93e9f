"""Small presentation helpers: run status badges, zoned times, durations, field labels and HaloPSA links."""

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from syncapp.filters import history_field_label
from syncapp.halo.waiting import in_words
from syncapp.models import SyncRun
from syncapp.selectors.customers import halo_client_url
from syncapp.textclean import clean_text

register = template.Library()

RUN_STATUS_BADGES = {
    "succeeded": "badge-ok",
    "partial": "badge-warn",
    "failed": "badge-bad",
    "abandoned": "badge-bad",
    "cancelled": "badge-warn",
    "queued": "badge-info",
    "running": "badge-info",
}


NOT_RESPONDING = "Not responding"


def run_status_label(run: SyncRun) -> str:
    """The status people read: an open run whose heartbeat is stale is "Not responding", whatever it last said."""
    return NOT_RESPONDING if run.is_not_responding else run.get_status_display()


def run_status_badge(run: SyncRun) -> SafeString:
    css = "badge-bad" if run.is_not_responding else RUN_STATUS_BADGES.get(run.status, "")
    return format_html('<span class="badge {}" data-status="{}">{}</span>', css, run.status, run_status_label(run))


def format_duration(value: timedelta | None) -> str:
    """A run's length for people: 12 s, 2 min 05 s or 1 h 03 min; an em dash when there is none."""
    if value is None:
        return "—"
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


# Every time on screen carries its zone (or is relative, with the exact time and zone on hover).
TIME_FORMATS = {
    "exact": "j M Y, H:i T",
    "seconds": "j M Y, H:i:s T",
    "time": "H:i:s T",
}
HOVER_FORMAT = "D j M Y, H:i:s T"


def time_html(value: datetime | None, style: str = "exact", empty: str = "—") -> SafeString:
    """A <time> element: the time in the portal's zone with the zone named, or relative; exact time on hover."""
    if value is None:
        return format_html("{}", empty)
    local = timezone.localtime(value)
    hover = f"{format_date(local, HOVER_FORMAT)} ({timezone.get_current_timezone_name()})"
    if style == "relative":
        now = timezone.now()
        if abs((value - now).total_seconds()) < 60:
            text = "just now" if value <= now else "within a minute"
        else:
            text = f"in {timeuntil(value, now)}" if value > now else f"{timesince(value, now)} ago"
    else:
        text = format_date(local, TIME_FORMATS.get(style, TIME_FORMATS["exact"]))
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(), hover, text)


@register.simple_tag(name="when")
def when_tag(value: datetime | None, style: str = "exact", empty: str = "—") -> SafeString:
    return time_html(value, style, empty)


@register.filter
def duration(value: timedelta | None) -> str:
    return format_duration(value)


@register.filter
def seconds_in_words(value: float | None) -> str:
    """42 s, 5 min, 1 min 30 s (an em dash for None)."""
    return "—" if value is None else in_words(value)


@register.filter
def seconds_duration(value: int | None) -> str:
    return format_duration(timedelta(seconds=value)) if value is not None else "—"


@register.simple_tag
def run_status(run: SyncRun) -> SafeString:
    return run_status_badge(run)


@register.filter
def field_label(field: str, extra_labels: dict[str, str] | None = None) -> str:
    """A history field's label; pass the view's `field_labels` so Extra Fields carry their HaloPSA names."""
    return history_field_label(field, extra_labels)


@register.filter
def get_item(mapping: dict, key: str) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def halo_url(halo_id: int | None) -> str:
    return halo_client_url(halo_id) or ""


@register.filter
def without_controls(value: Any) -> str:
    """The text with control characters removed, for showing back what someone typed or pasted."""
    return clean_text(str(value)) if value not in (None, "") else ""
