"""HTML rendering of the simulator's "HaloPSA side" pages; every value is escaped."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from .fields import CHECKBOX, DATAGATE_NAME, MULTI_SELECT, SINGLE_SELECT
from .tenant import Tenant

PAGE_SIZE = 100
SITE_FIELDS = (
    ("name", "Site name"),
    ("line1", "Address line 1"),
    ("line2", "Address line 2"),
    ("line3", "Address line 3 (city)"),
    ("line4", "Address line 4 (state)"),
    ("postcode", "Postcode"),
    ("phonenumber", "Phone"),
)
CLIENT_TEXT_FIELDS = (
    ("accountsemailaddress", "Accounts e-mail"),
    ("accountsccemailaddress", "Accounts CC e-mail"),
    ("accountsfirstname", "Accounts first name"),
    ("accountslastname", "Accounts last name"),
    ("main_phonenumber", "Main phone"),
)

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f3f5f8;color:#1f2933}
header{background:#1d3557;color:#fff;padding:10px 24px;display:flex;gap:16px;align-items:baseline}
header a{color:#fff;font-weight:600;text-decoration:none;font-size:16px}header span{opacity:.75}
main{max-width:1100px;margin:20px auto;padding:0 24px}h1{font-size:22px;margin:8px 0 16px}h2{font-size:17px}
section,.card{background:#fff;border:1px solid #d9e0e8;border-radius:6px;padding:14px 18px;margin-bottom:16px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:6px 10px;border-bottom:1px solid #e6ebf1;
text-align:left}th{background:#eef2f7;font-weight:600}tr:hover td{background:#f8fafc}
label{display:block;font-size:12px;color:#52606d;margin-bottom:2px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px 14px;margin-bottom:12px}
input[type=text],input[type=search],select{width:100%;box-sizing:border-box;padding:5px 7px;border:1px solid #bcc7d3;
border-radius:4px;font:inherit}.check{padding-top:20px}.check label{display:inline;font-size:14px;color:inherit}
button{background:#1d6fb8;color:#fff;border:0;border-radius:4px;padding:6px 14px;font:inherit;cursor:pointer}
button.danger{background:#b83232}.inline{display:inline}.flash{background:#e3f6e8;border-color:#9bd3ab}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;background:#e1e7ef}
.yes{background:#d3f0dc;color:#1e6b35}.inactive{background:#f6dede;color:#8a1f1f}.muted{color:#7b8794}
.pager{margin-top:10px;display:flex;gap:12px}
"""


def layout(title: str, body: str, tenant_name: str | None) -> str:
    """Wrap page content in the common chrome."""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} - HaloPSA simulator'
        f'</title><style>{_CSS}</style></head><body><header><a href="/">HaloPSA</a>'
        f"<span>tenant {escape(tenant_name or '(self-hosted)')} &middot; simulator</span></header>"
        f"<main>{body}</main></body></html>"
    )


def _input(name: str, label: str, value: Any, input_id: str) -> str:
    return (
        f'<div><label for="{input_id}">{escape(label)}</label>'
        f'<input type="text" id="{input_id}" name="{name}" value="{escape(str(value or ""))}"></div>'
    )


def _checkbox(name: str, label: str, checked: bool, input_id: str) -> str:
    mark = " checked" if checked else ""
    return (
        f'<div class="check"><input type="checkbox" id="{input_id}" name="{name}" value="1"{mark}> '
        f'<label for="{input_id}">{escape(label)}</label></div>'
    )


def client_list(tenant: Tenant, query: str, page_no: int, tenant_name: str | None) -> str:
    """The customer list: search box, add form, table with a Datagate column, 100 rows per page."""
    needle = query.strip().lower()
    rows = sorted(
        (c for c in tenant.clients.values() if needle in c["name"].lower()), key=lambda c: (c["name"].lower(), c["id"])
    )
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page_no = min(max(1, page_no), pages)
    shown = rows[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]
    site_counts: dict[int, int] = {}
    for site in tenant.sites.values():
        site_counts[site["client_id"]] = site_counts.get(site["client_id"], 0) + 1
    body_rows = "".join(
        f'<tr data-client-id="{c["id"]}"><td>{c["id"]}</td>'
        f'<td><a href="/clients/{c["id"]}">{escape(c["name"])}</a></td>'
        f'<td class="datagate">{_yes(tenant.is_ticked(c["id"]))}</td>'
        f"<td>{_status(c['inactive'])}</td><td>{escape(c.get('main_site_name') or '')}</td>"
        f"<td>{site_counts.get(c['id'], 0)}</td></tr>"
        for c in shown
    )
    pager = []
    for label, target in (("Previous", page_no - 1), ("Next", page_no + 1)):
        if 1 <= target <= pages:
            pager.append(f'<a href="/?{escape(urlencode({"q": query, "page": target}))}">{label}</a>')
    body = (
        f"<h1>Customers</h1><section>"
        f'<form id="search-form" method="get" action="/" class="grid">'
        f'<div><label for="search-q">Search</label><input type="search" id="search-q" name="q" '
        f'value="{escape(query)}"></div><div><label>&nbsp;</label><button type="submit">Search</button></div></form>'
        f'<form id="new-client-form" method="post" action="/clients" class="grid">'
        f"{_input('name', 'New customer name', '', 'new-client-name')}"
        f"{_checkbox('datagate', 'Datagate', True, 'new-client-datagate')}"
        f'<div><button type="submit">Add customer</button></div></form></section>'
        f'<p class="muted">{len(rows)} customers &middot; page {page_no} of {pages}</p>'
        f'<table id="clients-table"><thead><tr><th>ID</th><th>Name</th><th>Datagate</th><th>Status</th>'
        f"<th>Main site</th><th>Sites</th></tr></thead><tbody>{body_rows}</tbody></table>"
        f'<div class="pager">{"".join(pager)}</div>'
    )
    return layout("Customers", body, tenant_name)


def _yes(flag: bool) -> str:
    return '<span class="badge yes">Yes</span>' if flag else '<span class="badge">No</span>'


def _status(inactive: bool) -> str:
    return '<span class="badge inactive">Inactive</span>' if inactive else '<span class="badge yes">Active</span>'


def _custom_inputs(tenant: Tenant, client: dict[str, Any]) -> str:
    stored = {e["id"]: e for e in client["customfields"]}
    parts = []
    for d in sorted(tenant.custom_field_defs, key=lambda d: d["id"]):
        if d["name"] == DATAGATE_NAME:
            continue
        entry, input_id, name = stored.get(d["id"]) or {}, f"client-cf-{d['id']}", f"cf_{d['id']}"
        label = f"{d['label']} ({d['name']})"
        if d["type"] == CHECKBOX:
            parts.append(_checkbox(name, label, bool(entry.get("value")), input_id))
        elif d["type"] in (SINGLE_SELECT, MULTI_SELECT):
            options = ['<option value="">(none)</option>'] + [
                f'<option value="{o["id"]}"{" selected" if entry.get("value") == o["id"] else ""}>'
                f"{escape(o['name'])}</option>"
                for o in d.get("values") or []
            ]
            parts.append(
                f'<div><label for="{input_id}">{escape(label)}</label>'
                f'<select id="{input_id}" name="{name}">{"".join(options)}</select></div>'
            )
        else:
            parts.append(_input(name, label, entry.get("value"), input_id))
    return "".join(parts)


def client_page(tenant: Tenant, client: dict[str, Any], saved: bool, tenant_name: str | None) -> str:
    """One customer: its form (Datagate box, name, status, accounts fields, custom fields) and its sites."""
    cid = client["id"]
    sites = tenant.sites_of(cid)
    main_options = ['<option value="">(none)</option>'] + [
        f'<option value="{s["id"]}"{" selected" if s["id"] == client.get("main_site_id") else ""}>'
        f"{escape(s['name'])} (#{s['id']})</option>"
        for s in sites
    ]
    client_form = (
        f'<section><form id="client-form" method="post" action="/clients/{cid}">'
        f'<input type="hidden" name="form" value="client"><div class="grid">'
        f"{_input('name', 'Name', client['name'], 'client-name')}"
        f"{_checkbox('datagate', 'Datagate', tenant.is_ticked(cid), 'client-datagate')}"
        f"{_checkbox('inactive', 'Inactive', client['inactive'], 'client-inactive')}"
        + "".join(_input(k, label, client.get(k), f"client-{k}") for k, label in CLIENT_TEXT_FIELDS)
        + f'<div><label for="client-main-site">Main site</label><select id="client-main-site" name="main_site_id">'
        f"{''.join(main_options)}</select></div>{_custom_inputs(tenant, client)}</div>"
        f'<button type="submit">Save</button></form></section>'
    )
    site_forms = "".join(_site_form(s, s["id"] == client.get("main_site_id")) for s in sites)
    new_site = (
        f'<section><h2>Add a site</h2><form id="new-site-form" method="post" action="/clients/{cid}/sites">'
        f'<div class="grid">{"".join(_input(k, label, "", f"new-site-{k}") for k, label in SITE_FIELDS)}'
        f"{_checkbox('main', 'Main site', False, 'new-site-main')}</div>"
        f'<button type="submit">Add site</button></form></section>'
    )
    delete = (
        f'<form id="client-delete-form" class="inline" method="post" action="/clients/{cid}/delete">'
        f'<button type="submit" class="danger">Delete customer</button></form>'
    )
    flash = '<section class="flash" id="flash">Saved.</section>' if saved else ""
    body = (
        f'<p><a href="/">&larr; Customers</a></p><h1>{escape(client["name"])} <span class="muted">#{cid}</span></h1>'
        f'{flash}<p class="muted">Last updated {escape(str(client.get("alastupdate") or ""))} UTC</p>{client_form}'
        f"<h2>Sites</h2>{site_forms or '<p class=muted>No sites.</p>'}{new_site}{delete}"
    )
    return layout(client["name"], body, tenant_name)


def _site_form(site: dict[str, Any], is_main: bool) -> str:
    sid = site["id"]
    values = {**site["delivery_address"], "name": site["name"], "phonenumber": site.get("phonenumber", "")}
    inputs = "".join(_input(k, label, values.get(k), f"site-{sid}-{k}") for k, label in SITE_FIELDS)
    badges = (' <span class="badge yes">Main site</span>' if is_main else "") + (
        ' <span class="badge inactive">Inactive</span>' if site["inactive"] else ""
    )
    return (
        f'<section class="card" id="site-{sid}"><h2>{escape(site["name"])} <span class="muted">#{sid}</span>{badges}'
        f'</h2><form id="site-form-{sid}" method="post" action="/sites/{sid}">'
        f'<input type="hidden" name="form" value="site"><div class="grid">{inputs}'
        f"{_checkbox('inactive', 'Inactive', site['inactive'], f'site-{sid}-inactive')}"
        f"{_checkbox('main', 'Main site', is_main, f'site-{sid}-main')}</div>"
        f'<button type="submit">Save</button></form>'
        f'<form id="site-delete-form-{sid}" class="inline" method="post" action="/sites/{sid}/delete">'
        f'<button type="submit" class="danger">Delete site</button></form></section>'
    )


def message_page(title: str, message: str, back: str, tenant_name: str | None) -> str:
    """A small page for errors such as "no such customer"."""
    body = f'<h1>{escape(title)}</h1><section><p>{escape(message)}</p><a href="{escape(back)}">Back</a></section>'
    return layout(title, body, tenant_name)
