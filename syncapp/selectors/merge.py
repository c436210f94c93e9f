"""Reads for merging: which customers may be the other side of a merge, found by name, number or duplicate."""

from django.db.models import Q

from syncapp.choices import DuplicateStatus
from syncapp.models import Customer, DuplicateCandidate

MERGE_SEARCH_LIMIT = 10


def merge_candidates(*, customer: Customer, query: str = "") -> list[Customer]:
    """Customers that could be merged with this one: its possible duplicates first, then the search results."""
    others = Customer.objects.filter(merged_into__isnull=True).exclude(pk=customer.pk).select_related("halo_link")
    found: list[Customer] = []
    duplicate_ids = DuplicateCandidate.objects.filter(customer=customer, status=DuplicateStatus.OPEN).values("halo_id")
    found += list(others.filter(halo_link__halo_id__in=duplicate_ids).order_by("name", "id"))
    query = query.strip()
    if query:
        match = Q(name__icontains=query)
        if query.isdigit():
            match |= Q(pk=int(query)) | Q(halo_link__halo_id=int(query))
        seen = {c.pk for c in found}
        found += [c for c in others.filter(match).order_by("name", "id")[:MERGE_SEARCH_LIMIT] if c.pk not in seen]
    return found


def merged_customers_of(*, customer: Customer) -> list[Customer]:
    """The customers merged into this one (their history shows on its timeline)."""
    return list(customer.merged_customers.order_by("name", "id"))
