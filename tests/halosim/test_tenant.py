"""Tenant data model and generator: determinism, realism, scale, mutations, persistence."""

from __future__ import annotations

from collections import Counter

import pytest

from halosim import Tenant


def test_empty_tenant_has_client_custom_fields_with_datagate_not_lowest():
    tenant = Tenant.empty()
    assert tenant.clients == {} and tenant.sites == {}
    ids = sorted(d["id"] for d in tenant.custom_field_defs)
    assert tenant.datagate_field_id == 142
    assert ids[0] < tenant.datagate_field_id < ids[-1]
    assert len(ids) >= 6  # five Extra Fields besides CFDatagate
    datagate = tenant.field_def("CFDatagate")
    assert (datagate["label"], datagate["type"]) == ("Datagate", 6)


def test_generate_is_deterministic_for_a_seed():
    first = Tenant.generate(clients=60, seed=3)
    second = Tenant.generate(clients=60, seed=3)
    other = Tenant.generate(clients=60, seed=4)
    assert first.clients == second.clients
    assert first.sites == second.sites
    assert [c["name"] for c in first.clients.values()] != [c["name"] for c in other.clients.values()]


def test_generated_data_is_realistic():
    tenant = Tenant.generate(clients=400, seed=1, ticked_ratio=0.7, inactive_ratio=0.1)
    clients = list(tenant.clients.values())
    names = [c["name"].lower() for c in clients]
    assert len(set(names)) == len(names) == 400
    for client in clients:
        own = {s["id"] for s in tenant.sites_of(client["id"])}
        assert client["main_site_id"] in own
        assert tenant.sites[client["main_site_id"]]["name"] == client["main_site_name"]
    emails = [c["accountsemailaddress"] for c in clients]
    assert any(";" in e for e in emails)
    assert any("," in e for e in emails)
    assert any(e != e.strip() for e in emails)
    assert any(e == "" for e in emails)
    assert 0.55 < sum(tenant.is_ticked(c["id"]) for c in clients) / 400 < 0.85
    assert 0.03 < sum(c["inactive"] for c in clients) / 400 < 0.2
    sites = list(tenant.sites.values())
    assert any(s["delivery_address"]["line2"] == "" for s in sites)
    assert any(s["delivery_address"]["line2"].startswith(("Suite", "Level", "Unit")) for s in sites)
    assert all(s["delivery_address"]["line3"] and s["delivery_address"]["postcode"] for s in sites)
    filled = Counter(e["name"] for c in clients for e in c["customfields"] if e["display"])
    for field in ("CFAccountManager", "CFContractTier", "CFBillingCode", "CFRegion", "CFPONumber"):
        assert filled[field] > 50, field
    tier = next(e for e in clients[0]["customfields"] if e["name"] == "CFContractTier")
    if tier["value"] is not None:
        assert isinstance(tier["value"], int) and tier["display"] in ("Bronze", "Silver", "Gold", "Platinum")


def test_generate_ten_thousand_clients_per_client_range():
    tenant = Tenant.generate(clients=10_000, seed=1, sites_per_client=(2, 3))
    assert len(tenant.clients) == 10_000
    per_client = Counter(s["client_id"] for s in tenant.sites.values())
    assert set(per_client.values()) <= {2, 3}
    assert len(per_client) == 10_000


def test_generate_sites_total_is_exact():
    tenant = Tenant.generate(clients=10_000, seed=2, sites_total=25_000)
    assert len(tenant.sites) == 25_000
    assert len({s["client_id"] for s in tenant.sites.values()}) == 10_000
    few = Tenant.generate(clients=10, seed=2, sites_total=4)
    assert len(few.sites) == 4
    assert sum(c["main_site_id"] is None for c in few.clients.values()) == 6


def test_add_client_and_site_with_custom_fields():
    tenant = Tenant.empty()
    client = tenant.add_client(
        "Acme Pty Ltd",
        ticked=False,
        accountsemailaddress="ap@acme.test",
        custom_fields={"CFContractTier": "Gold", 143: "BC-1", "Region": 2},
    )
    assert isinstance(client["id"], int) and tenant.clients[client["id"]] is client
    assert not tenant.is_ticked(client["id"])
    values = {e["name"]: (e["value"], e["display"]) for e in client["customfields"]}
    assert values["CFContractTier"] == (3, "Gold")
    assert values["CFBillingCode"] == ("BC-1", "BC-1")
    assert values["CFRegion"] == (2, "Regional")
    assert values["CFDatagate"] == (False, "No")
    site = tenant.add_site(client["id"], "HQ", main=True, line1="1 Main St", line3="Sydney", postcode="2000")
    assert client["main_site_id"] == site["id"] and client["main_site_name"] == "HQ"
    with pytest.raises(ValueError):
        tenant.add_client("Bad", custom_fields={"CFContractTier": "Diamond"})
    with pytest.raises(ValueError):
        tenant.add_client("Bad", colour="red")
    assert [c["name"] for c in tenant.clients.values()] == ["Acme Pty Ltd"]


def test_update_client_bumps_alastupdate_and_renames_flow_to_sites():
    tenant = Tenant.empty()
    client = tenant.add_client("Old Name", alastupdate="2020-01-01T00:00:00.000")
    site = tenant.add_site(client["id"], "Main", main=True)
    tenant.update_client(client["id"], name="New Name", inactive=True)
    assert client["alastupdate"] > "2020-01-01T00:00:00.000"
    assert client["inactive"] is True
    assert site["client_name"] == "New Name"
    tenant.set_ticked(client["id"], False)
    assert not tenant.is_ticked(client["id"])
    tenant.update_client(client["id"], customfields=[{"id": 142, "value": "Yes"}])
    assert tenant.is_ticked(client["id"])


def test_update_site_and_main_site_name():
    tenant = Tenant.empty()
    client = tenant.add_client("C")
    first = tenant.add_site(client["id"], "First", main=True)
    second = tenant.add_site(client["id"], "Second")
    tenant.update_site(first["id"], name="Renamed", line1="5 New Rd", postcode="3000", inactive=False)
    assert client["main_site_name"] == "Renamed"
    assert first["delivery_address"]["line1"] == "5 New Rd" and first["delivery_address"]["postcode"] == "3000"
    tenant.update_site(second["id"], main=True)
    assert client["main_site_id"] == second["id"]
    other = tenant.add_client("D")
    tenant.update_site(second["id"], client_id=float(other["id"]))
    assert second["client_id"] == other["id"] and second["client_name"] == "D"
    with pytest.raises(ValueError):
        tenant.update_site(first["id"], city="Sydney")


def test_delete_client_removes_sites_and_delete_site_leaves_main_dangling():
    tenant = Tenant.empty()
    a, b = tenant.add_client("A"), tenant.add_client("B")
    tenant.add_site(a["id"], "A1", main=True)
    b_main = tenant.add_site(b["id"], "B1", main=True)
    tenant.delete_client(a["id"])
    assert a["id"] not in tenant.clients
    assert all(s["client_id"] != a["id"] for s in tenant.sites.values())
    tenant.delete_site(b_main["id"])
    assert b["main_site_id"] == b_main["id"] and b_main["id"] not in tenant.sites
    with pytest.raises(KeyError):
        tenant.update_client(a["id"], name="x")


def test_save_and_load_round_trip(tmp_path):
    tenant = Tenant.generate(clients=25, seed=5)
    path = tmp_path / "state" / "tenant.json"
    tenant.save(path)
    loaded = Tenant.load(path)
    assert loaded.clients == tenant.clients
    assert loaded.sites == tenant.sites
    assert loaded.custom_field_defs == tenant.custom_field_defs
    created = loaded.add_client("After Load")
    assert created["id"] not in tenant.clients
    assert created["id"] > max(tenant.clients)
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"clients": []}')
    with pytest.raises(ValueError):
        Tenant.load(bogus)
