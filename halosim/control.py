"""Control endpoints under /_sim/ for tests, benchmarks and demos: no auth, no stats, no rate limit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .reply import ApiError, Reply, flag, json_reply, method_not_allowed, not_found, parse_json_body
from .tenant import Tenant

if TYPE_CHECKING:
    from .simulator import Simulator

_GENERATE_ARGS = {"clients", "seed", "sites_per_client", "ticked_ratio", "inactive_ratio", "sites_total"}


def handle(sim: Simulator, method: str, path: str, params: dict[str, str], body: bytes) -> Reply:
    """Answer a /_sim/ request.

    Routes: GET stats, POST stats/reset, GET stats/window, GET/POST config, GET tenant, POST tenant/generate, POST save,
    POST tokens/revoke, POST clients, POST/DELETE clients/{id}, POST sites, POST/DELETE sites/{id},
    GET webhooks (what was sent), POST webhooks/wait (until every queued webhook was sent).
    Edits are not saved to the state file unless ?persist=true (benchmarks edit thousands of times).
    """
    parts = [p for p in path.split("/") if p][1:]
    route = tuple("{id}" if p.isdigit() else p for p in parts)
    persist = flag(params, "persist")
    try:
        return _dispatch(sim, method, route, parts, body, persist, path)
    except (KeyError, ValueError, TypeError) as exc:
        status = 404 if isinstance(exc, KeyError) else 400
        return json_reply(status, {"error": str(exc).strip("'\"")})


def _dispatch(
    sim: Simulator, method: str, route: tuple, parts: list[str], body: bytes, persist: bool, path: str
) -> Reply:
    allowed = {
        ("stats",): {"GET"},
        ("stats", "reset"): {"POST"},
        ("stats", "window"): {"GET"},
        ("config",): {"GET", "POST"},
        ("tenant",): {"GET"},
        ("tenant", "generate"): {"POST"},
        ("save",): {"POST"},
        ("tokens", "revoke"): {"POST"},
        ("clients",): {"POST"},
        ("clients", "{id}"): {"POST", "DELETE"},
        ("sites",): {"POST"},
        ("sites", "{id}"): {"POST", "DELETE"},
        ("webhooks",): {"GET"},
        ("webhooks", "wait"): {"POST"},
    }
    if route not in allowed:
        raise not_found(path)
    if method not in allowed[route]:
        raise method_not_allowed(method)
    data = _json_object(body) if method == "POST" else {}
    if route == ("stats",):
        return json_reply(200, sim.stats())
    if route == ("stats", "window"):
        return json_reply(200, sim.window_stats())
    if route == ("stats", "reset"):
        sim.reset_stats()
        return json_reply(200, {"ok": True})
    if route == ("config",):
        with sim.lock:
            if method == "POST":
                sim.config.update(data)
            return json_reply(200, sim.config.as_dict())
    if route == ("tenant",):
        return json_reply(200, sim.edit(_summary, persist=False))
    if route == ("tenant", "generate"):
        unknown = set(data) - _GENERATE_ARGS
        if unknown:
            raise ValueError(f"unknown generate arguments: {', '.join(sorted(unknown))}")
        if "sites_per_client" in data:
            data["sites_per_client"] = tuple(data["sites_per_client"])
        sim.replace_tenant(Tenant.generate(**data))  # written once here, when a state file is set
        return json_reply(200, sim.edit(_summary, persist=False))
    if route == ("save",):
        sim.persist()
        return json_reply(200, {"ok": True, "state_path": str(sim.state_path) if sim.state_path else None})
    if route == ("webhooks",):
        return json_reply(200, sim.webhooks.stats.as_dict())
    if route == ("webhooks", "wait"):
        # Tests and benchmarks wait for the queued webhooks to be delivered instead of sleeping.
        idle = sim.webhooks.wait_idle(timeout=float(data.get("timeout", 10)))
        return json_reply(200 if idle else 504, {"idle": idle, **sim.webhooks.stats.as_dict()})
    if route == ("tokens", "revoke"):
        sim.revoke_tokens()
        return json_reply(200, {"ok": True})
    record_id = int(parts[1]) if len(parts) > 1 else 0
    if route == ("clients",):
        name = _take(data, "name")
        return json_reply(200, sim.edit(lambda t: t.add_client(name, **data), persist))
    if route == ("clients", "{id}"):
        if method == "DELETE":
            sim.edit(lambda t: t.delete_client(record_id), persist)
            return json_reply(200, {"ok": True})
        return json_reply(200, sim.edit(lambda t: t.update_client(record_id, **data), persist))
    if route == ("sites",):
        client_id, name = _take(data, "client_id"), _take(data, "name")
        return json_reply(200, sim.edit(lambda t: t.add_site(int(client_id), name, **data), persist))
    if method == "DELETE":
        sim.edit(lambda t: t.delete_site(record_id), persist)
        return json_reply(200, {"ok": True})
    return json_reply(200, sim.edit(lambda t: t.update_site(record_id, **data), persist))


def _take(data: dict[str, Any], key: str) -> Any:
    if key not in data:
        raise ValueError(f"{key} is required")
    return data.pop(key)


def _json_object(body: bytes) -> dict[str, Any]:
    data = parse_json_body(body) if body.strip() else {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ApiError(400, {"error": "expected a JSON object"})
    return data


def _summary(tenant: Tenant) -> dict[str, Any]:
    return {
        "clients": len(tenant.clients),
        "sites": len(tenant.sites),
        "active_clients": sum(1 for c in tenant.clients.values() if not c["inactive"]),
        "ticked_clients": sum(1 for c in tenant.clients if tenant.is_ticked(c)),
        "datagate_field_id": tenant.datagate_field_id,
    }
