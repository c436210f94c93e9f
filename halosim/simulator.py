"""Simulator: serves a Tenant over HTTP like a hosted HaloPSA instance, with rate limits, faults and stats."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any, TypeVar

from . import api
from .auth import Credentials, TokenStore, token_reply
from .config import SimConfig
from .reply import ApiError, Reply, json_reply, method_not_allowed
from .server import make_server
from .tenant import Tenant
from .webhooks import WebhookAuth, WebhookSender, webhook_body

T = TypeVar("T")
TOKEN_PATH = "/auth/token"


class Simulator:
    """A HaloPSA tenant behind an HTTP server; every trap of the real API is reproducible through `config`."""

    def __init__(
        self,
        tenant: Tenant | None = None,
        client_id: str = "sim-client",
        client_secret: str = "sim-secret",
        tenant_name: str | None = "demo",
        config: SimConfig | None = None,
        state_path: str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] | None = None,
        webhook_auth: WebhookAuth | None = None,
    ) -> None:
        self.state_path = Path(state_path) if state_path else None
        if tenant is None:
            exists = self.state_path is not None and self.state_path.exists()
            tenant = Tenant.load(self.state_path) if exists else Tenant.empty()
        self.tenant = tenant
        self.client_id, self.client_secret, self.tenant_name = client_id, client_secret, tenant_name
        self.config = config or SimConfig()
        self.config.validate()
        self.clock = clock
        # Dates and Unix times in rate-limit headers; a fake `clock` doubles as the wall clock so the two agree.
        self.wall_clock = wall_clock or (time.time if clock is time.monotonic else clock)
        self._storm_until = self._outage_until = float("-inf")
        self._max_in_window = 0  # the most requests served inside one rate window (the budget tests' invariant)
        # Re-entrant so a function passed to edit() may call other locking helpers without deadlocking.
        self.lock = threading.RLock()
        self.tokens = TokenStore(clock)
        self._recent: deque[float] = deque()  # times of requests inside the rate window
        self._stats: Counter[str] = Counter()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        # Outbound webhooks go to config.webhook_url (when set), authenticated as webhook_auth says.
        self.webhooks = WebhookSender(webhook_auth or WebhookAuth())
        self.tenant.listener = self._on_change

    # ----- lifecycle ----------------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve in a daemon thread; port 0 picks a free port (see base_url)."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._server = make_server(self, host, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="halosim", daemon=True
        )
        self._thread.start()
        self.webhooks.start()

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections, so a stopped simulator answers nothing."""
        self.webhooks.stop()
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> Simulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The resource server's URL (the API lives under /api)."""
        if self._server is None:
            raise RuntimeError("simulator not started")
        host, port = self._server.server_address[:2]
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    @property
    def auth_url(self) -> str:
        """The authorisation server's URL; the token endpoint is {auth_url}/token."""
        return self.base_url + "/auth"

    # ----- state --------------------------------------------------------------------------------------------
    def edit(self, fn: Callable[[Tenant], T], persist: bool = True) -> T:
        """Run fn(tenant) under the lock; then save to state_path when set and persist is true."""
        with self.lock:
            result = fn(self.tenant)
            if persist:
                self.persist()
            return result

    def replace_tenant(self, tenant: Tenant, persist: bool = True) -> None:
        """Swap in another tenant (e.g. a freshly generated one), saving it once when state_path is set."""
        with self.lock:
            self.tenant.listener = None
            self.tenant = tenant
            tenant.listener = self._on_change
            if persist:
                self.persist()

    def persist(self) -> None:
        """Save the tenant to state_path, if one is set."""
        if self.state_path is not None:
            with self.lock:
                self.tenant.save(self.state_path)

    def _on_change(self, kind: str, action: str, record: dict[str, Any]) -> None:
        """A client or site changed (called under the lock): queue its webhook, built now, sent by another thread."""
        config = self.config
        if not config.webhook_url:
            return
        body = webhook_body(self.tenant, config, kind, action, record)
        self.webhooks.enqueue(config.webhook_url, config.webhook_batch_seconds, config.webhook_batch_limit, body)

    def stats(self) -> dict[str, int]:
        """Requests served per endpoint (errors included) and, under "429", how many were rate limited."""
        with self.lock:
            return dict(self._stats)

    def window_stats(self) -> dict[str, float]:
        """The most requests served inside any one rate window since the last reset (429s are not served)."""
        with self.lock:
            return {"max_in_window": self._max_in_window, "window_seconds": self.config.rate_window_seconds}

    def reset_stats(self) -> None:
        """Zero the request counters."""
        with self.lock:
            self._stats.clear()
            self._max_in_window = 0

    def issue_token(self, lifetime: int | None = None) -> str:
        """Mint a valid bearer token without an HTTP round trip (handy in tests); it counts in no stats."""
        with self.lock:
            return self.tokens.issue(self.config.token_lifetime if lifetime is None else lifetime)

    def revoke_tokens(self) -> None:
        """Invalidate every issued token."""
        with self.lock:
            self.tokens.revoke_all()

    # ----- request handling (called by the HTTP server) -----------------------------------------------------
    def handle_api(self, method: str, path: str, params: dict[str, str], headers: Any, body: bytes) -> Reply:
        """Answer a request to /auth/token or /api/...: count it, rate-limit it, inject faults, serve it."""
        is_token = path.rstrip("/").lower() == TOKEN_PATH
        route = TOKEN_PATH if is_token else api.route_name(path)
        with self.lock:
            config = self.config
            self._stats[f"{method} {route or path}"] += 1
            now = self.clock()
            self._start_timed_faults(config, now)
            limited = self._storm(config, now) or self._rate_limited(config)
            if limited is not None:
                self._stats["429"] += 1
                return limited
            if self._outage_until > now:
                self._stats["outage"] += 1
                return self._failure(config)
            reply = self._serve(config, method, path, route, is_token, params, headers, body)
            if config.rate_limit_headers == "remaining" and config.rate_limit is not None:
                reply.headers["X-RateLimit-Remaining"] = str(max(self._budget(config) - len(self._recent), 0))
            return reply

    def _start_timed_faults(self, config: SimConfig, now: float) -> None:
        if config.storm_seconds > 0:
            self._storm_until, config.storm_seconds = now + config.storm_seconds, 0.0
        if config.outage_seconds > 0:
            self._outage_until, config.outage_seconds = now + config.outage_seconds, 0.0

    def _storm(self, config: SimConfig, now: float) -> Reply | None:
        if self._storm_until <= now:
            return None
        return self._too_many(config, self._storm_until - now, "Rate Limit Reached - storm")

    def _budget(self, config: SimConfig) -> int:
        # The share another integration spends is gone for us; at least nothing is left, never less.
        return max((config.rate_limit or 0) - config.shared_consumer_requests, 0)

    def _too_many(self, config: SimConfig, wait: float, message: str) -> Reply:
        """A 429 with the configured hint about when to come back."""
        style = config.rate_limit_headers
        if style == "none" and config.send_retry_after:
            style = "retry_after_seconds"
        seconds = max(1, math.ceil(wait))
        headers = {
            "none": {},
            "retry_after_seconds": {"Retry-After": str(seconds)},
            "retry_after_date": {"Retry-After": formatdate(math.ceil(self.wall_clock() + wait), usegmt=True)},
            "reset_seconds": {"X-RateLimit-Reset": str(seconds)},
            "reset_unix": {"X-RateLimit-Reset": str(math.ceil(self.wall_clock() + wait))},
            "remaining": {"X-RateLimit-Remaining": "0"},
        }[style]
        return json_reply(429, {"error": message}, headers)

    def _serve(
        self,
        config: SimConfig,
        method: str,
        path: str,
        route: str | None,
        is_token: bool,
        params: dict[str, str],
        headers: Any,
        body: bytes,
    ) -> Reply:
        """Serve one request that passed the rate limit (token, authinfo or the API), with the per-request faults."""
        try:
            if is_token:
                if config.fail_token_next > 0:
                    config.fail_token_next -= 1
                    return self._failure(config)
                creds = Credentials(self.client_id, self.client_secret, self.tenant_name)
                content_type = headers.get("Content-Type", "")
                return token_reply(self.tokens, creds, config.token_lifetime, method, params, content_type, body)
            if config.fail_next > 0:
                config.fail_next -= 1
                return self._failure(config)
            if route == "/api/authinfo":
                reply = self._authinfo(method)
            else:
                self.tokens.authorise(headers.get("Authorization"), config.expired_token_status)
                reply = api.handle(self.tenant, config, method, path, params, body, self.persist)
        except ApiError as exc:
            return exc.reply()
        if reply.status < 300 and reply.is_json and config.malformed_next > 0:
            config.malformed_next -= 1
            # Cut mid-document: a 200 whose body does not parse, as a dropped proxy connection produces.
            reply.body = reply.body[: max(1, len(reply.body) // 2)]
        return reply

    def _authinfo(self, method: str) -> Reply:
        if method != "GET":
            raise method_not_allowed(method)
        tenant_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.tenant_name or 'selfhosted'}.halosim"))
        return json_reply(200, {"auth_url": self.auth_url, "tenant_id": tenant_id})

    def _rate_limited(self, config: SimConfig) -> Reply | None:
        now = self.clock()
        window = config.rate_window_seconds
        while self._recent and self._recent[0] <= now - window:
            self._recent.popleft()
        limit = config.rate_limit
        if limit is not None and len(self._recent) >= self._budget(config):
            # A 429 does not use up budget: only served requests are remembered.
            allowed = self._budget(config)
            # The slot frees when the request `allowed` places from the end leaves the window.
            wait = self._recent[-allowed] + window - now if allowed and self._recent else window
            message = f"Rate Limit Reached - {limit} Requests per rolling {window / 60:g} minute window"
            return self._too_many(config, wait, message)
        self._recent.append(now)
        self._max_in_window = max(self._max_in_window, len(self._recent))
        return None

    @staticmethod
    def _failure(config: SimConfig) -> Reply:
        status = config.fail_status
        if config.fail_body_form == "html":
            page = f"<html><head><title>{status}</title></head><body><h1>{status} Service Error</h1></body></html>"
            return Reply(status, page.encode(), "text/html; charset=utf-8")
        body = {"ClassName": "System.Web.HttpException", "Message": f"The service is unavailable ({status})."}
        return json_reply(status, body)
