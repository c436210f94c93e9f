"""Outbound webhooks like HaloPSA's: a client or site change is POSTed to a configured URL, alone or batched."""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .config import SimConfig
from .tenant import Tenant
from .wire import client_detail, site_detail

EVENT_NAMES = {
    ("client", "created"): "Client Created",
    ("client", "updated"): "Client Updated",
    ("client", "deleted"): "Client Deleted",
    ("site", "created"): "Site Created",
    ("site", "updated"): "Site Updated",
    ("site", "deleted"): "Site Deleted",
}


@dataclass(frozen=True)
class WebhookAuth:
    """How the simulator authenticates its webhooks (from the environment, never from /_sim/config)."""

    token: str = ""
    username: str = ""
    password: str = ""

    def headers(self) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.username:
            pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {}


@dataclass
class WebhookStats:
    """What the sender did: bodies and events sent, failures and the last one's reason (no credentials)."""

    bodies: int = 0
    events: int = 0
    failed: int = 0
    last_error: str = ""
    statuses: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "bodies": self.bodies,
            "events": self.events,
            "failed": self.failed,
            "last_error": self.last_error,
            "statuses": dict(self.statuses),
        }


def webhook_body(tenant: Tenant, config: SimConfig, kind: str, action: str, record: dict[str, Any]) -> dict:
    """One event's body in the configured form; built at the time of the change, under the simulator's lock."""
    event = EVENT_NAMES[(kind, action)]
    if action == "deleted":
        wire = {"id": record["id"]} if kind == "client" else {"id": record["id"], "client_id": record["client_id"]}
    elif kind == "client":
        wire = client_detail(tenant, record, config, details=True)
    else:
        wire = site_detail(tenant, record, config)
    if config.webhook_body_form == "nested":
        return {"event": event.lower().replace(" ", "."), kind: wire}
    if config.webhook_body_form == "ids":
        body = {"event_name": event, "object_id": record["id"]}
        if kind == "site":
            body["client_id"] = record["client_id"]
        return body
    return {"event": event, **wire}  # "record": HaloPSA's default payload is the record itself


class WebhookSender:
    """Sends queued event bodies from a background thread; batching as HaloPSA's time- or count-based batches."""

    def __init__(self, auth: WebhookAuth, timeout: float = 5.0) -> None:
        self.auth = auth
        self.timeout = timeout
        self.stats = WebhookStats()
        self._queue: queue.Queue[tuple[str, float, int, dict] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="halosim-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def enqueue(self, url: str, batch_seconds: float, batch_limit: int, body: dict) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put((url, batch_seconds, batch_limit, body))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued event was sent (or failed); True unless the timeout ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            url, batch_seconds, batch_limit, body = item
            bodies = [body]
            if batch_seconds > 0:
                deadline = time.monotonic() + batch_seconds
                while not batch_limit or len(bodies) < batch_limit:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        more = self._queue.get(timeout=remaining)
                    except queue.Empty:
                        break
                    if more is None:
                        self._queue.put(None)  # stop after sending what was collected
                        break
                    bodies.append(more[3])
                self._post(url, bodies)  # a batch is always an array, even of one
            else:
                self._post(url, body)
            with self._idle:
                self._pending -= len(bodies)
                self._idle.notify_all()

    def _post(self, url: str, payload: Any) -> None:
        data = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **self.auth.headers()}
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        count = len(payload) if isinstance(payload, list) else 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = str(response.status)
        except urllib.error.HTTPError as error:
            status = str(error.code)
            self.stats.failed += count
            self.stats.last_error = f"HTTP {error.code} from {url}"
        except (urllib.error.URLError, OSError) as error:
            status = "unreachable"
            self.stats.failed += count
            self.stats.last_error = f"{url} unreachable: {type(error).__name__}"
        self.stats.bodies += 1
        self.stats.events += count
        self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
