"""Routes of the "HaloPSA side" web page: plain HTML forms that edit the tenant and redirect back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from . import webpages
from .fields import CHECKBOX, DATAGATE_NAME
from .reply import Reply, html_reply, redirect
from .tenant import Tenant

if TYPE_CHECKING:
    from .simulator import Simulator


def handle(sim: Simulator, method: str, path: str, params: dict[str, str], body: bytes) -> Reply:
    """Answer a web page request: GET pages, POST form edits (saved to the state file when one is set)."""
    parts = [p for p in path.split("/") if p]
    name = sim.tenant_name
    if method not in ("GET", "HEAD", "POST"):
        return html_reply(405, webpages.message_page("Not allowed", f"{method} is not supported here.", "/", name))
    try:
        if method in ("GET", "HEAD"):
            return _get(sim, parts, params)
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        return _post(sim, parts, form)
    except KeyError as exc:
        return html_reply(404, webpages.message_page("Not found", str(exc).strip("'\""), "/", name))
    except ValueError as exc:
        return html_reply(400, webpages.message_page("Not saved", str(exc), "/", name))


def _record_id(text: str) -> int:
    if not text.isdigit():
        raise KeyError(f"no such page /{text}")
    return int(text)


def _get(sim: Simulator, parts: list[str], params: dict[str, str]) -> Reply:
    with sim.lock:
        if not parts:
            raw_page = params.get("page", "1").strip()
            page_no = int(raw_page) if raw_page.isdigit() else 1  # a hand-edited URL gets page 1, not an error
            return html_reply(200, webpages.client_list(sim.tenant, params.get("q", ""), page_no, sim.tenant_name))
        if len(parts) == 2 and parts[0] == "clients":
            client = sim.tenant.client(_record_id(parts[1]))
            saved = params.get("saved") == "1"
            return html_reply(200, webpages.client_page(sim.tenant, client, saved, sim.tenant_name))
        if parts == ["customers"] and params.get("clientid", "").strip().isdigit():
            # HaloPSA's own client URL (.../customers?clientid=N), which the portal links to.
            return redirect(f"/clients/{int(params['clientid'])}")
        if parts == ["favicon.ico"]:
            return Reply(204, b"", "image/x-icon")
    raise KeyError("no such page")


def _post(sim: Simulator, parts: list[str], form: dict[str, str]) -> Reply:
    if parts == ["clients"]:
        name = _required_name(form)
        client = sim.edit(lambda t: t.add_client(name, ticked=form.get("datagate") == "1"))
        return redirect(f"/clients/{client['id']}?saved=1")
    if len(parts) >= 2 and parts[0] == "clients":
        client_id = _record_id(parts[1])
        if parts[2:] == []:
            sim.edit(lambda t: t.update_client(client_id, **_client_changes(t, client_id, form)))
            return redirect(f"/clients/{client_id}?saved=1")
        if parts[2:] == ["sites"]:
            sim.edit(lambda t: t.add_site(client_id, _required_name(form), main=form.get("main") == "1", **_site(form)))
            return redirect(f"/clients/{client_id}?saved=1")
        if parts[2:] == ["delete"]:
            sim.edit(lambda t: t.delete_client(client_id))
            return redirect("/")
    if len(parts) >= 2 and parts[0] == "sites":
        site_id = _record_id(parts[1])
        owner = sim.edit(lambda t: t.site(site_id)["client_id"], persist=False)
        if parts[2:] == []:
            sim.edit(lambda t: t.update_site(site_id, **_site_changes(form)))
            return redirect(f"/clients/{owner}?saved=1")
        if parts[2:] == ["delete"]:
            sim.edit(lambda t: t.delete_site(site_id))
            return redirect(f"/clients/{owner}?saved=1")
    raise KeyError("no such form")


def _required_name(form: dict[str, str]) -> str:
    name = form.get("name", "")
    if not name.strip():
        raise ValueError("The name is required.")
    return name


def _client_changes(tenant: Tenant, client_id: int, form: dict[str, str]) -> dict[str, Any]:
    # The full client form marks itself with form=client: there an absent checkbox means unticked.
    # A partial POST (a test posting only name=...) changes only what it sends.
    whole = form.get("form") == "client"
    changes: dict[str, Any] = {}
    if "name" in form:
        changes["name"] = _required_name(form)
    if whole or "datagate" in form:
        changes["ticked"] = form.get("datagate") == "1"
    if whole or "inactive" in form:
        changes["inactive"] = form.get("inactive") == "1"
    for key, _label in webpages.CLIENT_TEXT_FIELDS:
        if key in form:
            changes[key] = form[key]
    if "main_site_id" in form:
        main = form["main_site_id"].strip()
        changes["main_site_id"] = int(main) if main.isdigit() else None
    custom = {}
    for definition in tenant.custom_field_defs:
        key = f"cf_{definition['id']}"
        if definition["name"] == DATAGATE_NAME:
            continue
        if key in form:
            custom[definition["id"]] = form[key]
        elif whole and definition["type"] == CHECKBOX:
            custom[definition["id"]] = False
    if custom:
        changes["custom_fields"] = custom
    return changes


def _site(form: dict[str, str]) -> dict[str, Any]:
    return {k: form[k] for k, _label in webpages.SITE_FIELDS if k in form and k != "name"}


def _site_changes(form: dict[str, str]) -> dict[str, Any]:
    changes = _site(form)
    if "name" in form:
        changes["name"] = _required_name(form)
    if form.get("form") == "site" or "inactive" in form:
        changes["inactive"] = form.get("inactive") == "1"
    if form.get("main") == "1":
        changes["main"] = True  # unticking does not clear the main site: choose another on the client form
    return changes
