"""Tenant: a HaloPSA tenant's clients, sites and client custom fields, held in HaloPSA's JSON shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .fields import DATAGATE_NAME, blank_entry, default_client_field_defs, is_ticked, normalise_value
from .generate import generate_tenant
from .storage import read_state, write_state

ADDRESS_KEYS = ("line1", "line2", "line3", "line4", "postcode")
CLIENT_KEYS = frozenset(
    {
        "name",
        "inactive",
        "toplevel_id",
        "toplevel_name",
        "main_site_id",
        "accountsemailaddress",
        "accountsccemailaddress",
        "accountsfirstname",
        "accountslastname",
        "main_phonenumber",
        "website",
        "alastupdate",
    }
)
SITE_KEYS = frozenset({"name", "phonenumber", "inactive", "client_id", *ADDRESS_KEYS})


def halo_timestamp(moment: datetime | None = None) -> str:
    """Format a moment the way Halo's *lastupdate fields look: UTC, milliseconds, no zone suffix."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


class Tenant:
    """The data of one HaloPSA tenant; not locked itself: the Simulator serialises access with its lock."""

    def __init__(
        self,
        *,
        custom_field_defs: list[dict[str, Any]] | None = None,
        clients: dict[int, dict[str, Any]] | None = None,
        sites: dict[int, dict[str, Any]] | None = None,
        next_client_id: int = 12,
        next_site_id: int = 20,
    ) -> None:
        self.custom_field_defs = custom_field_defs if custom_field_defs is not None else default_client_field_defs()
        self.clients: dict[int, dict[str, Any]] = clients if clients is not None else {}
        self.sites: dict[int, dict[str, Any]] = sites if sites is not None else {}
        # Ids start above 1 like a real tenant with history, so "id == index" assumptions break.
        self.next_client_id = next_client_id
        self.next_site_id = next_site_id
        # Told of every client or site change as (kind, action, record): the simulator's outbound webhooks.
        self.listener: Callable[[str, str, dict[str, Any]], None] | None = None

    def _changed(self, kind: str, action: str, record: dict[str, Any]) -> None:
        if self.listener is not None:
            self.listener(kind, action, record)

    # ----- construction -------------------------------------------------------------------------------------
    @classmethod
    def empty(cls) -> Tenant:
        """Return a tenant with the client custom field definitions and no clients."""
        return cls()

    @classmethod
    def generate(
        cls,
        clients: int = 40,
        seed: int = 1,
        sites_per_client: tuple[int, int] = (1, 3),
        ticked_ratio: float = 0.7,
        inactive_ratio: float = 0.1,
        sites_total: int | None = None,
    ) -> Tenant:
        """Return a realistic tenant, the same for the same arguments; sites_total fixes the exact site count."""
        return generate_tenant(
            cls.empty(),
            clients=clients,
            seed=seed,
            sites_per_client=sites_per_client,
            ticked_ratio=ticked_ratio,
            inactive_ratio=inactive_ratio,
            sites_total=sites_total,
        )

    @classmethod
    def load(cls, path: str | Path) -> Tenant:
        """Read a tenant saved with save()."""
        return cls(**read_state(path))

    def save(self, path: str | Path) -> None:
        """Write the tenant as JSON, atomically so a crash never leaves half a file."""
        write_state(path, self)

    # ----- lookups ------------------------------------------------------------------------------------------
    @property
    def datagate_field_id(self) -> int:
        """Return the id of the CFDatagate checkbox definition."""
        return self.field_def(DATAGATE_NAME)["id"]

    def field_def(self, id_or_name: int | str) -> dict[str, Any]:
        """Return a client custom field definition by id, name (CFxxx) or label; KeyError if unknown."""
        for d in self.custom_field_defs:
            if str(id_or_name) in (str(d["id"]), d["name"], d["label"]):
                return d
        raise KeyError(f"no client custom field {id_or_name!r}")

    def client(self, client_id: int) -> dict[str, Any]:
        """Return a client by id; KeyError if absent."""
        try:
            return self.clients[int(client_id)]
        except KeyError:
            raise KeyError(f"no client {client_id}") from None

    def site(self, site_id: int) -> dict[str, Any]:
        """Return a site by id; KeyError if absent."""
        try:
            return self.sites[int(site_id)]
        except KeyError:
            raise KeyError(f"no site {site_id}") from None

    def is_ticked(self, client_id: int) -> bool:
        """Tell whether the client's CFDatagate box is ticked."""
        return any(e["name"] == DATAGATE_NAME and is_ticked(e["value"]) for e in self.client(client_id)["customfields"])

    def sites_of(self, client_id: int) -> list[dict[str, Any]]:
        """Return the client's sites ordered by id."""
        return sorted((s for s in self.sites.values() if s["client_id"] == client_id), key=lambda s: s["id"])

    # ----- clients ------------------------------------------------------------------------------------------
    def add_client(self, name: str, *, ticked: bool = True, inactive: bool = False, **fields: Any) -> dict[str, Any]:
        """Create a client (Halo keys in fields, custom_fields={id_or_name: value}) and return it."""
        client_id = int(fields.pop("id", 0) or self.next_client_id)
        if client_id in self.clients:
            raise ValueError(f"client {client_id} already exists")
        self.next_client_id = max(self.next_client_id, client_id + 1)
        client: dict[str, Any] = {
            "id": client_id,
            "name": name,
            "toplevel_id": 1,
            "toplevel_name": "Customers",
            "inactive": bool(inactive),
            "main_site_id": None,
            "main_site_name": "",
            "accountsemailaddress": "",
            "accountsccemailaddress": "",
            "accountsfirstname": "",
            "accountslastname": "",
            "main_phonenumber": "",
            "website": "",
            "alastupdate": fields.pop("alastupdate", None) or halo_timestamp(),
            "customfields": [blank_entry(d) for d in sorted(self.custom_field_defs, key=lambda d: d["id"])],
        }
        self.clients[client_id] = client
        try:
            self._apply_client_changes(client, {"ticked": ticked, **fields})
        except Exception:
            del self.clients[client_id]
            raise
        self._changed("client", "created", client)
        return client

    def update_client(self, client_id: int, **changes: Any) -> dict[str, Any]:
        """Change a client (Halo keys, plus customfields=[...], custom_fields={...} or ticked=) and bump alastupdate."""
        client = self.client(client_id)
        self._apply_client_changes(client, changes)
        if "alastupdate" not in changes:
            client["alastupdate"] = halo_timestamp()
        self._changed("client", "updated", client)
        return client

    def set_ticked(self, client_id: int, ticked: bool) -> None:
        """Tick or untick the client's CFDatagate box."""
        self.update_client(client_id, ticked=ticked)

    def delete_client(self, client_id: int) -> None:
        """Remove a client and its sites, as if it were gone from HaloPSA."""
        client = self.clients.pop(int(client_id))
        for site_id in [s["id"] for s in self.sites.values() if s["client_id"] == client_id]:
            del self.sites[site_id]
        self._changed("client", "deleted", client)

    def _apply_client_changes(self, client: dict[str, Any], changes: dict[str, Any]) -> None:
        changes = dict(changes)
        # Applied in this order, so an explicit custom field value wins over the ticked= shorthand.
        custom: list[tuple[Any, Any]] = []
        if "ticked" in changes:
            custom.append((self.datagate_field_id, bool(changes.pop("ticked"))))
        custom.extend((changes.pop("custom_fields", None) or {}).items())
        for entry in changes.pop("customfields", None) or []:
            custom.append((entry.get("id") or entry.get("name"), entry.get("value")))
        unknown = set(changes) - CLIENT_KEYS
        if unknown:
            raise ValueError(f"unknown client keys: {', '.join(sorted(unknown))}")
        if changes.get("main_site_id") not in (None, 0):
            main = self.site(changes["main_site_id"])
            client["main_site_name"] = main["name"]
        elif "main_site_id" in changes:
            changes["main_site_id"], client["main_site_name"] = None, ""
        if "inactive" in changes:
            changes["inactive"] = bool(changes["inactive"])
        entries = {e["id"]: e for e in client["customfields"]}
        by_id = {d["id"]: d for d in self.custom_field_defs}  # int keys are the common case: skip the slow search
        updates = []
        for key, value in custom:
            definition = by_id.get(key) or self.field_def(key)
            updates.append((entries[definition["id"]], normalise_value(definition, value)))
        client.update(changes)
        for entry, (value, display) in updates:
            entry["value"], entry["display"] = value, display
        if "name" in changes:
            for site in self.sites.values():
                if site["client_id"] == client["id"]:
                    site["client_name"] = client["name"]

    # ----- sites --------------------------------------------------------------------------------------------
    def add_site(
        self,
        client_id: int,
        name: str,
        *,
        main: bool = False,
        line1: str = "",
        line2: str = "",
        line3: str = "",
        line4: str = "",
        postcode: str = "",
        phonenumber: str = "",
        inactive: bool = False,
        invoice_address: dict[str, str] | None = None,
        slastupdate: str | None = None,
        site_id: int | None = None,
    ) -> dict[str, Any]:
        """Create a site of a client; main=True makes it the client's main site."""
        client = self.client(client_id)
        site_id = int(site_id or self.next_site_id)
        if site_id in self.sites:
            raise ValueError(f"site {site_id} already exists")
        self.next_site_id = max(self.next_site_id, site_id + 1)
        delivery = dict(zip(ADDRESS_KEYS, (line1, line2, line3, line4, postcode), strict=True))
        site = {
            "id": site_id,
            "name": name,
            "client_id": client["id"],
            "client_name": client["name"],
            "inactive": bool(inactive),
            "phonenumber": phonenumber,
            "slastupdate": slastupdate or halo_timestamp(),
            "delivery_address": delivery,
            "invoice_address": dict(invoice_address) if invoice_address else dict(delivery),
        }
        self.sites[site_id] = site
        if main:
            client["main_site_id"], client["main_site_name"] = site_id, name
        self._changed("site", "created", site)
        return site

    def update_site(self, site_id: int, **changes: Any) -> dict[str, Any]:
        """Change a site (name, line1..line4, postcode, phonenumber, inactive, client_id; main=True) and bump it."""
        site = self.site(site_id)
        changes = dict(changes)
        main = changes.pop("main", None)
        invoice = changes.pop("invoice_address", None)
        unknown = set(changes) - SITE_KEYS
        if unknown:
            raise ValueError(f"unknown site keys: {', '.join(sorted(unknown))}")
        if "client_id" in changes:
            # Halo sends client ids as decimals. A moved site leaves the old client's main_site_id dangling, as in Halo.
            client = self.client(int(float(changes["client_id"])))
            site["client_id"], site["client_name"] = client["id"], client["name"]
        for key in ADDRESS_KEYS:
            if key in changes:
                site["delivery_address"][key] = "" if changes[key] is None else str(changes[key])
        for key in ("name", "phonenumber"):
            if key in changes:
                site[key] = "" if changes[key] is None else str(changes[key])
        if "inactive" in changes:
            site["inactive"] = bool(changes["inactive"])
        if invoice is not None:
            site["invoice_address"].update({k: str(v) for k, v in invoice.items() if k in ADDRESS_KEYS})
        site["slastupdate"] = halo_timestamp()
        owner = self.clients.get(site["client_id"])
        if owner is not None:
            if main and owner["main_site_id"] != site["id"]:
                owner["main_site_id"], owner["alastupdate"] = site["id"], halo_timestamp()
            if owner["main_site_id"] == site["id"]:
                owner["main_site_name"] = site["name"]
        self._changed("site", "updated", site)
        return site

    def delete_site(self, site_id: int) -> None:
        """Remove a site; a client whose main site it was keeps the dangling main_site_id, as in Halo."""
        site = self.sites.pop(int(site_id))
        self._changed("site", "deleted", site)
