"""Contract tests over real HTTP against the simulator, across every switch of its uncertain HaloPSA behaviour."""

from __future__ import annotations

import math

import pytest

from syncapp.halo import ClientCustomFields, HaloAddress, HaloIncompleteListing

CHECKBOX_FORMS = ["bool", "int", "str_int", "str_true", "yes", "display_only"]
FIELDINFO_FORMS = ["array", "envelope", "missing"]
SIM_FIELDS = ClientCustomFields(datagate_field_id=142, extra_field_ids=(140, 141, 143, 144, 145))


def discovery_budget(fieldinfo_form: str) -> dict[str, int]:
    """Requests custom field discovery costs: FieldInfo, or FieldInfo (404) + a 1-row list + one client detail."""
    if fieldinfo_form == "missing":
        return {"GET /api/FieldInfo": 1, "GET /api/Client": 1, "GET /api/Client/{id}": 1}
    return {"GET /api/FieldInfo": 1}


def sim_requests(sim) -> dict[str, int]:
    return {key: count for key, count in sim.stats().items() if key != "429"}


def add(budget: dict[str, int], key: str, count: int) -> None:
    budget[key] = budget.get(key, 0) + count


@pytest.mark.parametrize("honour_include_custom_fields", [True, False], ids=["honoured", "ignored"])
@pytest.mark.parametrize("fieldinfo_form", FIELDINFO_FORMS)
def test_every_client_and_site_of_a_large_tenant_is_read_exactly_once(
    make_sim, make_client, big_tenant, fieldinfo_form, honour_include_custom_fields
) -> None:
    sim = make_sim(big_tenant, fieldinfo_form=fieldinfo_form, honour_include_custom_fields=honour_include_custom_fields)
    client = make_client(sim)
    fields = client.discover_custom_fields()
    assert fields == SIM_FIELDS
    clients = list(client.iter_clients(custom_fields=fields))
    sites = list(client.iter_sites())

    n_clients, n_sites = len(big_tenant.clients), len(big_tenant.sites)
    assert n_clients == 1234
    assert len({c.id for c in clients}) == len(clients) == n_clients
    assert {c.id for c in clients} == set(big_tenant.clients)
    assert {c.id for c in clients if c.datagate_ticked} == {i for i in big_tenant.clients if big_tenant.is_ticked(i)}
    assert {c.id for c in clients if c.inactive} == {i for i, c in big_tenant.clients.items() if c["inactive"]}
    assert len({s.id for s in sites}) == len(sites) == n_sites
    assert {(s.id, s.client_id) for s in sites} == {(i, s["client_id"]) for i, s in big_tenant.sites.items()}

    expected = {"POST /auth/token": 1, "GET /api/Site": math.ceil(n_sites / 100)}
    for key, count in discovery_budget(fieldinfo_form).items():
        add(expected, key, count)
    add(expected, "GET /api/Client", math.ceil(n_clients / 100))
    if not honour_include_custom_fields:
        add(expected, "GET /api/Client/{id}", n_clients)
    assert sim_requests(sim) == expected
    assert dict(client.stats.requests) == expected
    assert client.stats.detail_fallback is not honour_include_custom_fields
    assert client.stats.detail_calls == (0 if honour_include_custom_fields else n_clients)
    assert sim.stats().get("429", 0) == client.stats.rate_limited == 0


def test_listing_without_custom_fields_costs_one_token_and_a_list_request_per_100(make_sim, make_client, big_tenant):
    sim = make_sim(big_tenant)
    client = make_client(sim)
    assert len(list(client.iter_clients())) == 1234
    assert sim_requests(sim) == {"POST /auth/token": 1, "GET /api/Client": 13}


def test_active_clients_only(make_sim, make_client, small_tenant) -> None:
    sim = make_sim(small_tenant)
    active = {i for i, c in small_tenant.clients.items() if not c["inactive"]}
    assert active != set(small_tenant.clients)
    assert {c.id for c in make_client(sim).iter_clients(include_inactive=False)} == active


@pytest.mark.parametrize("checkbox_form", CHECKBOX_FORMS)
def test_checkbox_forms_on_list_rows_and_details(make_sim, make_client, small_tenant, checkbox_form) -> None:
    sim = make_sim(small_tenant, checkbox_form=checkbox_form)
    client = make_client(sim)
    ticked = {i for i in small_tenant.clients if small_tenant.is_ticked(i)}
    assert 0 < len(ticked) < len(small_tenant.clients)
    listed = list(client.iter_clients(custom_fields=SIM_FIELDS))
    assert {c.id for c in listed if c.datagate_ticked} == ticked
    some_ticked, some_unticked = min(ticked), min(set(small_tenant.clients) - ticked)
    assert client.get_client(some_ticked).datagate_ticked
    assert not client.get_client(some_unticked).datagate_ticked


def test_client_fields_and_extra_field_displays(make_sim, make_client, small_tenant) -> None:
    client_id = next(i for i, c in small_tenant.clients.items() if c["main_site_id"])
    small_tenant.update_client(
        client_id,
        accountsemailaddress="ap@acme.example;ceo@acme.example",
        accountsccemailaddress="cc@acme.example",
        accountsfirstname="Ann",
        accountslastname="Lee",
        custom_fields={"CFContractTier": "Gold", "CFBillingCode": "B-7", "CFTimezone": "Australia/Perth"},
    )
    sim = make_sim(small_tenant)
    stored = small_tenant.clients[client_id]
    detail, listed = make_client(sim).get_client(client_id), _listed(make_client(sim), client_id)
    for record in (detail, listed):
        assert record.name == stored["name"]
        assert record.main_site_id == stored["main_site_id"]
        assert record.accounts_email == "ap@acme.example;ceo@acme.example"
        assert (record.accounts_cc_email, record.accounts_first_name, record.accounts_last_name) == (
            "cc@acme.example",
            "Ann",
            "Lee",
        )
        assert record.last_updated is not None
        assert record.custom_field_display(141) == "Gold"
        assert record.custom_field_display(143) == "B-7"
    # The detail carries every custom field; list rows only the ones asked for (CFDatagate and the five extras).
    assert detail.custom_field_display(146) == "Australia/Perth"
    assert listed.custom_field_display(146) == ""
    assert {value.id for value in listed.custom_fields} == set(SIM_FIELDS.all_ids)


def _listed(client, client_id):
    return next(c for c in client.iter_clients(custom_fields=SIM_FIELDS) if c.id == client_id)


@pytest.mark.parametrize("site_address_form", ["flat", "nested"])
def test_site_address_forms(make_sim, make_client, small_tenant, site_address_form) -> None:
    sim = make_sim(small_tenant, site_address_form=site_address_form)
    client = make_client(sim)
    expected = {
        site_id: HaloAddress(
            **{key: site["delivery_address"][key] for key in ("line1", "line2", "line3", "line4")},
            postcode=site["delivery_address"]["postcode"],
        )
        for site_id, site in small_tenant.sites.items()
    }
    assert any(address.postcode for address in expected.values())
    assert {s.id: s.address for s in client.iter_sites()} == expected
    site_id = min(expected)
    detail = client.get_site(site_id)
    assert detail.address == expected[site_id]
    assert detail.client_id == small_tenant.sites[site_id]["client_id"]
    assert detail.phone == small_tenant.sites[site_id]["phonenumber"]


def test_sites_of_one_client(make_sim, make_client, small_tenant) -> None:
    sim = make_sim(small_tenant)
    client_id = next(iter(small_tenant.clients))
    wanted = {s["id"] for s in small_tenant.sites_of(client_id)}
    assert {s.id for s in make_client(sim).iter_sites(client_id=client_id)} == wanted


@pytest.mark.parametrize("truncated", [1, 150])
def test_a_truncated_client_listing_raises(make_sim, make_client, big_tenant, truncated) -> None:
    sim = make_sim(big_tenant, truncate_listings=truncated)
    with pytest.raises(HaloIncompleteListing, match=f"after {1234 - truncated:,} of 1,234 clients"):
        list(make_client(sim).iter_clients(custom_fields=SIM_FIELDS))


def test_a_truncated_site_listing_raises(make_sim, make_client, small_tenant) -> None:
    sim = make_sim(small_tenant, truncate_listings=1)
    with pytest.raises(HaloIncompleteListing, match="site list"):
        list(make_client(sim).iter_sites())


def test_the_datagate_field_is_found_whatever_its_position(make_sim, make_client, small_tenant) -> None:
    # CFDatagate is not the lowest id, and FieldInfo also lists other entities' "Datagate" fields with lower ids.
    sim = make_sim(small_tenant, fieldinfo_form="envelope")
    assert make_client(sim).discover_custom_fields() == SIM_FIELDS


def test_check_access(make_sim, make_client, big_tenant) -> None:
    sim = make_sim(big_tenant)
    check = make_client(sim).check_access()
    assert check.datagate_field_id == 142
    assert check.client_count == 1234  # HaloPSA's record_count: one page proves access, never every client
    assert check.ticked_count is None  # counted by syncs, not live
    assert check.detail_fallback is False
    assert check.request_count == 1 + 1 + 1
    assert sim_requests(sim) == {"POST /auth/token": 1, "GET /api/FieldInfo": 1, "GET /api/Client": 1}


def test_check_access_reports_the_detail_fallback(make_sim, make_client, small_tenant) -> None:
    sim = make_sim(small_tenant, honour_include_custom_fields=False)
    check = make_client(sim).check_access()
    assert check.detail_fallback is True
    assert check.client_count == 40
    assert "GET /api/Client/{id}" not in sim_requests(sim)  # told, not paid for: no detail call per client
