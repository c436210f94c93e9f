"""History is never lost: customers and sites cannot be deleted while history names them, by any route."""

import pytest
from django.contrib import admin
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test import RequestFactory

from syncapp.choices import ChangeAction
from syncapp.models import Customer, FieldChange, Site
from tests.factories import FieldChangeFactory, HaloLinkFactory, SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history() -> list[tuple]:
    customer = HaloLinkFactory().customer
    site = SiteFactory(customer=customer, halo_id=77)
    FieldChangeFactory(customer=customer, action=ChangeAction.CREATED, field="")
    FieldChangeFactory(customer=customer, site=site, field="city")
    FieldChangeFactory(customer=customer, field="name")
    return _all_history()


def _all_history() -> list[tuple]:
    return sorted(FieldChange.objects.values_list("id", "customer_id", "site_id", "field", "old_value", "new_value"))


def test_deleting_a_customer_or_site_through_the_orm_is_refused_and_keeps_every_history_row(history) -> None:
    customer = Customer.objects.get()
    with pytest.raises(ProtectedError), transaction.atomic():
        customer.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        Site.objects.all().delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        Customer.objects.all().delete()  # the cascade to sites and link stops at the history too
    assert _all_history() == history
    assert (Customer.objects.count(), Site.objects.count()) == (1, 1)


def test_a_raw_delete_is_refused_by_the_database(history) -> None:
    # Django's foreign keys are checked at commit; check_constraints asks the database to check them now.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM syncapp_site")
        connection.check_constraints()
    assert _all_history() == history


def test_the_admin_offers_no_delete_for_customers_and_sites(admin_user) -> None:
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model in (Customer, Site):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_delete_permission(request)
        assert "delete_selected" not in model_admin.get_actions(request)
    inline = admin.site._registry[Customer].get_inline_instances(request)[0]
    assert not inline.can_delete
