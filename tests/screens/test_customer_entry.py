"""Customers and sites typed into the portal: create, edit, what a linked customer allows, and bad input."""

import pytest
from django.urls import reverse

from syncapp.choices import ChangeAction, ChangeOrigin
from syncapp.models import Customer, FieldChange, Site
from tests.factories import CustomerFactory, HaloLinkFactory, SiteFactory

pytestmark = pytest.mark.django_db
NEW = reverse("syncapp:customer-create")

EVERY_FIELD = {
    "name": "Knight and Gibson",
    "postal_address_1": "12 Hay Street",
    "postal_address_2": "Level 3",
    "city": "Perth",
    "state": "WA",
    "postcode": "6000",
    "country": "Australia",
    "contact_phone": "08 9200 1000",
    "invoice_email_to": "accounts@knightgibson.example , ap@knightgibson.example",
    "invoice_email_cc": "boss@knightgibson.example",
    "invoice_attention": "Ada Knight",
    **{f"extra_field_{n}": f"Extra {n}" for n in range(1, 6)},
}


def site_new(customer: Customer) -> str:
    return reverse("syncapp:site-create", args=[customer.pk])


def site_edit(site: Site) -> str:
    return reverse("syncapp:site-edit", args=[site.customer_id, site.pk])


def test_billing_staff_create_a_customer_with_every_field_and_one_history_row(billing_client, billing_user) -> None:
    assert "New customer" in billing_client.get(reverse("syncapp:customer-list")).content.decode()
    assert billing_client.get(NEW).status_code == 200
    response = billing_client.post(NEW, EVERY_FIELD)
    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    for name, value in EVERY_FIELD.items():
        expected = "accounts@knightgibson.example; ap@knightgibson.example" if name == "invoice_email_to" else value
        assert getattr(customer, name) == expected, name
    assert not hasattr(customer, "halo_link")
    change = FieldChange.objects.get()
    assert (change.action, change.origin, change.changed_by, change.new_value) == (
        ChangeAction.CREATED,
        ChangeOrigin.STAFF,
        billing_user,
        "Knight and Gibson",
    )


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": "   "}, "name", "Enter the customer's name."),
        ({"name": "x" * 256}, "name", "at most 255 characters"),
        ({"name": "Ok", "postcode": "9" * 41}, "postcode", "at most 40 characters"),
        ({"name": "Ok", "invoice_email_to": "good@x.example; not-an-address"}, "invoice_email_to", "“not-an-address”"),
        ({"name": "Ok", "invoice_email_cc": "a@b"}, "invoice_email_cc", "Not a valid e-mail address"),
    ],
)
def test_bad_input_on_the_new_customer_form_says_why_and_saves_nothing(billing_client, values, field, message) -> None:
    response = billing_client.post(NEW, values)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert "Nothing was saved" in response.content.decode()
    assert not Customer.objects.exists() and not FieldChange.objects.exists()


def test_sites_are_added_and_edited_on_an_unlinked_customer_with_history(billing_client, billing_user) -> None:
    customer = CustomerFactory(name="Typed Co")
    assert "Add a site" in billing_client.get(customer.get_absolute_url()).content.decode()
    response = billing_client.post(
        site_new(customer), {"name": "Depot", "address_1": "9 Dock Rd", "city": "Fremantle", "postcode": "6160"}
    )
    assert response.status_code == 302
    site = Site.objects.get()
    assert (site.customer, site.name, site.city, site.halo_id) == (customer, "Depot", "Fremantle", None)
    response = billing_client.post(
        site_edit(site),
        {
            "name": "Main depot",
            "address_1": "9 Dock Rd",
            "address_2": "",
            "city": "Fremantle",
            "postcode": "6160",
            "country": "Australia",
        },
    )
    assert response.status_code == 302
    rows = list(
        FieldChange.objects.order_by("id").values_list(
            "site_id", "action", "field", "old_value", "new_value", "origin", "changed_by"
        )
    )
    assert rows == [
        (site.pk, ChangeAction.CREATED, "", "", "Depot", ChangeOrigin.STAFF, billing_user.pk),
        (site.pk, ChangeAction.CHANGED, "name", "Depot", "Main depot", ChangeOrigin.STAFF, billing_user.pk),
        (site.pk, ChangeAction.CHANGED, "country", "", "Australia", ChangeOrigin.STAFF, billing_user.pk),
    ]


def test_bad_site_input_says_why_and_saves_nothing(billing_client) -> None:
    customer = CustomerFactory()
    response = billing_client.post(site_new(customer), {"name": "", "city": "x" * 300})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["name"] == ["Enter the site's name."] and "at most 255" in errors["city"][0]
    assert not Site.objects.exists() and not FieldChange.objects.exists()
    site = SiteFactory(customer=customer, name="Depot")
    response = billing_client.post(site_edit(site), {"name": "  ", "country": "Australia"})
    assert response.status_code == 400
    site.refresh_from_db()
    assert (site.name, site.country) == ("Depot", "")
    assert not FieldChange.objects.exists()


def test_a_linked_customer_allows_only_country_on_it_and_its_sites(billing_client, billing_user) -> None:
    link = HaloLinkFactory(customer__name="Halo Co", customer__country="")
    site = SiteFactory(customer=link.customer, name="HQ", halo_id=501)
    html = billing_client.get(link.customer.get_absolute_url()).content.decode()
    assert "Add a site" not in html and "Edit country" in html
    # No new site on a linked customer: its sites come from HaloPSA.
    assert billing_client.post(site_new(link.customer), {"name": "Extra"}).status_code == 302
    assert Site.objects.count() == 1
    form = billing_client.get(site_edit(site)).context["form"]
    assert list(form.fields) == ["country"]
    response = billing_client.post(site_edit(site), {"name": "Renamed", "country": "New Zealand"})
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.name, site.country) == ("HQ", "New Zealand")  # the managed name was not even a field
    assert list(FieldChange.objects.values_list("field", "origin", "changed_by")) == [
        ("country", ChangeOrigin.STAFF, billing_user.pk)
    ]
    response = billing_client.post(
        reverse("syncapp:customer-edit", args=[link.customer.pk]), {"country": "New Zealand", "name": "Hacked"}
    )
    link.customer.refresh_from_db()
    assert (link.customer.name, link.customer.country) == ("Halo Co", "New Zealand")


def test_the_entry_screens_need_their_permissions(viewer_client) -> None:
    customer = CustomerFactory()
    site = SiteFactory(customer=customer)
    assert viewer_client.get(NEW).status_code == 403
    assert viewer_client.post(NEW, {"name": "X"}).status_code == 403
    assert viewer_client.post(site_new(customer), {"name": "X"}).status_code == 403
    assert viewer_client.post(site_edit(site), {"name": "X"}).status_code == 403
    assert Customer.objects.count() == 1 and Site.objects.count() == 1
