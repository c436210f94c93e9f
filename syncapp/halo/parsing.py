"""Turns HaloPSA JSON into typed records: the only module where HaloPSA's JSON key names appear."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from syncapp.textclean import clean_text, quote_value

from .errors import HaloBadResponse
from .records import CustomFieldDefinition, CustomFieldValue, HaloAddress, HaloClientRecord, HaloSiteRecord

DATAGATE_FIELD_NAME = "CFDatagate"
CLIENTS_KEY = "clients"
SITES_KEY = "sites"
# FieldInfo's shape is undocumented (halopsa-api.md §4): a bare array, or an envelope under one of these keys.
FIELDINFO_ENVELOPE_KEYS = ("fields", "fieldinfo", "field_info", "records", "data", "results", "items")
CLIENT_CUSTOM_FIELD_TYPEID = 2
TICKED_WORDS = frozenset({"1", "true", "yes"})
MESSAGE_LIMIT = 200
# .NET writes "no date" as its minimum or as 1900-01-01; both mean "never".
NULL_DATE_YEARS = (1, 1900)


def _text(value: Any) -> str:
    # Every text HaloPSA sends passes here: NUL, other control characters and lone surrogates are cleaned away, so
    # one poisoned value can never fail a page's database write (PostgreSQL refuses NUL; UTF-8 refuses surrogates).
    if type(value) is str:  # the common case first: this runs for every field of tens of thousands of rows
        return clean_text(value).strip()
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "Yes" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_text(str(value)).strip()


def as_int(value: Any) -> int | None:
    """Read an integer that HaloPSA may send as 12, 12.0, "12" or "12.0"; None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if math.isfinite(number) and number.is_integer() else None
    return None


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in TICKED_WORDS
    return value is True or (isinstance(value, (int, float)) and value == 1)


def _as_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.year in NULL_DATE_YEARS:
        return None
    # HaloPSA stores UTC and often omits the offset.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_ticked(value: Any, display: Any) -> bool:
    """A checkbox is ticked when value is true, 1, "1", "true" or "yes" (any case), or its display says "Yes"."""
    if _as_bool(value):
        return True
    return isinstance(display, str) and display.strip().lower() in ("yes", "true")


def _row_id(row: Any, what: str) -> int:
    if not isinstance(row, dict):
        raise HaloBadResponse(f"HaloPSA sent a {what} that is not a JSON object ({type(row).__name__}).")
    row_id = as_int(row.get("id"))
    if row_id is None:
        raise HaloBadResponse(f"HaloPSA sent a {what} without a whole-number id ({quote_value(repr(row.get('id')))}).")
    return row_id


def _custom_field_entries(row: dict[str, Any]) -> list[dict[str, Any]]:
    entries = row.get("customfields")
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries if isinstance(entry, dict) and as_int(entry.get("id")) is not None]


def _custom_field_display(entry: dict[str, Any]) -> str:
    display = _text(entry.get("display"))
    return display if display else _text(entry.get("value"))


def parse_client(row: Any, *, datagate_field_id: int | None = None) -> HaloClientRecord:
    """Parse one client row (list or detail); CFDatagate is found by `datagate_field_id`, else by its name."""
    client_id = _row_id(row, "client")
    entries = _custom_field_entries(row)
    ticked = False
    for entry in entries:
        if datagate_field_id is not None:
            is_datagate = as_int(entry.get("id")) == datagate_field_id
        else:
            is_datagate = _text(entry.get("name")).lower() == DATAGATE_FIELD_NAME.lower()
        if is_datagate:
            ticked = is_ticked(entry.get("value"), entry.get("display"))
    main_site_id = as_int(row.get("main_site_id"))
    return HaloClientRecord(
        id=client_id,
        name=_text(row.get("name")),
        inactive=_as_bool(row.get("inactive")),
        # HaloPSA uses 0 or -1 for "no main site".
        main_site_id=main_site_id if main_site_id is not None and main_site_id > 0 else None,
        accounts_email=_text(row.get("accountsemailaddress")),
        accounts_cc_email=_text(row.get("accountsccemailaddress")),
        accounts_first_name=_text(row.get("accountsfirstname")),
        accounts_last_name=_text(row.get("accountslastname")),
        main_phone=_text(row.get("main_phonenumber")),
        last_updated=_as_datetime(row.get("alastupdate")),
        datagate_ticked=ticked,
        custom_fields=tuple(
            CustomFieldValue(
                id=as_int(entry.get("id")) or 0,
                name=_text(entry.get("name")),
                label=_text(entry.get("label")),
                display=_custom_field_display(entry),
            )
            for entry in entries
        ),
    )


_ADDRESS_KEYS = {number: (f"line{number}", f"delivery_address_line{number}") for number in range(1, 6)}


def _address(row: dict[str, Any]) -> HaloAddress:
    nested = row.get("delivery_address")
    nested = nested if isinstance(nested, dict) else {}

    def line(number: int) -> str:
        nested_key, flat_key = _ADDRESS_KEYS[number]
        return _text(nested.get(nested_key)) or _text(row.get(flat_key))

    # In the flat form the postcode is most likely line 5 (halopsa-api.md §3); a nested postcode wins.
    postcode = _text(nested.get("postcode")) or _text(row.get("delivery_address_postcode")) or line(5)
    return HaloAddress(line1=line(1), line2=line(2), line3=line(3), line4=line(4), postcode=postcode)


def parse_site(row: Any) -> HaloSiteRecord:
    """Parse one site row (list or detail); `client_id` may arrive as 12.0 or "12.0"."""
    site_id = _row_id(row, "site")
    client_id = as_int(row.get("client_id"))
    if client_id is None:
        raise HaloBadResponse(
            f"HaloPSA sent site {site_id} without a client id ({quote_value(repr(row.get('client_id')))})."
        )
    return HaloSiteRecord(
        id=site_id,
        name=_text(row.get("name")),
        client_id=client_id,
        inactive=_as_bool(row.get("inactive")),
        phone=_text(row.get("phonenumber")),
        address=_address(row),
        last_updated=_as_datetime(row.get("slastupdate")),
    )


def parse_listing(body: Any, key: str, what: str) -> tuple[int, list[Any]]:
    """Return (record_count, rows) of a paged listing envelope, reading rows from `key` only."""
    if not isinstance(body, dict):
        raise HaloBadResponse(f"HaloPSA answered the {what} with {type(body).__name__} instead of a paged envelope.")
    rows = body.get(key)
    if rows is None:
        rows = []
    if not isinstance(rows, list):
        raise HaloBadResponse(f"HaloPSA's {what} has no list under {key!r}.")
    record_count = as_int(body.get("record_count"))
    if record_count is None or record_count < 0:
        raise HaloBadResponse(f"HaloPSA's {what} has no record_count, so its completeness cannot be checked.")
    return record_count, rows


def _definition(entry: Any) -> CustomFieldDefinition | None:
    if not isinstance(entry, dict):
        return None
    field_id = as_int(entry.get("id"))
    name = _text(entry.get("name"))
    if field_id is None or not name:
        return None
    return CustomFieldDefinition(id=field_id, name=name, label=_text(entry.get("label")))


def parse_field_info(body: Any) -> list[CustomFieldDefinition]:
    """Client custom field definitions from GET /api/FieldInfo, which may be a bare array or an envelope."""
    entries: Any = body
    if isinstance(body, dict):
        entries = next((body[key] for key in FIELDINFO_ENVELOPE_KEYS if isinstance(body.get(key), list)), None)
        if entries is None:
            lists = [value for value in body.values() if isinstance(value, list)]
            entries = lists[0] if len(lists) == 1 else None
    if not isinstance(entries, list):
        raise HaloBadResponse("HaloPSA's custom field list (FieldInfo) is neither an array nor a known envelope.")
    definitions = []
    for entry in entries:
        definition = _definition(entry)
        if definition is None:
            continue
        # Keep client custom fields only, when the entry says what it belongs to; custom names start with "CF".
        typeid = as_int(entry.get("typeid"))
        if typeid is not None and typeid != CLIENT_CUSTOM_FIELD_TYPEID:
            continue
        if not definition.name.upper().startswith("CF") and not _as_bool(entry.get("custom")):
            continue
        definitions.append(definition)
    return definitions


def client_field_definitions(row: Any) -> list[CustomFieldDefinition]:
    """Client custom field definitions as listed by one client's detail (GET /api/Client/{id}?includedetails)."""
    _row_id(row, "client")
    return [definition for entry in _custom_field_entries(row) if (definition := _definition(entry))]


def parse_token(body: Any) -> tuple[str, float | None]:
    """Return (access_token, expires_in seconds or None) from a token response."""
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise HaloBadResponse("HaloPSA's token response has no access_token.")
    try:
        lifetime = float(body.get("expires_in"))
    except (TypeError, ValueError):
        lifetime = None
    return body["access_token"], lifetime if lifetime is not None and math.isfinite(lifetime) and lifetime > 0 else None


def _one_line(text: str) -> str:
    text = re.sub(r"\s+", " ", clean_text(text)).strip()
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _message_from_json(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(part for item in body if (part := _message_from_json(item)))
    if not isinstance(body, dict):
        return "" if body is None else str(body)
    error, description = _text(body.get("error")), _text(body.get("error_description"))
    if error or description:
        return f"{error}: {description}" if error and description else error or description
    for key in ("errorMessage", "Message", "message", "detail", "title"):
        if isinstance(body.get(key), str) and body[key].strip():
            return body[key]
    # ASP.NET validation maps: {"[0].id": ["The id is invalid."]}, sometimes nested under "errors".
    problems = body.get("errors") if isinstance(body.get("errors"), dict) else body
    parts = [f"{key}: {'; '.join(map(str, value))}" for key, value in problems.items() if isinstance(value, list)]
    return "; ".join(parts)


def extract_halo_message(text: str) -> str:
    """HaloPSA's own error message from a response body in any of its known forms, as one short line."""
    if not text or not text.strip():
        return ""
    try:
        message = _message_from_json(json.loads(text))
    except ValueError:
        title = re.search(r"<title[^>]*>(.*?)</title>", text, flags=re.IGNORECASE | re.DOTALL)
        message = title.group(1) if title else re.sub(r"<[^>]+>", " ", text)
    return _one_line(message)
