"""Exceptions raised by the HaloPSA client; every message is one plain sentence that a non-programmer can act on."""

from __future__ import annotations


class HaloError(Exception):
    """Base class: anything that went wrong while talking to HaloPSA."""

    # Transient errors are worth retrying later (the sync engine and the UI say "try again later" for them).
    transient: bool = False

    def __init__(self, message: str, *, status: int | None = None, halo_message: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.halo_message = halo_message

    def __str__(self) -> str:
        return self.message


class HaloConfigError(HaloError):
    """The HaloPSA settings are missing or unsafe (for example a plain-http URL)."""


class HaloAuthError(HaloError):
    """HaloPSA refused the client credentials or the access token."""


class HaloPermissionDenied(HaloError):
    """HTTP 403: the API application or its agent lacks a permission."""


class HaloNotFound(HaloError):
    """HTTP 404: the record or endpoint does not exist."""


class HaloRateLimited(HaloError):
    """HTTP 429 still answered after every retry."""

    transient = True


class HaloUnavailable(HaloError):
    """HaloPSA could not be reached, timed out or kept failing with 5xx after every retry."""

    transient = True


class HaloBadResponse(HaloError):
    """HaloPSA answered with something that is not the JSON shape the contract describes."""


class HaloIncompleteListing(HaloBadResponse):
    """A paged listing returned fewer (or other) rows than its record_count: the data must not be trusted."""


class HaloMissingDatagateField(HaloError):
    """No client custom field named CFDatagate could be found."""


def message_for_status(status: int, *, what: str, halo_message: str, retries: int = 0) -> HaloError:
    """Build the exception for the final HTTP error status of an API call about `what`, after `retries` retries."""
    detail = f": {halo_message}" if halo_message else ""
    http = f"HTTP {status}, gave up after {retries} retries" if retries else f"HTTP {status}"
    if status == 401:
        return HaloAuthError(
            f"HaloPSA rejected the access token for {what} even after renewing it ({http}){detail}",
            status=status,
            halo_message=halo_message,
        )
    if status == 403:
        return HaloPermissionDenied(
            f"HaloPSA denied access to {what}: the API application or its agent lacks a permission ({http}){detail}",
            status=status,
            halo_message=halo_message,
        )
    if status == 404:
        return HaloNotFound(f"HaloPSA could not find {what} ({http}){detail}", status=status, halo_message=halo_message)
    if status == 429:
        return HaloRateLimited(
            f"HaloPSA kept refusing {what} because its rate limit was reached ({http}){detail}",
            status=status,
            halo_message=halo_message,
        )
    if status >= 500:
        return HaloUnavailable(
            f"HaloPSA failed while answering {what} ({http}){detail}", status=status, halo_message=halo_message
        )
    return HaloError(
        f"HaloPSA rejected the request for {what} ({http}){detail}", status=status, halo_message=halo_message
    )


def token_refused(status: int, halo_message: str) -> HaloError:
    """Build the exception for a token request that HaloPSA answered with 400 or 401."""
    code = halo_message or f"HTTP {status}"
    if halo_message.startswith("invalid_scope"):
        return HaloAuthError(f"HaloPSA refused the requested scope ({code})", status=status, halo_message=halo_message)
    if status == 401 or halo_message.startswith(("invalid_client", "unauthorized_client")):
        return HaloAuthError(
            f"HaloPSA refused the client ID or secret ({code})", status=status, halo_message=halo_message
        )
    return HaloAuthError(f"HaloPSA refused the token request ({code})", status=status, halo_message=halo_message)
