"""Parsing HaloPSA JSON into records: every plausible wire form of the uncertain fields, and bad rows refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncapp.halo import CustomFieldDefinition, HaloAddress, HaloBadResponse
from syncapp.halo.parsing import (
    client_field_definitions,
    extract_halo_message,
    is_ticked,
    parse_client,
    parse_field_info,
    parse_listing,
    parse_site,
    parse_token,
)


def datagate_entry(value, display=None) -> dict:
    return {"id": 142, "name": "CFDatagate", "label": "Datagate", "type": 6, "value": value, "display": display}


@pytest.mark.parametrize(
    ("value", "display"),
    [(True, None), (1, None), ("1", None), ("true", None), ("True", None), ("Yes", None), ("YES", ""), (None, "Yes")],
)
def test_ticked_forms(value, display) -> None:
    assert is_ticked(value, display)
    row = {"id": 12, "name": "Acme", "customfields": [datagate_entry(value, display)]}
    assert parse_client(row).datagate_ticked
    assert parse_client(row, datagate_field_id=142).datagate_ticked


@pytest.mark.parametrize(
    ("value", "display"), [(None, None), (False, None), (0, None), ("0", "No"), ("false", ""), ("No", "No"), ("", "")]
)
def test_unticked_forms(value, display) -> None:
    assert not is_ticked(value, display)
    row = {"id": 12, "name": "Acme", "customfields": [datagate_entry(value, display)]}
    assert not parse_client(row).datagate_ticked


def test_a_client_without_the_datagate_field_is_unticked() -> None:
    assert not parse_client({"id": 12, "name": "Acme"}).datagate_ticked


def test_datagate_is_found_by_id_when_given() -> None:
    row = {"id": 12, "customfields": [{"id": 99, "name": "CFOther", "value": True}, datagate_entry(False)]}
    assert parse_client(row, datagate_field_id=99).datagate_ticked
    assert not parse_client(row, datagate_field_id=142).datagate_ticked


def test_client_fields_are_read_and_stripped() -> None:
    record = parse_client(
        {
            "id": "12",
            "name": "  Acme Pty Ltd ",
            "inactive": True,
            "main_site_id": 30.0,
            "accountsemailaddress": "a@acme.example; b@acme.example",
            "accountsccemailaddress": None,
            "accountsfirstname": "Ann",
            "accountslastname": "Lee",
            "main_phonenumber": "02 9999 0000",
            "alastupdate": "2024-05-01T10:20:30.1234567",
            "customfields": [
                {"id": 140, "name": "CFAccountManager", "label": "Account Manager", "value": "Bo", "display": "Bo"},
                {"id": 141, "name": "CFTier", "label": "Tier", "value": 3, "display": "Gold"},
                {"id": 143, "name": "CFCode", "label": "Code", "value": "X-1"},
                {"id": 144, "name": "CFEmpty", "label": "Empty", "value": None, "display": None},
                "not an object",
                {"name": "CFNoId"},
            ],
        }
    )
    assert record.id == 12
    assert record.name == "Acme Pty Ltd"
    assert record.inactive is True
    assert record.main_site_id == 30
    assert record.accounts_email == "a@acme.example; b@acme.example"
    assert record.accounts_cc_email == ""
    assert (record.accounts_first_name, record.accounts_last_name, record.main_phone) == ("Ann", "Lee", "02 9999 0000")
    assert record.last_updated == datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=UTC)
    assert [value.id for value in record.custom_fields] == [140, 141, 143, 144]
    assert record.custom_field_display(141) == "Gold"
    assert record.custom_field_display(143) == "X-1"  # no display: the value is what a person sees
    assert record.custom_field_display(144) == ""
    assert record.custom_field_display(999) == ""


def test_missing_optional_client_keys_become_blank() -> None:
    record = parse_client({"id": 5})
    assert (record.name, record.inactive, record.main_site_id, record.last_updated) == ("", False, None, None)
    assert record.custom_fields == ()


@pytest.mark.parametrize("main_site_id", [0, -1, None, "", "abc"])
def test_no_main_site(main_site_id) -> None:
    assert parse_client({"id": 5, "main_site_id": main_site_id}).main_site_id is None


@pytest.mark.parametrize("stamp", ["1900-01-01T00:00:00", "0001-01-01T00:00:00", "not a date", ""])
def test_null_or_bad_dates_are_none(stamp) -> None:
    assert parse_client({"id": 5, "alastupdate": stamp}).last_updated is None


@pytest.mark.parametrize("row", [None, [], "12", 12, {"name": "no id"}, {"id": "twelve"}, {"id": 1.5}, {"id": True}])
def test_rows_without_an_integer_id_are_bad_responses(row) -> None:
    with pytest.raises(HaloBadResponse):
        parse_client(row)
    with pytest.raises(HaloBadResponse):
        parse_site(row)


@pytest.mark.parametrize("client_id", [12, 12.0, "12", "12.0", " 12.0 "])
def test_site_client_id_may_be_a_decimal(client_id) -> None:
    assert parse_site({"id": 30, "client_id": client_id}).client_id == 12


def test_site_without_a_client_id_is_a_bad_response() -> None:
    with pytest.raises(HaloBadResponse, match="site 30"):
        parse_site({"id": 30, "client_id": None})


def test_flat_site_address_with_postcode_on_line_5() -> None:
    site = parse_site(
        {
            "id": 30,
            "name": "Head office",
            "client_id": 12.0,
            "inactive": False,
            "phonenumber": "02 1234 5678",
            "slastupdate": "2024-01-02T03:04:05.000",
            "delivery_address_line1": "1 Main St ",
            "delivery_address_line2": "Level 2",
            "delivery_address_line3": "Sydney",
            "delivery_address_line4": "NSW",
            "delivery_address_line5": "2000",
        }
    )
    assert site.address == HaloAddress("1 Main St", "Level 2", "Sydney", "NSW", "2000")
    assert (site.name, site.phone, site.inactive) == ("Head office", "02 1234 5678", False)
    assert site.last_updated == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_nested_site_address() -> None:
    site = parse_site(
        {
            "id": 30,
            "client_id": "12.0",
            "delivery_address": {
                "line1": "1 Main St",
                "line2": None,
                "line3": "Sydney",
                "line4": "NSW",
                "postcode": 2000,
            },
        }
    )
    assert site.address == HaloAddress("1 Main St", "", "Sydney", "NSW", "2000")


def test_nested_postcode_wins_over_flat_line_5() -> None:
    site = parse_site(
        {
            "id": 30,
            "client_id": 12,
            "delivery_address": {"line1": "1 Main St", "postcode": "2000"},
            "delivery_address_line1": "ignored when nested has it",
            "delivery_address_line2": "Level 2",
            "delivery_address_line5": "9999",
        }
    )
    assert site.address == HaloAddress("1 Main St", "Level 2", "", "", "2000")


def test_site_without_any_address_is_blank() -> None:
    assert parse_site({"id": 30, "client_id": 12}).address == HaloAddress()


def test_listing_reads_only_the_named_key() -> None:
    body = {"record_count": 2, "columns": [{"id": 1}], "clients": [{"id": 5}, {"id": 6}]}
    assert parse_listing(body, "clients", "client list") == (2, [{"id": 5}, {"id": 6}])
    assert parse_listing({"record_count": 0, "columns": [{"id": 1}]}, "clients", "client list") == (0, [])


@pytest.mark.parametrize(
    "body",
    [
        [{"id": 1}],
        {"clients": [{"id": 1}]},
        {"record_count": "many", "clients": []},
        {"record_count": 1, "clients": {}},
    ],
)
def test_listing_without_a_usable_envelope_is_bad(body) -> None:
    with pytest.raises(HaloBadResponse):
        parse_listing(body, "clients", "client list")


CLIENT_FIELDS = [
    {"id": 140, "name": "CFAccountManager", "label": "Account Manager", "typeid": 2},
    {"id": 142, "name": "CFDatagate", "label": "Datagate", "typeid": 2},
]
OTHER_FIELDS = [
    {"id": 101, "name": "CFTicketDatagateRef", "label": "Datagate", "typeid": 1},
    {"id": 7, "name": "summary", "label": "Summary"},
]


@pytest.mark.parametrize(
    "body",
    [
        CLIENT_FIELDS + OTHER_FIELDS,
        {"fields": CLIENT_FIELDS + OTHER_FIELDS},
        {"record_count": 4, "x": CLIENT_FIELDS + OTHER_FIELDS},
    ],
)
def test_field_info_forms(body) -> None:
    assert parse_field_info(body) == [
        CustomFieldDefinition(140, "CFAccountManager", "Account Manager"),
        CustomFieldDefinition(142, "CFDatagate", "Datagate"),
    ]


def test_field_info_of_unknown_shape_is_bad() -> None:
    with pytest.raises(HaloBadResponse):
        parse_field_info({"a": [], "b": []})


def test_client_detail_lists_field_definitions() -> None:
    row = {"id": 12, "customfields": [datagate_entry(None), {"id": 140, "name": "CFAccountManager", "label": "AM"}]}
    assert client_field_definitions(row) == [
        CustomFieldDefinition(142, "CFDatagate", "Datagate"),
        CustomFieldDefinition(140, "CFAccountManager", "AM"),
    ]


def test_token_response() -> None:
    assert parse_token({"access_token": "abc", "token_type": "Bearer", "expires_in": 3600}) == ("abc", 3600.0)
    assert parse_token({"access_token": "abc", "expires_in": "120"}) == ("abc", 120.0)
    assert parse_token({"access_token": "abc"}) == ("abc", None)
    for body in ({}, {"access_token": ""}, [], "abc"):
        with pytest.raises(HaloBadResponse):
            parse_token(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"error": "invalid_client"}', "invalid_client"),
        ('{"error": "invalid_grant", "error_description": "Token expired"}', "invalid_grant: Token expired"),
        ('{"error_description": "Bad scope"}', "Bad scope"),
        ('{"error": "Rate Limit Reached - 300 Requests per rolling 5 minute window"}', "Rate Limit Reached"),
        ('{"resultCode": 3, "errorMessage": "Client not found"}', "Client not found"),
        ('{"ClassName": "System.Exception", "Message": "Object reference not set"}', "Object reference not set"),
        ('{"Message": "An error has occurred."}', "An error has occurred."),
        (
            '{"[0].id": ["The id is invalid."], "[0].name": ["Required."]}',
            "[0].id: The id is invalid.; [0].name: Required.",
        ),
        ('{"title": "One or more validation errors", "errors": {"x": ["bad"]}}', "One or more validation errors"),
        ('"plain json string"', "plain json string"),
        ("Service   Unavailable\n", "Service Unavailable"),
        ("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", "502 Bad Gateway"),
        ("", ""),
    ],
)
def test_halo_messages_are_extracted_from_every_body_form(body, message) -> None:
    assert extract_halo_message(body).startswith(message)


def test_long_plain_text_messages_are_truncated_to_one_line() -> None:
    message = extract_halo_message("x" * 5000 + "\n" + "y" * 10)
    assert len(message) <= 200
    assert "\n" not in message
