"""How one history row's old and new values read, for a run's change list and a customer's history."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from syncapp.choices import ChangeAction
from syncapp.models import FieldChange
from syncapp.sync.diff import ACTIVE

register = template.Library()

ARROW = '<span class="arrow" aria-label="changed to">→</span>'
EMPTY = '<span class="empty-value">(empty)</span>'


def _state(value: str) -> str:
    return "state-on" if value == ACTIVE else "state-off"


@register.filter
def old_new(change: FieldChange) -> SafeString:
    """The change as staff read it: old → new (struck out and inserted), a creation, a link or a merge.

    Built with format_html rather than a template per row: a run's page shows 50 of these, and rendering a template
    for each cost more than the rest of the row.
    """
    action, old, new = change.action, change.old_value, change.new_value
    if action == ChangeAction.CHANGED and change.field == "is_active":
        return format_html(
            '<span class="old-new state-change"><span class="{} old-state">{}</span> {} '
            '<span class="{} new-state">{}</span></span>',
            _state(old),
            old,
            SafeString(ARROW),
            _state(new),
            new,
        )
    if action == ChangeAction.CHANGED:
        before = format_html('<del class="old">{}</del>', old) if old else SafeString(EMPTY)
        after = format_html('<ins class="new">{}</ins>', new) if new else SafeString(EMPTY)
        return format_html('<span class="old-new">{} {} {}</span>', before, SafeString(ARROW), after)
    if action == ChangeAction.CREATED:
        return format_html('<span class="new">{}</span>', new or "Created")
    if action == ChangeAction.LINKED:
        return format_html("Linked to HaloPSA client <b>{}</b>", new)
    if action == ChangeAction.UNLINKED:
        return format_html("Unlinked from HaloPSA client <b>{}</b>", old)
    if action in (ChangeAction.MERGED_FROM, ChangeAction.MERGED_INTO):
        return format_html("<b>{}</b>", new)
    return format_html("{} → {}", old, new)
