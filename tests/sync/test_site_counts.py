"""Customer.active_site_count equals the customer's active sites after every way sites are written."""

import importlib

import pytest
from django.apps import apps
from django.contrib.admin.sites import site as admin_site
from django.db.models import Count, Q
from django.test import RequestFactory

from syncapp.models import Customer, HaloClientEntry, Site
from syncapp.services.customer_entry import create_site, update_site
from syncapp.services.merge import merge_customers
from syncapp.site_counts import refresh_active_site_counts
from tests.factories import CustomerFactory, HaloLinkFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


def counts_match_sites() -> None:
    live = dict(Customer.objects.annotate(n=Count("sites", filter=Q(sites__is_active=True))).values_list("pk", "n"))
    assert dict(Customer.objects.values_list("pk", "active_site_count")) == live


def test_imports_and_later_syncs_count_created_moved_closed_and_reopened_sites(run_sync, add_client, halo_sim) -> None:
    clients = [add_client(f"Client {n}") for n in range(5)]
    halo_sim.edit(lambda t: [t.add_site(clients[n]["id"], f"Branch {n}") for n in range(3)])
    CustomerFactory(name="Hand Typed Co")
    run_sync()
    counts_match_sites()
    assert Customer.objects.get(name="Client 0").active_site_count == 2

    def changes(tenant) -> None:
        branches = {site["name"]: site for site in tenant.sites.values()}
        moved = branches["Branch 0"]
        moved["client_id"], moved["client_name"] = clients[4]["id"], "Client 4"  # to another client
        branches["Branch 1"]["inactive"] = True  # closed in HaloPSA
        del tenant.sites[branches["Branch 2"]["id"]]  # gone from HaloPSA
        tenant.add_site(clients[3]["id"], "Branch new")

    halo_sim.edit(changes)
    run_sync()
    counts_match_sites()
    by_name = dict(Customer.objects.values_list("name", "active_site_count"))
    assert by_name == {
        "Client 0": 1,
        "Client 1": 1,
        "Client 2": 1,
        "Client 3": 2,
        "Client 4": 2,
        "Hand Typed Co": 0,
    }
    halo_sim.edit(lambda t: next(s for s in t.sites.values() if s["name"] == "Branch 1").update(inactive=False))
    run_sync()
    counts_match_sites()
    assert Customer.objects.get(name="Client 1").active_site_count == 2


def test_a_count_touches_no_other_column(db) -> None:
    customer = CustomerFactory(name="Acme")
    Site.objects.bulk_create([Site(customer=customer, name="HQ"), Site(customer=customer, name="Old", is_active=False)])
    before = Customer.objects.values().get(pk=customer.pk)
    refresh_active_site_counts([customer.pk])
    after = Customer.objects.values().get(pk=customer.pk)
    assert after.pop("active_site_count") == 1 and before.pop("active_site_count") == 0
    assert after == before  # updated_at included: a count is not an edit


def test_staff_entering_sites_and_editing_them_keep_the_count(db) -> None:
    actor = UserFactory()
    customer = CustomerFactory(name="Typed Co")
    site = create_site(customer=customer, actor=actor, values={"name": "Shop"})
    create_site(customer=customer, actor=actor, values={"name": "Store"})
    update_site(site=site, actor=actor, values={"name": "Shop front"})
    counts_match_sites()
    assert Customer.objects.get(pk=customer.pk).active_site_count == 2


def test_a_merge_counts_both_customers_again(db) -> None:
    typed = CustomerFactory(name="Knight Gibson")
    SiteFactory(customer=typed, name="Typed HQ")
    kept = HaloLinkFactory(halo_id=47, customer__name="Knight & Gibson Partners").customer
    SiteFactory(customer=kept, name="HQ", halo_id=900)
    refresh_active_site_counts([typed.pk, kept.pk])
    merge_customers(source=typed, target=kept, actor=UserFactory())
    counts_match_sites()
    assert Customer.objects.get(pk=kept.pk).active_site_count == 2
    assert Customer.objects.get(pk=typed.pk).active_site_count == 0


def test_a_site_closed_in_the_admin_counts_its_customer_again(admin_user) -> None:
    site = SiteFactory(customer=CustomerFactory(name="Acme"), name="HQ")
    assert Customer.objects.get(pk=site.customer_id).active_site_count == 1
    site.is_active = False
    request = RequestFactory().post("/")
    request.user = admin_user
    model_admin = admin_site._registry[Site]
    model_admin.save_model(request, site, form=None, change=True)
    counts_match_sites()
    assert Customer.objects.get(pk=site.customer_id).active_site_count == 0
    assert model_admin.get_readonly_fields(request, site) == ("customer",)  # a site is never moved there


def test_the_migration_counts_the_sites_there_were(db) -> None:
    customers = [CustomerFactory(name=f"Customer {n}") for n in range(3)]
    Site.objects.bulk_create(
        [
            Site(customer=customers[0], name="A"),
            Site(customer=customers[0], name="B"),
            Site(customer=customers[1], name="C"),
        ]
    )
    Site.objects.bulk_create([Site(customer=customers[2], name="Closed", is_active=False)])
    Customer.objects.update(active_site_count=0)
    migration = importlib.import_module("syncapp.migrations.0013_customer_active_site_count")
    migration.count_active_sites(apps, None)
    counts_match_sites()


def test_an_import_inserts_its_customers_counted_and_its_clients_marked(run_sync, add_client, halo_sim) -> None:
    """A first sync writes each new customer and client seen once: no UPDATE of every new row afterwards."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clients = [add_client(f"Client {n}") for n in range(4)]
    add_client("Unticked Co", ticked=False)
    halo_sim.edit(lambda t: t.add_site(clients[0]["id"], "Branch"))
    with CaptureQueriesContext(connection) as captured:
        run_sync()
    updates = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("UPDATE")
        and ('"syncapp_customer"' in q["sql"] or '"syncapp_halocliententry"' in q["sql"])
    ]
    assert updates == []
    counts_match_sites()
    assert dict(HaloClientEntry.objects.values_list("name", "linked")) == {
        **{f"Client {n}": True for n in range(4)},
        "Unticked Co": False,
    }
