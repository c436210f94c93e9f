"""Paged listings, custom field discovery and the detail fallback, with exact request sequences (`responses`)."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from syncapp.halo import ClientCustomFields, HaloIncompleteListing, HaloMissingDatagateField, HaloUnavailable
from tests.halo.conftest import API, AUTH

CLIENTS = API + "/api/Client"
SITES = API + "/api/Site"
FIELDINFO = API + "/api/FieldInfo"
FIELDS = ClientCustomFields(datagate_field_id=142, extra_field_ids=(140, 141, 143))


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(AUTH + "/token", json={"access_token": "tok", "expires_in": 3600})
        yield mock


def client_rows(ids, *, ticked=None) -> list[dict]:
    rows = []
    for client_id in ids:
        row = {"id": client_id, "name": f"Client {client_id}"}
        if ticked is not None:
            row["customfields"] = [{"id": 142, "name": "CFDatagate", "value": ticked(client_id)}]
        rows.append(row)
    return rows


def page(mocked, url, page_no, record_count, rows, key="clients", extra=None) -> None:
    params = {
        "pageinate": "true",
        "page_size": "100",
        "page_no": str(page_no),
        "order": "id",
        "includeactive": "true",
        "includeinactive": "true",
        **(extra or {}),
    }
    mocked.get(
        url,
        json={"page_no": page_no, "page_size": 100, "record_count": record_count, key: rows, "columns": [{"id": 0}]},
        match=[matchers.query_param_matcher(params)],
    )


def test_pages_are_read_until_record_count(mocked, make_client) -> None:
    page(mocked, CLIENTS, 1, 250, client_rows(range(1, 101)))
    page(mocked, CLIENTS, 2, 250, client_rows(range(101, 201)))
    page(mocked, CLIENTS, 3, 250, client_rows(range(201, 251)))
    client = make_client()
    pages = list(client.iter_client_pages())
    assert [(p.page_no, p.record_count, len(p.clients)) for p in pages] == [(1, 250, 100), (2, 250, 100), (3, 250, 50)]
    assert [c.id for c in client.iter_clients()] == list(range(1, 251))
    assert client.stats.requests == {"POST /auth/token": 1, "GET /api/Client": 6}


def test_an_empty_listing_is_one_request(mocked, make_client) -> None:
    page(mocked, CLIENTS, 1, 0, [])
    client = make_client()
    assert [(p.record_count, p.clients) for p in client.iter_client_pages()] == [(0, ())]
    assert client.stats.requests["GET /api/Client"] == 1


def test_active_only_when_asked(mocked, make_client) -> None:
    mocked.get(
        CLIENTS,
        json={"record_count": 1, "clients": client_rows([5])},
        match=[
            matchers.query_param_matcher(
                {"pageinate": "true", "page_size": "100", "page_no": "1", "order": "id", "includeactive": "true"}
            )
        ],
    )
    assert [c.id for c in make_client().iter_clients(include_inactive=False)] == [5]


def test_start_page_resumes(mocked, make_client) -> None:
    page(mocked, CLIENTS, 3, 250, client_rows(range(201, 251)))
    assert [p.page_no for p in make_client().iter_client_pages(start_page=3)] == [3]


def test_the_50_row_default_page_trap_is_caught(mocked, make_client) -> None:
    page(mocked, CLIENTS, 1, 1254, client_rows(range(1, 51)))
    client = make_client()
    with pytest.raises(HaloIncompleteListing, match="page 1 held 50 rows instead of 100, after 50 of 1,254"):
        list(client.iter_client_pages())


def test_a_short_page_before_the_end_is_incomplete_and_not_yielded(mocked, make_client) -> None:
    page(mocked, CLIENTS, 1, 250, client_rows(range(1, 101)))
    page(mocked, CLIENTS, 2, 250, [])
    pages = make_client().iter_client_pages()
    assert len(next(pages).clients) == 100
    with pytest.raises(HaloIncompleteListing, match="page 2 held 0 rows"):
        next(pages)


def test_more_rows_than_record_count_is_incomplete(mocked, make_client) -> None:
    page(mocked, CLIENTS, 1, 50, client_rows(range(1, 61)))
    with pytest.raises(HaloIncompleteListing, match="does not add up"):
        list(make_client().iter_clients())


def test_a_repeated_page_means_paging_is_ignored(mocked, make_client) -> None:
    page(mocked, CLIENTS, 1, 300, client_rows(range(1, 101)))
    page(mocked, CLIENTS, 2, 300, client_rows(range(1, 101)))
    with pytest.raises(HaloIncompleteListing, match="repeated page 2"):
        list(make_client().iter_clients())


def test_a_client_added_at_the_end_mid_listing_is_read_once(mocked, make_client) -> None:
    page(mocked, CLIENTS, 1, 150, client_rows(range(1, 101)))
    page(mocked, CLIENTS, 2, 151, client_rows(range(101, 152)))
    assert [c.id for c in make_client().iter_clients()] == list(range(1, 152))


def test_a_shift_that_repeats_a_row_is_incomplete(mocked, make_client) -> None:
    # Row 100 comes again on page 2 because one row was inserted before it: that inserted row was missed.
    page(mocked, CLIENTS, 1, 150, client_rows(range(1, 101)))
    page(mocked, CLIENTS, 2, 151, client_rows(range(100, 151)))
    with pytest.raises(HaloIncompleteListing, match=r"150 different clients read \(151 rows\) but HaloPSA counts 151"):
        list(make_client().iter_clients())


def test_a_count_that_falls_mid_listing_is_incomplete(mocked, make_client) -> None:
    page(mocked, CLIENTS, 1, 150, client_rows(range(1, 101)))
    page(mocked, CLIENTS, 2, 149, client_rows(range(102, 151)))
    with pytest.raises(HaloIncompleteListing, match="fell from 150 to 149"):
        list(make_client().iter_clients())


def test_include_custom_fields_is_asked_for(mocked, make_client) -> None:
    extra = {"include_custom_fields": "142,140,141,143"}
    page(mocked, CLIENTS, 1, 3, client_rows([1, 2, 3], ticked=lambda i: i != 2), extra=extra)
    client = make_client()
    assert [(c.id, c.datagate_ticked) for c in client.iter_clients(custom_fields=FIELDS)] == [
        (1, True),
        (2, False),
        (3, True),
    ]
    assert not client.stats.detail_fallback
    assert client.stats.detail_calls == 0


def test_rows_without_custom_fields_fall_back_to_detail_calls(mocked, make_client) -> None:
    extra = {"include_custom_fields": "142,140,141,143"}
    rows = client_rows([1, 2, 3])
    rows[1]["customfields"] = [{"id": 142, "name": "CFDatagate", "value": True}]
    page(mocked, CLIENTS, 1, 3, rows, extra=extra)
    for client_id in (1, 3):
        mocked.get(
            f"{CLIENTS}/{client_id}",
            json={"id": client_id, "customfields": [{"id": 142, "name": "CFDatagate", "value": client_id == 3}]},
            match=[matchers.query_param_matcher({"includedetails": "true"})],
        )
    client = make_client()
    assert [(c.id, c.datagate_ticked) for c in client.iter_clients(custom_fields=FIELDS)] == [
        (1, False),
        (2, True),
        (3, True),
    ]
    assert client.stats.detail_fallback
    assert client.stats.detail_calls == 2
    assert client.stats.requests == {"POST /auth/token": 1, "GET /api/Client": 1, "GET /api/Client/{id}": 2}


def test_a_client_deleted_before_its_detail_call_is_left_out(mocked, make_client) -> None:
    page(mocked, CLIENTS, 1, 2, client_rows([1, 2]), extra={"include_custom_fields": "142"})
    mocked.get(f"{CLIENTS}/1", status=404, json={"Message": "not found"})
    mocked.get(f"{CLIENTS}/2", json={"id": 2, "customfields": [{"id": 142, "name": "CFDatagate", "value": 1}]})
    records = list(make_client().iter_clients(custom_fields=ClientCustomFields(142)))
    assert [(c.id, c.datagate_ticked) for c in records] == [(2, True)]


def test_sites_are_listed_with_addresses(mocked, make_client) -> None:
    rows = [{"id": 30, "client_id": 12.0, "name": "HQ", "delivery_address_line1": "1 Main St"}]
    page(mocked, SITES, 1, 1, rows, key="sites", extra={"includeaddress": "true", "client_id": "12"})
    client = make_client()
    sites = list(client.iter_sites(client_id=12))
    assert [(s.id, s.client_id, s.address.line1) for s in sites] == [(30, 12, "1 Main St")]
    assert client.stats.requests["GET /api/Site"] == 1


FIELD_DEFS = [
    {"id": 146, "name": "CFTimezone", "label": "Timezone", "typeid": 2},
    {"id": 145, "name": "CFPONumber", "label": "PO Number", "typeid": 2},
    {"id": 144, "name": "CFRegion", "label": "Region", "typeid": 2},
    {"id": 143, "name": "CFBillingCode", "label": "Billing Code", "typeid": 2},
    {"id": 142, "name": "CFDatagate", "label": "Datagate", "typeid": 2},
    {"id": 141, "name": "CFContractTier", "label": "Contract Tier", "typeid": 2},
    {"id": 140, "name": "CFAccountManager", "label": "Account Manager", "typeid": 2},
    {"id": 120, "name": "CFUserDatagate", "label": "Datagate", "typeid": 3},
]
EXPECTED_FIELDS = ClientCustomFields(datagate_field_id=142, extra_field_ids=(140, 141, 143, 144, 145))


@pytest.mark.parametrize("body", [FIELD_DEFS, {"fields": FIELD_DEFS, "record_count": 8}])
def test_discovery_through_field_info_is_one_request(mocked, make_client, body) -> None:
    mocked.get(FIELDINFO, json=body, match=[matchers.query_param_matcher({"typeid": "2"})])
    client = make_client()
    assert client.discover_custom_fields() == EXPECTED_FIELDS
    assert client.stats.requests == {"POST /auth/token": 1, "GET /api/FieldInfo": 1}


@pytest.mark.parametrize("status", [404, 403, 400])
def test_discovery_falls_back_to_the_first_clients_detail(mocked, make_client, status) -> None:
    mocked.get(FIELDINFO, status=status, json={"Message": "nope"})
    mocked.get(
        CLIENTS,
        json={"record_count": 40, "clients": client_rows([12])},
        match=[
            matchers.query_param_matcher(
                {
                    "pageinate": "true",
                    "page_size": "1",
                    "page_no": "1",
                    "order": "id",
                    "includeactive": "true",
                    "includeinactive": "true",
                }
            )
        ],
    )
    mocked.get(f"{CLIENTS}/12", json={"id": 12, "customfields": FIELD_DEFS[:7]})
    client = make_client()
    assert client.discover_custom_fields() == EXPECTED_FIELDS
    # A 400 may mean an expired token on some tenants, so it costs one token renewal and one retry first.
    renewals = 1 if status == 400 else 0
    assert client.stats.requests == {
        "POST /auth/token": 1 + renewals,
        "GET /api/FieldInfo": 1 + renewals,
        "GET /api/Client": 1,
        "GET /api/Client/{id}": 1,
    }


def test_field_info_without_datagate_falls_back_too(mocked, make_client) -> None:
    mocked.get(FIELDINFO, json=[{"id": 140, "name": "CFAccountManager", "typeid": 2}])
    mocked.get(CLIENTS, json={"record_count": 1, "clients": client_rows([12])})
    mocked.get(f"{CLIENTS}/12", json={"id": 12, "customfields": [{"id": 9, "name": "CFDatagate", "label": "Datagate"}]})
    assert make_client().discover_custom_fields() == ClientCustomFields(9, ())


def test_no_datagate_field_anywhere_is_a_clear_error(mocked, make_client) -> None:
    mocked.get(FIELDINFO, json=FIELD_DEFS[:4])
    mocked.get(CLIENTS, json={"record_count": 1, "clients": client_rows([12])})
    mocked.get(f"{CLIENTS}/12", json={"id": 12, "customfields": FIELD_DEFS[:4]})
    with pytest.raises(HaloMissingDatagateField, match="no client custom field named CFDatagate"):
        make_client().discover_custom_fields()


def test_no_field_info_and_no_clients_is_a_clear_error(mocked, make_client) -> None:
    mocked.get(FIELDINFO, status=404)
    mocked.get(CLIENTS, json={"record_count": 0, "clients": []})
    with pytest.raises(HaloMissingDatagateField):
        make_client().discover_custom_fields()


def test_an_outage_during_discovery_is_not_mistaken_for_a_missing_endpoint(mocked, make_client) -> None:
    mocked.get(FIELDINFO, status=503)
    client = make_client(max_retries=1)
    with pytest.raises(HaloUnavailable):
        client.discover_custom_fields()
    assert "GET /api/Client" not in client.stats.requests
