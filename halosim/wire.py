"""How records look on the wire: list rows, detail records, custom fields, addresses, and the paging traps."""

from __future__ import annotations

from typing import Any

from .config import SimConfig
from .fields import blank_entry, wire_entry
from .reply import flag, int_param
from .tenant import ADDRESS_KEYS, Tenant

CLIENT_ROW_KEYS = (
    "id",
    "name",
    "toplevel_id",
    "inactive",
    "main_site_id",
    "main_site_name",
    "accountsemailaddress",
    "accountsccemailaddress",
    "accountsfirstname",
    "accountslastname",
    "alastupdate",
)
# A "columns" array in client listings punishes parsers that take "the first array" instead of "clients".
CLIENT_COLUMNS = [{"id": i, "name": key, "visible": True} for i, key in enumerate(CLIENT_ROW_KEYS, start=1)]


def custom_entries(
    tenant: Tenant, client: dict[str, Any], config: SimConfig, only: set[int] | None = None, omit_empty: bool = False
) -> list:
    """Return a client's custom field entries as sent: every definition present, ordered by label, not by id."""
    stored = {e["id"]: e for e in client["customfields"]}
    out = []
    for definition in sorted(tenant.custom_field_defs, key=lambda d: d["label"].lower()):
        if only is not None and definition["id"] not in only:
            continue
        entry = stored.get(definition["id"]) or blank_entry(definition)
        if omit_empty and entry["value"] in (None, "") and not entry["display"]:
            continue
        out.append(wire_entry(entry, config.checkbox_form))
    return out


def client_row(tenant: Tenant, client: dict[str, Any], config: SimConfig, custom_ids: set[int] | None) -> dict:
    """Return a client as a list row: a subset of fields, customfields only when asked and honoured."""
    row = {key: client.get(key) for key in CLIENT_ROW_KEYS}
    if config.list_rows_carry_phone:
        row["main_phonenumber"] = client.get("main_phonenumber", "")
    if config.list_rows_all_custom_fields:
        row["customfields"] = custom_entries(tenant, client, config)
    elif custom_ids is not None and config.honour_include_custom_fields:
        row["customfields"] = custom_entries(tenant, client, config, custom_ids)
    return row


def client_detail(tenant: Tenant, client: dict[str, Any], config: SimConfig, *, details: bool) -> dict:
    """Return one client as GET /api/Client/{id} does; includedetails adds phone and every custom field."""
    if not details:
        return client_row(tenant, client, config, None)
    record = {key: value for key, value in client.items() if key != "customfields"}
    record["customfields"] = custom_entries(tenant, client, config, omit_empty=config.detail_omits_empty_custom_fields)
    return record


def _address(site: dict[str, Any], key: str) -> dict[str, str]:
    stored = site.get(key) or {}
    return {part: stored.get(part, "") for part in ADDRESS_KEYS}


def _flat_address(site: dict[str, Any], config: SimConfig) -> dict[str, str]:
    # The flat form has no postcode key of its own: the postcode travels as line 5 (or where configured).
    address = _address(site, "delivery_address")
    flat = {f"delivery_address_line{n}": address[f"line{n}"] for n in range(1, 5)}
    flat[config.flat_postcode_key] = address["postcode"]
    return flat


def site_row(tenant: Tenant, site: dict[str, Any], config: SimConfig, include_address: bool) -> dict:
    """Return a site as a list row: client_id as a decimal, the address in the configured form when asked."""
    owner = tenant.clients.get(site["client_id"])
    row = {
        "id": site["id"],
        "name": site["name"],
        "client_id": float(site["client_id"]),
        "client_name": owner["name"] if owner else site.get("client_name", ""),
        "inactive": site["inactive"],
        "phonenumber": site.get("phonenumber", ""),
        "slastupdate": site.get("slastupdate"),
    }
    if include_address or not config.site_address_needs_include:
        if config.site_address_form == "nested":
            row["delivery_address"] = _address(site, "delivery_address")
        else:
            row.update(_flat_address(site, config))
    return row


def site_detail(tenant: Tenant, site: dict[str, Any], config: SimConfig) -> dict:
    """Return one site as GET /api/Site/{id} does: nested address objects and the flat strings."""
    record = site_row(tenant, site, config, include_address=False)
    record["delivery_address"] = _address(site, "delivery_address")
    record["invoice_address"] = _address(site, "invoice_address")
    record.update(_flat_address(site, config))
    return record


def page(items: list[Any], params: dict[str, str], config: SimConfig) -> tuple[dict[str, int], list[Any]]:
    """Apply Halo's paging traps to an ordered list: returns the envelope numbers and the rows of this page."""
    total = len(items)
    # truncate_listings: rows that never arrive on any page while record_count still counts them.
    visible = items[: max(0, total - config.truncate_listings)]
    if flag(params, "pageinate"):
        size = int_param(params, "page_size", None) or config.default_page_size
        size = max(1, min(size, config.max_page_size))
        page_no = max(1, int_param(params, "page_no", 1) or 1)
        rows = visible[(page_no - 1) * size : page_no * size]
    else:
        # Without pageinate=true Halo ignores page_size/page_no: one default page, whatever was asked.
        size, page_no = min(config.default_page_size, config.max_page_size), 1
        count = int_param(params, "count", None)
        if count and count > 0:
            size = min(size, count)
        rows = visible[:size]
    return {"page_no": page_no, "page_size": size, "record_count": total}, rows


def list_clients(tenant: Tenant, params: dict[str, str], config: SimConfig) -> dict[str, Any]:
    """Answer GET /api/Client."""
    include_inactive = flag(params, "includeinactive", default=config.inactive_included_by_default)
    include_active = flag(params, "includeactive", default=True)
    search = params.get("search", "").strip().lower()
    toplevel = int_param(params, "toplevel_id", None)
    clients = tenant.clients
    chosen = [
        c
        for c in (clients[i] for i in sorted(clients))
        if (include_inactive if c["inactive"] else include_active)
        and (not search or search in c["name"].lower())
        and (toplevel is None or c.get("toplevel_id") == toplevel)
    ]
    order = params.get("order", "name").strip().lower() or "name"
    descending = flag(params, "orderdesc")
    if order == "id":
        if descending:
            chosen.reverse()
    else:
        # Halo's default and fallback order is by name, ties by id: paging by name while names change skips rows.
        chosen.sort(key=lambda c: (c["name"].lower(), c["id"]), reverse=descending)
    custom_ids = None
    if "include_custom_fields" in params:
        custom_ids = {int(p) for p in params["include_custom_fields"].split(",") if p.strip().isdigit()}
    numbers, rows = page(chosen, params, config)
    return {
        **numbers,
        "columns": CLIENT_COLUMNS,
        "clients": [client_row(tenant, c, config, custom_ids) for c in rows],
    }


def list_sites(tenant: Tenant, params: dict[str, str], config: SimConfig) -> dict[str, Any]:
    """Answer GET /api/Site."""
    include_inactive = flag(params, "includeinactive", default=config.inactive_included_by_default)
    raw_client = params.get("client_id", "").strip()
    client_id = None
    if raw_client:
        try:
            client_id = int(float(raw_client))
        except ValueError:
            client_id = -1  # matches nothing, as an unparsable filter would in Halo
    sites = tenant.sites
    # Sorting the int keys (no key function) keeps a 25,000-site page under a few milliseconds.
    chosen = [
        s
        for s in (sites[i] for i in sorted(sites))
        if (include_inactive or not s["inactive"]) and (client_id is None or s["client_id"] == client_id)
    ]
    numbers, rows = page(chosen, params, config)
    include_address = flag(params, "includeaddress")
    return {**numbers, "sites": [site_row(tenant, s, config, include_address) for s in rows]}
