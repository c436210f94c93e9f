"""The authenticated /api routes: Client and Site lists, details and array upserts, and FieldInfo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .config import SimConfig
from .fields import OTHER_FIELD_DEFS, normalise_value
from .reply import ApiError, Reply, flag, json_reply, method_not_allowed, not_found, parse_json_body
from .tenant import ADDRESS_KEYS, CLIENT_KEYS, Tenant
from .wire import client_detail, list_clients, list_sites, site_detail

# Canonical route names double as stats keys ("GET /api/Client/{id}"); Halo matches paths case-insensitively.
ROUTES = {("client",): "/api/Client", ("site",): "/api/Site", ("fieldinfo",): "/api/FieldInfo"}
DETAIL_ROUTES = {"client": "/api/Client/{id}", "site": "/api/Site/{id}"}
_POSTABLE_CLIENT_KEYS = CLIENT_KEYS - {"alastupdate"}


def route_name(path: str) -> str | None:
    """Return the canonical route of an /api path, e.g. "/api/Client/{id}", or None when no route matches."""
    parts = [p for p in path.lower().split("/") if p][1:]  # drop "api"
    if tuple(parts) in ROUTES:
        return ROUTES[tuple(parts)]
    if len(parts) == 2 and parts[0] in DETAIL_ROUTES and parts[1].isdigit():
        return DETAIL_ROUTES[parts[0]]
    if parts == ["authinfo"]:
        return "/api/authinfo"
    return None


def handle(
    tenant: Tenant, config: SimConfig, method: str, path: str, params: dict[str, str], body: bytes, persist: Callable
) -> Reply:
    """Dispatch one authenticated /api request; persist() is called after a successful write."""
    route = route_name(path)
    if route is None:
        raise not_found(path)
    if route in ("/api/Client", "/api/Site") and method == "POST":
        items = parse_json_body(body)
        upsert = _upsert_clients if route == "/api/Client" else _upsert_sites
        saved = upsert(tenant, config, items)
        persist()
        return json_reply(201, saved)
    if method != "GET":
        raise method_not_allowed(method)
    if route == "/api/Client":
        return json_reply(200, list_clients(tenant, params, config))
    if route == "/api/Site":
        return json_reply(200, list_sites(tenant, params, config))
    if route == "/api/FieldInfo":
        return _field_info(tenant, config, path)
    record_id = int(path.rstrip("/").rsplit("/", 1)[1])
    if route == "/api/Client/{id}":
        if record_id not in tenant.clients:
            raise ApiError(404, {"Message": f"Client {record_id} not found."})
        details = flag(params, "includedetails")
        return json_reply(200, client_detail(tenant, tenant.clients[record_id], config, details=details))
    if record_id not in tenant.sites:
        raise ApiError(404, {"Message": f"Site {record_id} not found."})
    return json_reply(200, site_detail(tenant, tenant.sites[record_id], config))


def _field_info(tenant: Tenant, config: SimConfig, path: str) -> Reply:
    if config.fieldinfo_form == "missing":
        raise not_found(path)
    fields = [dict(d, typeid=config.fieldinfo_client_typeid) for d in tenant.custom_field_defs] + [
        dict(d) for d in OTHER_FIELD_DEFS
    ]
    fields.sort(key=lambda d: d["id"])
    if config.fieldinfo_form == "envelope":
        return json_reply(200, {"record_count": len(fields), "fields": fields})
    return json_reply(200, fields)


def _require_array(items: Any, entity: str) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        message = f"The JSON value could not be converted to System.Collections.Generic.List`1[{entity}]."
        raise ApiError(400, {"": [message]})
    return items


def _existing_id(item: dict[str, Any]) -> int | None:
    # Halo treats a missing, null, zero or negative id as "create".
    raw = item.get("id")
    try:
        value = int(float(raw)) if raw is not None else 0
    except (TypeError, ValueError):
        value = 0
    return value if value > 0 else None


def _upsert_clients(tenant: Tenant, config: SimConfig, items: Any) -> list[dict[str, Any]]:
    items = _require_array(items, "Area")
    errors: dict[str, list[str]] = {}
    plans = []
    for index, item in enumerate(items):
        client_id = _existing_id(item)
        if client_id is not None and client_id not in tenant.clients:
            errors[f"[{index}].id"] = [f"Client {client_id} does not exist."]
        if client_id is None and not str(item.get("name") or "").strip():
            errors[f"[{index}].name"] = ["The Name field is required."]
        main_site = item.get("main_site_id")
        if main_site not in (None, 0) and main_site not in tenant.sites:
            errors[f"[{index}].main_site_id"] = [f"Site {main_site} does not exist."]
        changes = {k: v for k, v in item.items() if k in _POSTABLE_CLIENT_KEYS}
        custom = []
        for position, entry in enumerate(item.get("customfields") or []):
            try:
                definition = tenant.field_def(entry.get("id") or entry.get("name"))
            except (KeyError, AttributeError):
                continue  # unknown custom fields are ignored silently, like unknown properties
            try:
                normalise_value(definition, entry.get("value"))
            except ValueError as exc:
                errors[f"[{index}].customfields[{position}].value"] = [str(exc)]
            custom.append({"id": definition["id"], "value": entry.get("value")})
        if custom:
            changes["customfields"] = custom
        plans.append((client_id, changes))
    if errors:
        raise ApiError(400, errors)
    saved = []
    for client_id, changes in plans:
        if client_id is None:
            name = str(changes.pop("name")).strip()
            inactive = bool(changes.pop("inactive", False))
            client = tenant.add_client(name, ticked=False, inactive=inactive, **changes)
        else:
            client = tenant.update_client(client_id, **changes)
        saved.append(client_detail(tenant, client, config, details=True))
    return saved


def _site_changes(item: dict[str, Any]) -> dict[str, Any]:
    changes = {k: item[k] for k in ("name", "phonenumber", "inactive") if k in item}
    for n in range(1, 6):
        if f"delivery_address_line{n}" in item:
            changes["postcode" if n == 5 else f"line{n}"] = item[f"delivery_address_line{n}"]
    nested = item.get("delivery_address")
    if isinstance(nested, dict):
        changes.update({k: nested[k] for k in ADDRESS_KEYS if k in nested})
    if isinstance(item.get("invoice_address"), dict):
        changes["invoice_address"] = item["invoice_address"]
    return changes


def _upsert_sites(tenant: Tenant, config: SimConfig, items: Any) -> list[dict[str, Any]]:
    items = _require_array(items, "Site")
    errors: dict[str, list[str]] = {}
    plans = []
    for index, item in enumerate(items):
        site_id = _existing_id(item)
        if site_id is not None and site_id not in tenant.sites:
            errors[f"[{index}].id"] = [f"Site {site_id} does not exist."]
        owner = None
        if item.get("client_id") is not None:
            try:
                owner = int(float(item["client_id"]))
            except (TypeError, ValueError):
                owner = -1
            if owner not in tenant.clients:
                errors[f"[{index}].client_id"] = [f"Client {item['client_id']} does not exist."]
        elif site_id is None:
            errors[f"[{index}].client_id"] = ["The client_id field is required."]
        if site_id is None and not str(item.get("name") or "").strip():
            errors[f"[{index}].name"] = ["The Name field is required."]
        plans.append((site_id, owner, _site_changes(item)))
    if errors:
        raise ApiError(400, errors)
    saved = []
    for site_id, owner, changes in plans:
        if site_id is None:
            name = str(changes.pop("name")).strip()
            site = tenant.add_site(owner, name, **changes)
        else:
            if owner is not None:
                changes["client_id"] = owner
            site = tenant.update_site(site_id, **changes)
        saved.append(site_detail(tenant, site, config))
    return saved
