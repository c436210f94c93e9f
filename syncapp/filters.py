"""django-filter filter sets of the customers list and of a sync run's change list."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from syncapp.selectors.customer_search import MAX_SEARCH_LENGTH, search_customers
from syncapp.sync.mapping import CUSTOMER_FIELD_LABELS, SITE_FIELD_LABELS

YES_NO_ANY = {"empty_label": "Any"}


def history_field_choices() -> list[tuple[str, str]]:
    """Every field name a history row can carry, labelled for staff (site-only fields marked as such)."""
    choices = dict(CUSTOMER_FIELD_LABELS)
    for field, label in SITE_FIELD_LABELS.items():
        choices.setdefault(field, f"Site {label}")
    choices["halo_id"] = "HaloPSA id (link)"
    choices["is_active"] = "Active"
    return sorted(choices.items(), key=lambda item: item[1].casefold())


def history_field_label(field: str) -> str:
    return dict(history_field_choices()).get(field, field.replace("_", " ").capitalize())


class CustomerFilter(django_filters.FilterSet):
    """Search (name, HaloPSA id, e-mail, phone, postcode, city); linked / not linked; active / inactive; syncing."""

    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=forms.TextInput(
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
        return queryset.filter(halo_link__isnull=value != "yes")

    def filter_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == "yes")

    def filter_syncing(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "yes":
            return queryset.filter(halo_link__isnull=False, halo_link__not_syncing_reason="")
        # An unlinked customer is never touched by a sync, so it counts as not syncing. Written as a filter on the
        # list's own join rather than exclude(), which would test every customer with a subquery.
        return queryset.filter(Q(halo_link__isnull=True) | Q(halo_link__not_syncing_reason__gt=""))


class RunChangeFilter(django_filters.FilterSet):
    """A run's change list: by customer name and by field."""

    customer = django_filters.CharFilter(
        field_name="customer__name",
        lookup_expr="icontains",
        label="Customer",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Customer name", "autocomplete": "off"}),
    )
    field = django_filters.ChoiceFilter(label="Field", choices=history_field_choices, empty_label="All fields")
