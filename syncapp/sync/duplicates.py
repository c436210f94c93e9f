"""The duplicate guard: which unlinked customer a ticked HaloPSA client probably is, so it is not imported twice."""

from collections.abc import Mapping
from typing import NamedTuple

from django.conf import settings

from syncapp.choices import DuplicateStatus
from syncapp.halo import HaloClientRecord, HaloSiteRecord
from syncapp.matching.profiles import client_profile, customer_profile
from syncapp.matching.score import ProfileIndex
from syncapp.models import Customer, DuplicateCandidate

PROFILE_FIELDS = ("id", "name", "contact_phone", "invoice_email_to", "postcode", "postal_address_1", "city")


class DuplicateMatch(NamedTuple):
    customer_id: int
    score: int
    reasons: tuple[str, ...]


class DuplicateGuard:
    """Built once per run from the unlinked customers; answers per client without touching the database."""

    def __init__(
        self, customers: list[Customer], *, decisions: Mapping[tuple[int, int], str], hold_back_score: int
    ) -> None:
        self.index = ProfileIndex({customer.pk: customer_profile(customer) for customer in customers})
        self.decisions = decisions
        self.hold_back_score = hold_back_score

    def best_match(self, client: HaloClientRecord, main_site: HaloSiteRecord | None) -> DuplicateMatch | None:
        """The best unlinked customer scoring at least the hold-back score, unless staff said it is another firm."""
        for customer_id, result in self.index.ranked(client_profile(client, main_site)):
            if result.points < self.hold_back_score:
                return None  # ranked best first: the rest score less
            if self.decisions.get((customer_id, client.id)) != DuplicateStatus.DIFFERENT:
                return DuplicateMatch(customer_id, result.points, result.reasons)
        return None


def duplicate_decisions() -> dict[tuple[int, int], str]:
    """Staff's decisions on recorded possible duplicates: (customer id, HaloPSA id) → status (one query)."""
    return {
        (customer_id, halo_id): status
        for customer_id, halo_id, status in DuplicateCandidate.objects.values_list("customer_id", "halo_id", "status")
    }


def build_duplicate_guard(decisions: Mapping[tuple[int, int], str]) -> DuplicateGuard:
    """The guard of one run: unlinked customers not merged into another (one query)."""
    customers = list(Customer.objects.filter(halo_link__isnull=True, merged_into__isnull=True).only(*PROFILE_FIELDS))
    return DuplicateGuard(customers, decisions=decisions, hold_back_score=settings.DUPLICATE_HOLD_BACK_SCORE)
