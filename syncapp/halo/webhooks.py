"""Reading HaloPSA's outbound webhook bodies: which client or site an event names, whatever shape it arrives in.

HaloPSA's default webhook body is not documented with certainty. Public integrations read the object's id from
`id` (the body is the record itself, as the API returns it), or from `client_id` / `clientid` / `area_id` (HaloPSA
calls clients "areas" internally), sometimes nested under `client`, `site`, `data`, `object` or `payload`; the event
name comes under `event`, `event_name`, `eventname`, `type` or `webhook_event`. All of these are accepted. Batching
(time- or count-based) sends an array of such bodies, or an object holding one under `events` / `batch`.
An event naming no id is still accepted: the caller falls back to a full sync rather than dropping it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .parsing import as_int

MAX_EVENTS_PER_BODY = 1000
EVENT_NAME_KEYS = ("event", "event_name", "eventname", "event_type", "eventtype", "type", "webhook_event", "trigger")
BATCH_KEYS = ("events", "batch", "items")
NESTED_KEYS = ("client", "site", "area", "customer", "data", "object", "payload", "record", "entity")
CLIENT_ID_KEYS = ("client_id", "clientid", "area_id", "areaid", "customer_id", "customerid")
SITE_ID_KEYS = ("site_id", "siteid")
OBJECT_ID_KEYS = ("id", "object_id", "objectid", "record_id", "recordid", "entity_id")
CLIENT_WORDS = ("client", "customer", "area")
TEST_EVENT = "datagate.test"


class WebhookBodyError(ValueError):
    """A webhook body that cannot be read; the message says why and never quotes the body."""


@dataclass(frozen=True, slots=True)
class WebhookNotice:
    """One event of a webhook body, reduced to what the sync needs."""

    event: str  # the event name as sent (shortened), "" when the body names none
    object_type: str  # "client", "site" or "" when it cannot be told
    action: str  # "created", "updated" or "deleted"
    object_id: int | None
    client_id: int | None  # the HaloPSA client to sync; None: unknown, fall back to a full sync

    @property
    def is_test(self) -> bool:
        return self.event.lower() == TEST_EVENT

    @property
    def deletes_client(self) -> bool:
        return self.object_type == "client" and self.action == "deleted"


def parse_webhook_body(raw: bytes) -> list[WebhookNotice]:
    """Every event in a webhook body (a single object or a batch); WebhookBodyError when it is not one."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookBodyError("The body is not JSON.") from None
    if isinstance(body, dict):
        batch = next((body[key] for key in BATCH_KEYS if isinstance(body.get(key), list)), None)
        items = batch if batch is not None else [body]
    elif isinstance(body, list):
        items = body
    else:
        raise WebhookBodyError(f"The body is a JSON {type(body).__name__}, not an object or an array of objects.")
    if not items:
        raise WebhookBodyError("The body holds no events.")
    if len(items) > MAX_EVENTS_PER_BODY:
        raise WebhookBodyError(f"The body holds {len(items)} events; at most {MAX_EVENTS_PER_BODY} are read at once.")
    notices = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise WebhookBodyError(f"Event {index + 1} is a JSON {type(item).__name__}, not an object.")
        notices.append(_notice(item, index))
    return notices


def _event_name(item: dict[str, Any]) -> str:
    for key in EVENT_NAME_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:80]
    return ""


def _object_type(event: str, nested_key: str, record: dict[str, Any]) -> str:
    words = event.lower().replace("_", " ").replace(".", " ")
    if "site" in words or nested_key == "site":
        return "site"
    if any(word in words for word in CLIENT_WORDS) or nested_key in ("client", "area", "customer"):
        return "client"
    if any(key in record for key in SITE_ID_KEYS):
        return "site"
    return ""


def _action(event: str) -> str:
    words = event.lower()
    if any(word in words for word in ("delet", "remov")):
        return "deleted"
    if any(word in words for word in ("creat", "new", "insert", "add")):
        return "created"
    return "updated"


def _first_id(record: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = as_int(record.get(key))
        if value is not None and value > 0:
            return value
    return None


def _notice(item: dict[str, Any], index: int) -> WebhookNotice:
    event = _event_name(item)
    nested_key, record = next(((key, item[key]) for key in NESTED_KEYS if isinstance(item.get(key), dict)), ("", item))
    object_type = _object_type(event, nested_key, record)
    known = (*OBJECT_ID_KEYS, *CLIENT_ID_KEYS, *SITE_ID_KEYS)
    if not event and not nested_key and not any(key in record for key in known):
        raise WebhookBodyError(f"Event {index + 1} names no event and no HaloPSA record.")
    named_client = _first_id(record, CLIENT_ID_KEYS) or _first_id(item, CLIENT_ID_KEYS)
    if object_type == "site":
        object_id = _first_id(record, (*SITE_ID_KEYS, *OBJECT_ID_KEYS))
        client_id = named_client
    elif object_type == "client":
        # HaloPSA's default body is the record itself, so the client's own id is under `id`.
        object_id = _first_id(record, OBJECT_ID_KEYS) or named_client
        client_id = object_id
    else:
        # Neither the event nor the record says what it is: a client id it names is synced, a bare id is not.
        object_id = _first_id(record, OBJECT_ID_KEYS) or named_client
        client_id = named_client
    return WebhookNotice(
        event=event, object_type=object_type, action=_action(event), object_id=object_id, client_id=client_id
    )
