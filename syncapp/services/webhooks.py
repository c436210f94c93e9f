"""HaloPSA webhooks: who may send them, recording each event, and queueing the (coalesced) work it asks for."""

import base64
import binascii
import hmac
import logging
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from syncapp.choices import SyncKind, SyncTrigger, WebhookEventStatus
from syncapp.exceptions import PortalError, SyncAlreadyRunning
from syncapp.halo.webhooks import TEST_EVENT, WebhookNotice
from syncapp.models import Site, WebhookEvent
from syncapp.services.client_sync import client_sync_request
from syncapp.services.runs import sync_run_request

logger = logging.getLogger("syncapp.webhooks")

API_KEY_HEADERS = ("HTTP_X_API_KEY", "HTTP_API_KEY", "HTTP_APIKEY")


def webhook_enabled() -> bool:
    """The endpoint answers only when a token or a username and password are configured."""
    return bool(settings.HALO_WEBHOOK_TOKEN or (settings.HALO_WEBHOOK_USERNAME and settings.HALO_WEBHOOK_PASSWORD))


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def webhook_authorised(meta: dict) -> bool:
    """Basic auth, a bearer token or an API key header, each compared in constant time."""
    header = meta.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    token = settings.HALO_WEBHOOK_TOKEN
    username, password = settings.HALO_WEBHOOK_USERNAME, settings.HALO_WEBHOOK_PASSWORD
    if token:
        if scheme.lower() == "bearer" and _same(value.strip(), token):
            return True
        if any(_same(meta.get(name, "").strip(), token) for name in API_KEY_HEADERS):
            return True
    if username and password and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        given_user, _, given_password = decoded.partition(":")
        # Both compared whatever the first gives, so the time taken tells nothing.
        return _same(given_user, username) & _same(given_password, password)
    return False


@dataclass(frozen=True)
class WebhookReceipt:
    events: int
    queued: int
    coalesced: int
    full_sync: bool


def _client_of(notice: WebhookNotice) -> int | None:
    if notice.client_id is not None:
        return notice.client_id
    if notice.object_type == "site" and notice.object_id is not None:
        # The body named the site only: the site we hold knows its client.
        site = Site.objects.filter(halo_id=notice.object_id).values_list("customer__halo_link__halo_id", flat=True)
        return site.first()
    return None


def webhook_receive(notices: list[WebhookNotice]) -> WebhookReceipt:
    """Record every event and queue its work on commit; one queued read per client, however many events name it."""
    now = timezone.now()
    rows = []
    queued = coalesced = 0
    full_sync = False
    with transaction.atomic():
        for notice in notices:
            row = WebhookEvent(
                received_at=now,
                event=notice.event,
                object_type=notice.object_type,
                object_id=notice.object_id,
            )
            rows.append(row)
            if notice.is_test:
                row.status = WebhookEventStatus.TEST
                continue
            client_id = _client_of(notice)
            row.client_halo_id = client_id
            if client_id is None:
                row.status = WebhookEventStatus.FULL_SYNC
                if not full_sync:
                    full_sync = True
                    row.error = _queue_full_sync()
                continue
            if client_sync_request(
                halo_id=client_id,
                kind=SyncKind.WEBHOOK,
                trigger=SyncTrigger.WEBHOOK,
                delete_seen=notice.deletes_client,
                countdown=settings.HALO_WEBHOOK_COALESCE_SECONDS,
            ):
                row.status = WebhookEventStatus.QUEUED
                queued += 1
            else:
                row.status = WebhookEventStatus.COALESCED
                coalesced += 1
        WebhookEvent.objects.bulk_create(rows)
    return WebhookReceipt(events=len(rows), queued=queued, coalesced=coalesced, full_sync=full_sync)


def _queue_full_sync() -> str:
    """An event naming no client: reconcile with a full sync rather than drop it; "" or why none was queued."""
    try:
        sync_run_request(actor=None, trigger=SyncTrigger.WEBHOOK)
    except SyncAlreadyRunning as running:
        return f"A full sync was already running (run #{running.run.pk})."
    except PortalError as error:
        return str(error)
    return ""


def webhook_refused(*, reason: str) -> None:
    """Record a body that could not be read (its content is not kept: it may carry anything)."""
    WebhookEvent.objects.create(status=WebhookEventStatus.REJECTED, error=reason[:1000])


def webhook_send_test_event(*, url: str) -> tuple[bool, str]:
    """POST a test event to the portal's own webhook URL with the configured credentials, as HaloPSA would."""
    if not webhook_enabled():
        return False, "Webhooks are off: set HALO_WEBHOOK_TOKEN, or HALO_WEBHOOK_USERNAME and HALO_WEBHOOK_PASSWORD."
    headers = {"Content-Type": "application/json"}
    auth = None
    if settings.HALO_WEBHOOK_TOKEN:
        headers["Authorization"] = f"Bearer {settings.HALO_WEBHOOK_TOKEN}"
    else:
        auth = (settings.HALO_WEBHOOK_USERNAME, settings.HALO_WEBHOOK_PASSWORD)
    try:
        response = requests.post(url, json={"event": TEST_EVENT}, headers=headers, auth=auth, timeout=5)
    except requests.RequestException as error:
        return False, f"The test event did not reach {url}: {type(error).__name__}."
    if response.status_code != 202:
        return False, f"{url} answered HTTP {response.status_code} to the test event."
    return True, f"The test event reached {url} and was recorded."
