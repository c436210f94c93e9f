"""Small presentation helpers: run status badges, durations, field labels, HaloPSA links and failure rows."""

from datetime import timedelta
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from syncapp.filters import history_field_label
from syncapp.models import SyncRun
from syncapp.selectors.customers import halo_client_url
from syncapp.textclean import clean_text, quote_value

register = template.Library()

RUN_STATUS_BADGES = {
    "succeeded": "badge-ok",
    "partial": "badge-warn",
    "failed": "badge-bad",
    "abandoned": "badge-bad",
    "queued": "badge-info",
    "running": "badge-info",
}


def run_status_badge(run: SyncRun) -> SafeString:
    css = RUN_STATUS_BADGES.get(run.status, "")
    return format_html('<span class="badge {}" data-status="{}">{}</span>', css, run.status, run.get_status_display())


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


@register.filter
def duration(value: timedelta | None) -> str:
    return format_duration(value)


@register.simple_tag
def run_status(run: SyncRun) -> SafeString:
    return run_status_badge(run)


@register.filter
def field_label(field: str) -> str:
    return history_field_label(field)


@register.filter
def halo_url(halo_id: int | None) -> str:
    return halo_client_url(halo_id) or ""


@register.filter
def failure_rows(failures: Any) -> list[dict[str, str]]:
    """A run's failures as rows of {what, reason}, whatever shape the engine stored (dicts or plain strings)."""
    rows = []
    for failure in failures or []:
        if isinstance(failure, dict):
            name = failure.get("name") or failure.get("customer") or failure.get("halo_name") or ""
            halo_id = failure.get("halo_id") or failure.get("client_id") or failure.get("id")
            name = quote_value(str(name))  # control characters escaped, at most ~200 characters
            what = " ".join(part for part in (name, f"(HaloPSA {halo_id})" if halo_id else "") if part)
            reason = failure.get("reason") or failure.get("error") or failure.get("message") or ""
            rows.append({"what": what or "—", "reason": quote_value(str(reason))})
        else:
            rows.append({"what": "—", "reason": quote_value(str(failure))})
    return rows


@register.filter
def without_controls(value: Any) -> str:
    """The text with control characters removed, for showing back what someone typed or pasted."""
    return clean_text(str(value)) if value not in (None, "") else ""
