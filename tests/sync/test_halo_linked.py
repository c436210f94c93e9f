"""Customer.halo_linked equals "the customer has a HaloLink" after every way a link is made or removed."""

import importlib

import pytest
from django.apps import apps
from django.contrib.admin.sites import site as admin_site
from django.test import RequestFactory

from syncapp.models import Customer, HaloLink
from syncapp.services.customers import link_customer, unlink_customer
from tests.factories import CustomerFactory, HaloLinkFactory, UserFactory, halo_client_record

pytestmark = pytest.mark.django_db


def flags_match_links() -> None:
    linked = set(HaloLink.objects.values_list("customer_id", flat=True))
    flagged = set(Customer.objects.filter(halo_linked=True).values_list("pk", flat=True))
    assert flagged == linked
    assert linked, "the check needs some linked customers"


def test_an_import_and_later_syncs_mark_exactly_the_linked_customers(run_sync, add_client, halo_sim) -> None:
    clients = [add_client(f"Client {n}") for n in range(7)]
    CustomerFactory(name="Hand Typed Co")
    run_sync()
    flags_match_links()
    halo_sim.edit(lambda t: t.clients[clients[0]["id"]].update(name="Client 0 renamed"))
    add_client("Client new")
    run_sync()
    flags_match_links()
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
    assert model_admin.get_readonly_fields(request, links[2]) == ("customer",)  # a link is never moved there


def test_a_loaded_customer_saved_after_linking_keeps_the_flag(db) -> None:
    customer = CustomerFactory(name="Acme")
    link = HaloLink.objects.create(customer=customer, halo_id=77, method="matched")
    link.customer.save()  # the instance the link was made with: not the stale False
    assert Customer.objects.get(pk=customer.pk).halo_linked is True


def test_the_migration_marks_the_customers_linked_before_it(db) -> None:
    HaloLinkFactory(customer=CustomerFactory(name="Linked"))
    CustomerFactory(name="Typed")
    Customer.objects.update(halo_linked=False)
    migration = importlib.import_module("syncapp.migrations.0010_customer_halo_linked")
    migration.mark_linked_customers(apps, None)
    flags_match_links()
