"""Connection settings for the HaloPSA client, their validation, and the one function that reads Django settings."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import HaloConfigError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclass(frozen=True)
class HaloSettings:
    """Where HaloPSA lives, how to authenticate, and how politely to call it.

    The deployment's values and their defaults are declared once, in portal/settings.py (HALO_*); the defaults here
    are HaloPSA's own facts (its 5-minute rate window) and the client's back-off ceiling, which nobody configures.
    """

    resource_url: str
    auth_url: str
    tenant: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str
    rate_limit: int
    timeout: float
    max_retries: int
    rate_window: float = 300.0
    backoff_cap: float = 60.0
    allow_http: bool = False
    # 429s never fail a run by themselves: only this many seconds of continuous refusals do (HALO_RATE_LIMIT_PATIENCE).
    rate_limit_patience: float = 900.0
    # A person is waiting on a page: use the slots background work leaves free, and never wait longer than this.
    interactive: bool = False
    interactive_max_wait: float = 5.0
    # Slots per window background work leaves for interactive calls; None: a tenth of the limit.
    interactive_reserve: int | None = None
    # Seconds all calls of one client may take together (retries and waits included); None: no limit. Set for
    # checks a person waits for, so they end well before the web server's own timeout.
    total_budget: float | None = None

    def __post_init__(self) -> None:
        # Trailing slashes would otherwise produce "//api/Client"; frozen, so set through object.
        object.__setattr__(self, "resource_url", (self.resource_url or "").strip().rstrip("/"))
        object.__setattr__(self, "auth_url", (self.auth_url or "").strip().rstrip("/"))
        object.__setattr__(self, "tenant", (self.tenant or "").strip())

    def validate(self) -> HaloSettings:
        """Raise HaloConfigError unless these settings are complete and safe; return self for chaining."""
        _check_url("HaloPSA resource URL (HALO_RESOURCE_URL)", self.resource_url, self.allow_http)
        _check_url("HaloPSA authorisation URL (HALO_AUTH_URL)", self.auth_url, self.allow_http)
        if not (self.client_id or "").strip():
            raise HaloConfigError("The HaloPSA client ID (HALO_CLIENT_ID) is not set.")
        if not self.client_secret:
            raise HaloConfigError("The HaloPSA client secret (HALO_CLIENT_SECRET) is not set.")
        if not (self.scope or "").strip():
            raise HaloConfigError("The HaloPSA scope (HALO_SCOPE) is empty; use 'all' or a narrower scope.")
        if self.rate_limit < 1 or self.rate_window <= 0:
            raise HaloConfigError("The HaloPSA rate limit must allow at least one request per window.")
        if self.rate_limit_patience < 0 or self.interactive_max_wait < 0:
            raise HaloConfigError("The HaloPSA rate-limit patience (HALO_RATE_LIMIT_PATIENCE) must not be negative.")
        if self.total_budget is not None and self.total_budget <= 0:
            raise HaloConfigError(
                "The time limit for HaloPSA checks (HALO_INTERACTIVE_BUDGET_SECONDS) must be positive."
            )
        if self.timeout <= 0 or self.max_retries < 0 or self.backoff_cap < 0:
            raise HaloConfigError("The HaloPSA timeout must be positive and the retry settings not negative.")
        return self

    @property
    def background_reserve(self) -> int:
        """Slots per window that only interactive calls may use."""
        reserve = self.rate_limit // 10 if self.interactive_reserve is None else self.interactive_reserve
        return min(max(reserve, 0), self.rate_limit - 1)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(label: str, url: str, allow_http: bool) -> None:
    if not url:
        raise HaloConfigError(f"The {label} is not set.")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - accessing it validates the port number
    except ValueError as exc:
        raise HaloConfigError(f"The {label} is not a valid URL: {url!r} ({exc}).") from None
    if not host:
        raise HaloConfigError(f"The {label} has no host name: {url!r}.")
    if parts.username or parts.password:
        raise HaloConfigError(f"The {label} must not contain a user name or password.")
    if parts.scheme == "https":
        return
    if parts.scheme == "http":
        if allow_http and _is_loopback(host):
            return
        if allow_http:
            raise HaloConfigError(
                f"The {label} uses plain http, which is allowed only for this computer (localhost): {url!r}."
            )
        raise HaloConfigError(f"The {label} must start with https:// so the secret travels encrypted: {url!r}.")
    raise HaloConfigError(f"The {label} must start with https://: {url!r}.")


def _number(settings: object, name: str, kind: type) -> Any:
    value = getattr(settings, name)
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise HaloConfigError(f"The setting {name} must be a number; it is {value!r}.") from None


def halo_settings_from_django(*, interactive: bool = False) -> HaloSettings:
    """Build validated HaloSettings from django.conf.settings (HALO_*); raise HaloConfigError when incomplete.

    `interactive`: a person is waiting on a page for the answer, so retry once at most rather than back off for
    half a minute as a background sync may, go first in the shared budget, never wait more than a few seconds, and
    give up after HALO_INTERACTIVE_BUDGET_SECONDS in all.
    """
    from django.conf import settings

    resource_url = (settings.HALO_RESOURCE_URL or "").strip().rstrip("/")
    retries = _number(settings, "HALO_MAX_RETRIES", int)
    return HaloSettings(
        resource_url=resource_url,
        # An empty HALO_AUTH_URL means HaloPSA's default: the authorisation server under the resource URL.
        auth_url=settings.HALO_AUTH_URL or (resource_url + "/auth" if resource_url else ""),
        tenant=settings.HALO_TENANT or "",
        client_id=settings.HALO_CLIENT_ID or "",
        client_secret=settings.HALO_CLIENT_SECRET or "",
        scope=settings.HALO_SCOPE or "",
        rate_limit=_number(settings, "HALO_RATE_LIMIT", int),
        rate_window=_number(settings, "HALO_RATE_WINDOW", float),
        rate_limit_patience=_number(settings, "HALO_RATE_LIMIT_PATIENCE", float),
        interactive=interactive,
        timeout=_number(settings, "HALO_TIMEOUT", float),
        max_retries=min(retries, 1) if interactive else retries,
        total_budget=_number(settings, "HALO_INTERACTIVE_BUDGET_SECONDS", float) if interactive else None,
        allow_http=bool(settings.DEBUG or settings.HALO_ALLOW_HTTP_LOOPBACK),
    ).validate()
