"""The simulator's outbound webhooks: HaloPSA-shaped bodies on every change, batching, auth, failures counted."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from halosim import SimConfig, Simulator, Tenant
from halosim.webhooks import WebhookAuth


class Receiver:
    """A loopback HTTP endpoint that keeps what it was sent and answers `status`."""

    def __init__(self, status: int = 202) -> None:
        self.status = status
        self.received: list[tuple[dict, object]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def started(receiver: Receiver, auth: WebhookAuth | None = None, **config) -> Simulator:
    sim = Simulator(tenant=Tenant.empty(), webhook_auth=auth, config=SimConfig(webhook_url=receiver.url, **config))
    sim.start()
    return sim


def test_every_client_and_site_change_is_posted_as_the_record_with_its_event(receiver) -> None:
    sim = started(receiver, WebhookAuth(token="tok-1"))
    try:
        client = sim.edit(lambda t: t.add_client("Acme"))
        site = sim.edit(lambda t: t.add_site(client["id"], "HQ", line3="Perth"))
        sim.edit(lambda t: t.update_client(client["id"], name="Acme 2"))
        sim.edit(lambda t: t.delete_site(site["id"]))
        sim.edit(lambda t: t.delete_client(client["id"]))
        assert sim.webhooks.wait_idle(timeout=10)
    finally:
        sim.stop()
    events = [(body["event"], body["id"]) for _, body in receiver.received]
    assert events == [
        ("Client Created", client["id"]),
        ("Site Created", site["id"]),
        ("Client Updated", client["id"]),
        ("Site Deleted", site["id"]),
        ("Client Deleted", client["id"]),
    ]
    assert receiver.received[2][1]["name"] == "Acme 2"
    assert receiver.received[1][1]["client_id"] == client["id"]
    assert {headers["Authorization"] for headers, _ in receiver.received} == {"Bearer tok-1"}
    assert sim.webhooks.stats.as_dict()["events"] == 5


@pytest.mark.parametrize(
    ("form", "expected"),
    [("nested", {"event": "client.updated", "client": "..."}), ("ids", {"event_name": "Client Updated"})],
)
def test_other_body_forms(receiver, form: str, expected: dict) -> None:
    tenant = Tenant.empty()
    client = tenant.add_client("Acme")
    sim = Simulator(tenant=tenant, config=SimConfig(webhook_url=receiver.url, webhook_body_form=form))
    sim.start()
    try:
        sim.edit(lambda t: t.update_client(client["id"], name="Renamed"))
        assert sim.webhooks.wait_idle(timeout=10)
    finally:
        sim.stop()
    [(_, body)] = receiver.received
    assert set(body) >= set(expected)
    if form == "nested":
        assert body["client"]["id"] == client["id"] and body["client"]["name"] == "Renamed"
    else:
        assert body["object_id"] == client["id"]


def test_batched_events_arrive_as_one_array_with_basic_auth(receiver) -> None:
    tenant = Tenant.empty()
    client = tenant.add_client("Acme")
    sim = Simulator(
        tenant=tenant,
        webhook_auth=WebhookAuth(username="halo", password="pw-2"),
        config=SimConfig(webhook_url=receiver.url, webhook_batch_seconds=0.3),
    )
    sim.start()
    try:
        sim.edit(lambda t: [t.update_client(client["id"], name=f"Name {n}") for n in range(5)])
        assert sim.webhooks.wait_idle(timeout=10)
    finally:
        sim.stop()
    [(headers, body)] = receiver.received
    assert [event["name"] for event in body] == [f"Name {n}" for n in range(5)]
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"halo:pw-2").decode()


def test_refused_deliveries_are_counted_and_the_credentials_are_never_in_config_or_stats() -> None:
    refusing = Receiver(status=401)
    sim = started(refusing, WebhookAuth(token="secret-tok-3"))
    try:
        sim.edit(lambda t: t.add_client("Acme"))
        assert sim.webhooks.wait_idle(timeout=10)
        stats = sim.webhooks.stats.as_dict()
        assert (stats["failed"], stats["statuses"]) == (1, {"401": 1})
        assert "secret-tok-3" not in json.dumps(stats) + json.dumps(sim.config.as_dict())
    finally:
        sim.stop()
        refusing.close()


def test_no_url_no_webhooks_and_a_bad_url_is_refused(receiver) -> None:
    sim = Simulator(tenant=Tenant.empty())
    sim.start()
    try:
        sim.edit(lambda t: t.add_client("Quiet"))
        assert sim.webhooks.wait_idle(timeout=5)
        assert sim.webhooks.stats.bodies == 0
        with pytest.raises(ValueError, match="webhook_url"):
            sim.config.update({"webhook_url": "ftp://nope"})
    finally:
        sim.stop()
