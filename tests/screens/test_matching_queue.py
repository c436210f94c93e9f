"""The matching queue, its ranked suggestions, possible duplicates and unlinking."""

import pytest
from django.urls import reverse

from syncapp.choices import ChangeAction, ChangeOrigin, DuplicateStatus, MatchLevel
from syncapp.exceptions import LinkError
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink
from syncapp.selectors.matching import suggestions_for
from syncapp.services.customers import unlink_customer
from tests.factories import CustomerFactory, HaloClientEntryFactory, HaloLinkFactory, SyncRunFactory

QUEUE = reverse("syncapp:matching")

pytestmark = pytest.mark.django_db


def match_url(customer: Customer) -> str:
    return reverse("syncapp:match-customer", args=[customer.pk])


def unlink_url(customer: Customer) -> str:
    return reverse("syncapp:unlink-customer", args=[customer.pk])


# --- unlinking -----------------------------------------------------------------------------------------------------


def test_unlink_asks_for_confirmation_first(billing_client) -> None:
    link = HaloLinkFactory(halo_id=808)
    response = billing_client.get(unlink_url(link.customer))
    assert response.status_code == 200
    assert "Unlink" in response.content.decode()
    assert HaloLink.objects.filter(pk=link.pk).exists()


def test_unlink_keeps_the_customer_and_writes_history(billing_client, billing_user) -> None:
    link = HaloLinkFactory(halo_id=808)
    response = billing_client.post(unlink_url(link.customer))
    assert response.status_code == 302
    assert not HaloLink.objects.exists()
    assert Customer.objects.filter(pk=link.customer.pk).exists()
    change = FieldChange.objects.get()
    assert (change.action, change.origin, change.old_value, change.new_value, change.changed_by) == (
        ChangeAction.UNLINKED,
        ChangeOrigin.LINK,
        "808",
        "",
        billing_user,
    )


def test_unlinking_an_unlinked_customer_writes_nothing(billing_client, billing_user) -> None:
    customer = CustomerFactory()
    assert billing_client.post(unlink_url(customer)).status_code == 302
    assert not FieldChange.objects.exists()
    with pytest.raises(LinkError):
        unlink_customer(customer=customer, actor=billing_user)


# --- the queue and its suggestions ---------------------------------------------------------------------------------


def test_queue_lists_duplicates_and_unlinked_customers_with_ranked_suggestions(billing_client) -> None:
    run = SyncRunFactory()
    HaloLinkFactory(customer__name="Linked Co")
    twin = CustomerFactory(name="Harbour IT")
    DuplicateCandidate.objects.create(customer=twin, halo_id=903, halo_name="Harbour IT", detected_by_run=run)
    acme = CustomerFactory(name="Acme Widgets")
    HaloClientEntryFactory(name="ACME Widgets Pty. Ltd", halo_id=900)
    HaloClientEntryFactory(name="Acme  widgets", halo_id=901, is_ticked=False)
    HaloClientEntryFactory(name="Unrelated Plumbing", halo_id=902)
    response = billing_client.get(QUEUE)
    html = response.content.decode()
    assert "Harbour IT" in html and "These are different companies" in html
    rows = dict(response.context["rows"])
    assert list(rows) == [acme]  # the duplicate's customer is listed once, as a duplicate
    assert {s.entry.halo_id for s in rows[acme]} == {901, 900}
    assert "Same name" in html and "High match" in html
    assert "Unrelated Plumbing" not in html
    assert response.context["counts"] == {"unlinked": 1, "duplicates": 1}


def test_suggestions_never_offer_a_linked_client() -> None:
    HaloLinkFactory(halo_id=700)
    HaloClientEntryFactory(name="Acme", halo_id=700)
    HaloClientEntryFactory(name="Acme Ltd", halo_id=701)
    customer = CustomerFactory(name="Acme")
    assert [s.entry.halo_id for s in suggestions_for(customers=[customer])[customer.pk]] == [701]


def test_suggestions_rank_similar_names_with_a_percentage() -> None:
    HaloClientEntryFactory(name="Northwind Traders", halo_id=1)
    HaloClientEntryFactory(name="Northwind Trading", halo_id=2)
    HaloClientEntryFactory(name="Southwind Traders", halo_id=3)
    customer = CustomerFactory(name="Northwind Traders Co")
    found = suggestions_for(customers=[customer])[customer.pk]
    assert found[0].entry.halo_id == 1 and found[0].level == MatchLevel.HIGH
    assert found[0].reason == "Same name apart from legal words, “&” or “St.”"
    assert any(s.reason.startswith("Names ") and s.reason.endswith("% alike") for s in found[1:])
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)


def test_suggestions_give_every_reason_beyond_the_name(billing_client) -> None:
    customer = CustomerFactory(
        name="Knight and Gibson", contact_phone="(08) 9200 1000", postcode="6000", postal_address_1="", city="Perth"
    )
    HaloClientEntryFactory(
        name="Knight & Gibson Partners", halo_id=47, phone_digits="92001000", postcode="6000", city="perth"
    )
    HaloClientEntryFactory(name="Perth Plumbing", halo_id=48, postcode="6000", city="perth")
    found = suggestions_for(customers=[customer])[customer.pk]
    assert [s.entry.halo_id for s in found] == [47]  # same suburb alone is no suggestion
    assert found[0].level == MatchLevel.HIGH
    assert set(found[0].reasons) >= {"same phone", "same postcode", "same city"}
    html = billing_client.get(QUEUE).content.decode()
    assert "High match" in html and "same phone, same postcode, same city" in html


def test_empty_queue_says_every_customer_is_linked(billing_client) -> None:
    HaloLinkFactory()
    html = billing_client.get(QUEUE).content.decode()
    assert "Every customer has a HaloPSA id." in html
    assert "None. When a sync finds" in html


def test_different_companies_resolves_the_duplicate(billing_client, billing_user) -> None:
    candidate = DuplicateCandidate.objects.create(customer=CustomerFactory(), halo_id=903, halo_name="Harbour IT")
    url = reverse("syncapp:duplicate-different", args=[candidate.pk])
    response = billing_client.post(url, follow=True)
    candidate.refresh_from_db()
    assert (candidate.status, candidate.resolved_by) == (DuplicateStatus.DIFFERENT, billing_user)
    assert "The next sync imports it as a new customer." in response.content.decode()
    again = billing_client.post(url, follow=True)
    assert "already resolved" in again.content.decode()


def test_duplicate_link_button_goes_through_the_check(billing_client, halo_sim) -> None:
    client = halo_sim.edit(lambda t: t.add_client("Harbour IT", ticked=True))
    customer = CustomerFactory(name="Harbour IT")
    DuplicateCandidate.objects.create(customer=customer, halo_id=client["id"], halo_name="Harbour IT")
    response = billing_client.post(match_url(customer), {"halo_reference": str(client["id"]), "step": "check"})
    assert response.context["checked"].name == "Harbour IT"
    assert "Possible duplicate" in response.content.decode()


def test_suggestions_survive_typos_and_common_words_among_many_clients() -> None:
    HaloClientEntry.objects.bulk_create(
        HaloClientEntry(halo_id=10_000 + n, name=f"Company {n:03d} Pty Ltd") for n in range(200)
    )
    HaloClientEntryFactory(name="Northwind Traders Pty Ltd", halo_id=1)
    HaloClientEntryFactory(name="ACME Pty. Ltd.", halo_id=2)
    typo = CustomerFactory(name="Northwnd Traders Pty Ltd")
    same = CustomerFactory(name="Acme Pty Ltd")
    found = suggestions_for(customers=[typo, same], limit=3)
    assert found[typo.pk][0].entry.halo_id == 1
    assert found[same.pk][0].entry.halo_id == 2
    assert found[same.pk][0].reason == "Same name"  # case and punctuation aside


def test_a_held_back_client_shows_its_reasons_on_the_queue_and_the_customer(billing_client) -> None:
    customer = CustomerFactory(name="Knight and Gibson")
    DuplicateCandidate.objects.create(
        customer=customer,
        halo_id=47,
        halo_name="Knight & Gibson Partners",
        score=90,
        reasons=["same phone", "names alike"],
    )
    queue = billing_client.get(QUEUE).content.decode()
    assert "High match</span> same phone, names alike" in queue
    page = billing_client.get(customer.get_absolute_url()).content.decode()
    assert "was not imported (same phone, names alike)" in page
