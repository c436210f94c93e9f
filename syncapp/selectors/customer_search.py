"""The customer search: what a clerk types (a name, HaloPSA id, e-mail, phone, postcode, city) and what matched."""

import re
from dataclasses import dataclass

from django.db.models import Q, Subquery

from syncapp.models import Customer, HaloLink

# Longer input is cut, not refused: nobody types more, and a pasted page must not become a huge query.
MAX_SEARCH_LENGTH = 200
MAX_SEARCH_WORDS = 8
# Fewer digits than this in a phone-like search are too common to be a phone number (and are searched as words).
MIN_PHONE_DIGITS = 6
MAX_HALO_ID = 2**31 - 1

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_PHONE_LIKE = re.compile(r"[\d\s()+\-./]+")
# A word is a run of letters and digits, with e-mail punctuation allowed inside it ("accounts@acme.com.au").
_WORD = re.compile(r"\w(?:[\w@.+'&-]*\w)?")
# The characters the database strips from phone numbers for search_text (see syncapp.models).
_PHONE_SEPARATORS = re.compile(r"[\s\-()+./]")


@dataclass(frozen=True)
class CustomerSearch:
    """A search as understood: its words (lower-cased), its digits when it looks like a phone, a HaloPSA id."""

    words: tuple[str, ...]
    phone_digits: str
    halo_id: int | None

    @classmethod
    def parse(cls, text: str) -> "CustomerSearch":
        cleaned = _CONTROL_CHARACTERS.sub(" ", text or "")[:MAX_SEARCH_LENGTH].strip()
        words = tuple(dict.fromkeys(word.lower() for word in _WORD.findall(cleaned)))[:MAX_SEARCH_WORDS]
        digits = "".join(ch for ch in cleaned if ch.isdigit() and ch.isascii())
        phone_like = bool(cleaned) and _PHONE_LIKE.fullmatch(cleaned) is not None
        halo_id = int(cleaned) if cleaned.isascii() and cleaned.isdigit() and 0 < int(cleaned) <= MAX_HALO_ID else None
        return cls(
            words=words,
            phone_digits=digits if phone_like and len(digits) >= MIN_PHONE_DIGITS else "",
            halo_id=halo_id,
        )

    def __bool__(self) -> bool:
        return bool(self.words or self.phone_digits or self.halo_id)

    def condition(self) -> Q:
        """Every word somewhere in the name, e-mails, city, postcode or phone; or the phone's digits; or the id."""
        found = Q()
        for word in self.words:
            found &= Q(search_text__contains=word)
        if self.phone_digits:
            found |= Q(search_text__contains=self.phone_digits)
        if self.halo_id is not None:
            # The id's customer, found once through the unique index on the link: a scalar subquery, so the
            # database can OR it with the words' index lookups (an IN subquery made PostgreSQL read every row).
            linked = HaloLink.objects.filter(halo_id=self.halo_id).values("customer_id")[:1]
            found |= Q(pk=Subquery(linked))
        return found

    def matches(self, customer: Customer, *, halo_id: int | None) -> list[str]:
        """What matched, in words a clerk reads: "name", "HaloPSA id", "e-mail accounts@…", "phone …", ..."""
        found = []
        if self.halo_id is not None and halo_id == self.halo_id:
            found.append("HaloPSA id")
        fields = (
            ("name", customer.name, False),
            ("e-mail", customer.invoice_email_to, True),
            ("CC e-mail", customer.invoice_email_cc, True),
            ("city", customer.city, True),
            ("postcode", customer.postcode, True),
        )
        for label, value, show in fields:
            folded = value.lower()
            if value and any(word in folded for word in self.words):
                found.append(f"{label} {value}" if show else label)
        phone = _PHONE_SEPARATORS.sub("", customer.contact_phone)
        needles = [self.phone_digits] if self.phone_digits else list(self.words)
        if phone and any(needle and needle in phone for needle in needles):
            found.append(f"phone {customer.contact_phone}")
        return found


def search_customers(queryset, text: str):
    """The customers the search finds (all of them for an empty or meaningless search)."""
    search = CustomerSearch.parse(text)
    return queryset.filter(search.condition()) if search else queryset
