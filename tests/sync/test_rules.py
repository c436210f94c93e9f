"""Every rule of the design's sync, run against the simulator over real HTTP (no mocked engine)."""

import pytest

from syncapp.choices import ChangeAction, ChangeOrigin, DuplicateStatus, LinkMethod, NotSyncingReason, SyncStatus
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink, Site
from tests.factories import CustomerFactory, HaloLinkFactory

pytestmark = pytest.mark.django_db

EXTRA_FIELDS = {140: "Jane Citizen", 141: "Gold", 143: "BC-0042", 144: "Metro", 145: "PO-9", 146: "Australia/Perth"}


def test_ticked_clients_are_imported_with_link_sites_and_one_creation_row_each(run_sync, add_client, halo_sim) -> None:
    acme = add_client(
        "Acme Pty Ltd",
        accountsemailaddress="accounts@acme.example",
        accountsccemailaddress="boss@acme.example, cfo@acme.example",
        accountsfirstname="Ada",
        accountslastname="Lovelace",
        custom_fields=EXTRA_FIELDS,
    )
    halo_sim.edit(lambda t: t.add_site(acme["id"], "Acme Depot", line1="9 Dock Rd", line3="Botany", postcode="2019"))
    add_client("Not For Datagate Ltd", ticked=False)

    run = run_sync()

    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    assert (run.created_count, run.sites_created_count, run.failed_count) == (1, 2, 0)
    customer = Customer.objects.get()
    assert customer.halo_link.halo_id == acme["id"]
    assert customer.halo_link.method == LinkMethod.IMPORTED
    assert (customer.name, customer.postal_address_1, customer.postal_address_2) == (
        "Acme Pty Ltd",
        "1 George Street",
        "Level 2",
    )
    assert (customer.city, customer.state, customer.postcode) == ("Sydney", "NSW", "2000")
    assert customer.contact_phone == "02 9000 0000"
    assert customer.invoice_email_to == "accounts@acme.example"
    assert customer.invoice_email_cc == "boss@acme.example; cfo@acme.example"
    assert customer.invoice_attention == "Ada Lovelace"
    extras = [getattr(customer, f"extra_field_{n}") for n in range(1, 6)]
    assert extras == ["Jane Citizen", "Gold", "BC-0042", "Metro", "PO-9"]  # by id, CFDatagate (142) excluded
    assert customer.country == ""
    assert sorted(customer.sites.values_list("name", "city", "is_active")) == [
        ("Acme Depot", "Botany", True),
        ("Acme Pty Ltd HQ", "Sydney", True),
    ]
    history = list(FieldChange.objects.order_by("id").values_list("action", "site_id", "origin", "sync_run_id"))
    assert [row[0] for row in history] == [ChangeAction.CREATED] * 3
    assert sum(1 for row in history if row[1] is None) == 1
    assert {row[2:] for row in history} == {(ChangeOrigin.SYNC, run.pk)}
    assert set(HaloClientEntry.objects.values_list("halo_id", "is_ticked")) == {
        (acme["id"], True),
        (acme["id"] + 1, False),
    }


@pytest.mark.parametrize("checkbox_form", ["bool", "int", "str_int", "str_true", "yes", "display_only"])
def test_scope_follows_the_datagate_box_in_every_wire_form(run_sync, add_client, halo_sim, checkbox_form) -> None:
    halo_sim.config.checkbox_form = checkbox_form
    add_client("Ticked Co", ticked=True)
    add_client("Unticked Co", ticked=False)
    run = run_sync()
    assert run.status == SyncStatus.SUCCEEDED
    assert list(Customer.objects.values_list("name", flat=True)) == ["Ticked Co"]


def test_a_client_without_main_site_imports_with_blank_address(run_sync, add_client) -> None:
    add_client("Siteless Ltd", main_site=False)
    run_sync()
    customer = Customer.objects.get()
    assert (customer.postal_address_1, customer.city, customer.contact_phone) == ("", "", "")
    assert customer.halo_link.main_site_missing


def test_changed_fields_are_written_with_one_history_row_each(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme", accountsemailaddress="a@acme.example", custom_fields={140: "Jane"})
    run_sync()
    halo_sim.edit(
        lambda t: t.update_client(
            client["id"], name="Acme Holdings", accountsemailaddress="b@acme.example", custom_fields={140: "Joe"}
        )
    )
    halo_sim.edit(lambda t: t.update_site(client["main_site_id"], line3="Parramatta"))

    run = run_sync()

    assert (run.updated_count, run.created_count, run.unchanged_count) == (1, 0, 0)
    customer = Customer.objects.get()
    assert (customer.name, customer.invoice_email_to, customer.extra_field_1) == (
        "Acme Holdings",
        "b@acme.example",
        "Joe",
    )
    assert customer.city == "Parramatta"
    changes = set(FieldChange.objects.filter(sync_run=run).values_list("field", "old_value", "new_value", "site_id"))
    site_id = customer.sites.get().pk
    assert changes == {
        ("name", "Acme", "Acme Holdings", None),
        ("invoice_email_to", "a@acme.example", "b@acme.example", None),
        ("extra_field_1", "Jane", "Joe", None),
        ("city", "Sydney", "Parramatta", None),
        ("city", "Sydney", "Parramatta", site_id),
    }


def test_whitespace_and_email_separators_do_not_churn(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme", accountsemailaddress="a@acme.example;b@acme.example")
    run_sync()
    halo_sim.edit(
        lambda t: t.update_client(
            client["id"], name="  Acme ", accountsemailaddress=" a@acme.example ,b@acme.example; "
        )
    )
    run = run_sync()
    assert (run.updated_count, run.unchanged_count) == (0, 1)
    assert not FieldChange.objects.filter(sync_run=run).exists()
    assert Customer.objects.get().invoice_email_to == "a@acme.example; b@acme.example"


def test_a_sync_that_finds_nothing_changed_writes_nothing(run_sync, add_client, django_assert_num_queries) -> None:
    for n in range(3):
        add_client(f"Client {n}", custom_fields=EXTRA_FIELDS)
    run_sync()
    HaloLink.objects.update(last_synced_at=None)  # so a stray bookkeeping write would show
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run = run_sync()
    writes = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"} and "syncapp_syncrun" not in q["sql"]
    ]
    assert writes == []
    assert (run.unchanged_count, run.updated_count) == (3, 0)
    assert not HaloLink.objects.exclude(last_synced_at=None).exists()


def test_unlinked_customers_are_never_touched_and_stay_active(run_sync, add_client) -> None:
    typed = CustomerFactory(name="Hand Typed Widgets", city="Perth", is_active=True)
    add_client("Somebody Else")
    run_sync()
    typed.refresh_from_db()
    assert (typed.name, typed.city, typed.is_active) == ("Hand Typed Widgets", "Perth", True)
    assert not FieldChange.objects.filter(customer=typed).exists()


def test_inactive_in_halopsa_deactivates_and_reactivation_reactivates(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.update_client(client["id"], inactive=True))
    run = run_sync()
    customer = Customer.objects.get()
    assert not customer.is_active and run.deactivated_count == 1
    assert FieldChange.objects.filter(
        sync_run=run, field="is_active", old_value="Active", new_value="Inactive"
    ).exists()
    halo_sim.edit(lambda t: t.update_client(client["id"], inactive=False))
    run = run_sync()
    customer.refresh_from_db()
    assert customer.is_active and run.reactivated_count == 1


def test_an_inactive_client_imports_as_an_inactive_customer(run_sync, add_client) -> None:
    add_client("Dormant Ltd", inactive=True)
    run_sync()
    assert not Customer.objects.get().is_active


def test_unticked_keeps_the_link_and_the_customer_and_says_why(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.update_client(client["id"], ticked=False, name="Renamed While Unticked"))
    run = run_sync()
    link = HaloLink.objects.get()
    assert link.not_syncing_reason == NotSyncingReason.UNTICKED and not link.in_scope
    assert link.customer.name == "Acme" and link.customer.is_active
    assert run.not_syncing_count == 1
    halo_sim.edit(lambda t: t.update_client(client["id"], ticked=True))
    run_sync()
    link.refresh_from_db()
    assert link.not_syncing_reason == NotSyncingReason.NONE
    assert link.customer.name == "Renamed While Unticked"


def test_missing_in_halopsa_keeps_everything_and_marks_not_syncing(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.delete_client(client["id"]))
    run = run_sync()
    assert run.status == SyncStatus.SUCCEEDED
    link = HaloLink.objects.get()
    assert link.not_syncing_reason == NotSyncingReason.MISSING
    assert Customer.objects.get().is_active and Site.objects.count() == 1


def test_sites_are_matched_on_halo_id_updated_added_and_deactivated_never_deleted(
    run_sync, add_client, halo_sim
) -> None:
    client = add_client("Acme")
    depot = halo_sim.edit(lambda t: t.add_site(client["id"], "Depot", line1="1 Dock Rd"))
    run_sync()
    local_only = Site.objects.create(customer=Customer.objects.get(), name="Typed by hand", country="Australia")
    halo_sim.edit(lambda t: t.update_site(depot["id"], name="Main Depot"))
    halo_sim.edit(lambda t: t.add_site(client["id"], "Warehouse", line1="5 Bay St"))
    run = run_sync()
    assert (run.sites_created_count, run.sites_updated_count) == (1, 1)
    assert Site.objects.get(halo_id=depot["id"]).name == "Main Depot"
    halo_sim.edit(lambda t: t.delete_site(depot["id"]))
    run = run_sync()
    assert run.sites_deactivated_count == 1
    assert not Site.objects.get(halo_id=depot["id"]).is_active
    assert Site.objects.count() == 4
    local_only.refresh_from_db()
    assert local_only.is_active and local_only.name == "Typed by hand"


def test_local_only_fields_are_never_written(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme")
    run_sync()
    Customer.objects.update(country="New Zealand")
    Site.objects.update(country="New Zealand")
    halo_sim.edit(lambda t: t.update_client(client["id"], name="Acme 2"))
    run_sync()
    assert Customer.objects.get().country == "New Zealand"
    assert Site.objects.get().country == "New Zealand"


def test_a_vanished_main_site_keeps_the_address_and_warns(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.delete_site(client["main_site_id"]))
    run_sync()
    customer = Customer.objects.get()
    assert (customer.postal_address_1, customer.city) == ("1 George Street", "Sydney")
    assert customer.halo_link.main_site_missing


def test_a_same_named_unlinked_customer_makes_a_possible_duplicate_not_an_import(run_sync, add_client) -> None:
    local = CustomerFactory(name="ACME pty. ltd")
    client = add_client("Acme Pty Ltd")
    run = run_sync()
    assert run.duplicate_count == 1
    assert Customer.objects.count() == 1
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.customer, candidate.halo_id, candidate.status) == (local, client["id"], DuplicateStatus.OPEN)
    run_sync()
    assert DuplicateCandidate.objects.count() == 1  # recorded once, not once per run
    DuplicateCandidate.objects.update(status=DuplicateStatus.DIFFERENT)
    run = run_sync()
    assert run.created_count == 1
    assert HaloLink.objects.get().halo_id == client["id"]
    assert not hasattr(Customer.objects.get(pk=local.pk), "halo_link")


def test_a_client_linked_by_staff_is_updated_by_the_sync(run_sync, add_client) -> None:
    client = add_client("Acme From Halo")
    link = HaloLinkFactory(halo_id=client["id"], method=LinkMethod.MATCHED, customer__name="acme (typed)")
    run = run_sync()
    link.customer.refresh_from_db()
    assert link.customer.name == "Acme From Halo"
    assert run.created_count == 0 and run.updated_count == 1


def test_an_incomplete_listing_fails_the_run_and_marks_nothing_missing(run_sync, add_client, halo_sim) -> None:
    for n in range(3):
        add_client(f"Client {n}")
    run_sync()
    halo_sim.config.truncate_listings = 1
    run = run_sync()
    assert run.status == SyncStatus.FAILED
    assert "HaloPSA" in run.error_message
    assert not HaloLink.objects.exclude(not_syncing_reason="").exists()


def test_a_record_that_cannot_be_stored_fails_alone_and_the_run_is_partial(run_sync, add_client) -> None:
    add_client("Fine Ltd")
    bad = add_client("X" * 300)
    run = run_sync()
    assert run.status == SyncStatus.PARTIAL
    assert run.failed_count == 1 and run.created_count == 1
    assert run.failures[0]["halo_id"] == bad["id"]
    assert "at most 255" in run.failures[0]["message"]


def test_a_dry_run_stores_what_would_change_and_writes_no_customer_data(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.update_client(client["id"], name="Acme Renamed"))
    add_client("Newco")
    before = (Customer.objects.count(), FieldChange.objects.count(), Site.objects.count())
    run = run_sync(dry_run=True)
    assert run.status == SyncStatus.SUCCEEDED and run.dry_run
    assert (Customer.objects.count(), FieldChange.objects.count(), Site.objects.count()) == before
    assert Customer.objects.get().name == "Acme"
    planned = {(p["action"], p["field"], p["new"]) for p in run.planned_changes}
    assert ("change", "name", "Acme Renamed") in planned
    assert ("create", "", "Newco") in planned


@pytest.mark.parametrize("how", ["save", "queryset_update"])
def test_a_managed_field_changed_outside_the_sync_is_put_back(run_sync, add_client, how: str) -> None:
    # No signal or stored fingerprint takes part: the sync compares with what the database holds now, so a
    # QuerySet.update (or a restored backup) that no code path sees is put right as surely as an admin save.
    add_client("Acme")
    run_sync()
    if how == "save":
        customer = Customer.objects.get()
        customer.name = "Edited in the admin"
        customer.save()
    else:
        Customer.objects.update(name="Edited in the admin")
    Site.objects.update(city="Nowhere")
    run = run_sync()
    customer = Customer.objects.get()
    assert customer.name == "Acme" and run.updated_count == 1
    assert Site.objects.get().city == "Sydney" and run.sites_updated_count == 1
    assert FieldChange.objects.filter(sync_run=run, old_value="Edited in the admin", new_value="Acme").exists()
    assert FieldChange.objects.filter(sync_run=run, field="city", old_value="Nowhere", site__isnull=False).exists()
    assert run_sync().unchanged_count == 1  # and then it is settled


def test_changed_rows_get_a_new_updated_at(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme")
    run_sync()
    before = Customer.objects.get().updated_at
    halo_sim.edit(lambda t: t.update_client(client["id"], name="Acme 2"))
    halo_sim.edit(lambda t: t.update_site(client["main_site_id"], name="Acme 2 HQ"))
    run_sync()
    assert Customer.objects.get().updated_at > before
    assert Site.objects.get().updated_at > before
