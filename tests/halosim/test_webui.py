"""The "HaloPSA side" web page: listing, escaping, and edits through its forms, as a browser submits them."""

from __future__ import annotations

import requests

from halosim import Simulator, Tenant

from .htmlforms import read_forms


def page(sim, path, **params):
    response = requests.get(sim.base_url + path, params=params, timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    return response.text


def submit(sim, form, data):
    response = requests.post(sim.base_url + form.action, data=data, allow_redirects=False, timeout=10)
    assert response.status_code == 303, response.text
    return response.headers["Location"]


def a_client(sim, **where):
    return next(c for c in sim.tenant.clients.values() if all(c[k] == v for k, v in where.items()))


def test_list_page_shows_clients_with_datagate_column_and_search(sim):
    html = page(sim, "/")
    assert 'id="clients-table"' in html and "<th>Datagate</th>" in html
    assert "search-form" in read_forms(html)
    target = a_client(sim, inactive=False)
    found = page(sim, "/", q=target["name"].upper())
    assert f'href="/clients/{target["id"]}"' in found
    other = next(c for c in sim.tenant.clients.values() if target["name"].lower() not in c["name"].lower())
    assert f'href="/clients/{other["id"]}"' not in found


def test_output_is_escaped(sim):
    evil = sim.edit(lambda t: t.add_client('<script>alert("x")</script> & Co'))
    html = page(sim, f"/clients/{evil['id']}")
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert "<script>alert" not in page(sim, "/", q="script")


def test_client_form_has_stable_names_labels_and_save(sim):
    client = a_client(sim)
    forms = read_forms(page(sim, f"/clients/{client['id']}"))
    form = forms["client-form"]
    assert form.method == "post" and form.action == f"/clients/{client['id']}"
    assert form.field("name")["value"] == client["name"]
    assert form.field("datagate")["type"] == form.field("inactive")["type"] == "checkbox"
    assert form.field("datagate")["checked"] is sim.tenant.is_ticked(client["id"])
    assert form.labels[str(form.field("datagate")["id"])] == "Datagate"
    assert form.labels[str(form.field("name")["id"])] == "Name"
    assert "Save" in form.buttons
    for site in sim.tenant.sites_of(client["id"]):
        site_form = forms[f"site-form-{site['id']}"]
        assert {"name", "line1", "line2", "line3", "line4", "postcode", "inactive"} <= {
            f["name"] for f in site_form.fields
        }
        assert "Save" in site_form.buttons


def test_tick_untick_rename_deactivate_reactivate(sim):
    client = a_client(sim, inactive=False)
    cid = client["id"]
    ticked = sim.tenant.is_ticked(cid)
    others = {e["id"]: e["value"] for e in client["customfields"] if e["name"] != "CFDatagate"}
    form = read_forms(page(sim, f"/clients/{cid}"))["client-form"]
    location = submit(sim, form, form.browser_data(datagate=not ticked, name="Renamed By Hand"))
    assert location == f"/clients/{cid}?saved=1"
    assert sim.tenant.is_ticked(cid) is (not ticked)
    assert sim.tenant.clients[cid]["name"] == "Renamed By Hand"
    # The rest of the form round-trips: untouched custom fields keep their values.
    assert {e["id"]: e["value"] for e in client["customfields"] if e["name"] != "CFDatagate"} == others

    form = read_forms(page(sim, f"/clients/{cid}"))["client-form"]
    submit(sim, form, form.browser_data(inactive=True))
    assert sim.tenant.clients[cid]["inactive"] is True
    form = read_forms(page(sim, f"/clients/{cid}"))["client-form"]
    assert form.field("inactive")["checked"] is True
    submit(sim, form, form.browser_data(inactive=False, datagate=ticked))
    assert sim.tenant.clients[cid]["inactive"] is False
    assert sim.tenant.is_ticked(cid) is ticked
    assert "Saved." in page(sim, f"/clients/{cid}", saved=1)


def test_edit_custom_field_and_main_site(sim):
    client = next(c for c in sim.tenant.clients.values() if len(sim.tenant.sites_of(c["id"])) > 1)
    other_site = next(s for s in sim.tenant.sites_of(client["id"]) if s["id"] != client["main_site_id"])
    form = read_forms(page(sim, f"/clients/{client['id']}"))["client-form"]
    submit(sim, form, form.browser_data(cf_143="BC-HAND", cf_141="4", main_site_id=str(other_site["id"])))
    values = {e["id"]: e["display"] for e in client["customfields"]}
    assert values[143] == "BC-HAND" and values[141] == "Platinum"
    assert client["main_site_id"] == other_site["id"] and client["main_site_name"] == other_site["name"]


def test_site_edit_add_and_delete(sim):
    client = a_client(sim)
    site = sim.tenant.sites_of(client["id"])[0]
    form = read_forms(page(sim, f"/clients/{client['id']}"))[f"site-form-{site['id']}"]
    data = form.browser_data(name="Edited Site", line1="77 New Street", line2="", line3="Hobart", postcode="7000")
    assert submit(sim, form, data) == f"/clients/{client['id']}?saved=1"
    stored = sim.tenant.sites[site["id"]]
    assert stored["name"] == "Edited Site"
    assert stored["delivery_address"] == {
        "line1": "77 New Street",
        "line2": "",
        "line3": "Hobart",
        "line4": site["delivery_address"]["line4"],
        "postcode": "7000",
    }
    new_form = read_forms(page(sim, f"/clients/{client['id']}"))["new-site-form"]
    submit(sim, new_form, new_form.browser_data(name="Annex", line1="1 Side St", main=True))
    annex = next(s for s in sim.tenant.sites_of(client["id"]) if s["name"] == "Annex")
    assert client["main_site_id"] == annex["id"]
    delete_form = read_forms(page(sim, f"/clients/{client['id']}"))[f"site-delete-form-{annex['id']}"]
    submit(sim, delete_form, {})
    assert annex["id"] not in sim.tenant.sites


def test_add_and_delete_client(sim):
    form = read_forms(page(sim, "/"))["new-client-form"]
    location = submit(sim, form, form.browser_data(name="Walk-in Customer"))
    created = next(c for c in sim.tenant.clients.values() if c["name"] == "Walk-in Customer")
    assert location == f"/clients/{created['id']}?saved=1" and sim.tenant.is_ticked(created["id"])
    delete = read_forms(page(sim, f"/clients/{created['id']}"))["client-delete-form"]
    assert submit(sim, delete, {}) == "/"
    assert created["id"] not in sim.tenant.clients


def test_errors_are_pages_not_crashes(sim):
    assert requests.get(sim.base_url + "/clients/99999999", timeout=5).status_code == 404
    assert requests.get(sim.base_url + "/nowhere", timeout=5).status_code == 404
    assert requests.get(sim.base_url + "/?page=abc", timeout=5).status_code == 200
    client = a_client(sim)
    blank = requests.post(sim.base_url + f"/clients/{client['id']}", data={"name": "  "}, timeout=5)
    assert blank.status_code == 400
    assert sim.tenant.clients[client["id"]]["name"].strip()


def test_page_edits_persist_to_the_state_file(tmp_path):
    state = tmp_path / "state.json"
    sim = Simulator(tenant=Tenant.generate(clients=3, seed=2), state_path=state)
    sim.start()
    try:
        cid = next(iter(sim.tenant.clients))
        form = read_forms(page(sim, f"/clients/{cid}"))["client-form"]
        submit(sim, form, form.browser_data(name="Persisted Name"))
        assert Tenant.load(state).clients[cid]["name"] == "Persisted Name"
    finally:
        sim.stop()


def test_halopsa_client_urls_lead_to_the_client_page(sim):
    import requests

    client = sim.edit(lambda t: t.add_client("Linked From The Portal"))
    response = requests.get(f"{sim.base_url}/customers", params={"clientid": client["id"]}, timeout=10)
    assert response.status_code == 200
    assert response.url.endswith(f"/clients/{client['id']}")
    assert "Linked From The Portal" in response.text
