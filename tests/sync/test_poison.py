"""Poison values from HaloPSA (NUL, lone surrogates, control characters, huge and blank values) never stop a run."""

import pytest

from syncapp.choices import SyncStatus
from syncapp.halo.parsing import parse_client, parse_site
from syncapp.models import Customer, FieldChange, HaloClientEntry, Site
from syncapp.textclean import clean_text, has_unsafe_characters, quote_value

pytestmark = pytest.mark.django_db

UNSAFE = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x0d", "\x1b", "\x1f", "\x7f", "\ud800", "\udfff"]
HUGE = "Huge " + "x" * 9_995  # 10,000 characters


def _stored_text() -> list[str]:
    rows = Customer.objects.values_list(
        "name", "postal_address_1", "city", "invoice_email_to", "invoice_attention", "extra_field_1"
    )
    sites = Site.objects.values_list("name", "address_1", "city")
    directory = HaloClientEntry.objects.values_list("name", flat=True)
    history = FieldChange.objects.values_list("old_value", "new_value")
    return [value for row in [*rows, *sites, *history] for value in row] + list(directory)


@pytest.mark.parametrize("character", UNSAFE)
def test_cleaning_removes_every_unsafe_character_and_keeps_tab_newline_and_text(character) -> None:
    cleaned = clean_text(f"Acme{character}\tPty\nLtd")
    assert not has_unsafe_characters(cleaned)
    assert cleaned.replace("\ufffd", "").replace("\n", "") in ("Acme\tPtyLtd", "Acme\tPty\nLtd".replace("\n", ""))
    assert "\t" in cleaned and "Pty" in cleaned


def test_parsing_cleans_every_text_field_of_clients_and_sites() -> None:
    client = parse_client(
        {
            "id": 7,
            "name": " Acme\x00 Ltd\ud800 ",
            "accountsemailaddress": "a\x00@b.example",
            "accountsfirstname": "Ada\x1b",
            "customfields": [{"id": 140, "name": "CFX\x00", "label": "X", "value": "v\x07", "display": "v\x07"}],
        }
    )
    assert (client.name, client.accounts_email, client.accounts_first_name) == ("Acme Ltd\ufffd", "a@b.example", "Ada")
    assert client.custom_fields[0].display == "v" and client.custom_fields[0].name == "CFX"
    site = parse_site(
        {"id": 1, "client_id": 7.0, "name": "HQ\x00", "delivery_address_line1": "1 St\x0b", "phonenumber": "\x00"}
    )
    assert (site.name, site.address.line1, site.phone) == ("HQ", "1 St", "")


def test_a_failure_quotes_at_most_200_characters_with_controls_escaped() -> None:
    quoted = quote_value("\x00" * 5 + "y" * 10_000)
    assert len(quoted) == 200 and quoted.startswith("\\x00" * 5) and quoted.endswith("…")


def test_poison_values_are_stored_cleaned_or_fail_alone_and_the_run_goes_on(run_sync, add_client, halo_sim) -> None:
    cleaned = {
        add_client("Nul\x00 Pty Ltd", accountsemailaddress="ac\x00counts@nul.example")["id"]: "Nul Pty Ltd",
        add_client("Surrogate \ud800Co", accountsfirstname="Ada\udfff")["id"]: "Surrogate \ufffdCo",
        add_client("Ctrl\x1b\x07\x7f Co", custom_fields={140: "Jane\x00 Citizen"})["id"]: "Ctrl Co",
    }
    rejected = {
        add_client(HUGE, main_site=False)["id"]: "at most 255",
        add_client("")["id"]: "no name",
        add_client("\x00\x01\x1b ")["id"]: "no name",
    }
    poisoned_site_client = add_client("Site Poison Ltd")
    halo_sim.edit(
        lambda t: t.add_site(poisoned_site_client["id"], "Depot\x00", line1="9 Dock\x00 Rd", line3="Bot\ud800")
    )
    cleaned[poisoned_site_client["id"]] = "Site Poison Ltd"
    # Enough fine clients for a second and third page: a poisoned first page must not stop the later ones.
    halo_sim.edit(lambda t: [t.add_client(f"Fine {n:03d}") for n in range(230)])

    first = run_sync()

    assert first.status == SyncStatus.PARTIAL, first.error_message
    assert {f["halo_id"] for f in first.failures} == set(rejected)
    for failure in first.failures:
        assert rejected[failure["halo_id"]] in failure["message"]
        assert len(failure["name"]) <= 200 and len(failure["message"]) <= 200
    assert first.created_count == 230 + len(cleaned)
    names = dict(Customer.objects.filter(halo_link__halo_id__in=cleaned).values_list("halo_link__halo_id", "name"))
    assert names == cleaned
    assert Customer.objects.get(halo_link__halo_id=next(iter(cleaned))).invoice_email_to == "accounts@nul.example"
    assert set(
        Site.objects.filter(customer__halo_link__halo_id=poisoned_site_client["id"]).values_list(
            "name", "address_1", "city"
        )
    ) >= {("Depot", "9 Dock Rd", "Bot\ufffd")}
    assert not any(has_unsafe_characters(value) for value in _stored_text())
    assert HaloClientEntry.objects.count() == 230 + len(cleaned) + len(rejected)

    # The next run converges: nothing left to write, the same records refused again with the same reasons.
    history_rows = FieldChange.objects.count()
    second = run_sync()
    assert second.status == SyncStatus.PARTIAL
    assert {f["halo_id"] for f in second.failures} == set(rejected)
    assert (second.created_count, second.updated_count) == (0, 0)
    assert FieldChange.objects.count() == history_rows

    # Once HaloPSA's records are put right, they import and the run succeeds.
    halo_sim.edit(lambda t: [t.update_client(halo_id, name=f"Repaired {halo_id}") for halo_id in rejected])
    third = run_sync()
    assert third.status == SyncStatus.SUCCEEDED, third.failures
    assert third.created_count == len(rejected)
    assert Customer.objects.count() == 230 + len(cleaned) + len(rejected)
