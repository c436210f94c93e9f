"""POST /halo/webhook/ over real HTTP: off unless configured, authentication, bad bodies, batches and coalescing."""

import json
import logging

import pytest
import requests

from syncapp.choices import SyncKind, SyncTrigger, WebhookEventStatus
from syncapp.models import HaloClientSync, SyncRun, WebhookEvent
from tests.factories import CustomerFactory, HaloLinkFactory, SiteFactory
from tests.webhooks.conftest import WEBHOOK_PASSWORD, WEBHOOK_TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


def post(live_server, body, *, headers: dict | None = None, auth=None, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(
        f"{live_server.url}/halo/webhook/",
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        auth=auth,
        timeout=10,
    )


BEARER = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}


def test_the_endpoint_is_off_unless_credentials_are_configured(live_server, settings) -> None:
    settings.HALO_WEBHOOK_TOKEN = settings.HALO_WEBHOOK_USERNAME = settings.HALO_WEBHOOK_PASSWORD = ""
    assert post(live_server, {"event": "Client Updated", "id": 5}, headers=BEARER).status_code == 404
    settings.HALO_WEBHOOK_USERNAME = "halopsa"  # a username without a password is not a configuration
    assert post(live_server, {"event": "Client Updated", "id": 5}, auth=("halopsa", "")).status_code == 404
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": f"Bearer {WEBHOOK_TOKEN}x"},
        {"Authorization": f"Basic {WEBHOOK_TOKEN}"},
        {"X-API-Key": "nope"},
        {"Authorization": "Bearer"},
    ],
    ids=["none", "wrong-bearer", "longer-bearer", "token-as-basic", "wrong-api-key", "empty-bearer"],
)
def test_requests_without_the_right_token_are_refused_and_record_nothing(live_server, webhook_token, headers) -> None:
    response = post(live_server, {"event": "Client Updated", "id": 5}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not WebhookEvent.objects.exists() and not HaloClientSync.objects.exists()


@pytest.mark.parametrize("headers", [BEARER, {"X-API-Key": WEBHOOK_TOKEN}], ids=["bearer", "api-key"])
def test_the_right_token_is_accepted(live_server, webhook_token, queued_tasks, headers) -> None:
    response = post(live_server, {"event": "Client Updated", "id": 5}, headers=headers)
    assert response.status_code == 202
    assert response.json() == {"events": 1, "queued": 1, "coalesced": 0, "full_sync": False}
    event = WebhookEvent.objects.get()
    assert (event.event, event.object_type, event.object_id, event.client_halo_id, event.status) == (
        "Client Updated",
        "client",
        5,
        5,
        WebhookEventStatus.QUEUED,
    )


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        (None, 401),
        (("halopsa", "wrong"), 401),
        (("someone", WEBHOOK_PASSWORD), 401),
        (("halopsa", WEBHOOK_PASSWORD), 202),
    ],
    ids=["none", "wrong-password", "wrong-user", "right"],
)
def test_basic_auth(live_server, webhook_basic, queued_tasks, auth, status) -> None:
    response = post(live_server, {"event": "Client Updated", "id": 5}, auth=auth)
    assert response.status_code == status
    assert WebhookEvent.objects.count() == (1 if status == 202 else 0)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_only_post_is_answered(live_server, webhook_token) -> None:
    response = requests.get(f"{live_server.url}/halo/webhook/", headers=BEARER, timeout=10)
    assert response.status_code == 405


@pytest.mark.parametrize(
    "raw",
    [
        b"not json at all",
        b"\xff\xfe",
        b'"a string"',
        b"42",
        b"[]",
        b'{"events": []}',
        b"[1, 2]",
        b'[{"event": "Client Updated", "id": 3}, "x"]',
        b'{"hello": "world"}',
    ],
    ids=["text", "not-utf8", "string", "number", "empty-array", "empty-batch", "array-of-numbers", "mixed", "unknown"],
)
def test_bad_bodies_get_400_change_nothing_and_are_logged_without_the_body(
    live_server, webhook_token, queued_tasks, caplog, raw
) -> None:
    with caplog.at_level(logging.INFO):
        response = post(live_server, None, headers=BEARER, raw=raw)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not HaloClientSync.objects.exists() and queued_tasks.calls == []
    event = WebhookEvent.objects.get()
    assert (event.status, event.client_halo_id) == (WebhookEventStatus.REJECTED, None)
    refusals = [r.getMessage() for r in caplog.records if r.name == "syncapp.webhooks"]
    assert len(refusals) == 1 and "refused" in refusals[0]
    assert "world" not in refusals[0] and "a string" not in refusals[0]


def test_a_body_over_the_limit_gets_413(live_server, webhook_token, settings, queued_tasks) -> None:
    settings.HALO_WEBHOOK_MAX_BODY_BYTES = 1000
    response = post(live_server, [{"event": "Client Updated", "id": n} for n in range(100)], headers=BEARER)
    assert response.status_code == 413
    assert queued_tasks.calls == []
    assert WebhookEvent.objects.get().status == WebhookEventStatus.REJECTED


def test_a_batched_body_records_every_event_and_queues_one_read_per_client(
    live_server, webhook_token, queued_tasks
) -> None:
    body = [
        {"event": "Client Updated", "id": 7, "name": "Seven"},
        {"event": "Site Updated", "id": 70, "client_id": 7.0},
        {"event": "Client Created", "id": 8},
    ]
    response = post(live_server, body, headers=BEARER)
    assert response.json() == {"events": 3, "queued": 2, "coalesced": 1, "full_sync": False}
    assert sorted(WebhookEvent.objects.values_list("object_type", "object_id", "client_halo_id", "status")) == [
        ("client", 7, 7, WebhookEventStatus.QUEUED),
        ("client", 8, 8, WebhookEventStatus.QUEUED),
        ("site", 70, 7, WebhookEventStatus.COALESCED),
    ]
    assert sorted(kwargs["halo_id"] for kwargs in queued_tasks.named("sync_halo_client")) == [7, 8]
    assert {kwargs["kind"] for kwargs in queued_tasks.named("sync_halo_client")} == {SyncKind.WEBHOOK}


@pytest.mark.parametrize(
    "body",
    [
        {"event": "client.updated", "client": {"id": 9}},
        {"event_name": "Client Updated", "object_id": 9},
        {"type": "Area Updated", "id": 9},
        {"events": [{"event": "Client Updated", "clientid": "9"}]},
        {"event": "Site Deleted", "site": {"id": 90, "client_id": "9.0"}},
        {"data": {"id": 90, "client_id": 9}},
    ],
    ids=["nested", "ids-only", "area", "batch-key", "nested-site", "no-event-name"],
)
def test_the_client_id_is_found_under_the_keys_real_payloads_use(
    live_server, webhook_token, queued_tasks, body
) -> None:
    assert post(live_server, body, headers=BEARER).status_code == 202
    assert [kwargs["halo_id"] for kwargs in queued_tasks.named("sync_halo_client")] == [9]


def test_a_site_event_naming_only_the_site_syncs_the_client_holding_it(
    live_server, webhook_token, queued_tasks
) -> None:
    customer = CustomerFactory()
    HaloLinkFactory(customer=customer, halo_id=31)
    SiteFactory(customer=customer, halo_id=310)
    assert post(live_server, {"event": "Site Updated", "id": 310}, headers=BEARER).status_code == 202
    assert [kwargs["halo_id"] for kwargs in queued_tasks.named("sync_halo_client")] == [31]


def test_an_event_naming_no_client_falls_back_to_a_full_sync(live_server, webhook_token, queued_tasks) -> None:
    response = post(live_server, [{"event": "Client Updated"}, {"event": "Site Created", "id": 999}], headers=BEARER)
    assert response.json()["full_sync"] is True
    run = SyncRun.objects.get()
    assert (run.kind, run.trigger) == (SyncKind.HALOPSA, SyncTrigger.WEBHOOK)
    assert list(WebhookEvent.objects.values_list("status", flat=True)) == [WebhookEventStatus.FULL_SYNC] * 2
    assert queued_tasks.named("sync_halo_client") == []


def test_duplicates_and_a_burst_of_twenty_queue_one_read(live_server, webhook_token, queued_tasks, settings) -> None:
    settings.HALO_WEBHOOK_COALESCE_SECONDS = 2.5
    for n in range(20):
        assert post(live_server, {"event": "Client Updated", "id": 12, "name": f"Burst {n}"}, headers=BEARER).ok
    statuses = list(WebhookEvent.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [WebhookEventStatus.QUEUED] + [WebhookEventStatus.COALESCED] * 19
    assert len(queued_tasks.named("sync_halo_client")) == 1
    assert queued_tasks.calls[0][2] == pytest.approx(2.5)  # the first read waits for the quiet period


def test_a_test_event_is_recorded_and_queues_nothing(live_server, webhook_token, queued_tasks) -> None:
    assert post(live_server, {"event": "datagate.test"}, headers=BEARER).status_code == 202
    assert WebhookEvent.objects.get().status == WebhookEventStatus.TEST
    assert queued_tasks.calls == [] and not SyncRun.objects.exists()
