"""Merging a hand-typed customer into its duplicate: sites, history, local-only values, refusals, and the screens."""

import pytest
from django.urls import reverse

from syncapp.choices import ChangeAction, ChangeOrigin, DuplicateStatus
from syncapp.exceptions import MergeRefused
from syncapp.models import Customer, DuplicateCandidate, FieldChange, Site
from syncapp.selectors.customers import customer_history
from syncapp.services.merge import merge_customers
from tests.factories import CustomerFactory, FieldChangeFactory, HaloLinkFactory, SiteFactory

pytestmark = pytest.mark.django_db


def merge_url(customer: Customer, other: Customer | None = None) -> str:
    url = reverse("syncapp:merge-customer", args=[customer.pk])
    return f"{url}?other={other.pk}" if other else url


@pytest.fixture
def pair(billing_user):
    """A hand-typed customer with a site and a history, and the imported customer it duplicates."""
    typed = CustomerFactory(name="Knight and Gibson", country="Australia", contact_phone="08 9200 1000")
    typed_site = SiteFactory(customer=typed, name="Hay St office", halo_id=None)
    FieldChange.objects.create(
        customer=typed,
        action=ChangeAction.CREATED,
        new_value=typed.name,
        origin=ChangeOrigin.STAFF,
        changed_by=billing_user,
    )
    kept = HaloLinkFactory(halo_id=47, customer__name="Knight & Gibson Partners", customer__country="").customer
    halo_site = SiteFactory(customer=kept, name="HQ", halo_id=900)
    FieldChangeFactory(customer=kept, field="name", old_value="Knight Gibson", new_value=kept.name)
    return typed, typed_site, kept, halo_site


def test_merge_moves_typed_sites_fills_local_blanks_and_keeps_both_histories(pair, billing_user) -> None:
    typed, typed_site, kept, halo_site = pair
    left_from_an_old_link = SiteFactory(customer=typed, name="Old HaloPSA site", halo_id=901)
    DuplicateCandidate.objects.create(customer=typed, halo_id=47, halo_name=kept.name)
    plan = merge_customers(source=typed, target=kept, actor=billing_user)

    assert [s.pk for s in plan.sites_moving] == [typed_site.pk]
    assert [s.pk for s in plan.sites_staying] == [left_from_an_old_link.pk]  # follows its HaloPSA client
    assert set(kept.sites.values_list("pk", flat=True)) == {typed_site.pk, halo_site.pk}
    typed.refresh_from_db()
    kept.refresh_from_db()
    typed_site.refresh_from_db()
    assert typed_site.customer == kept
    assert (typed.is_active, typed.merged_into) == (False, kept)
    assert Customer.objects.count() == 2  # never deleted
    assert kept.country == "Australia"  # a local-only blank filled
    assert kept.contact_phone != "08 9200 1000"  # HaloPSA-managed fields are HaloPSA's
    merge_rows = FieldChange.objects.filter(origin=ChangeOrigin.MERGE)
    assert set(merge_rows.values_list("customer_id", "action", "field")) == {
        (kept.pk, ChangeAction.MERGED_FROM, "merged_from"),
        (typed.pk, ChangeAction.MERGED_INTO, "merged_into"),
        (kept.pk, ChangeAction.CHANGED, "country"),
        (kept.pk, ChangeAction.CHANGED, "customer"),
        (typed.pk, ChangeAction.CHANGED, "is_active"),
    }
    assert {row.changed_by for row in merge_rows} == {billing_user}
    timeline = customer_history(customer=kept)
    assert {row.customer_id for row in timeline} == {kept.pk, typed.pk}
    assert timeline.count() == FieldChange.objects.count()  # every row of both, nothing copied
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.LINKED


def test_merge_into_an_unlinked_customer_fills_every_blank(billing_user) -> None:
    source = CustomerFactory(name="Acme (typed twice)", city="Perth", postcode="6000", contact_phone="08 1")
    target = CustomerFactory(name="Acme", city="", postcode="6001", contact_phone="")
    merge_customers(source=source, target=target, actor=billing_user)
    target.refresh_from_db()
    assert (target.city, target.postcode, target.contact_phone, target.name) == ("Perth", "6001", "08 1", "Acme")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("both linked", "Merging two linked customers is refused"),
        ("itself", "cannot be merged into itself"),
        ("linked away", "only a customer without one is merged away"),
        ("already merged", "already merged"),
        ("into merged", "merge into that one instead"),
    ],
)
def test_refused_merges_say_why_and_change_nothing(billing_user, case, message) -> None:
    linked_a = HaloLinkFactory(halo_id=1).customer
    linked_b = HaloLinkFactory(halo_id=2).customer
    typed = CustomerFactory()
    gone = CustomerFactory(merged_into=linked_a, is_active=False)
    source, target = {
        "both linked": (linked_a, linked_b),
        "itself": (typed, typed),
        "linked away": (linked_a, typed),
        "already merged": (gone, linked_b),
        "into merged": (typed, gone),
    }[case]
    before = list(Customer.objects.order_by("pk").values())
    with pytest.raises(MergeRefused, match=message):
        merge_customers(source=source, target=target, actor=billing_user)
    assert list(Customer.objects.order_by("pk").values()) == before
    assert not FieldChange.objects.exists()


def test_history_rows_stay_append_only() -> None:
    row = FieldChangeFactory()
    with pytest.raises(TypeError):
        FieldChange.objects.filter(pk=row.pk).update(customer=CustomerFactory())
    with pytest.raises(TypeError):
        row.delete()


# --- the screens ---------------------------------------------------------------------------------------------------


def test_merge_from_the_typed_customers_page_previews_then_merges(billing_client, pair) -> None:
    typed, typed_site, kept, _ = pair
    page = billing_client.get(typed.get_absolute_url()).content.decode()
    assert "Merge into another customer" in page
    found = billing_client.get(merge_url(typed) + "?q=Knight")
    assert kept in found.context["candidates"]
    preview = billing_client.get(merge_url(typed, kept))
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Hay St office" in html and "Country: Australia" in html and "Merge Knight and Gibson into" in html
    assert Site.objects.get(pk=typed_site.pk).customer == typed  # a preview writes nothing
    response = billing_client.post(merge_url(typed), {"other": kept.pk})
    assert response.status_code == 302 and response["Location"] == kept.get_absolute_url()
    kept_page = billing_client.get(kept.get_absolute_url()).content.decode()
    assert "Merged into this customer" in kept_page and "From Knight and Gibson" in kept_page
    assert "Merged from" in kept_page
    gone_page = billing_client.get(typed.get_absolute_url()).content.decode()
    assert "This customer was merged into" in gone_page and kept.get_absolute_url() in gone_page


def test_merge_from_the_linked_customers_page_keeps_the_linked_one(billing_client, pair) -> None:
    typed, _, kept, _ = pair
    assert "Merge a duplicate into this" in billing_client.get(kept.get_absolute_url()).content.decode()
    response = billing_client.post(merge_url(kept), {"other": typed.pk})
    assert response.status_code == 302
    typed.refresh_from_db()
    assert typed.merged_into == kept


@pytest.mark.parametrize(
    ("other", "message"),
    [("abc", "is not a customer number"), ("99999", "No customer has number 99999"), ("", "Choose the customer")],
)
def test_bad_merge_input_says_why_and_merges_nothing(billing_client, pair, other, message) -> None:
    typed, *_ = pair
    response = billing_client.post(merge_url(typed), {"other": other})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Customer.objects.filter(merged_into__isnull=False).exists()
    assert not FieldChange.objects.filter(origin=ChangeOrigin.MERGE).exists()


def test_merging_two_linked_customers_is_refused_on_the_screen(billing_client) -> None:
    a, b = HaloLinkFactory(halo_id=1).customer, HaloLinkFactory(halo_id=2).customer
    response = billing_client.post(merge_url(a), {"other": b.pk})
    assert response.status_code == 400
    assert "Nothing was merged. Both customers are linked" in response.content.decode()
    assert not Customer.objects.filter(merged_into__isnull=False).exists()


def test_merge_needs_change_and_match_permissions(viewer_client, pair) -> None:
    typed, _, kept, _ = pair
    assert viewer_client.post(merge_url(typed), {"other": kept.pk}).status_code == 403
    assert not Customer.objects.filter(merged_into__isnull=False).exists()
