"""Reads for matching: the queue, ranked HaloPSA client suggestions and the live check of a typed id."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import Exists, OuterRef, QuerySet

from syncapp.choices import DuplicateStatus
from syncapp.exceptions import HaloIdLinkedElsewhere, LinkError
from syncapp.halo import HaloClientRecord, HaloError, HaloNotFound
from syncapp.halo_budget import portal_halo_client
from syncapp.models import Customer, DuplicateCandidate, HaloClientEntry, HaloLink
from syncapp.sync.normalise import name_key

# Below this similarity a name is noise rather than a lead; difflib's own get_close_matches uses 0.6 too.
SUGGESTION_CUTOFF = 0.6
# A contained name shorter than this ("ab" in "Cabana") says nothing.
MIN_CONTAINED_KEY_LENGTH = 4
# A trigram found in more than 1/20 of all names (and more than 50) is too common to pick candidates by.
COMMON_TRIGRAM_SHARE = 20
COMMON_TRIGRAM_FLOOR = 50


@dataclass(frozen=True)
class Suggestion:
    """A HaloPSA client that may be the customer, with the score it was ranked by and the reason in words."""

    entry: HaloClientEntry
    score: float
    reason: str


def _open_duplicate_of_customer() -> Exists:
    return Exists(
        DuplicateCandidate.objects.filter(customer=OuterRef("pk"), status=DuplicateStatus.OPEN).exclude(
            halo_id__in=HaloLink.objects.values("halo_id")
        )
    )


def unlinked_customers() -> QuerySet[Customer]:
    """Customers without a HaloPSA id and without an open possible duplicate (those are listed on their own)."""
    return (
        Customer.objects.filter(halo_link__isnull=True)
        .annotate(has_open_duplicate=_open_duplicate_of_customer())
        .filter(has_open_duplicate=False)
        .order_by("name", "id")
    )


def open_duplicates() -> QuerySet[DuplicateCandidate]:
    """Possible duplicates waiting for staff, oldest first; moot once either side has been linked some other way."""
    return (
        DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN, customer__halo_link__isnull=True)
        .exclude(halo_id__in=HaloLink.objects.values("halo_id"))
        .select_related("customer", "detected_by_run")
        .order_by("detected_at", "id")
    )


def open_duplicates_of(*, customer: Customer) -> QuerySet[DuplicateCandidate]:
    return open_duplicates().filter(customer=customer)


def matching_queue_counts() -> dict[str, int]:
    return {"unlinked": unlinked_customers().count(), "duplicates": open_duplicates().count()}


def _unlinked_entries() -> list[HaloClientEntry]:
    linked_ids = HaloLink.objects.values("halo_id")
    return list(
        HaloClientEntry.objects.exclude(halo_id__in=linked_ids).only("halo_id", "name", "is_ticked", "is_inactive")
    )


def _score(customer_key: str, entry_key: str, matcher: SequenceMatcher) -> tuple[float, str] | None:
    if not customer_key or not entry_key:
        return None
    if customer_key == entry_key:
        return 1.0, "Same name, ignoring case, spacing and punctuation"
    shorter, longer = sorted((customer_key, entry_key), key=len)
    if len(shorter) >= MIN_CONTAINED_KEY_LENGTH and shorter in longer:
        return 0.9 + 0.09 * len(shorter) / len(longer), "One name contains the other"
    matcher.set_seq1(entry_key)
    # The cheap upper bounds first, as difflib.get_close_matches does: most entries fail here.
    if matcher.real_quick_ratio() < SUGGESTION_CUTOFF or matcher.quick_ratio() < SUGGESTION_CUTOFF:
        return None
    ratio = matcher.ratio()
    if ratio < SUGGESTION_CUTOFF:
        return None
    return ratio * 0.9, f"Names {round(ratio * 100)}% alike"


def _trigrams(key: str) -> set[str]:
    return {key[i : i + 3] for i in range(len(key) - 2)} or {key}


class _EntryIndex:
    """HaloPSA clients seen, indexed by the trigrams of their name keys, so a customer is scored against few."""

    def __init__(self, entries: list[HaloClientEntry]) -> None:
        self.keyed = [(name_key(entry.name), entry) for entry in entries]
        self.postings: dict[str, list[int]] = defaultdict(list)
        for position, (key, _) in enumerate(self.keyed):
            for gram in _trigrams(key):
                self.postings[gram].append(position)
        # Trigrams in most names ("pty", "ltd", "ser") say nothing about which company it is.
        too_common = max(COMMON_TRIGRAM_FLOOR, len(self.keyed) // COMMON_TRIGRAM_SHARE)
        self.common = {gram for gram, positions in self.postings.items() if len(positions) > too_common}

    def candidates(self, key: str) -> list[tuple[str, HaloClientEntry]]:
        grams = _trigrams(key)
        telling = grams - self.common or grams
        shared = Counter(position for gram in telling for position in self.postings.get(gram, ()))
        needed = 1 if len(telling) <= 3 else 2
        return [self.keyed[position] for position, count in shared.items() if count >= needed]


def suggestions_for(
    *, customers: list[Customer], limit: int = 5, entries: list[HaloClientEntry] | None = None
) -> dict[int, list[Suggestion]]:
    """Ranked HaloPSA clients seen (never ones already linked) for each customer, keyed by customer id."""
    index = _EntryIndex(_unlinked_entries() if entries is None else entries)
    result: dict[int, list[Suggestion]] = {}
    for customer in customers:
        customer_key = name_key(customer.name)
        # SequenceMatcher caches what it learns about its second sequence, so the customer goes there.
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(customer_key)
        found = []
        for entry_key, entry in index.candidates(customer_key):
            scored = _score(customer_key, entry_key, matcher)
            if scored:
                found.append(Suggestion(entry=entry, score=scored[0], reason=scored[1]))
        found.sort(key=lambda s: (-s.score, s.entry.name, s.entry.halo_id))
        result[customer.pk] = found[:limit]
    return result


def linked_customer_of(*, halo_id: int) -> Customer | None:
    """The customer already linked to this HaloPSA client, if any."""
    link = HaloLink.objects.select_related("customer").filter(halo_id=halo_id).first()
    return link.customer if link else None


def halo_client_for_linking(*, customer: Customer, halo_id: int) -> HaloClientRecord:
    """Look the id up in HaloPSA for linking to this customer; LinkError (worded for staff) when it cannot be."""
    other = linked_customer_of(halo_id=halo_id)
    if other is not None and other.pk != customer.pk:
        raise HaloIdLinkedElsewhere(halo_id, other)
    try:
        with portal_halo_client(interactive=True) as client:
            return client.get_client(halo_id)
    except HaloNotFound:
        raise LinkError(f"No HaloPSA client has id {halo_id}.") from None
    except HaloError as error:  # its message already says what went wrong (unreachable, refused, ...)
        raise LinkError(f"Could not check the id with HaloPSA. {error}") from None
