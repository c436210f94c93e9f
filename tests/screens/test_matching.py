"""Matching: the queue, suggestions, check-then-link against HaloPSA, every bad input, unlinking and duplicates."""

from unittest import mock

import pytest
from django import forms
from django.contrib.auth.models import Permission
from django.urls import reverse

from syncapp.choices import ChangeAction, ChangeOrigin, DuplicateStatus, LinkMethod
from syncapp.exceptions import LinkError
from syncapp.forms import parse_halo_reference
from syncapp.halo import HaloClientRecord
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink
from syncapp.selectors.matching import HaloIdLinkedElsewhere, linked_customer_of, suggestions_for
from syncapp.services.customers import link_customer, unlink_customer
from tests.factories import CustomerFactory, HaloClientEntryFactory, HaloLinkFactory, SyncRunFactory, UserFactory

QUEUE = reverse("syncapp:matching")

pytestmark = pytest.mark.django_db


def match_url(customer: Customer) -> str:
    return reverse("syncapp:match-customer", args=[customer.pk])


def unlink_url(customer: Customer) -> str:
    return reverse("syncapp:unlink-customer", args=[customer.pk])


def nothing_linked() -> bool:
    return not HaloLink.objects.exists() and not FieldChange.objects.exists()


def record(halo_id: int = 501, name: str = "Acme", ticked: bool = True) -> HaloClientRecord:
    return HaloClientRecord(
        id=halo_id,
        name=name,
        inactive=False,
        main_site_id=None,
        accounts_email="",
        accounts_cc_email="",
        accounts_first_name="",
        accounts_last_name="",
        main_phone="",
        last_updated=None,
        datagate_ticked=ticked,
    )


# --- reading what staff typed --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "halo_id"),
    [
        ("123", 123),
        ("  123 ", 123),
        ("https://acme.halopsa.com/customers?clientid=123", 123),
        ("https://acme.halopsa.com/customers?ClientID=77&tab=sites", 77),
        ("acme.halopsa.com/customers?clientid=42#details", 42),
        ("clientid=9", 9),
    ],
)
def test_reads_an_id_or_a_halopsa_address(text: str, halo_id: int) -> None:
    assert parse_halo_reference(text) == halo_id


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "required"),
        ("abc", "not_numeric"),
        ("12a", "not_numeric"),
        ("-5", "not_numeric"),
        ("https://acme.halopsa.com/customers", "url_without_id"),
        ("https://acme.halopsa.com/customers?clientid=", "url_without_id"),
        ("https://acme.halopsa.com/customers?clientid=abc", "url_without_id"),
        ("0", "out_of_range"),
        ("99999999999", "out_of_range"),
    ],
)
def test_refuses_what_is_not_an_id(text: str, code: str) -> None:
    with pytest.raises(forms.ValidationError) as refused:
        parse_halo_reference(text)
    assert refused.value.code == code


# --- the check and the link, against the simulator -----------------------------------------------------------------


def test_check_shows_the_client_name_and_datagate_box_and_writes_nothing(billing_client, halo_sim) -> None:
    client = halo_sim.edit(lambda t: t.add_client("Acme Widgets Pty Ltd", ticked=False))
    customer = CustomerFactory(name="Acme Widgets")
    url = f"{halo_sim.base_url}/customers?clientid={client['id']}"
    response = billing_client.post(match_url(customer), {"halo_reference": url, "step": "check"})
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["checked"].id == client["id"]
    assert "Acme Widgets Pty Ltd" in html
    assert "Not ticked" in html
    assert 'id="link-button"' in html
    assert nothing_linked()


def test_link_saves_the_link_history_and_client_entry(billing_client, billing_user, halo_sim) -> None:
    client = halo_sim.edit(lambda t: t.add_client("Acme Widgets", ticked=True))
    customer = CustomerFactory(name="Acme Widgets")
    duplicate = DuplicateCandidate.objects.create(customer=customer, halo_id=client["id"], halo_name="Acme Widgets")
    response = billing_client.post(match_url(customer), {"halo_reference": str(client["id"]), "step": "link"})
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    link = HaloLink.objects.get(customer=customer)
    assert (link.halo_id, link.method, link.linked_by, link.in_scope) == (
        client["id"],
        LinkMethod.MATCHED,
        billing_user,
        True,
    )
    change = FieldChange.objects.get(customer=customer)
    assert (change.origin, change.action, change.new_value, change.changed_by) == (
        ChangeOrigin.LINK,
        ChangeAction.LINKED,
        str(client["id"]),
        billing_user,
    )
    entry = HaloClientEntry.objects.get(halo_id=client["id"])
    assert entry.name == "Acme Widgets" and entry.is_ticked
    duplicate.refresh_from_db()
    assert duplicate.status == DuplicateStatus.LINKED and duplicate.resolved_by == billing_user
    page = billing_client.get(customer.get_absolute_url()).content.decode()
    assert "Matched by staff" in page and "Linked to HaloPSA client" in page


def test_unknown_id_is_refused_on_the_form(billing_client, halo_sim) -> None:
    customer = CustomerFactory()
    response = billing_client.post(match_url(customer), {"halo_reference": "987654", "step": "link"})
    assert response.status_code == 400
    assert response.context["form"].errors["halo_reference"] == ["No HaloPSA client has id 987654."]
    assert nothing_linked()


def test_id_linked_to_another_customer_names_it_with_a_link(billing_client, halo_sim) -> None:
    other = HaloLinkFactory(customer__name="Other Holdings", halo_id=4242)
    customer = CustomerFactory()
    response = billing_client.post(match_url(customer), {"halo_reference": "4242", "step": "check"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "HaloPSA client 4242 is already linked to Other Holdings." in html
    assert f'href="{other.customer.get_absolute_url()}"' in html
    assert HaloLink.objects.count() == 1 and not FieldChange.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("acme", "is not a HaloPSA client id"),
        ("https://acme.halopsa.com/customers", "This address has no clientid= in it"),
        ("https://acme.halopsa.com/customers?clientid=x", "clientid= but no number"),
        ("", "Enter a HaloPSA client id"),
    ],
)
@pytest.mark.parametrize("step", ["check", "link"])
def test_input_that_is_not_an_id_is_refused_on_the_form(billing_client, typed: str, message: str, step: str) -> None:
    customer = CustomerFactory()
    response = billing_client.post(match_url(customer), {"halo_reference": typed, "step": step})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert nothing_linked()


@pytest.mark.parametrize("step", ["check", "link"])
def test_halopsa_unreachable_is_refused_on_the_form(billing_client, halo_unreachable, step: str) -> None:
    customer = CustomerFactory()
    response = billing_client.post(match_url(customer), {"halo_reference": "12", "step": step})
    assert response.status_code == 400
    [error] = response.context["form"].errors["halo_reference"]
    assert error.startswith("HaloPSA could not be reached: ")
    assert nothing_linked()


def test_matching_needs_match_customer(client) -> None:
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(viewer)
    customer = CustomerFactory()
    assert client.get(match_url(customer)).status_code == 403
    assert client.post(match_url(customer), {"halo_reference": "12", "step": "link"}).status_code == 403
    assert nothing_linked()


def test_an_already_linked_customer_offers_unlinking(billing_client) -> None:
    link = HaloLinkFactory(halo_id=333)
    html = billing_client.get(match_url(link.customer)).content.decode()
    assert "already linked to HaloPSA client <b>333</b>" in html
    assert unlink_url(link.customer) in html


# --- the link service's own guards ---------------------------------------------------------------------------------


def test_link_service_refuses_an_id_linked_meanwhile(billing_user) -> None:
    HaloLinkFactory(customer__name="First", halo_id=501)
    with pytest.raises(HaloIdLinkedElsewhere, match="already linked to First"):
        link_customer(customer=CustomerFactory(), halo_client=record(501), actor=billing_user)


def test_link_service_turns_a_lost_race_into_a_clear_message(billing_user) -> None:
    first = HaloLinkFactory(customer__name="First", halo_id=501).customer
    # The pre-check misses the other link (it was saved a moment later); the unique constraint then decides.
    with (
        mock.patch("syncapp.services.customers.linked_customer_of", side_effect=[None, first]) as lookup,
        pytest.raises(HaloIdLinkedElsewhere, match="already linked to First"),
    ):
        link_customer(customer=CustomerFactory(), halo_client=record(501), actor=billing_user)
    assert lookup.call_count == 2
    assert linked_customer_of(halo_id=501) == first
    assert HaloLink.objects.count() == 1


def test_link_service_refuses_a_customer_already_linked(billing_user) -> None:
    link = HaloLinkFactory(halo_id=1)
    with pytest.raises(LinkError, match="already linked to HaloPSA client 1"):
        link_customer(customer=link.customer, halo_client=record(2), actor=billing_user)


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
    assert [s.entry.halo_id for s in rows[acme]] == [901, 900]
    assert "Same name, ignoring case, spacing and punctuation" in html
    assert "One name contains the other" in html
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
    assert found[0].entry.halo_id == 1 and found[0].reason == "One name contains the other"
    assert any(s.reason.startswith("Names ") and s.reason.endswith("% alike") for s in found[1:])
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)


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
