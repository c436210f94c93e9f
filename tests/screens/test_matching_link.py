"""Matching a customer: reading the typed id or URL, check-then-link against HaloPSA, every bad input, races."""

from unittest import mock

import pytest
from django import forms
from django.contrib.auth.models import Permission
from django.urls import reverse

from syncapp.choices import ChangeAction, ChangeOrigin, DuplicateStatus, LinkMethod, NotSyncingReason
from syncapp.exceptions import HaloIdLinkedElsewhere, LinkError
from syncapp.forms import parse_halo_reference
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientEntry, HaloLink
from syncapp.selectors.matching import linked_customer_of
from syncapp.services.customers import link_customer
from tests.factories import CustomerFactory, HaloLinkFactory, UserFactory, halo_client_record

pytestmark = pytest.mark.django_db


def match_url(customer: Customer) -> str:
    return reverse("syncapp:match-customer", args=[customer.pk])


def unlink_url(customer: Customer) -> str:
    return reverse("syncapp:unlink-customer", args=[customer.pk])


def nothing_linked() -> bool:
    return not HaloLink.objects.exists() and not FieldChange.objects.exists()


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
    assert error.startswith("Could not check the id with HaloPSA. HaloPSA at http://127.0.0.1:")
    assert "could not be reached" in error
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
        link_customer(customer=CustomerFactory(), halo_client=halo_client_record(501), actor=billing_user)


def test_link_service_turns_a_lost_race_into_a_clear_message(billing_user) -> None:
    first = HaloLinkFactory(customer__name="First", halo_id=501).customer
    # The pre-check misses the other link (it was saved a moment later); the unique constraint then decides.
    with (
        mock.patch("syncapp.services.customers.linked_customer_of", side_effect=[None, first]) as lookup,
        pytest.raises(HaloIdLinkedElsewhere, match="already linked to First"),
    ):
        link_customer(customer=CustomerFactory(), halo_client=halo_client_record(501), actor=billing_user)
    assert lookup.call_count == 2
    assert linked_customer_of(halo_id=501) == first
    assert HaloLink.objects.count() == 1


def test_link_service_refuses_a_customer_already_linked(billing_user) -> None:
    link = HaloLinkFactory(halo_id=1)
    with pytest.raises(LinkError, match="already linked to HaloPSA client 1"):
        link_customer(customer=link.customer, halo_client=halo_client_record(2), actor=billing_user)


def test_linking_an_unticked_client_says_at_once_that_it_will_not_sync(billing_client, halo_sim) -> None:
    client = halo_sim.edit(lambda t: t.add_client("Dormant Widgets", ticked=False))
    customer = CustomerFactory(name="Dormant Widgets")
    response = billing_client.post(match_url(customer), {"halo_reference": str(client["id"]), "step": "link"})
    assert response.status_code == 302
    link = HaloLink.objects.get(customer=customer)
    assert (link.in_scope, link.not_syncing_reason) == (False, NotSyncingReason.UNTICKED)
