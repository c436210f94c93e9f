"""The authorisation server: client-credentials tokens, their expiry on the injected clock, and bearer checks."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from .reply import ApiError, Reply, json_reply, method_not_allowed

_PRUNE_AT = 1000  # tokens kept before expired ones are swept, so a long benchmark does not grow without bound


@dataclass(frozen=True)
class Credentials:
    """What a token request must present."""

    client_id: str
    client_secret: str
    tenant_name: str | None


class TokenStore:
    """Issued bearer tokens and when each expires, measured with the simulator's clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def issue(self, lifetime: float) -> str:
        """Create a token valid for lifetime seconds from now."""
        now = self._clock()
        if len(self._expiry) >= _PRUNE_AT:
            self._expiry = {t: e for t, e in self._expiry.items() if e > now}
        token = secrets.token_urlsafe(32)
        self._expiry[token] = now + lifetime
        return token

    def revoke_all(self) -> None:
        """Forget every token, as a secret rotation in Halo would."""
        self._expiry.clear()

    def authorise(self, header: str | None, expired_status: int) -> None:
        """Raise ApiError unless the Authorization header carries a known, unexpired bearer token."""
        scheme, _, token = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                {"error": "invalid_request", "error_description": "Authorization: Bearer token required"},
                {"WWW-Authenticate": "Bearer"},
            )
        expiry = self._expiry.get(token.strip())
        if expiry is None:
            raise ApiError(
                401,
                {"error": "invalid_token", "error_description": "The access token is not valid"},
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if self._clock() >= expiry:
            raise ApiError(
                expired_status,
                {"error": "invalid_token", "error_description": "The access token expired"},
                {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="The access token expired"'},
            )


def token_reply(
    store: TokenStore,
    creds: Credentials,
    lifetime: int,
    method: str,
    params: dict[str, str],
    content_type: str,
    body: bytes,
) -> Reply:
    """Answer POST /auth/token (form-encoded client credentials; tenant in the query or the form)."""
    if method != "POST":
        raise method_not_allowed(method)
    form: dict[str, str] = {}
    # Only a form body counts, as with Halo's identity server: JSON credentials are simply not seen.
    if "application/x-www-form-urlencoded" in content_type.lower():
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    if creds.tenant_name:
        tenant = (params.get("tenant") or form.get("tenant") or "").strip()
        if not tenant:
            raise ApiError(400, {"error": "invalid_request", "error_description": "tenant is required"})
        if tenant.lower() != creds.tenant_name.lower():
            raise ApiError(401, {"error": "invalid_client", "error_description": f"unknown tenant {tenant!r}"})
    if form.get("grant_type") != "client_credentials":
        raise ApiError(400, {"error": "unsupported_grant_type"})
    if form.get("client_id") != creds.client_id or not secrets.compare_digest(
        form.get("client_secret", "").encode(), creds.client_secret.encode()
    ):
        raise ApiError(401, {"error": "invalid_client"})
    scope = (form.get("scope") or "all").strip()
    payload = {"access_token": store.issue(lifetime), "token_type": "Bearer", "expires_in": lifetime, "scope": scope}
    return json_reply(200, payload, {"Cache-Control": "no-store", "Pragma": "no-cache"})
