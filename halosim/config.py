"""SimConfig: the switches that make the simulator reproduce each trap and uncertain variant of HaloPSA."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

CHECKBOX_FORMS = ("bool", "int", "str_int", "str_true", "yes", "display_only")
SITE_ADDRESS_FORMS = ("flat", "nested")
FIELDINFO_FORMS = ("array", "envelope", "missing")
FAIL_BODY_FORMS = ("json", "html")
# How a 429 says when to come back: not at all (hosted Halo), or one of the headers other APIs send.
RATE_LIMIT_HEADER_STYLES = (
    "none",
    "retry_after_seconds",
    "retry_after_date",
    "reset_seconds",
    "reset_unix",
    "remaining",  # X-RateLimit-Remaining on every answer, counting down to 0; no word on when
)

WEBHOOK_BODY_FORMS = ("record", "nested", "ids")

_CHOICES = {
    "checkbox_form": CHECKBOX_FORMS,
    "site_address_form": SITE_ADDRESS_FORMS,
    "fieldinfo_form": FIELDINFO_FORMS,
    "fail_body_form": FAIL_BODY_FORMS,
    "rate_limit_headers": RATE_LIMIT_HEADER_STYLES,
    "webhook_body_form": WEBHOOK_BODY_FORMS,
}
_FLAT_LINES = {f"delivery_address_line{n}" for n in range(1, 5)}


@dataclass
class SimConfig:
    """Behaviour switches; the Simulator reads them on every request, so changes apply to the next one."""

    checkbox_form: str = "bool"
    honour_include_custom_fields: bool = True
    site_address_form: str = "flat"
    fieldinfo_form: str = "array"
    rate_limit: int | None = None
    rate_window_seconds: float = 300.0
    send_retry_after: bool = False
    fail_next: int = 0
    fail_status: int = 503
    latency_seconds: float = 0.0
    malformed_next: int = 0
    truncate_listings: int = 0
    token_lifetime: int = 3600
    expired_token_status: int = 401
    default_page_size: int = 50
    max_page_size: int = 100
    # Additions beyond the contract, each defaulting to the harsher behaviour or to "off".
    fail_token_next: int = 0  # the next N token requests answer fail_status (fail_next covers /api only)
    fail_body_form: str = "json"  # "html": a gateway's HTML error page instead of Halo's JSON body
    site_address_needs_include: bool = True  # False: list rows carry the address even without includeaddress=true
    # The remaining uncertain variants of halopsa-api.md, each off by default.
    list_rows_carry_phone: bool = False  # client list rows also carry main_phonenumber
    list_rows_all_custom_fields: bool = False  # client list rows carry every custom field even when not asked
    detail_omits_empty_custom_fields: bool = False  # includedetails lists only custom fields that hold a value
    inactive_included_by_default: bool = False  # lists include inactive records without includeinactive=true
    flat_postcode_key: str = "delivery_address_line5"  # where the flat address form puts the postcode
    fieldinfo_client_typeid: int = 2  # FieldInfo's typeid for client custom fields
    # Rate-limit storms and outages (times on the simulator's clock, so tests can use a fake one).
    rate_limit_headers: str = "none"  # see RATE_LIMIT_HEADER_STYLES; send_retry_after=true means retry_after_seconds
    storm_seconds: float = 0.0  # the next API request starts a storm: every request answers 429 for this long
    outage_seconds: float = 0.0  # the next API request starts an outage: every request answers fail_status this long
    shared_consumer_requests: int = 0  # another integration spends this many requests of every rate window
    # Outbound webhooks: a client or site change is POSTed here ("" = off); credentials come from the environment.
    webhook_url: str = ""
    webhook_body_form: str = "record"  # "record": the record itself plus "event"; "nested"; "ids": ids only
    webhook_batch_seconds: float = 0.0  # > 0: collect events this long and send them as one array
    webhook_batch_limit: int = 0  # with batching, at most this many events per array (0 = no limit)

    def validate(self) -> None:
        """Raise ValueError when a switch holds a value the simulator does not know."""
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}; got {getattr(self, name)!r}")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be a positive integer or None")
        if not self.flat_postcode_key.startswith("delivery_address_") or self.flat_postcode_key in _FLAT_LINES:
            raise ValueError("flat_postcode_key must be delivery_address_line5 or another delivery_address_* key")
        if self.storm_seconds < 0 or self.outage_seconds < 0 or self.shared_consumer_requests < 0:
            raise ValueError("storm_seconds, outage_seconds and shared_consumer_requests must not be negative")
        if self.webhook_url and not self.webhook_url.startswith(("http://", "https://")):
            raise ValueError("webhook_url must be an http:// or https:// URL (or empty for no webhooks)")
        if self.webhook_batch_seconds < 0 or self.webhook_batch_limit < 0:
            raise ValueError("webhook_batch_seconds and webhook_batch_limit must not be negative")
        if self.max_page_size < 1 or self.default_page_size < 1:
            raise ValueError("page sizes must be positive")

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update (e.g. from JSON), coercing types; nothing changes if any value is invalid."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        trial = dataclasses.replace(self)
        for name, value in changes.items():
            setattr(trial, name, _coerce(name, fields[name].default, value))
        trial.validate()
        for name in changes:
            setattr(self, name, getattr(trial, name))

    def as_dict(self) -> dict[str, Any]:
        """Return the switches as a plain JSON-ready dict."""
        return dataclasses.asdict(self)


def _coerce(name: str, default: Any, value: Any) -> Any:
    # Defaults tell the type: JSON and CLI give loose types (1 for True, "300" for 300) that must not leak through.
    if name == "rate_limit":
        return None if value in (None, "", "none", "None") else int(value)
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return str(value)
