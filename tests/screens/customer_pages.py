"""For tests of the Customers list: the customers its filters select, worked out apart, and every page in turn."""

from django.db.models import QuerySet
from django.urls import reverse

from syncapp.models import Customer

URL = reverse("syncapp:customer-list")


def customers_filtered(query: dict) -> QuerySet[Customer]:
    """The customers the list's linked / active / syncing filters should show (unordered), written plainly."""
    rows = Customer.objects.select_related("halo_link")
    if "linked" in query:  # from the links themselves, not the flag the list reads
        rows = rows.filter(halo_link__isnull=query["linked"] == "no")
    if "active" in query:
        rows = rows.filter(is_active=query["active"] == "yes")
    if query.get("syncing") == "no":  # unlinked, or linked and not syncing
        rows = rows.exclude(halo_link__not_syncing_reason="")
    return rows


def ids_on_every_page(client, query: dict, *, count: int, per_page: int = 25) -> list[int]:
    """The customer ids the list shows for `query`, page after page until past `count` rows."""
    shown: list[int] = []
    for page in range(1, count // per_page + 2):
        response = client.get(URL, {**query, "page": page})
        assert response.status_code == 200
        shown += [row.pk for row in response.context["table"].page.object_list.data]
    return shown
