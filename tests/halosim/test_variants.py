"""The uncertain variants of halopsa-api.md beyond the main switches: each reproducible, each off by default."""

from __future__ import annotations

import pytest

from halosim import SimConfig


def test_list_rows_carry_phone_when_switched(api, sim):
    assert "main_phonenumber" not in api.get("/api/Client").json()["clients"][0]
    sim.config.list_rows_carry_phone = True
    row = api.get("/api/Client").json()["clients"][0]
    assert row["main_phonenumber"] == sim.tenant.clients[row["id"]]["main_phonenumber"]


def test_list_rows_carry_all_custom_fields_when_switched(api, sim):
    sim.config.list_rows_all_custom_fields = True
    row = api.get("/api/Client").json()["clients"][0]
    assert {e["id"] for e in row["customfields"]} == {d["id"] for d in sim.tenant.custom_field_defs}


def test_detail_may_omit_empty_custom_fields(api, sim):
    client = sim.edit(lambda t: t.add_client("Sparse Co", ticked=False, custom_fields={"CFBillingCode": "B-1"}))
    path = f"/api/Client/{client['id']}"
    full = {e["name"] for e in api.get(path, includedetails="true").json()["customfields"]}
    assert "CFAccountManager" in full
    sim.config.detail_omits_empty_custom_fields = True
    sparse = {e["name"] for e in api.get(path, includedetails="true").json()["customfields"]}
    assert sparse == {"CFBillingCode", "CFDatagate"}  # an unticked box still says "No"


def test_inactive_included_by_default_when_switched(api, sim):
    active = sum(not c["inactive"] for c in sim.tenant.clients.values())
    assert api.get("/api/Client").json()["record_count"] == active
    sim.config.inactive_included_by_default = True
    assert api.get("/api/Client").json()["record_count"] == len(sim.tenant.clients)
    assert api.get("/api/Client", includeinactive="false").json()["record_count"] == active
    sites = api.get("/api/Site").json()["record_count"]
    assert sites == len(sim.tenant.sites)


def test_flat_postcode_key_is_configurable(api, sim):
    sim.config.flat_postcode_key = "delivery_address_postcode"
    site = next(s for s in sim.tenant.sites.values() if not s["inactive"])
    row = next(
        r
        for r in api.get("/api/Site", client_id=site["client_id"], includeaddress="true").json()["sites"]
        if r["id"] == site["id"]
    )
    assert row["delivery_address_postcode"] == site["delivery_address"]["postcode"]
    assert "delivery_address_line5" not in row
    with pytest.raises(ValueError):
        SimConfig(flat_postcode_key="delivery_address_line2").validate()


def test_fieldinfo_client_typeid_is_configurable(api, sim):
    sim.config.fieldinfo_client_typeid = 7
    fields = api.get("/api/FieldInfo").json()
    datagate = next(f for f in fields if f["name"] == "CFDatagate")
    assert datagate["typeid"] == 7
    assert not any(f["typeid"] == 2 for f in fields)
