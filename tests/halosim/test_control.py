"""Control endpoints under /_sim/ and persistence through sim.edit."""

from __future__ import annotations

import requests

from halosim import Simulator, Tenant

from .helpers import Api


def control(sim, method, path, payload=None):
    return requests.request(method, sim.base_url + "/_sim/" + path, json=payload, timeout=10)


def test_config_read_and_partial_update(sim):
    assert control(sim, "GET", "config").json()["checkbox_form"] == "bool"
    updated = control(sim, "POST", "config", {"checkbox_form": "yes", "rate_limit": 300, "fail_next": "2"})
    assert updated.status_code == 200
    assert (sim.config.checkbox_form, sim.config.rate_limit, sim.config.fail_next) == ("yes", 300, 2)
    assert updated.json()["fail_next"] == 2


def test_config_rejects_bad_values_without_partial_changes(sim):
    response = control(sim, "POST", "config", {"fail_next": 4, "checkbox_form": "maybe"})
    assert response.status_code == 400
    assert sim.config.fail_next == 0 and sim.config.checkbox_form == "bool"
    assert control(sim, "POST", "config", {"no_such_switch": 1}).status_code == 400


def test_stats_and_reset_are_not_counted(sim):
    Api(sim).login()
    assert control(sim, "GET", "stats").json() == {"POST /auth/token": 1}
    assert control(sim, "POST", "stats/reset").status_code == 200
    assert control(sim, "GET", "stats").json() == {}


def test_control_is_not_rate_limited(sim):
    sim.config.rate_limit = 1
    Api(sim).login()
    for _ in range(5):
        assert control(sim, "GET", "config").status_code == 200


def test_generate_replaces_tenant_and_writes_state_once(tmp_path, clock):
    state = tmp_path / "halosim.json"
    sim = Simulator(tenant=Tenant.empty(), state_path=state, clock=clock)
    sim.start()
    try:
        response = control(sim, "POST", "tenant/generate", {"clients": 30, "seed": 9, "sites_total": 45})
        assert response.status_code == 200
        assert response.json()["clients"] == 30 and response.json()["sites"] == 45
        assert len(Tenant.load(state).clients) == 30
        assert control(sim, "POST", "tenant/generate", {"clients": 1, "colour": "red"}).status_code == 400
        assert control(sim, "GET", "tenant").json()["clients"] == 30
    finally:
        sim.stop()


def test_client_and_site_edits_via_control(sim):
    created = control(sim, "POST", "clients", {"name": "Control Co", "ticked": False}).json()
    assert not sim.tenant.is_ticked(created["id"])
    control(sim, "POST", f"clients/{created['id']}", {"ticked": True, "name": "Control Co 2"})
    assert sim.tenant.is_ticked(created["id"]) and sim.tenant.clients[created["id"]]["name"] == "Control Co 2"
    site = control(sim, "POST", "sites", {"client_id": created["id"], "name": "HQ", "main": True}).json()
    assert sim.tenant.clients[created["id"]]["main_site_id"] == site["id"]
    control(sim, "POST", f"sites/{site['id']}", {"line1": "1 Control St"})
    assert sim.tenant.sites[site["id"]]["delivery_address"]["line1"] == "1 Control St"
    assert control(sim, "DELETE", f"sites/{site['id']}").status_code == 200
    assert control(sim, "DELETE", f"clients/{created['id']}").status_code == 200
    assert created["id"] not in sim.tenant.clients
    assert control(sim, "POST", "clients/99999999", {"name": "x"}).status_code == 404
    assert control(sim, "POST", "clients", {"inactive": True}).status_code == 400


def test_control_edits_persist_only_when_asked(tmp_path):
    state = tmp_path / "state.json"
    sim = Simulator(tenant=Tenant.generate(clients=5, seed=1), state_path=state)
    sim.start()
    try:
        client_id = next(iter(sim.tenant.clients))
        control(sim, "POST", f"clients/{client_id}", {"name": "Fast Edit"})
        assert not state.exists()
        requests.post(sim.base_url + f"/_sim/clients/{client_id}?persist=true", json={"name": "Kept"}, timeout=5)
        assert Tenant.load(state).clients[client_id]["name"] == "Kept"
        control(sim, "POST", f"clients/{client_id}", {"name": "Saved Later"})
        control(sim, "POST", "save")
        assert Tenant.load(state).clients[client_id]["name"] == "Saved Later"
    finally:
        sim.stop()


def test_edit_runs_under_lock_and_persists(tmp_path):
    state = tmp_path / "state.json"
    sim = Simulator(tenant=Tenant.empty(), state_path=state)
    created = sim.edit(lambda t: t.add_client("Edited Co"))
    assert Tenant.load(state).clients[created["id"]]["name"] == "Edited Co"
    reloaded = Simulator(state_path=state)  # no tenant given: the state file is loaded
    assert reloaded.tenant.clients[created["id"]]["name"] == "Edited Co"
