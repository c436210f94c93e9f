"""django-filter filter sets of the customers list and of a sync run's change list."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from syncapp.choices import ChangeAction, ChangeOrigin, ExportBlock
from syncapp.forms import SafeTextInput
from syncapp.selectors.customer_search import MAX_SEARCH_LENGTH, search_customers
from syncapp.selectors.customers import syncing_condition
from syncapp.selectors.readiness import EXPORT_BLOCK_CONDITIONS
from syncapp.selectors.runs import customers_named
from syncapp.sync.diff import ACTIVE, INACTIVE
from syncapp.sync.mapping import CUSTOMER_FIELD_LABELS, SITE_FIELD_LABELS

YES_NO_ANY = {"empty_label": "Any"}


def history_field_choices(extra_labels: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Every field name a history row can carry, labelled for staff (site-only fields marked as such).

    `extra_labels` (selectors.custom_fields.field_display_labels) names Extra Fields as HaloPSA does.
    """
    choices = {**CUSTOMER_FIELD_LABELS, **(extra_labels or {})}
    for field, label in SITE_FIELD_LABELS.items():
        choices.setdefault(field, f"Site {label}")
    choices["halo_id"] = "HaloPSA id (link)"
    choices["is_active"] = "Active"
    return sorted(choices.items(), key=lambda item: item[1].casefold())


def history_field_label(field: str, extra_labels: Mapping[str, str] | None = None) -> str:
    return dict(history_field_choices(extra_labels)).get(field, field.replace("_", " ").capitalize())


class CustomerFilter(django_filters.FilterSet):
    """Search (name, HaloPSA id, e-mail, phone, postcode, city); linked / not linked; active / inactive; syncing."""

    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=SafeTextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, HaloPSA id, e-mail, phone, postcode or city",
                "autocomplete": "off",
                "maxlength": MAX_SEARCH_LENGTH,
            }
        ),
    )
    linked = django_filters.ChoiceFilter(
        label="HaloPSA link",
        choices=[("yes", "Linked"), ("no", "Not linked")],
        method="filter_linked",
        **YES_NO_ANY,
    )
    active = django_filters.ChoiceFilter(
        label="Status",
        choices=[("yes", "Active"), ("no", "Inactive")],
        method="filter_active",
        **YES_NO_ANY,
    )
    syncing = django_filters.ChoiceFilter(
        label="Sync",
        choices=[("yes", "Syncing"), ("no", "Not syncing")],
        method="filter_syncing",
        **YES_NO_ANY,
    )

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search_customers(queryset, value)

    def filter_linked(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # halo_linked rather than a join to the link: "not linked" walks its own partial index in name order.
        return queryset.filter(halo_linked=value == "yes")

    def filter_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == "yes")

    def filter_syncing(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(syncing_condition(syncing=value == "yes"))


DATE_INPUT = {"type": "date"}


class HistoryFilter(django_filters.FilterSet):
    """A customer's history: by field, origin, person and date (days in the portal's time zone)."""

    field = django_filters.ChoiceFilter(label="Field", choices=(), empty_label="All fields")
    origin = django_filters.ChoiceFilter(label="Origin", choices=ChangeOrigin.choices, empty_label="Any")
    person = django_filters.ModelChoiceFilter(
        label="Person", field_name="changed_by", queryset=get_user_model().objects.none(), empty_label="Anyone"
    )
    since = django_filters.DateFilter(
        label="From", field_name="changed_at", lookup_expr="date__gte", widget=forms.DateInput(attrs=DATE_INPUT)
    )
    until = django_filters.DateFilter(
        label="To", field_name="changed_at", lookup_expr="date__lte", widget=forms.DateInput(attrs=DATE_INPUT)
    )

    def __init__(self, *args, field_choices: list[tuple[str, str]], people: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["field"].extra["choices"] = field_choices
        self.filters["person"].queryset = people


WHAT_CHOICES = [
    ("created", "Created"),
    ("changed", "Changed"),
    ("deactivated", "Deactivated"),
    ("reactivated", "Reactivated"),
]
RECORD_CHOICES = [("customer", "Customers"), ("site", "Sites")]


def _start_of_day(day: date) -> datetime | None:
    """Midnight starting `day` in the portal's time zone, or None when that instant is no datetime in UTC.

    The database compares UTC times; the calendar's first day east of UTC, or its last day west of it, has none.
    """
    start = timezone.make_aware(datetime.combine(day, time.min))
    try:
        start.astimezone(UTC)
    except OverflowError:
        return None
    return start


class RunChangeFilter(django_filters.FilterSet):
    """A run's change list: by customer name, customer or site, what happened, field and date."""

    customer = django_filters.CharFilter(
        method="filter_customer",
        label="Customer",
        widget=SafeTextInput(attrs={"type": "search", "placeholder": "Customer name", "autocomplete": "off"}),
    )
    record = django_filters.ChoiceFilter(label="Of", choices=RECORD_CHOICES, method="filter_record", empty_label="All")
    what = django_filters.ChoiceFilter(label="What", choices=WHAT_CHOICES, method="filter_what", empty_label="Any")
    field = django_filters.ChoiceFilter(label="Field", choices=(), empty_label="All fields")
    # Days in the portal's time zone, as a range of times: comparing each change's date works the date out for
    # every change of the run (on SQLite in Python), a range compares the stored time.
    since = django_filters.DateFilter(label="From", method="filter_since", widget=forms.DateInput(attrs=DATE_INPUT))
    until = django_filters.DateFilter(label="To", method="filter_until", widget=forms.DateInput(attrs=DATE_INPUT))

    def __init__(self, *args, field_choices: list[tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["field"].extra["choices"] = field_choices or history_field_choices()

    def filter_since(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        start = _start_of_day(value)
        if start is None:  # the calendar's first day (every change is after it) or its last (none is)
            return queryset if value.year == date.min.year else queryset.none()
        return queryset.filter(changed_at__gte=start)

    def filter_until(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        end = None if value >= date.max else _start_of_day(value + timedelta(days=1))
        if end is None:  # the calendar's last day: every change is before its end
            return queryset
        return queryset.filter(changed_at__lt=end)

    def filter_customer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(customer__in=customers_named(value))

    def filter_record(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(site__isnull=value == "customer")

    def filter_what(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "created":
            return queryset.filter(action=ChangeAction.CREATED)
        if value in ("deactivated", "reactivated"):
            state = INACTIVE if value == "deactivated" else ACTIVE
            return queryset.filter(action=ChangeAction.CHANGED, field="is_active", new_value=state)
        return queryset.filter(action=ChangeAction.CHANGED)


class ReadinessFilter(django_filters.FilterSet):
    """Invoice export readiness: by name and by reason."""

    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        label="Search by name",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Customer name", "autocomplete": "off"}),
    )
    reason = django_filters.ChoiceFilter(
        label="Why", choices=ExportBlock.choices, method="filter_reason", empty_label="Any reason"
    )

    def filter_reason(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(EXPORT_BLOCK_CONDITIONS[value])
