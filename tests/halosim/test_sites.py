"""GET/POST /api/Site: decimal client_id, address forms, paging traps, filters, detail, upsert."""

from __future__ import annotations

import json

FLAT = {f"delivery_address_line{n}" for n in range(1, 6)}


def a_site(sim, **where):
    return next(s for s in sim.tenant.sites.values() if all(s[k] == v for k, v in where.items()))


def test_client_id_is_a_decimal_on_the_wire(api, sim):
    site = a_site(sim, inactive=False)
    response = api.get("/api/Site", client_id=site["client_id"])
    assert f'"client_id": {site["client_id"]}.0' in response.text
    row = response.json()["sites"][0]
    assert isinstance(row["client_id"], float) and row["client_id"] == site["client_id"]
    detail = json.loads(api.get(f"/api/Site/{site['id']}").text)
    assert isinstance(detail["client_id"], float)


def test_flat_address_only_with_includeaddress_postcode_as_line5(api, sim):
    site = a_site(sim, inactive=False)
    without = api.get("/api/Site", client_id=site["client_id"]).json()["sites"][0]
    assert not FLAT & set(without) and "delivery_address" not in without
    row = next(
        r
        for r in api.get("/api/Site", client_id=site["client_id"], includeaddress="true").json()["sites"]
        if r["id"] == site["id"]
    )
    assert set(row) >= FLAT and "delivery_address" not in row
    address = site["delivery_address"]
    assert row["delivery_address_line1"] == address["line1"]
    assert row["delivery_address_line3"] == address["line3"]
    assert row["delivery_address_line5"] == address["postcode"]


def test_nested_address_form(api, sim):
    sim.config.site_address_form = "nested"
    site = a_site(sim, inactive=False)
    rows = api.get("/api/Site", client_id=site["client_id"], includeaddress="true").json()["sites"]
    row = next(r for r in rows if r["id"] == site["id"])
    assert row["delivery_address"] == site["delivery_address"]
    assert not FLAT & set(row)


def test_address_without_includeaddress_when_switched(api, sim):
    sim.config.site_address_needs_include = False
    row = api.get("/api/Site").json()["sites"][0]
    assert set(row) >= FLAT


def test_site_paging_traps_and_order(api, sim):
    active = sorted(s["id"] for s in sim.tenant.sites.values() if not s["inactive"])
    assert len(active) > 100
    default = api.get("/api/Site", page_size=100).json()
    assert len(default["sites"]) == 50 and default["record_count"] == len(active)
    capped = api.get("/api/Site", pageinate="true", page_size=1000).json()
    assert len(capped["sites"]) == 100
    rows, total = api.all_pages("/api/Site", "sites")
    assert [r["id"] for r in rows] == active and total == len(active)


def test_site_include_inactive_and_client_filter(api, sim):
    everything, total = api.all_pages("/api/Site", "sites", includeinactive="true")
    assert total == len(sim.tenant.sites) == len(everything)
    assert any(r["inactive"] for r in everything)
    client_id = next(iter(sim.tenant.clients))
    rows = api.get("/api/Site", client_id=client_id, includeinactive="true").json()["sites"]
    assert {r["id"] for r in rows} == {s["id"] for s in sim.tenant.sites_of(client_id)}
    assert api.get("/api/Site", client_id=f"{client_id}.0", includeinactive="true").json()["sites"] == rows


def test_site_detail_has_objects_and_flat_strings(api, sim):
    site = a_site(sim)
    detail = api.get(f"/api/Site/{site['id']}").json()
    assert detail["delivery_address"] == site["delivery_address"]
    assert detail["invoice_address"] == site["invoice_address"]
    assert detail["delivery_address_line5"] == site["delivery_address"]["postcode"]
    assert detail["client_name"] == sim.tenant.clients[site["client_id"]]["name"]
    assert api.get("/api/Site/99999999").status_code == 404


def test_post_site_upsert(api, sim):
    client_id = next(iter(sim.tenant.clients))
    created = api.post(
        "/api/Site",
        [
            {
                "name": "New Depot",
                "client_id": float(client_id),
                "delivery_address": {"line1": "9 Dock Rd", "postcode": "4000"},
            }
        ],
    )
    assert created.status_code in (200, 201)
    new = created.json()[0]
    assert sim.tenant.sites[new["id"]]["delivery_address"]["line1"] == "9 Dock Rd"
    updated = api.post("/api/Site", [{"id": new["id"], "delivery_address_line5": "4001", "name": "Old Depot"}])
    assert updated.status_code in (200, 201)
    stored = sim.tenant.sites[new["id"]]
    assert (stored["name"], stored["delivery_address"]["postcode"]) == ("Old Depot", "4001")
    bad = api.post("/api/Site", [{"name": "Orphan", "client_id": 99999999}])
    assert bad.status_code == 400 and "[0].client_id" in bad.json()
    assert api.post("/api/Site", [{"id": 99999999, "name": "x"}]).status_code == 400
