"""Linking never leads to a dead end: the client and its sites come in at once; bulk linking of High suggestions."""

import pytest
from django.urls import reverse

from syncapp.choices import ChangeAction, ChangeOrigin, NotSyncingReason, SyncKind, SyncStatus
from syncapp.models import Customer, FieldChange, HaloClientEntry, HaloLink, Site, SyncRun
from syncapp.selectors.customers import last_complete_sync_at
from tests.factories import CustomerFactory, HaloClientEntryFactory, HaloLinkFactory

pytestmark = pytest.mark.django_db
BULK = reverse("syncapp:bulk-link")


def match_url(customer: Customer) -> str:
    return reverse("syncapp:match-customer", args=[customer.pk])


def add_client(halo_sim, name: str, *, ticked: bool = True, city: str = "Perth") -> dict:
    def edit(tenant):
        client = tenant.add_client(name, ticked=ticked, accountsemailaddress="accounts@kg.example")
        tenant.add_site(
            client["id"],
            "Head office",
            main=True,
            line1="12 Hay Street",
            line3=city,
            postcode="6000",
            phonenumber="08 9200 1000",
        )
        tenant.add_site(client["id"], "Depot", line1="9 Dock Rd", line3="Fremantle", postcode="6160")
        return tenant.client(client["id"])

    return halo_sim.edit(edit)


def test_linking_brings_the_clients_values_and_sites_at_once(billing_client, billing_user, halo_sim) -> None:
    client = add_client(halo_sim, "Knight & Gibson Partners")
    customer = CustomerFactory(name="Knight and Gibson", city="", country="Australia")
    halo_sim.reset_stats()
    response = billing_client.post(match_url(customer), {"halo_reference": str(client["id"]), "step": "link"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.city, customer.postcode, customer.contact_phone) == (
        "Knight & Gibson Partners",
        "Perth",
        "6000",
        "08 9200 1000",
    )
    assert customer.invoice_email_to == "accounts@kg.example"
    assert customer.country == "Australia"  # local-only: never HaloPSA's
    assert sorted(customer.sites.values_list("name", flat=True)) == ["Depot", "Head office"]
    run = SyncRun.objects.get()
    assert (run.kind, run.status, run.requested_by, run.updated_count, run.sites_created_count) == (
        SyncKind.LINK,
        SyncStatus.SUCCEEDED,
        billing_user,
        1,
        2,
    )
    # The check (a token, the client), then the fetch (a token, the field list, the client, the client's sites).
    assert halo_sim.stats() == {
        "POST /auth/token": 2,
        "GET /api/Client/{id}": 2,
        "GET /api/FieldInfo": 1,
        "GET /api/Site": 1,
    }
    assert FieldChange.objects.filter(origin=ChangeOrigin.SYNC, sync_run=run, field="name").exists()
    assert FieldChange.objects.filter(origin=ChangeOrigin.LINK, action=ChangeAction.LINKED).count() == 1
    assert last_complete_sync_at() is None  # one client is not a complete sync
    assert HaloLink.objects.get().last_synced_at is not None  # applied with the sync's rules, as a sync would


def test_linking_an_unticked_client_warns_and_the_page_says_how_to_fix_it(billing_client, halo_sim) -> None:
    client = add_client(halo_sim, "Dormant Widgets", ticked=False)
    customer = CustomerFactory(name="Dormant Widgets")
    check = billing_client.post(match_url(customer), {"halo_reference": str(client["id"]), "step": "check"})
    assert "will not keep syncing until “Datagate” is ticked" in check.content.decode()
    response = billing_client.post(
        match_url(customer), {"halo_reference": str(client["id"]), "step": "link"}, follow=True
    )
    html = response.content.decode()
    assert "will not keep syncing until “Datagate” is ticked there" in html
    assert "To fix it: open the client in HaloPSA" in html and "tick its “Datagate” box" in html
    assert HaloLink.objects.get().not_syncing_reason == NotSyncingReason.UNTICKED
    assert not Site.objects.exists()  # an unticked client's data is not applied


def test_linking_when_halopsa_cannot_be_read_afterwards_keeps_the_link_and_says_so(
    billing_client, halo_sim, monkeypatch
) -> None:
    from syncapp.halo import HaloError
    from syncapp.views import matching

    client = add_client(halo_sim, "Acme")
    customer = CustomerFactory(name="Acme")

    def unreachable(**kwargs):
        raise HaloError("HaloPSA did not answer")

    monkeypatch.setattr(matching, "fetch_linked_clients", unreachable)
    response = billing_client.post(
        match_url(customer), {"halo_reference": str(client["id"]), "step": "link"}, follow=True
    )
    assert "the next sync brings them in" in response.content.decode()
    assert HaloLink.objects.filter(customer=customer).exists()


# --- bulk linking --------------------------------------------------------------------------------------------------


@pytest.fixture
def suggestions(halo_sim):
    """Two customers with one clear High suggestion each, one with two equal ones, one with only a Low one."""
    kg = add_client(halo_sim, "Knight & Gibson Partners")
    acme = add_client(halo_sim, "Acme Proprietary Limited", city="Sydney")
    for client in (kg, acme):
        HaloClientEntryFactory(halo_id=client["id"], name=client["name"], phone_digits="92001000")
    HaloClientEntryFactory(halo_id=801, name="Twin Co North")
    HaloClientEntryFactory(halo_id=802, name="Twin Co North")
    HaloClientEntryFactory(halo_id=803, name="Perth Plumbing", city="perth", postcode="6000")
    customers = {
        "kg": CustomerFactory(name="Knight and Gibson", contact_phone="", postcode="1", city="x"),
        "acme": CustomerFactory(name="Acme Pty Ltd", contact_phone="", postcode="1", city="x"),
        "twin": CustomerFactory(name="Twin Co North", contact_phone="", postcode="1", city="x"),
        "dental": CustomerFactory(name="Harbour Dental", postcode="6000", city="Perth", contact_phone=""),
    }
    return customers, kg, acme


def test_bulk_link_previews_each_high_pair_ticked_with_its_reasons(billing_client, suggestions) -> None:
    customers, kg, acme = suggestions
    queue = billing_client.get(reverse("syncapp:matching")).content.decode()
    assert "Link 2 high-confidence suggestions" in queue
    response = billing_client.get(BULK)
    pairs = response.context["pairs"]
    assert {pair.key for pair in pairs} == {f"{customers['kg'].pk}:{kg['id']}", f"{customers['acme'].pk}:{acme['id']}"}
    html = response.content.decode()
    assert html.count('type="checkbox" name="pair"') == 2 and html.count(" checked ") == 2
    assert "Same name apart from legal words" in html
    assert not HaloLink.objects.exists()  # a preview writes nothing


def test_bulk_link_links_the_rest_when_one_was_linked_meanwhile(billing_client, billing_user, suggestions) -> None:
    customers, kg, acme = suggestions
    pairs = [f"{customers['kg'].pk}:{kg['id']}", f"{customers['acme'].pk}:{acme['id']}"]
    HaloLinkFactory(halo_id=acme["id"], customer__name="Someone else")  # linked meanwhile
    response = billing_client.post(BULK, {"pair": pairs})
    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert [(c.pk, halo_id) for c, halo_id in outcome.linked] == [(customers["kg"].pk, kg["id"])]
    assert len(outcome.skipped) == 1
    html = response.content.decode()
    assert "Skipped 1" in html and f"HaloPSA client {acme['id']} is already linked to Someone else" in html
    link = HaloLink.objects.get(customer=customers["kg"])
    assert link.linked_by == billing_user
    assert FieldChange.objects.filter(
        customer=customers["kg"], action=ChangeAction.LINKED, origin=ChangeOrigin.LINK, changed_by=billing_user
    ).exists()
    customers["kg"].refresh_from_db()
    assert customers["kg"].name == "Knight & Gibson Partners"  # HaloPSA's values came in at once
    assert not HaloLink.objects.filter(customer=customers["acme"]).exists()


@pytest.mark.parametrize(("data", "message"), [({}, "Tick at least one pair"), ({"pair": ["x:1"]}, "not understood")])
def test_bad_bulk_input_says_why_and_links_nothing(billing_client, suggestions, data, message) -> None:
    response = billing_client.post(BULK, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not HaloLink.objects.exists() and not FieldChange.objects.exists()


def test_bulk_link_needs_match_customer(viewer_client) -> None:
    customer = CustomerFactory(name="Acme")
    HaloClientEntryFactory(halo_id=5, name="Acme")
    assert viewer_client.post(BULK, {"pair": [f"{customer.pk}:5"]}).status_code == 403
    assert not HaloLink.objects.exists() and HaloClientEntry.objects.count() == 1
