"""Reads for matching: the queue, ranked HaloPSA client suggestions and the live check of a typed id."""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet

from syncapp.choices import DuplicateStatus, MatchLevel
from syncapp.exceptions import HaloIdLinkedElsewhere, LinkError
from syncapp.halo import HaloClientRecord, HaloError, HaloNotFound
from syncapp.halo_budget import portal_halo_client
from syncapp.matching.profiles import DIRECTORY_MATCH_COLUMNS, customer_profile, stored_profile
from syncapp.matching.score import MatchScore, ProfileIndex
from syncapp.models import Customer, DuplicateCandidate, HaloClientEntry, HaloLink

# Suggestions are cut from the directory with one index per request; a page shows this many per customer.
DEFAULT_SUGGESTIONS = 5


@dataclass(frozen=True)
class Suggestion:
    """A HaloPSA client that may be the customer: its score, level (High/Medium/Low) and every reason."""

    entry: HaloClientEntry
    score: int
    level: MatchLevel
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        """The reasons in one sentence, e.g. "Same phone, same postcode, names 69% alike"."""
        text = ", ".join(self.reasons)
        return text[:1].upper() + text[1:]


def _not_linked_meanwhile() -> Exists:
    """For a possible duplicate: its HaloPSA client has not been linked to some customer since."""
    # NOT EXISTS, not NOT IN (the links' ids): PostgreSQL hashes all 80,000 links' ids for NOT IN on every query,
    # and looks the few candidates up in the links' index for this (30 vs 10 ms). Neither column is ever NULL, so
    # the two say the same.
    return ~Exists(HaloLink.objects.filter(halo_id=OuterRef("halo_id")))


def _open_duplicate_of_customer() -> Exists:
    return Exists(
        DuplicateCandidate.objects.filter(customer=OuterRef("pk"), status=DuplicateStatus.OPEN).filter(
            _not_linked_meanwhile()
        )
    )


def unlinked_customers() -> QuerySet[Customer]:
    """Customers without a HaloPSA id and without an open possible duplicate (those are listed on their own)."""
    # "No link" as NOT EXISTS rather than a LEFT JOIN ... IS NULL, which PostgreSQL neither turns into an anti-join
    # nor estimates (1 row): it then sorted all 100,000 customers for a page instead of walking the name index.
    return (
        Customer.objects.filter(merged_into__isnull=True)
        .filter(~Exists(HaloLink.objects.filter(customer=OuterRef("pk"))), ~_open_duplicate_of_customer())
        .order_by("name", "id")
    )


def open_duplicates() -> QuerySet[DuplicateCandidate]:
    """Possible duplicates waiting for staff, oldest first; moot once either side has been linked some other way."""
    return (
        DuplicateCandidate.objects.filter(
            status=DuplicateStatus.OPEN, customer__halo_link__isnull=True, customer__merged_into__isnull=True
        )
        .filter(_not_linked_meanwhile())
        .select_related("customer", "detected_by_run")
        .order_by("detected_at", "id")
    )


def open_duplicates_of(*, customer: Customer) -> QuerySet[DuplicateCandidate]:
    return open_duplicates().filter(customer=customer)


def matching_queue_counts() -> dict[str, int]:
    """The queue's figures: customers unlinked_customers() lists, and open_duplicates(), in four small queries.

    Counting unlinked_customers() itself looks up the link of each of the 100,000 customers (about 100 ms on
    SQLite); the same number is every customer, less those merged away, less those linked (and not merged), less
    those listed as possible duplicates instead, and each of these reads an index or a few rows.
    """
    duplicates = open_duplicates().aggregate(listed=Count("pk"), customers=Count("customer", distinct=True))
    # From the few merged customers, looking each up among the links, rather than from every link.
    merged = Customer.objects.filter(merged_into__isnull=False).aggregate(
        all=Count("pk"), linked=Count("pk", filter=Exists(HaloLink.objects.filter(customer=OuterRef("pk"))))
    )
    not_merged = Customer.objects.count() - merged["all"]
    linked_not_merged = HaloLink.objects.count() - merged["linked"]
    return {"unlinked": not_merged - linked_not_merged - duplicates["customers"], "duplicates": duplicates["listed"]}


def unlinked_customer_count() -> int:
    """How many customers unlinked_customers() lists, counted from indexes (see matching_queue_counts)."""
    return matching_queue_counts()["unlinked"]


# What ranking reads of every HaloPSA client seen and not linked: its profile's columns, no more. (A boolean column
# would cost a conversion per row; a suggestion's badges are read with the few clients suggested.)
_DIRECTORY_FIELDS = ("id", "halo_id", "name", *DIRECTORY_MATCH_COLUMNS)


def _unlinked_directory() -> list[dict]:
    """_DIRECTORY_FIELDS of every HaloPSA client seen and not linked, in the model's order (name, HaloPSA id).

    A walk along directory_unlinked_idx (HaloClientEntry.linked, kept with the links): at 100,000 customers the
    sync has seen 82,000 clients and 80,000 of them are linked.
    """
    return list(HaloClientEntry.objects.filter(linked=False).values(*_DIRECTORY_FIELDS))


def suggestions_for(*, customers: list[Customer], limit: int = DEFAULT_SUGGESTIONS) -> dict[int, list[Suggestion]]:
    """Ranked HaloPSA clients seen (never ones already linked) for each customer, keyed by customer id.

    Each is scored on name, main-site phone, invoice e-mail domain, postcode, address and city
    (syncapp/matching/score.py); clients below Low are not offered.
    """
    rows = {row["id"]: row for row in _unlinked_directory()}
    index = ProfileIndex({pk: stored_profile(row) for pk, row in rows.items()})
    ranked_for: dict[int, list[tuple[int, MatchScore]]] = {}
    for customer in customers:
        ranked = index.ranked(customer_profile(customer))
        ranked.sort(key=lambda item: (-item[1].points, rows[item[0]]["name"], rows[item[0]]["halo_id"]))
        ranked_for[customer.pk] = ranked[:limit]
    # The clients suggested, read whole in one query: a handful, however many clients were ranked.
    entries = HaloClientEntry.objects.defer("last_seen_at").in_bulk(
        {pk for ranked in ranked_for.values() for pk, _ in ranked}
    )
    return {
        customer_pk: [
            Suggestion(entry=entries[pk], score=scored.points, level=scored.level, reasons=scored.reasons)
            for pk, scored in ranked
            if pk in entries  # not forgotten since the ranking read it
        ]
        for customer_pk, ranked in ranked_for.items()
    }


@dataclass(frozen=True)
class LinkPair:
    """An unlinked customer and the one HaloPSA client it matches with High confidence."""

    customer: Customer
    suggestion: Suggestion

    @property
    def key(self) -> str:
        return f"{self.customer.pk}:{self.suggestion.entry.halo_id}"


def high_confidence_pairs(
    *, customers: list[Customer], suggestions: dict[int, list[Suggestion]] | None = None
) -> list[LinkPair]:
    """The customers (one page of the queue) whose best suggestion is High and clearly ahead of the next one.

    A client that is the best High match of two of them, or a customer with two equally good High matches, is
    left for staff to decide one by one. Pass the suggestions already computed for these customers, if any.
    """
    if suggestions is None:
        suggestions = suggestions_for(customers=customers, limit=2)
    pairs = []
    for customer in customers:
        found = suggestions.get(customer.pk, [])
        if not found or found[0].level != MatchLevel.HIGH:
            continue
        if len(found) > 1 and found[1].score >= found[0].score:
            continue
        pairs.append(LinkPair(customer, found[0]))
    claims = Counter(pair.suggestion.entry.halo_id for pair in pairs)
    return [pair for pair in pairs if claims[pair.suggestion.entry.halo_id] == 1]


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
