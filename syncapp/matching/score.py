"""The match score of a customer against a HaloPSA client: one declaration of weights, pure functions.

A profile is what both sides are compared on: the name (normalised, token-based, fuzzy via rapidfuzz), the main
site's phone (digits only), the invoice e-mail domain (public mail domains ignored), postcode, address line 1
and city. Each part that agrees adds its weight; the total is shown as High / Medium / Low with every reason.
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz import fuzz, process

from syncapp.choices import MatchLevel


@dataclass(frozen=True)
class Weights:
    """The ONE declaration of what each kind of agreement is worth (points out of about 100)."""

    # The name: a canonical match (legal suffixes, "&"/"and", "St"/"Saint" aside) earns all of it; a fuzzy one
    # earns a share rising from 0 at NAME_FLOOR to all at 100% alike.
    name: int = 60
    phone: int = 30
    email_domain: int = 30
    address_1: int = 20
    postcode: int = 10
    city: int = 5
    # At or above `high`, a sync holds a ticked client back from import (settings.MATCH_HOLD_BACK_SCORE).
    high: int = 60
    medium: int = 40
    low: int = 20
    # Names less alike than this say nothing.
    name_floor: float = 0.6


WEIGHTS = Weights()

# Words that say what kind of company it is, not which one: dropped before names are compared.
LEGAL_WORDS = frozenset(
    "pty ltd limited proprietary inc incorporated llc llp plc corp corporation co company the and partners "
    "partnership group holdings".split()
)
# Spellings that mean the same word.
SYNONYMS = {"st": "saint", "ste": "sainte", "mt": "mount", "bros": "brothers", "intl": "international"}
PUBLIC_MAIL_DOMAINS = frozenset(
    "gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk live.com live.com.au msn.com yahoo.com "
    "yahoo.com.au yahoo.co.uk icloud.com me.com mac.com aol.com bigpond.com bigpond.net.au optusnet.com.au "
    "protonmail.com proton.me gmx.com gmx.net mail.com zoho.com fastmail.com iinet.net.au tpg.com.au".split()
)
# What "J Smith Plumbing" vs "John Smith Plumbing" counts as: alike, but an initial is not a name.
INITIALS_SIMILARITY = 0.9
# Phone numbers are compared on their last digits, so "+61 2 9000 0000" equals "(02) 9000 0000".
PHONE_DIGITS_COMPARED = 8
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_ALNUM_RUN = re.compile(r"[a-z0-9]+")
_NOT_DIGIT = re.compile(r"\D+")


def _ascii_fold(text: str) -> str:
    text = text or ""
    if text.isascii():  # most names: the same result, without the round trip (pages fold thousands of names)
        return text.lower()
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def name_tokens(name: str) -> tuple[str, ...]:
    """The words of a company name that tell which company it is, canonical spelling, in order.

    "Knight & Gibson Partners Pty. Ltd." → ("knight", "gibson"); "A.B.C. Plumbing" → ("abc", "plumbing").
    """
    words = _ALNUM_RUN.findall(_ascii_fold(name).replace("&", " and ").replace("'", ""))
    words = [SYNONYMS.get(word, word) for word in words]
    kept = [word for word in words if word not in LEGAL_WORDS] or words
    if not kept or min(map(len, kept)) > 1:
        return tuple(kept)  # no initials, as in most names
    # Runs of initials ("a b c", from "A.B.C.") are one word, as "ABC" is.
    joined: list[str] = []
    previous_was_initial = False
    for word in kept:
        is_initial = len(word) == 1 and word.isalpha()
        if is_initial and previous_was_initial:
            joined[-1] += word
        else:
            joined.append(word)
        previous_was_initial = is_initial
    return tuple(joined)


def _expand_initials(mine: tuple[str, ...], theirs: tuple[str, ...]) -> tuple[str, ...]:
    """A lone initial ("J") stands for the other name's word at the same place when that word starts with it."""
    if len(mine) != len(theirs):
        return mine
    return tuple(
        other if len(word) == 1 and len(other) > 1 and other.startswith(word) else word
        for word, other in zip(mine, theirs, strict=True)
    )


def name_similarity(a: str, b: str) -> float:
    """0..1: how alike two company names are, ignoring case, punctuation, legal words, word order and initials."""
    return tokens_similarity(name_tokens(a), name_tokens(b))


def tokens_similarity(tokens_a: tuple[str, ...], tokens_b: tuple[str, ...]) -> float:
    """name_similarity() of names already split by name_tokens()."""
    if not tokens_a or not tokens_b:
        return 0.0
    if tokens_a == tokens_b or "".join(tokens_a) == "".join(tokens_b):
        return 1.0
    if len(tokens_a) == len(tokens_b) and any(len(token) == 1 for token in (*tokens_a, *tokens_b)):
        expanded_a, expanded_b = _expand_initials(tokens_a, tokens_b), _expand_initials(tokens_b, tokens_a)
        if expanded_a == expanded_b:
            return INITIALS_SIMILARITY  # "J Smith" may be John Smith, or Jane: alike, not the same
    sorted_words = fuzz.ratio(" ".join(sorted(tokens_a)), " ".join(sorted(tokens_b)))
    run_together = fuzz.ratio("".join(tokens_a), "".join(tokens_b))
    return max(sorted_words, run_together) / 100


def phone_digits(phone: str) -> str:
    """The digits of a phone number that are compared (its last PHONE_DIGITS_COMPARED)."""
    return _NOT_DIGIT.sub("", phone or "")[-PHONE_DIGITS_COMPARED:]


def email_domain(emails: str) -> str:
    """The domain of the first address of an e-mail list, unless it is a public mail service ("" then)."""
    first = re.split(r"[;,\s]+", (emails or "").strip())[0]
    domain = first.rpartition("@")[2].strip().casefold().rstrip(".") if "@" in first else ""
    return "" if domain in PUBLIC_MAIL_DOMAINS else domain


def _text_key(value: str) -> str:
    return " ".join(_NOT_ALNUM.sub(" ", _ascii_fold(value)).split())


def address_key(line: str) -> str:
    """Address line 1 with case, punctuation and the usual street abbreviations ignored."""
    words = _text_key(line).split()
    return " ".join(STREET_WORDS.get(word, word) for word in words)


STREET_WORDS = {"street": "st", "road": "rd", "avenue": "ave", "av": "ave", "drive": "dr", "lane": "ln"}


class MatchProfile(NamedTuple):
    """What a customer or a HaloPSA client is compared on; build it with `profile()` so values are normalised.

    A named tuple rather than a frozen dataclass: as immutable, and made 4x faster, which counts when a page makes
    one per HaloPSA client seen.
    """

    name: str
    tokens: tuple[str, ...] = ()
    phone: str = ""
    email_domain: str = ""
    postcode: str = ""
    address_1: str = ""
    city: str = ""


def profile(
    *, name: str, phone: str = "", emails: str = "", postcode: str = "", address_1: str = "", city: str = ""
) -> MatchProfile:
    """A profile from raw values (a customer's fields, or a client's name, accounts e-mail and main site)."""
    return MatchProfile(
        name=name or "",
        tokens=name_tokens(name or ""),
        phone=phone_digits(phone),
        email_domain=email_domain(emails),
        postcode=_text_key(postcode).replace(" ", ""),
        address_1=address_key(address_1),
        city=_text_key(city),
    )


class MatchScore(NamedTuple):
    """A score with its level and every reason that contributed, in words staff read (a named tuple, as above)."""

    points: int
    reasons: tuple[str, ...]

    @property
    def level(self) -> MatchLevel | None:
        if self.points >= WEIGHTS.high:
            return MatchLevel.HIGH
        if self.points >= WEIGHTS.medium:
            return MatchLevel.MEDIUM
        if self.points >= WEIGHTS.low:
            return MatchLevel.LOW
        return None


def score(customer: MatchProfile, client: MatchProfile, *, weights: Weights = WEIGHTS) -> MatchScore:
    """How likely the two profiles are one company; blank values never agree."""
    points = 0.0
    reasons: list[str] = []
    similarity = tokens_similarity(customer.tokens, client.tokens)
    if similarity >= 1.0:
        points += weights.name
        same = _text_key(customer.name) == _text_key(client.name)
        reasons.append("same name" if same else "same name apart from legal words, “&” or “St.”")
    elif similarity >= weights.name_floor:
        points += weights.name * (similarity - weights.name_floor) / (1 - weights.name_floor)
        reasons.append(f"names {round(similarity * 100)}% alike")
    for attribute, reason in (
        ("phone", "same phone"),
        ("email_domain", "same e-mail domain"),
        ("address_1", "same address"),
        ("postcode", "same postcode"),
        ("city", "same city"),
    ):
        mine = getattr(customer, attribute)
        if mine and mine == getattr(client, attribute):
            points += getattr(weights, attribute)
            reasons.append(reason)
    return MatchScore(points=round(points), reasons=tuple(reasons))


# The most alike names looked at per profile, besides every profile sharing its phone, e-mail domain or address:
# a page shows five suggestions, and scoring every name above the floor cost 3x as long (20 vs 6 ms a customer
# against 10,000 clients with generic names such as "... Services").
NAME_CANDIDATES = 25


class ProfileIndex:
    """Profiles (of HaloPSA clients, or of customers) under keys, to find the few worth scoring against one profile.

    Scoring every pair is quadratic; a profile can only reach Low through a name at least NAME_FLOOR alike (found
    with rapidfuzz's C loops over all names) or through a shared phone, e-mail domain or address (dict lookups).
    """

    def __init__(self, profiles: dict[int, MatchProfile]) -> None:
        self.profiles = profiles
        self.keys = list(profiles)
        self.sorted_names = [" ".join(sorted(profiles[key].tokens)) for key in self.keys]
        self.run_together = ["".join(profiles[key].tokens) for key in self.keys]
        self.by_value: dict[tuple[str, str], list[int]] = {}
        for key, found in profiles.items():
            for attribute in ("phone", "email_domain", "address_1"):
                value = getattr(found, attribute)
                if value:
                    self.by_value.setdefault((attribute, value), []).append(key)

    def candidates(self, wanted: MatchProfile) -> set[int]:
        found: set[int] = set()
        if wanted.tokens:
            cutoff = WEIGHTS.name_floor * 100
            for query, choices, scorer in (
                # The names are sorted word by word once, here and in __init__: a plain ratio is token_sort_ratio.
                (" ".join(sorted(wanted.tokens)), self.sorted_names, fuzz.ratio),
                ("".join(wanted.tokens), self.run_together, fuzz.ratio),
            ):
                for _, _, position in process.extract(
                    query, choices, scorer=scorer, processor=None, score_cutoff=cutoff, limit=NAME_CANDIDATES
                ):
                    found.add(self.keys[position])
        for attribute in ("phone", "email_domain", "address_1"):
            value = getattr(wanted, attribute)
            if value:
                found.update(self.by_value.get((attribute, value), ()))
        return found

    def ranked(self, wanted: MatchProfile, *, limit: int | None = None) -> list[tuple[int, MatchScore]]:
        """(key, score) of every profile that reaches Low, best first (ties: lower key first)."""
        scored = []
        for key in self.candidates(wanted):
            result = score(wanted, self.profiles[key])
            if result.level is not None:
                scored.append((key, result))
        scored.sort(key=lambda item: (-item[1].points, item[0]))
        return scored[:limit] if limit is not None else scored


def weight_rows(weights: Weights = WEIGHTS) -> list[tuple[str, str, str]]:
    """(what is compared, points, how) for the Field mappings page, read off the one declaration."""
    floor = round(weights.name_floor * 100)
    return [
        (
            "Name",
            f"up to {weights.name}",
            f"All {weights.name} when the names are the same once case, punctuation, accents, word order, legal "
            "words (Pty, Ltd, Proprietary, Limited, Inc, Partners, …), “&”/“and” and “St.”/“Saint” are set aside; "
            f"otherwise a share rising from 0 at {floor}% alike to all at 100% (rapidfuzz). An initial for a "
            f"word (“J Smith” / “John Smith”) counts as {round(INITIALS_SIMILARITY * 100)}% alike.",
        ),
        ("Main-site phone", str(weights.phone), f"The last {PHONE_DIGITS_COMPARED} digits are the same."),
        (
            "Invoice e-mail domain",
            str(weights.email_domain),
            "The first invoice address has the same domain, unless it is a public mail service (gmail.com, …).",
        ),
        ("Address line 1", str(weights.address_1), "The same once case, punctuation and Street/St, Road/Rd are aside."),
        ("Postcode", str(weights.postcode), "The same, spaces aside."),
        ("City", str(weights.city), "The same, case and punctuation aside."),
    ]
