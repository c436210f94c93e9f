"""Reads of customers for the staff screens: the annotated list, one customer's page, its sites and history."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    DateTimeField,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Concat, Lower
from django.shortcuts import get_object_or_404

from syncapp.choices import NotSyncingReason
from syncapp.models import Customer, FieldChange, HaloLink, Site
from syncapp.selectors.runs import complete_sync_runs


def halo_client_url(halo_id: int | None) -> str | None:
    """The HaloPSA page of a client, when the HaloPSA resource URL is configured."""
    resource_url = (settings.HALO_RESOURCE_URL or "").strip().rstrip("/")
    if not halo_id or not resource_url:
        return None
    return f"{resource_url}/customers?clientid={halo_id}"


def last_complete_sync_at() -> datetime | None:
    """When the last sync that succeeded in full finished: it checked every syncing customer against HaloPSA."""
    return complete_sync_runs().values_list("finished_at", flat=True).first()


def _last_synced(checked_at: datetime | None) -> Case | F:
    """A customer's "last synced": the last complete sync, for a syncing link older than it; else its last change.

    A sync that finds a customer unchanged writes nothing to it, so that time is read off the run instead.
    """
    if checked_at is None:
        return F("halo_link__last_synced_at")
    return Case(
        When(
            halo_link__not_syncing_reason=NotSyncingReason.NONE,
            halo_link__linked_at__lte=checked_at,
            then=Value(checked_at, output_field=DateTimeField()),
        ),
        default=F("halo_link__last_synced_at"),
        output_field=DateTimeField(),
    )


def last_synced_at(link: HaloLink | None) -> datetime | None:
    """One link's "last synced", as the customer list computes it."""
    if link is None:
        return None
    checked_at = last_complete_sync_at()
    if checked_at is not None and link.is_syncing and link.linked_at <= checked_at:
        return checked_at
    return link.last_synced_at


def name_sort_key(*, searching: bool = False) -> Lower:
    """The lists' case-insensitive name order ("acme" next to "Acme"), for the annotation `name_sort`.

    It is the expression of customer_name_sort_idx (and the partial indexes in the same order): a page is a walk
    along it, never a sort of every customer. A search reads every row anyway (a word may be anywhere in a name), and
    walking the index for it would test every customer in name order rather than find the matches (the PostgreSQL
    trigram index) or read the table once; so while searching, the same order is written so no index serves it,
    and the database sorts only the matches.
    """
    return Lower(Concat("name", Value(""))) if searching else Lower("name")


def customer_table_rows(*, checked_at: datetime | None, searching: bool = False) -> QuerySet[Customer]:
    """Every customer with its link state as annotations: one query per page, any size.

    Ordered by name_sort_key(searching=searching), then id. `checked_at` is last_complete_sync_at() (the page reads
    it along with its "last sync" line).
    """
    name_sort = name_sort_key(searching=searching)
    return Customer.objects.annotate(
        link_halo_id=F("halo_link__halo_id"),
        link_last_synced_at=_last_synced(checked_at),
        link_not_syncing_reason=F("halo_link__not_syncing_reason"),
        link_halo_inactive=F("halo_link__halo_inactive"),
        # Staff expect "acme" next to "Acme"; SQLite's default ordering puts every capital first.
        name_sort=name_sort,
    ).order_by("name_sort", "id")


def syncing_condition(*, syncing: bool) -> Q:
    """The customers a sync keeps up to date (linked, link syncing), or the others (the list's Sync filter).

    An unlinked customer is never touched by a sync, so it counts as not syncing. The not-syncing links are read
    once (few, in the links' partial index), not found by an OR across the join to every customer's link.
    """
    if syncing:
        return Q(halo_link__isnull=False, halo_link__not_syncing_reason=NotSyncingReason.NONE)
    not_syncing_links = HaloLink.objects.exclude(not_syncing_reason=NotSyncingReason.NONE).values("customer_id")
    return Q(halo_linked=False) | Q(pk__in=not_syncing_links)


# The jump-by-letter bar: "0-9" (and anything before "a") is the start of the list.
NAME_LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")


def customers_from_letter(rows: QuerySet[Customer], letter: str, *, descending: bool = False) -> QuerySet[Customer]:
    """The rows from the first name at `letter` on, in the list's name order (a range on the sort index)."""
    letter = (letter or "").lower()
    if letter not in NAME_LETTERS:
        return rows
    if descending:  # z → a: the names up to the end of `letter`
        return rows.filter(name_sort__lt=chr(ord(letter) + 1))
    return rows.filter(name_sort__gte=letter)


def customer_for_page(*, pk: int) -> Customer:
    """One customer with its link and the person who linked it (404 when there is no such customer)."""
    return get_object_or_404(Customer.objects.select_related("halo_link", "halo_link__linked_by", "merged_into"), pk=pk)


def customer_link(customer: Customer) -> HaloLink | None:
    """The customer's HaloLink, or None when it is not linked (never raises)."""
    return getattr(customer, "halo_link", None)


def customer_sites(*, customer: Customer) -> QuerySet[Site]:
    """The customer's sites, active ones first."""
    return customer.sites.order_by("-is_active", "name", "id")


def _timeline_of(customer: Customer, merged: list[Customer] | None = None) -> Q:
    """The history rows on a customer's timeline: its own and those of the customers merged into it.

    Customers merged into this one keep their own rows (history is append-only). Read off the history's customer
    index, never through an OR across the join to the customer (which reads every history row). Given the merged
    customers (the page lists them anyway), a customer without any reads its rows in the index's order.
    """
    if merged is None:
        return Q(customer__in=Customer.objects.filter(Q(pk=customer.pk) | Q(merged_into=customer)).values("pk"))
    if not merged:
        return Q(customer=customer)
    return Q(customer__in=[customer.pk, *(other.pk for other in merged)])


def customer_history(
    *, customer: Customer, merged: list[Customer] | None = None, field: str = ""
) -> QuerySet[FieldChange]:
    """The customer's history, newest first, optionally only one field, with the run, person and site loaded.

    `merged`: the customers merged into this one, when the caller has them (see _timeline_of).
    """
    changes = FieldChange.objects.filter(_timeline_of(customer, merged)).select_related(
        "sync_run", "changed_by", "site", "customer"
    )
    if field:
        changes = changes.filter(field=field)
    return changes.order_by("-changed_at", "-id")


def customer_history_fields(*, customer: Customer) -> list[str]:
    """The field names that appear in the customer's history (for the timeline's filter)."""
    names = FieldChange.objects.filter(_timeline_of(customer)).exclude(field="").values_list("field", flat=True)
    return sorted(set(names))


def customer_history_people(*, customer: Customer) -> QuerySet:
    """The people who changed this customer (for the history's person filter)."""
    return (
        get_user_model()
        .objects.filter(
            pk__in=FieldChange.objects.filter(customer=customer, changed_by__isnull=False).values("changed_by")
        )
        .order_by("first_name", "last_name", "username")
    )
