"""The one gateway for HTTP to HaloPSA: OAuth2 token, pacing, retries, and every failure turned into a HaloError."""

from __future__ import annotations

import logging
import math
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
    HaloRateLimited,
    HaloUnavailable,
    message_for_status,
    token_refused,
)
from .pacing import backoff_delay, rate_limit_backoff, remaining_requests, server_wait_seconds
from .parsing import extract_halo_message, parse_token
from .records import ClientStats, WaitNotice
from .settings import HaloSettings

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


def in_words(seconds: float) -> str:
    """42 s, 5 min, 1 min 30 s: a wait as staff read it (whole seconds, rounded up)."""
    whole = max(math.ceil(seconds), 0)
    minutes, rest = divmod(whole, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" + (f" {rest} s" if rest else "")


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
        self.budget = budget or RequestBudget(
            LocalBudgetStore(),
            limit=settings.rate_limit,
            window=settings.rate_window,
            reserve=settings.background_reserve,
        )
        self.on_wait = on_wait
        # Since when HaloPSA has refused every request with 429 (None once it answers again): drives the patience.
        self._refused_since: float | None = None
        self._refusals = 0
        self._timeout = (min(settings.timeout, CONNECT_TIMEOUT_CAP), settings.timeout)
        self._token: str | None = None
        self._renew_at = 0.0
        # Earlier tokens too, so one echoed back in an error body after a renewal is still redacted.
        self._tokens_seen: list[str] = []

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

    def _wait(self, notice: WaitNotice) -> None:
        """Sleep for `notice.seconds`, telling the observer (the run page) what holds the client meanwhile."""
        if self.on_wait is not None:
            self.on_wait(notice)
        try:
            self._sleep(notice.seconds)
        finally:
            if self.on_wait is not None:
                self.on_wait(None)
        self.stats.waited_seconds += notice.seconds

    def _pause(self, attempt: int, route: str, reason: str, status: int | None) -> None:
        """Back off before retry `attempt` (0-based) of a 5xx or a dropped connection."""
        delay = backoff_delay(attempt, cap=self.settings.backoff_cap, jitter=self._jitter())
        self.stats.retries += 1
        retries = self.settings.max_retries
        logger.warning("HaloPSA %s %s; retry %d of %d in %.1f s", route, reason, attempt + 1, retries, delay)
        what = f"HaloPSA answered {status}" if status else "HaloPSA could not be reached"
        message = f"{what}: retry {attempt + 1} of {retries} in {in_words(delay)}"
        self._wait(WaitNotice("server", delay, message, status=status, attempt=attempt + 1, max_attempts=retries))

    def _too_long_for_a_person(self, seconds: float) -> HaloRateLimited:
        return HaloRateLimited(f"HaloPSA's rate limit is reached; try again in {in_words(seconds)}.", status=429)

    def _take_slot(self) -> float:
        """Wait until the shared rolling window has room (and HaloPSA's pause is over); return the slot taken."""
        settings = self.settings
        while True:
            reservation = self.budget.try_reserve(self._clock(), interactive=settings.interactive)
            if reservation.slot is not None:
                return reservation.slot
            wait = reservation.wait
            if settings.interactive and wait > settings.interactive_max_wait:
                raise self._too_long_for_a_person(wait)
            if reservation.held:
                message = f"Waiting for HaloPSA's rate limit: {in_words(wait)}"
                self._wait(WaitNotice("rate_limit", wait, message, status=429))
            else:
                message = f"Waiting for room in the HaloPSA request budget: {in_words(wait)}"
                self._wait(WaitNotice("budget", wait, message))

    def _rate_limited(self, response: requests.Response, label: str, what: str, halo_message: str) -> None:
        """A 429: hold everybody sharing the budget for as long as HaloPSA asked (or a growing guess), or give up.

        Gives up only once HaloPSA has refused every request for the patience (interactive callers: at once when
        the wait is more than a person should sit through).
        """
        settings = self.settings
        now = self._clock()
        self.stats.rate_limited += 1
        if self._refused_since is None:
            self._refused_since, self._refusals = now, 0
        refused_for = now - self._refused_since
        hint = server_wait_seconds(response.headers, wall_clock=self._clock)
        if hint is None:
            delay = rate_limit_backoff(self._refusals, window=settings.rate_window, jitter=self._jitter())
        else:
            # A rolling window never needs a longer wait than the window itself.
            delay = min(hint, settings.rate_window)
        self._refusals += 1
        detail = f": {halo_message}" if halo_message else ""
        if settings.interactive and (delay > settings.interactive_max_wait or self._refusals > settings.max_retries):
            self.budget.hold(now + delay)
            raise self._too_long_for_a_person(delay)
        if refused_for >= settings.rate_limit_patience:
            error = HaloRateLimited(
                f"HaloPSA refused every request for {in_words(refused_for)} because its rate limit was reached, "
                f"as long as the portal waits (HALO_RATE_LIMIT_PATIENCE, {in_words(settings.rate_limit_patience)}); "
                f"gave up on {what}{detail}",
                status=429,
                halo_message=halo_message,
            )
            error.transient = False  # the patience is the whole allowance: retrying the task would only extend it
            raise error
        delay = max(min(delay, settings.rate_limit_patience - refused_for), 0.001)
        self.budget.hold(now + delay)
        self.stats.retries += 1
        logger.warning("HaloPSA %s answered HTTP 429 (rate limit); waiting %.1f s", label, delay)

    def _answered(self, response: requests.Response, slot: float) -> None:
        """Count the request at the moment its answer came and learn what HaloPSA said about the budget."""
        now = self._clock()
        self.budget.settle(slot, now)
        remaining = remaining_requests(response.headers)
        if remaining is not None:
            self.budget.note_remaining(now, remaining)
            if remaining <= 0 and response.status_code != 429:
                # Nothing left and no word on when: wait as for a 429 without a hint.
                delay = rate_limit_backoff(0, window=self.settings.rate_window, jitter=self._jitter())
                self.budget.hold(now + delay)

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
            slot = self._take_slot()
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
                    timeout=self._timeout,
                    # A redirect is never expected: following one could leak the secret or land on a login page.
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                self.budget.settle(slot, self._clock())
                reason = describe_transport_failure(exc, self.settings.timeout)
                # A certificate or a malformed URL will not fix itself; a dropped connection or a timeout may.
                retryable = isinstance(exc, RETRYABLE_TRANSPORT_ERRORS) and not isinstance(
                    exc, requests.exceptions.SSLError
                )
                if retryable and retries < self.settings.max_retries:
                    self._pause(retries, label, f"failed: {reason}", None)
                    retries += 1
                    continue
                suffix = f" (gave up after {retries} retries)" if retries else ""
                message = f"HaloPSA at {origin_of(url)} could not be reached: {reason}{suffix}."
                raise HaloUnavailable(self._redact(message)) from exc

            status = response.status_code
            self._answered(response, slot)
            if status != 429:
                self._refused_since = None
            if 200 <= status < 300:
                return self._json(response, what)
            halo_message = self._redact(extract_halo_message(response.text))
            if status == 429:
                self._rate_limited(response, label, what, halo_message)
                continue
            if status >= 500:
                if retries < self.settings.max_retries:
                    self._pause(retries, label, f"answered HTTP {status}", status)
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
