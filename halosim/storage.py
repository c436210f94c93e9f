"""Reading and writing a tenant's state file (JSON), atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tenant import Tenant

FORMAT = "halosim-tenant"


def read_state(path: str | Path) -> dict[str, Any]:
    """Return the Tenant constructor arguments stored in a state file; ValueError if it is not one."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a halosim tenant file")
    return {
        "custom_field_defs": data["custom_field_defs"],
        "clients": {c["id"]: c for c in data["clients"]},
        "sites": {s["id"]: s for s in data["sites"]},
        "next_client_id": data["next_client_id"],
        "next_site_id": data["next_site_id"],
    }


def write_state(path: str | Path, tenant: Tenant) -> None:
    """Write the tenant to path via a temporary file and a rename, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "format": FORMAT,
        "version": 1,
        "next_client_id": tenant.next_client_id,
        "next_site_id": tenant.next_site_id,
        "custom_field_defs": tenant.custom_field_defs,
        "clients": list(tenant.clients.values()),
        "sites": list(tenant.sites.values()),
    }
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, separators=(",", ":")))  # dumps is C-accelerated, dump is not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
