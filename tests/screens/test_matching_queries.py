"""The matching queue at scale: the same queries however many customers, and counts that match the listing."""

import pytest
from django.urls import reverse

from syncapp.choices import DuplicateStatus
from syncapp.models import Customer, DuplicateCandidate, HaloClientEntry, HaloLink
from syncapp.selectors.matching import (
    matching_queue_counts,
    open_duplicates,
    unlinked_customer_count,
    unlinked_customers,
)
from tests.factories import CustomerFactory, HaloClientEntryFactory, HaloLinkFactory

QUEUE = reverse("syncapp:matching")
# Session, user, the user's direct and group permissions; the counts: open possible duplicates (and their
# customers), merged customers (and those linked), customers, links; the page of customers, the HaloPSA clients
# seen and not linked, those suggested, and the possible duplicates listed.
QUEUE_QUERIES = 12

pytestmark = pytest.mark.django_db


def _bulk_customers(count: int) -> None:
    """`count` customers, four in five linked to a HaloPSA client seen; HaloPSA clients seen that are not linked."""
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {n:05d}", contact_phone=f"02 9{n:07d}") for n in range(count)
    )
    linked = [(customer, 10_000 + n) for n, customer in enumerate(customers) if n % 5]
    HaloLink.objects.bulk_create(HaloLink(customer=c, halo_id=halo_id, method="imported") for c, halo_id in linked)
    HaloClientEntry.objects.bulk_create(HaloClientEntry(halo_id=halo_id, name=c.name) for c, halo_id in linked)
    HaloClientEntry.objects.bulk_create(
        HaloClientEntry(halo_id=50_000 + n, name=f"Customer {n:05d} Pty Ltd", phone_digits=f"9{n:07d}")
        for n in range(0, count, 5)
    )
    DuplicateCandidate.objects.create(customer=customers[0], halo_id=90_000, halo_name="Customer 00000")


@pytest.mark.parametrize("count", [10, 5_000])
def test_queue_queries_do_not_grow_with_the_number_of_customers(
    billing_client, django_assert_num_queries, count
) -> None:
    _bulk_customers(count)
    for page in (1, 2):
        with django_assert_num_queries(QUEUE_QUERIES):
            response = billing_client.get(QUEUE, {"page": page})
        assert response.status_code == 200
    unlinked = count // 5 - 1  # every fifth, less the one listed as a possible duplicate
    assert response.context["counts"] == {"unlinked": unlinked, "duplicates": 1}
    assert response.context["page"].paginator.count == unlinked
    page = response.context["page"]
    rows = response.context["rows"]
    assert [customer for customer, _ in rows] == list(unlinked_customers()[page.start_index() - 1 : page.end_index()])
    # Every listed customer's own HaloPSA client (same name but "Pty Ltd", same phone) comes first, High.
    assert all(suggestions[0].entry.halo_id == 50_000 + int(c.name[-5:]) for c, suggestions in rows)


def test_unlinked_count_is_the_count_of_the_listing() -> None:
    """Counted apart (merged, linked, listed as duplicates), the number is the listing's in every corner."""
    kept = CustomerFactory(name="Kept")
    CustomerFactory(name="Plain unlinked")
    CustomerFactory(name="Merged away", merged_into=kept)
    HaloLinkFactory(customer=CustomerFactory(name="Merged and linked", merged_into=kept), halo_id=1)
    HaloLinkFactory(customer__name="Linked", halo_id=2)
    twice = CustomerFactory(name="Two open duplicates")
    DuplicateCandidate.objects.create(customer=twice, halo_id=10, halo_name="A")
    DuplicateCandidate.objects.create(customer=twice, halo_id=11, halo_name="B")
    moot = CustomerFactory(name="Open duplicate linked meanwhile to another customer")
    DuplicateCandidate.objects.create(customer=moot, halo_id=2, halo_name="Linked")
    resolved = CustomerFactory(name="Resolved duplicate")
    DuplicateCandidate.objects.create(customer=resolved, halo_id=12, halo_name="C", status=DuplicateStatus.DIFFERENT)
    merged_with_duplicate = CustomerFactory(name="Merged with an open duplicate", merged_into=kept)
    DuplicateCandidate.objects.create(customer=merged_with_duplicate, halo_id=13, halo_name="D")
    linked_with_duplicate = HaloLinkFactory(customer__name="Linked with an open duplicate", halo_id=3).customer
    DuplicateCandidate.objects.create(customer=linked_with_duplicate, halo_id=14, halo_name="E")
    HaloClientEntryFactory(name="Seen", halo_id=2)

    listed = {customer.name for customer in unlinked_customers()}
    assert listed == {
        "Kept",
        "Plain unlinked",
        "Open duplicate linked meanwhile to another customer",
        "Resolved duplicate",
    }
    assert unlinked_customer_count() == unlinked_customers().count() == 4
    assert (
        matching_queue_counts()
        == {"unlinked": 4, "duplicates": open_duplicates().count()}
        == {
            "unlinked": 4,
            "duplicates": 2,
        }
    )
