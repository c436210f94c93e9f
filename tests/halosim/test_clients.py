"""GET/POST /api/Client: paging traps, filters, custom fields, checkbox wire forms, detail, array upsert."""

from __future__ import annotations

import pytest

ROW_KEYS = {
    "id",
    "name",
    "inactive",
    "main_site_id",
    "main_site_name",
    "accountsemailaddress",
    "accountsccemailaddress",
    "accountsfirstname",
    "accountslastname",
    "alastupdate",
    "toplevel_id",
}


def active_ids(sim):
    return sorted(c["id"] for c in sim.tenant.clients.values() if not c["inactive"])


def test_without_pageinate_page_size_and_page_no_are_ignored(api, sim):
    body = api.get("/api/Client", page_size=100, page_no=2).json()
    assert len(body["clients"]) == 50
    assert body["record_count"] == len(active_ids(sim)) > 100
    first_page = api.get("/api/Client").json()["clients"]
    assert [c["id"] for c in body["clients"]] == [c["id"] for c in first_page]


def test_default_page_size_is_configurable(api, sim):
    sim.config.default_page_size = 20
    assert len(api.get("/api/Client").json()["clients"]) == 20
    assert len(api.get("/api/Client", count=5).json()["clients"]) == 5
    assert len(api.get("/api/Client", count=500).json()["clients"]) == 20


def test_pages_are_capped_at_100_while_record_count_is_the_total(api, sim):
    body = api.get("/api/Client", pageinate="true", page_size=500, page_no=1).json()
    assert len(body["clients"]) == 100
    assert body["page_size"] == 100
    assert body["record_count"] == len(active_ids(sim))


def test_paging_by_id_returns_every_active_client_once(api, sim):
    rows, total = api.all_pages("/api/Client", "clients", order="id")
    ids = [r["id"] for r in rows]
    assert ids == active_ids(sim)
    assert total == len(ids)


def test_include_inactive(api, sim):
    everyone = api.get("/api/Client", includeinactive="true").json()
    assert everyone["record_count"] == len(sim.tenant.clients)
    only_inactive = api.get("/api/Client", includeinactive="true", includeactive="false").json()
    inactive = [c for c in sim.tenant.clients.values() if c["inactive"]]
    assert only_inactive["record_count"] == len(inactive) > 0
    assert all(row["inactive"] for row in only_inactive["clients"])
    assert not any(row["inactive"] for row in api.get("/api/Client").json()["clients"])


def test_search_order_and_unknown_params(api, sim):
    target = next(c for c in sim.tenant.clients.values() if not c["inactive"])
    fragment = target["name"].split()[0].upper()
    found = api.get("/api/Client", search=fragment, includeinactive="true", frobnicate="yes").json()["clients"]
    assert target["id"] in [r["id"] for r in found]
    assert all(fragment.lower() in r["name"].lower() for r in found)
    by_name = api.get("/api/Client", pageinate="true", page_size=100).json()["clients"]
    assert [r["name"].lower() for r in by_name] == sorted(r["name"].lower() for r in by_name)
    desc = api.get("/api/Client", pageinate="true", page_size=100, order="id", orderdesc="true").json()["clients"]
    assert [r["id"] for r in desc] == sorted(active_ids(sim), reverse=True)[:100]


def test_envelope_carries_a_columns_array_before_clients(api):
    body = api.get("/api/Client").json()
    keys = list(body)
    assert {"page_no", "page_size", "record_count", "clients", "columns"} <= set(keys)
    assert keys.index("columns") < keys.index("clients")
    assert isinstance(body["columns"], list) and body["columns"]


def test_list_rows_are_a_subset_without_phone_or_custom_fields(api):
    row = api.get("/api/Client").json()["clients"][0]
    assert set(row) == ROW_KEYS


def test_include_custom_fields_honoured(api, sim):
    rows = api.get("/api/Client", include_custom_fields="142,140").json()["clients"]
    for row in rows:
        assert sorted(e["id"] for e in row["customfields"]) == [140, 142]
        entry = next(e for e in row["customfields"] if e["id"] == 142)
        assert set(entry) == {"id", "name", "label", "type", "value", "display"}
        assert entry["value"] is sim.tenant.is_ticked(row["id"])


def test_include_custom_fields_ignored_by_older_builds(api, sim):
    sim.config.honour_include_custom_fields = False
    rows = api.get("/api/Client", include_custom_fields="142").json()["clients"]
    assert all("customfields" not in row for row in rows)


@pytest.mark.parametrize(
    ("form", "ticked", "unticked"),
    [
        ("bool", True, False),
        ("int", 1, 0),
        ("str_int", "1", "0"),
        ("str_true", "True", "False"),
        ("yes", "Yes", "No"),
        ("display_only", None, None),
    ],
)
def test_checkbox_wire_forms(api, sim, form, ticked, unticked):
    sim.config.checkbox_form = form
    on = sim.edit(lambda t: t.add_client("Ticked Co", ticked=True))
    off = sim.edit(lambda t: t.add_client("Unticked Co", ticked=False))
    for client, value, display in ((on, ticked, "Yes"), (off, unticked, "No")):
        detail = api.get(f"/api/Client/{client['id']}", includedetails="true").json()
        entry = next(e for e in detail["customfields"] if e["name"] == "CFDatagate")
        assert entry["value"] == value and type(entry["value"]) is type(value)
        assert entry["display"] == display
        row = api.get("/api/Client", search=client["name"], include_custom_fields="142").json()["clients"][0]
        assert row["customfields"][0]["value"] == value


def test_detail_with_includedetails_has_every_custom_field_and_phone(api, sim):
    bare = sim.edit(lambda t: t.add_client("Bare Co", main_phonenumber="02 9999 0000"))
    detail = api.get(f"/api/Client/{bare['id']}", includedetails="true").json()
    assert detail["main_phonenumber"] == "02 9999 0000"
    names = {e["name"] for e in detail["customfields"]}
    assert names == {d["name"] for d in sim.tenant.custom_field_defs}
    empty = next(e for e in detail["customfields"] if e["name"] == "CFAccountManager")
    assert empty["display"] == "" and "label" in empty
    plain = api.get(f"/api/Client/{bare['id']}").json()
    assert "customfields" not in plain


def test_detail_of_missing_client_is_404_with_message(api):
    response = api.get("/api/Client/999999")
    assert response.status_code == 404
    assert "Message" in response.json()


def test_non_numeric_paging_parameter_is_a_validation_error(api):
    response = api.get("/api/Client", pageinate="true", page_size="lots")
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_post_updates_and_creates(api, sim):
    target = next(iter(sim.tenant.clients.values()))
    payload = [
        {"id": target["id"], "name": "Renamed Pty Ltd", "customfields": [{"id": 142, "value": False}]},
        {
            "name": "Brand New Co",
            "accountsemailaddress": "ap@new.test",
            "customfields": [{"name": "CFDatagate", "value": 1}],
        },
    ]
    response = api.post("/api/Client", payload)
    assert response.status_code in (200, 201)
    saved = response.json()
    assert [c["name"] for c in saved] == ["Renamed Pty Ltd", "Brand New Co"]
    assert sim.tenant.clients[target["id"]]["name"] == "Renamed Pty Ltd"
    assert not sim.tenant.is_ticked(target["id"])
    assert sim.tenant.is_ticked(saved[1]["id"])
    assert sim.tenant.clients[saved[1]["id"]]["accountsemailaddress"] == "ap@new.test"


def test_post_selection_value_by_text_and_unknown_fields_ignored(api, sim):
    target = next(iter(sim.tenant.clients.values()))
    payload = [{"id": target["id"], "customfields": [{"id": 141, "value": "Gold"}, {"id": 9999, "value": "x"}]}]
    assert api.post("/api/Client", payload).status_code in (200, 201)
    tier = next(e for e in sim.tenant.clients[target["id"]]["customfields"] if e["id"] == 141)
    assert (tier["value"], tier["display"]) == (3, "Gold")


def test_post_with_unknown_id_is_a_validation_map_and_changes_nothing(api, sim):
    first = next(iter(sim.tenant.clients.values()))
    response = api.post("/api/Client", [{"id": first["id"], "name": "Should Not Stick"}, {"id": 987654}])
    assert response.status_code == 400
    assert "[1].id" in response.json()
    assert sim.tenant.clients[first["id"]]["name"] != "Should Not Stick"
    assert api.post("/api/Client", {"name": "not an array"}).status_code == 400
    assert api.post("/api/Client", [{"accountsemailaddress": "x@y"}]).json() == {
        "[0].name": ["The Name field is required."]
    }
