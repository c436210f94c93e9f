"""A customer's page: managed fields read-only, local edits with history, link facts, sites and the timeline."""

import pytest
from django.urls import reverse

from syncapp.choices import ChangeAction, ChangeOrigin, LinkMethod, NotSyncingReason
from syncapp.models import Customer, FieldChange
from tests.factories import (
    CustomerFactory,
    FieldChangeFactory,
    HaloLinkFactory,
    SiteFactory,
    SyncRunFactory,
)

pytestmark = pytest.mark.django_db


def detail(customer: Customer) -> str:
    return reverse("syncapp:customer-detail", args=[customer.pk])


def edit(customer: Customer) -> str:
    return reverse("syncapp:customer-edit", args=[customer.pk])


def test_linked_customer_shows_managed_fields_read_only(editor_client, settings) -> None:
    settings.HALO_RESOURCE_URL = "https://acme.halopsa.com"
    link = HaloLinkFactory(customer__name="Acme", customer__city="Perth", halo_id=42, method=LinkMethod.IMPORTED)
    response = editor_client.get(detail(link.customer))
    html = response.content.decode()
    assert response.status_code == 200
    assert "managed by HaloPSA" in html
    form = response.context["form"]
    assert list(form.fields) == ["country"]  # the only local-only field
    assert 'name="city"' not in html and 'name="country"' in html
    assert 'href="https://acme.halopsa.com/customers?clientid=42"' in html
    assert "Imported from HaloPSA" in html


def test_unlinked_customer_is_editable_and_warned(editor_client) -> None:
    customer = CustomerFactory(name="Typed Ltd")
    response = editor_client.get(detail(customer))
    html = response.content.decode()
    assert "Invoices will not export to HaloPSA without a HaloPSA id." in html
    assert "managed by HaloPSA" not in html
    assert "name" in response.context["form"].fields
    assert reverse("syncapp:match-customer", args=[customer.pk]) in html


def test_without_change_permission_fields_are_shown_not_editable(viewer_client) -> None:
    customer = CustomerFactory(name="Typed Ltd", country="Australia")
    html = viewer_client.get(detail(customer)).content.decode()
    assert "Australia" in html
    assert "Save changes" not in html
    assert 'name="country"' not in html


def test_not_syncing_reason_missing_main_site_and_invalid_emails_are_flagged(billing_client) -> None:
    link = HaloLinkFactory(
        not_syncing_reason=NotSyncingReason.UNTICKED,
        main_site_missing=True,
        customer__invoice_email_to="good@acme.test; not-an-address",
    )
    html = billing_client.get(detail(link.customer)).content.decode()
    assert "Not syncing: Datagate box unticked in HaloPSA" in html
    assert 'id="main-site-missing"' in html
    assert "not-an-address" in html and "not a valid e-mail address" in html


def test_link_facts_name_the_person_who_matched(billing_client, operator_user) -> None:
    link = HaloLinkFactory(method=LinkMethod.MATCHED, linked_by=operator_user)
    html = billing_client.get(detail(link.customer)).content.decode()
    assert "Matched by staff" in html
    assert operator_user.get_full_name() in html


def test_sites_are_listed(billing_client) -> None:
    customer = CustomerFactory()
    SiteFactory(customer=customer, name="Head office")
    SiteFactory(customer=customer, name="Old depot", is_active=False)
    html = billing_client.get(detail(customer)).content.decode()
    assert "Head office" in html and "Old depot" in html


def test_history_timeline_shows_old_new_run_and_person_and_filters_by_field(billing_client, billing_user) -> None:
    customer = CustomerFactory()
    run = SyncRunFactory()
    FieldChangeFactory(customer=customer, sync_run=run, field="name", old_value="Acme", new_value="Acme Group")
    FieldChangeFactory(
        customer=customer,
        sync_run=None,
        origin=ChangeOrigin.STAFF,
        changed_by=billing_user,
        field="country",
        old_value="",
        new_value="Australia",
    )
    html = billing_client.get(detail(customer)).content.decode()
    assert "Acme" in html and "Acme Group" in html
    assert f"HaloPSA sync run #{run.pk}" in html
    assert billing_user.get_full_name() in html
    filtered = billing_client.get(detail(customer), {"field": "name"})
    assert [c.field for c in filtered.context["history_page"].object_list] == ["name"]
    assert "Australia" not in filtered.content.decode().split('id="timeline"')[1]


def test_history_of_a_field_with_no_changes_says_so(billing_client) -> None:
    customer = CustomerFactory()
    html = billing_client.get(detail(customer), {"field": "city"}).content.decode()
    assert "No changes match these filters." in html


def test_unknown_customer_is_404(billing_client) -> None:
    assert billing_client.get(reverse("syncapp:customer-detail", args=[999_999])).status_code == 404


def test_local_edit_writes_the_field_and_one_history_row_per_changed_field(editor_client, editor_user) -> None:
    customer = CustomerFactory(name="Typed Ltd", city="Perth", country="")
    data = {name: getattr(customer, name) for name in ("name", "city", "country", "postal_address_1", "postcode")}
    data.update(city="  Fremantle ", country="Australia", invoice_email_to="a@x.test , b@x.test")
    response = editor_client.post(edit(customer), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.city, customer.country) == ("Fremantle", "Australia")
    assert customer.invoice_email_to == "a@x.test; b@x.test"
    rows = {row.field: row for row in FieldChange.objects.filter(customer=customer)}
    assert set(rows) == {"city", "country", "invoice_email_to"}
    assert rows["city"].old_value == "Perth" and rows["city"].new_value == "Fremantle"
    assert all(r.origin == ChangeOrigin.STAFF and r.changed_by == editor_user for r in rows.values())
    assert all(r.action == ChangeAction.CHANGED for r in rows.values())


def test_saving_unchanged_values_writes_nothing(editor_client) -> None:
    customer = CustomerFactory(name="Typed Ltd", city="Perth")
    fields = editor_client.get(detail(customer)).context["form"].fields
    data = {name: getattr(customer, name) for name in fields}
    response = editor_client.post(edit(customer), data, follow=True)
    assert "Nothing was changed." in response.content.decode()
    assert not FieldChange.objects.exists()


def test_a_linked_customer_edit_changes_only_local_fields(editor_client) -> None:
    link = HaloLinkFactory(customer__name="Acme", customer__country="")
    response = editor_client.post(edit(link.customer), {"country": "New Zealand", "name": "Hijacked"})
    assert response.status_code == 302
    link.customer.refresh_from_db()
    assert link.customer.name == "Acme"
    assert link.customer.country == "New Zealand"
    assert list(FieldChange.objects.values_list("field", flat=True)) == ["country"]


def test_a_blank_name_is_refused_on_the_form_and_nothing_is_written(editor_client) -> None:
    customer = CustomerFactory(name="Typed Ltd")
    response = editor_client.post(edit(customer), {"name": "", "city": "Somewhere"})
    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    customer.refresh_from_db()
    assert customer.name == "Typed Ltd"
    assert not FieldChange.objects.exists()


def test_editing_needs_change_customer(viewer_client) -> None:
    customer = CustomerFactory(name="Typed Ltd")
    assert viewer_client.post(edit(customer), {"name": "Other"}).status_code == 403
    customer.refresh_from_db()
    assert customer.name == "Typed Ltd"
