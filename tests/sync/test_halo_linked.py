"""Customer.halo_linked and HaloClientEntry.linked equal the links after every way a link is made or removed."""

import importlib

import pytest
from django.apps import apps
from django.contrib.admin.sites import site as admin_site
from django.test import RequestFactory

from syncapp.models import Customer, HaloClientEntry, HaloLink
from syncapp.services.customers import link_customer, unlink_customer
from tests.factories import CustomerFactory, HaloLinkFactory, UserFactory, halo_client_record

pytestmark = pytest.mark.django_db


def flags_match_links() -> None:
    linked = set(HaloLink.objects.values_list("customer_id", flat=True))
    flagged = set(Customer.objects.filter(halo_linked=True).values_list("pk", flat=True))
    assert flagged == linked
    assert linked, "the check needs some linked customers"
    directory_matches_links()


def directory_matches_links() -> None:
    """Every HaloPSA client seen is marked linked exactly when a customer is linked to it."""
    linked = set(HaloLink.objects.values_list("halo_id", flat=True))
    entries = dict(HaloClientEntry.objects.values_list("halo_id", "linked"))
    assert {halo_id for halo_id, flag in entries.items() if flag} == linked & set(entries)


def test_an_import_and_later_syncs_mark_exactly_the_linked_customers(run_sync, add_client, halo_sim) -> None:
    clients = [add_client(f"Client {n}") for n in range(7)]
    unticked = add_client("Unticked Co", ticked=False)
    CustomerFactory(name="Hand Typed Co")
    run_sync()
    flags_match_links()
    assert HaloClientEntry.objects.get(halo_id=unticked["id"]).linked is False  # seen, not imported
    halo_sim.edit(lambda t: t.clients[clients[0]["id"]].update(name="Client 0 renamed"))
    halo_sim.edit(lambda t: t.set_ticked(unticked["id"], True))
    HaloClientEntry.objects.filter(halo_id=clients[1]["id"]).delete()  # seen again, already linked
    add_client("Client new")
    run_sync()
    flags_match_links()
    assert HaloClientEntry.objects.get(halo_id=unticked["id"]).linked is True  # imported by the second sync
    assert HaloClientEntry.objects.get(halo_id=clients[1]["id"]).linked is True
    assert Customer.objects.get(name="Hand Typed Co").halo_linked is False


def test_staff_linking_and_unlinking_keep_the_flag_and_the_loaded_customer(db) -> None:
    actor = UserFactory()
    customer = CustomerFactory(name="Acme")
    link_customer(customer=customer, halo_client=halo_client_record(501), actor=actor)
    assert Customer.objects.get(pk=customer.pk).halo_linked is True
    flags_match_links()
    loaded = Customer.objects.select_related("halo_link").get(pk=customer.pk)
    unlink_customer(customer=loaded, actor=actor)
    assert Customer.objects.get(pk=customer.pk).halo_linked is False
    HaloLinkFactory(customer=CustomerFactory(name="Other"))
    flags_match_links()


def test_a_link_deleted_in_the_admin_unmarks_its_customer(admin_user) -> None:
    links = [HaloLinkFactory(customer=CustomerFactory(name=f"Customer {n}")) for n in range(3)]
    request = RequestFactory().post("/")
    request.user = admin_user
    model_admin = admin_site._registry[HaloLink]
    model_admin.delete_queryset(request, HaloLink.objects.filter(pk__in=[links[0].pk, links[1].pk]))
    assert list(Customer.objects.filter(halo_linked=True)) == [links[2].customer]
    flags_match_links()
    assert model_admin.get_readonly_fields(request, links[2]) == ("customer", "halo_id")  # never moved there


def test_a_loaded_customer_saved_after_linking_keeps_the_flag(db) -> None:
    customer = CustomerFactory(name="Acme")
    link = HaloLink.objects.create(customer=customer, halo_id=77, method="matched")
    link.customer.save()  # the instance the link was made with: not the stale False
    assert Customer.objects.get(pk=customer.pk).halo_linked is True


def test_clients_seen_before_and_after_staff_link_them_follow_the_link(db) -> None:
    actor = UserFactory()
    HaloClientEntry.objects.create(halo_id=601, name="Seen first")  # seen by a sync, not ticked, then linked
    seen_first = CustomerFactory(name="Seen first")
    link_customer(customer=seen_first, halo_client=halo_client_record(601, "Seen first"), actor=actor)
    never_seen = CustomerFactory(name="Never seen")  # linking records the client it reads
    link_customer(customer=never_seen, halo_client=halo_client_record(602, "Never seen"), actor=actor)
    assert set(HaloClientEntry.objects.filter(linked=True).values_list("halo_id", flat=True)) == {601, 602}
    unlink_customer(customer=Customer.objects.select_related("halo_link").get(pk=seen_first.pk), actor=actor)
    assert HaloClientEntry.objects.get(halo_id=601).linked is False
    directory_matches_links()


def test_the_migration_marks_the_clients_seen_that_are_linked(db) -> None:
    HaloLinkFactory(customer=CustomerFactory(name="Linked"), halo_id=701)
    HaloClientEntry.objects.bulk_create(
        [HaloClientEntry(halo_id=701, name="A"), HaloClientEntry(halo_id=702, name="B")]
    )
    migration = importlib.import_module("syncapp.migrations.0014_client_entry_linked")
    migration.mark_linked_clients(apps, None)
    assert dict(HaloClientEntry.objects.values_list("halo_id", "linked")) == {701: True, 702: False}


def test_the_migration_marks_the_customers_linked_before_it(db) -> None:
    HaloLinkFactory(customer=CustomerFactory(name="Linked"))
    CustomerFactory(name="Typed")
    Customer.objects.update(halo_linked=False)
    migration = importlib.import_module("syncapp.migrations.0010_customer_halo_linked")
    migration.mark_linked_customers(apps, None)
    flags_match_links()
