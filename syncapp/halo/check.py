"""The "Test account access" check: run it and word its outcome for people (halo_check and the portal's button)."""

from __future__ import annotations

from typing import Any

from .client import HaloClient
from .errors import HaloError
from .records import AccessCheck
from .settings import HaloSettings, halo_settings_from_django


def describe_access_check(check: AccessCheck, settings: HaloSettings, ticked_note: str = "") -> str:
    """One line: "HaloPSA access OK: https://x tenant demo; Datagate field id 142; 1,234 clients[, ticked_note]."."""
    where = settings.resource_url + (f" tenant {settings.tenant}" if settings.tenant else "")
    counts = f"{check.client_count:,} clients"
    if check.ticked_count is not None:
        counts += f", {check.ticked_count:,} ticked"
    elif ticked_note:
        counts += f", {ticked_note}"
    line = f"HaloPSA access OK: {where}; Datagate field id {check.datagate_field_id}; {counts}."
    if check.detail_fallback:
        line += (
            " Note: this HaloPSA ignores include_custom_fields, so during syncs every client must be read one by one;"
            " syncs will be slow."
        )
    return line


def describe_access_failure(error: HaloError) -> str:
    """One line such as "HaloPSA check failed: HaloPSA refused the client ID or secret (invalid_client)"."""
    return f"HaloPSA check failed: {error}"


def access_check_as_dict(check: AccessCheck, settings: HaloSettings, ticked_note: str = "") -> dict[str, Any]:
    """A JSON-ready summary of a successful check (never the secret)."""
    return {
        "ok": True,
        "resource_url": settings.resource_url,
        "tenant": settings.tenant,
        "datagate_field_id": check.datagate_field_id,
        "extra_field_ids": list(check.extra_field_ids),
        "client_count": check.client_count,
        "ticked_count": check.ticked_count,
        "detail_fallback": check.detail_fallback,
        "request_count": check.request_count,
        "message": describe_access_check(check, settings, ticked_note),
    }


def access_failure_as_dict(error: HaloError) -> dict[str, Any]:
    """A JSON-ready summary of a failed check."""
    return {
        "ok": False,
        "error": type(error).__name__,
        "status": error.status,
        "transient": error.transient,
        "message": describe_access_failure(error),
    }


def run_access_check(settings: HaloSettings | None = None, **client_options: Any) -> tuple[AccessCheck, HaloSettings]:
    """Build a client (from Django settings unless given), run check_access() and return (result, settings used)."""
    settings = settings or halo_settings_from_django()
    with HaloClient(settings, **client_options) as client:
        return client.check_access(), settings
