"""The one gateway for HTTP to HaloPSA: OAuth2 token, pacing, retries, and every failure turned into a HaloError."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from .budget import LocalBudgetStore, RequestBudget
from .errors import (
    HaloBadResponse,
    HaloConfigError,
    HaloError,
    HaloNotFound,
    HaloUnavailable,
    message_for_status,
    token_refused,
)
from .parsing import extract_halo_message, parse_token
from .records import ClientStats, WaitNotice
from .settings import HaloSettings
from .waiting import Pacer

logger = logging.getLogger("syncapp.halo")

TOKEN_ROUTE = "/auth/token"
CONNECT_TIMEOUT_CAP = 10.0
# Renew the token at 90% of its lifetime or 60 s before it ends, whichever is earlier, but never before half of it
# (a very short lifetime would otherwise mean a token request before every call).
RENEW_FRACTION = 0.9
RENEW_MARGIN_SECONDS = 60.0
DEFAULT_TOKEN_LIFETIME = 3600.0
REDACTED = "[redacted]"
REMEMBERED_TOKENS = 4
DNS_FAILURE_HINTS = (
    "name or service not known",
    "nameresolution",
    "failed to resolve",
    "getaddrinfo",
    "nodename",
    "temporary failure in name resolution",
)
RETRYABLE_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def renewal_delay(lifetime: float) -> float:
    """Seconds after issue at which a token living `lifetime` seconds is renewed."""
    return max(min(lifetime * RENEW_FRACTION, lifetime - RENEW_MARGIN_SECONDS), lifetime / 2)


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, for messages (never a query string)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def describe_transport_failure(exc: requests.RequestException, timeout: float) -> str:
    """A plain-words reason for a failure below HTTP (DNS, refused connection, timeout, TLS)."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "the connection timed out"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"it did not answer within {timeout:g} seconds"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the secure (TLS) connection failed; check the address and its certificate"
    lowered = text.lower()
    if any(hint in lowered for hint in DNS_FAILURE_HINTS):
        return "its host name could not be found (DNS)"
    if "refused" in lowered:
        return "the connection was refused"
    if "reset" in lowered or "aborted" in lowered or "remotedisconnected" in lowered:
        return "the connection was closed unexpectedly"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection failed"
    return f"the request failed ({type(exc).__name__})"


def _session_with_environment_read_once(settings: HaloSettings) -> requests.Session:
    """A session that honours the proxy and CA-bundle variables as they are now, without re-reading them per call.

    requests merges the environment into every request (proxies, REQUESTS_CA_BUNDLE, .netrc), which a full sync
    of hundreds of pages paid for again and again; a HaloClient lives for one run, so reading it once is enough.
    """
    session = requests.Session()
    environment = session.merge_environment_settings(settings.resource_url, {}, None, None, None)
    session.proxies.update(environment["proxies"])
    session.verify = environment["verify"] if environment["verify"] is not None else True
    session.trust_env = False
    return session


class HaloTransport:
    """Sends requests to HaloPSA with a bearer token, a rolling-window limiter and bounded retries."""

    def __init__(
        self,
        settings: HaloSettings,
        *,
        session: requests.Session | None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        jitter: Callable[[], float],
        stats: ClientStats,
        budget: RequestBudget | None = None,
        on_wait: Callable[[WaitNotice | None], None] | None = None,
    ) -> None:
        self.settings = settings
        self.stats = stats
        self._session = session or _session_with_environment_read_once(settings)
        self._owns_session = session is None
        self._lock = threading.RLock()  # re-entrant: a request may fetch a token first
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self.pacer = Pacer(
            settings,
            budget=budget
            or RequestBudget(
                LocalBudgetStore(),
                limit=settings.rate_limit,
                window=settings.rate_window,
                reserve=settings.background_reserve,
            ),
            clock=clock,
            sleep=sleep,
            jitter=jitter,
            stats=stats,
            on_wait=on_wait,
            before_wait=self._check_wait,
        )
        self._timeout = (min(settings.timeout, CONNECT_TIMEOUT_CAP), settings.timeout)
        self._deadline: float | None = None  # set by the first request when settings.total_budget is set
        self._token: str | None = None
        self._renew_at = 0.0
        # Earlier tokens too, so one echoed back in an error body after a renewal is still redacted.
        self._tokens_seen: list[str] = []

    @property
    def budget(self) -> RequestBudget:
        """The rolling-window budget this transport draws from."""
        return self.pacer.budget

    @property
    def on_wait(self) -> Callable[[WaitNotice | None], None] | None:
        """The observer told what holds the transport (see Pacer)."""
        return self.pacer.on_wait

    @on_wait.setter
    def on_wait(self, observer: Callable[[WaitNotice | None], None] | None) -> None:
        self.pacer.on_wait = observer

    def close(self) -> None:
        """Close the HTTP session if this transport created it."""
        if self._owns_session:
            self._session.close()

    def forget_token(self) -> None:
        """Drop the cached token so the next call fetches a new one."""
        self._token = None

    def ensure_token(self) -> None:
        """Fetch a token unless a fresh one is cached (raises HaloAuthError on refused credentials)."""
        if self._token is None or self._clock() >= self._renew_at:
            self._fetch_token()

    def _fetch_token(self) -> None:
        settings = self.settings
        issued_at = self._clock()
        body = self.request(
            "POST",
            settings.auth_url + "/token",
            route=TOKEN_ROUTE,
            what=f"the token request at {settings.auth_url}/token",
            params={"tenant": settings.tenant} if settings.tenant else None,
            data={
                "grant_type": "client_credentials",
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
                "scope": settings.scope,
            },
            authenticated=False,
        )
        token, lifetime = parse_token(body)
        self._token = token
        self._tokens_seen = [*self._tokens_seen[-(REMEMBERED_TOKENS - 1) :], token]
        self._renew_at = issued_at + renewal_delay(lifetime or DEFAULT_TOKEN_LIFETIME)

    def _redact(self, text: str) -> str:
        for secret in (self.settings.client_secret, *self._tokens_seen):
            if secret:
                text = text.replace(secret, REDACTED)
        return text

    def _remaining(self) -> float | None:
        """Seconds left of the total budget (starting it on first use); None when there is no budget."""
        budget = self.settings.total_budget
        if budget is None:
            return None
        if self._deadline is None:
            self._deadline = self._clock() + budget
        return self._deadline - self._clock()

    def _check_wait(self, seconds: float) -> None:
        """Refuse a wait that would outlast the time limit of a check a person waits for: say so now instead."""
        remaining = self._remaining()
        if remaining is not None and seconds >= remaining:
            raise self._too_slow(self.settings.resource_url)

    def _too_slow(self, url: str) -> HaloUnavailable:
        budget = self.settings.total_budget
        return HaloUnavailable(
            f"HaloPSA at {origin_of(url)} is slow: it did not answer within {budget:g} seconds, the limit for a "
            "check made while you wait. Try again in a few minutes; a sync in the background waits longer."
        )

    def _call_timeout(self, url: str) -> tuple[float, float]:
        remaining = self._remaining()
        if remaining is None:
            return self._timeout
        if remaining <= 0:
            raise self._too_slow(url)
        return (min(self._timeout[0], remaining), min(self._timeout[1], remaining))

    def request(
        self,
        method: str,
        url: str,
        *,
        route: str,
        what: str,
        params: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        authenticated: bool = True,
    ) -> Any:
        """Send one logical request (retrying as the rules allow) and return its parsed JSON body.

        One request at a time: the listing's fetch-ahead thread and the caller's thread share the session, the
        token and the limiter.
        """
        with self._lock:
            return self._request(
                method, url, route=route, what=what, params=params, data=data, authenticated=authenticated
            )

    def _request(
        self,
        method: str,
        url: str,
        *,
        route: str,
        what: str,
        params: dict[str, Any] | None,
        data: dict[str, str] | None,
        authenticated: bool,
    ) -> Any:
        label = f"{method} {route}"
        retries = 0
        renewed = False
        while True:
            headers = {"Accept": "application/json"}
            if authenticated:
                self.ensure_token()
                headers["Authorization"] = f"Bearer {self._token}"
            slot = self.pacer.take_slot()
            timeout = self._call_timeout(url)
            self.stats.requests[label] += 1
            if not authenticated:
                self.stats.token_requests += 1
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=timeout,
                    # A redirect is never expected: following one could leak the secret or land on a login page.
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                self.pacer.budget.settle(slot, self._clock())
                if isinstance(exc, requests.exceptions.Timeout) and timeout != self._timeout:
                    raise self._too_slow(url) from exc  # the time limit, not HALO_TIMEOUT, cut this call short
                reason = describe_transport_failure(exc, self.settings.timeout)
                # A certificate or a malformed URL will not fix itself; a dropped connection or a timeout may.
                retryable = isinstance(exc, RETRYABLE_TRANSPORT_ERRORS) and not isinstance(
                    exc, requests.exceptions.SSLError
                )
                if retryable and retries < self.settings.max_retries:
                    self.pacer.pause(retries, label, f"failed: {reason}", None)
                    retries += 1
                    continue
                suffix = f" (gave up after {retries} retries)" if retries else ""
                message = f"HaloPSA at {origin_of(url)} could not be reached: {reason}{suffix}."
                raise HaloUnavailable(self._redact(message)) from exc

            status = response.status_code
            self.pacer.answered(response.status_code, response.headers, slot)
            if 200 <= status < 300:
                return self._json(response, what)
            halo_message = self._redact(extract_halo_message(response.text))
            if status == 429:
                self.pacer.rate_limited(response.headers, label, what, halo_message)
                continue
            if status >= 500:
                if retries < self.settings.max_retries:
                    self.pacer.pause(retries, label, f"answered HTTP {status}", status)
                    retries += 1
                    continue
            elif authenticated and status in (400, 401) and not renewed:
                # An expired token gives 401, or 400 on some tenants: renew once and retry once.
                logger.info("HaloPSA %s answered HTTP %d; renewing the access token and retrying once", label, status)
                renewed = True
                self.forget_token()
                continue
            raise self._failure(
                status, response, what=what, halo_message=halo_message, authenticated=authenticated, retries=retries
            )

    def _failure(
        self,
        status: int,
        response: requests.Response,
        *,
        what: str,
        halo_message: str,
        authenticated: bool,
        retries: int,
    ) -> HaloError:
        if 300 <= status < 400:
            location = self._redact(response.headers.get("Location", "") or "another address")
            return HaloConfigError(
                f"HaloPSA answered {what} with a redirect to {location}; check the HaloPSA URL settings.",
                status=status,
            )
        if not authenticated and status in (400, 401):
            return token_refused(status, halo_message)
        if not authenticated and status == 404:
            return HaloNotFound(
                f"HaloPSA has no token endpoint at {self.settings.auth_url}/token (HTTP 404); "
                "check the authorisation URL (HALO_AUTH_URL).",
                status=status,
                halo_message=halo_message,
            )
        return message_for_status(status, what=what, halo_message=halo_message, retries=retries)

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "") or "no content type"
            raise HaloBadResponse(
                f"HaloPSA answered {what} with something that is not valid JSON ({kind}).", status=response.status_code
            ) from None
