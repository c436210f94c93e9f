"""The sync's write invariant: after any sync, every column of every row it was not meant to change is as it was."""

from collections.abc import Callable

import pytest
from django.db.models import Model

from syncapp.models import Customer, HaloClientEntry, HaloLink, Site
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# Every table a sync writes customer data or bookkeeping to, with how a row is named in the expectations.
TABLES: tuple[tuple[str, type[Model]], ...] = (
    ("customer", Customer),
    ("site", Site),
    ("link", HaloLink),
    ("entry", HaloClientEntry),
)

Snapshot = dict[tuple[str, object], dict[str, object]]


def _row_names() -> dict[tuple[str, int], object]:
    """(table, pk) → a stable name: a HaloPSA id where the row has one (a customer: its link's), else its name."""
    names: dict[tuple[str, int], object] = {}
    by_customer = dict(HaloLink.objects.values_list("customer_id", "halo_id"))
    for pk, name in Customer.objects.values_list("id", "name"):
        names["customer", pk] = by_customer.get(pk, f"local {name}")
    for table, model in TABLES[1:]:
        for pk, halo_id in model.objects.values_list("id", "halo_id"):
            names[table, pk] = halo_id
    return names


def snapshot() -> Snapshot:
    """Every concrete column of every row of the tables a sync writes (not the ones the database computes itself)."""
    names = _row_names()
    rows: Snapshot = {}
    for table, model in TABLES:
        columns = [field.attname for field in model._meta.concrete_fields if not field.generated]
        for values in model.objects.values(*columns):
            rows[table, names[table, values["id"]]] = values
    return rows


def differences(before: Snapshot, after: Snapshot) -> tuple[set[tuple[str, object, str]], set[tuple[str, object]]]:
    """(changed columns as (table, row, column), new rows as (table, row)); a vanished row is an error."""
    assert before.keys() <= after.keys(), f"rows disappeared: {sorted(before.keys() - after.keys(), key=repr)}"
    changed = {
        (table, row, column)
        for (table, row), values in before.items()
        for column, value in values.items()
        if after[table, row][column] != value
    }
    return changed, set(after.keys() - before.keys())


def _changes_of(table: str, row: object, *columns: str) -> set[tuple[str, object, str]]:
    return {(table, row, column) for column in columns}


@pytest.fixture
def tenant(run_sync, add_client, halo_sim) -> Callable[[], dict[str, dict]]:
    """Six imported clients (A…F) with a main site each, one of them with a second site, after a first sync."""

    def build() -> dict[str, dict]:
        clients = {letter: add_client(f"Client {letter}") for letter in "ABCDEF"}
        halo_sim.edit(lambda t: t.add_site(clients["E"]["id"], "Client E Depot", line1="9 Dock Rd", line3="Botany"))
        CustomerFactory(name="Hand Typed Widgets")  # a local customer, no HaloPSA id
        first = run_sync()
        assert first.created_count == 6
        assert not HaloLink.objects.filter(last_seen_at=None).exists()
        assert not HaloLink.objects.filter(last_synced_at=None).exists()
        return clients

    return build


def test_renames_change_only_the_renamed_clients_rows(tenant, run_sync, halo_sim) -> None:
    clients = tenant()
    renamed = [clients["B"]["id"], clients["D"]["id"]]
    halo_sim.edit(lambda t: [t.update_client(i, name=t.client(i)["name"] + " Renamed") for i in renamed])
    # A staff edit of a local-only field is no reason for the sync to touch that customer.
    Customer.objects.filter(halo_link__halo_id=clients["F"]["id"]).update(country="New Zealand")
    before = snapshot()

    run = run_sync()

    changed, new = differences(before, snapshot())
    expected: set[tuple[str, object, str]] = set()
    for halo_id in renamed:
        expected |= _changes_of("customer", halo_id, "name", "updated_at")
        expected |= _changes_of("link", halo_id, "last_synced_at")
        expected |= _changes_of("entry", halo_id, "name", "name_tokens", "last_seen_at")
    assert changed == expected
    assert new == set()
    assert (run.updated_count, run.unchanged_count) == (2, 4)


def _mixed_changes(clients: dict[str, dict], add_client, halo_sim) -> dict[str, int]:
    """On one page: a rename, an untick, a deactivation, a deletion, a main-site edit, an import and more."""
    halo_sim.edit(lambda t: t.update_client(clients["A"]["id"], name="Client A Holdings"))
    halo_sim.edit(lambda t: t.set_ticked(clients["B"]["id"], False))
    halo_sim.edit(lambda t: t.update_client(clients["C"]["id"], inactive=True))
    halo_sim.edit(lambda t: t.delete_client(clients["D"]["id"]))
    halo_sim.edit(lambda t: t.update_site(clients["E"]["main_site_id"], line1="2 George Street"))
    # F is unchanged in HaloPSA; staff set its local-only country meanwhile.
    Customer.objects.filter(halo_link__halo_id=clients["F"]["id"]).update(country="New Zealand")
    new = add_client("Client N")
    unticked = add_client("Client U", ticked=False, main_site=False)
    duplicate = add_client("Hand Typed Widgets", main_site=False)  # same name as the local customer
    return {"N": new["id"], "N_site": new["main_site_id"], "U": unticked["id"], "dup": duplicate["id"]}


def test_a_mixed_page_changes_exactly_what_each_client_asks_for(tenant, run_sync, add_client, halo_sim) -> None:
    clients = tenant()
    ids = {letter: client["id"] for letter, client in clients.items()}
    added = _mixed_changes(clients, add_client, halo_sim)
    before = snapshot()

    run = run_sync()

    changed, new = differences(before, snapshot())
    expected = (
        _changes_of("customer", ids["A"], "name", "updated_at")
        | _changes_of("link", ids["A"], "last_synced_at")
        | _changes_of("entry", ids["A"], "name", "last_seen_at")  # "Holdings" adds no token the score uses
        # unticked: the link says so; the customer is left as it is
        | _changes_of("link", ids["B"], "in_scope", "not_syncing_reason", "last_seen_at")
        | _changes_of("entry", ids["B"], "is_ticked", "last_seen_at")
        # inactive in HaloPSA
        | _changes_of("customer", ids["C"], "is_active", "updated_at")
        | _changes_of("link", ids["C"], "halo_inactive", "last_seen_at", "last_synced_at")
        | _changes_of("entry", ids["C"], "is_inactive", "last_seen_at")
        # missing from HaloPSA: only the link's scope and reason
        | _changes_of("link", ids["D"], "in_scope", "not_syncing_reason")
        # main site edited: the site and the customer's postal address
        | _changes_of("customer", ids["E"], "postal_address_1", "updated_at")
        | _changes_of("site", clients["E"]["main_site_id"], "address_1", "updated_at")
        | _changes_of("link", ids["E"], "last_synced_at")
        | _changes_of("entry", ids["E"], "address_1", "last_seen_at")  # the match score compares it
    )
    assert changed == expected
    assert new == {
        ("customer", added["N"]),
        ("link", added["N"]),
        ("site", added["N_site"]),
        ("entry", added["N"]),
        ("entry", added["U"]),
        ("entry", added["dup"]),
    }
    assert (run.created_count, run.updated_count, run.deactivated_count, run.duplicate_count) == (1, 3, 1, 1)


def test_a_dry_run_changes_no_row_at_all(tenant, run_sync, add_client, halo_sim) -> None:
    clients = tenant()
    _mixed_changes(clients, add_client, halo_sim)
    before = snapshot()

    run = run_sync(dry_run=True)

    assert differences(before, snapshot()) == (set(), set())
    assert run.created_count == 1 and run.planned_changes


def test_an_unchanged_resync_changes_no_row_at_all(tenant, run_sync) -> None:
    tenant()
    before = snapshot()

    run = run_sync()

    assert differences(before, snapshot()) == (set(), set())
    assert (run.unchanged_count, run.updated_count) == (6, 0)
