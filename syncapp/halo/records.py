"""Typed, immutable records the HaloPSA client hands out; no HaloPSA JSON key names live here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HaloAddress:
    """A site's delivery address: four free-text lines and a postcode (HaloPSA has no city or state fields)."""

    line1: str = ""
    line2: str = ""
    line3: str = ""
    line4: str = ""
    postcode: str = ""


@dataclass(frozen=True, slots=True)
class CustomFieldValue:
    """One client custom field as HaloPSA shows it: `display` is the text a person sees ("" when empty)."""

    id: int
    name: str
    label: str
    display: str


@dataclass(frozen=True, slots=True)
class HaloClientRecord:
    """A HaloPSA client (customer), reduced to the fields this project reads."""

    id: int
    name: str
    inactive: bool
    main_site_id: int | None
    accounts_email: str
    accounts_cc_email: str
    accounts_first_name: str
    accounts_last_name: str
    main_phone: str
    last_updated: datetime | None
    datagate_ticked: bool
    custom_fields: tuple[CustomFieldValue, ...] = ()

    def custom_field_display(self, field_id: int) -> str:
        """Return the display text of custom field `field_id`, or "" when the client does not carry it."""
        for value in self.custom_fields:
            if value.id == field_id:
                return value.display
        return ""

    def has_custom_field(self, field_id: int) -> bool:
        """Tell whether HaloPSA sent custom field `field_id` with this client (list rows may omit them)."""
        return any(value.id == field_id for value in self.custom_fields)


@dataclass(frozen=True, slots=True)
class HaloSiteRecord:
    """A HaloPSA site of a client; the client's main site is named by HaloClientRecord.main_site_id."""

    id: int
    name: str
    client_id: int
    inactive: bool
    phone: str
    address: HaloAddress
    last_updated: datetime | None


@dataclass(frozen=True, slots=True)
class ClientPage:
    """One page of the client listing; `record_count` is HaloPSA's total for the whole listing."""

    page_no: int
    record_count: int
    clients: tuple[HaloClientRecord, ...]


@dataclass(frozen=True, slots=True)
class SitePage:
    """One page of the site listing; `record_count` is HaloPSA's total for the whole listing."""

    page_no: int
    record_count: int
    sites: tuple[HaloSiteRecord, ...]


@dataclass(frozen=True, slots=True)
class ClientCustomFields:
    """The CFDatagate field's id and the ids of the (up to) five client custom fields mapped to Extra Fields 1-5."""

    datagate_field_id: int
    extra_field_ids: tuple[int, ...] = ()
    # The definitions behind extra_field_ids, in the same order (for the screens' "Contract Tier" labels); what the
    # sync reads is decided by the ids alone, so two discoveries with the same ids compare equal.
    extra_fields: tuple[CustomFieldDefinition, ...] = field(default=(), compare=False)

    @property
    def all_ids(self) -> tuple[int, ...]:
        """The ids to ask a listing for: CFDatagate first, then the extra fields."""
        return (self.datagate_field_id, *self.extra_field_ids)


@dataclass(frozen=True, slots=True)
class CustomFieldDefinition:
    """A client custom field's definition as discovered from HaloPSA (id, internal name, UI label)."""

    id: int
    name: str
    label: str


@dataclass(frozen=True, slots=True)
class AccessCheck:
    """The outcome of HaloClient.check_access(): what a "Test account access" button reports."""

    datagate_field_id: int
    client_count: int
    ticked_count: int | None  # None: not counted live (the access check reads one page only)
    detail_fallback: bool
    extra_field_ids: tuple[int, ...] = ()
    request_count: int = 0


@dataclass
class ClientStats:
    """Counters of one HaloClient's traffic, for budgets, progress screens and tests."""

    requests: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    retries: int = 0
    detail_fallback: bool = False
    detail_calls: int = 0
    token_requests: int = 0
    waited_seconds: float = 0.0

    @property
    def total_requests(self) -> int:
        """Every HTTP request sent, token requests and retries included."""
        return sum(self.requests.values())


@dataclass(frozen=True, slots=True)
class WaitNotice:
    """What holds the client right now, for whoever shows it: the observer gets one before each wait, None after.

    `kind` is "rate_limit" (HaloPSA answered 429), "budget" (the shared rolling window is full) or "server"
    (HaloPSA answered 5xx or the connection dropped); `message` says it in words for staff.
    """

    kind: str
    seconds: float
    message: str
    status: int | None = None
    attempt: int = 0
    max_attempts: int = 0
