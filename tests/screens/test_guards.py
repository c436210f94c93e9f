"""Every state-changing view: POST only (405 on GET), CSRF-protected (403 without the token), permission-checked."""

import pytest
from django.test import Client
from django.urls import reverse

from syncapp.models import (
    DuplicateCandidate,
    FieldChange,
    HaloClientSync,
    HaloLink,
    SyncRun,
    SyncSchedule,
    WebhookEvent,
)
from tests.factories import CustomerFactory, HaloLinkFactory

pytestmark = pytest.mark.django_db


def _targets() -> dict[str, str]:
    customer = CustomerFactory()
    linked = HaloLinkFactory(halo_id=77).customer
    duplicate = DuplicateCandidate.objects.create(customer=customer, halo_id=78, halo_name="Twin")
    return {
        "customer-edit": reverse("syncapp:customer-edit", args=[customer.pk]),
        "sync-halopsa": reverse("syncapp:sync-halopsa"),
        "match-customer": reverse("syncapp:match-customer", args=[customer.pk]),
        "unlink-customer": reverse("syncapp:unlink-customer", args=[linked.pk]),
        "duplicate-different": reverse("syncapp:duplicate-different", args=[duplicate.pk]),
        "connection-schedule": reverse("syncapp:connection-schedule"),
        "connection-test": reverse("syncapp:connection-test"),
        "connection-webhook-test": reverse("syncapp:connection-webhook-test"),
        "customer-sync": reverse("syncapp:customer-sync", args=[linked.pk]),
    }


POST_ONLY = [
    "customer-edit",
    "duplicate-different",
    "connection-schedule",
    "connection-test",
    "connection-webhook-test",
]
ALL_WRITES = [*POST_ONLY, "sync-halopsa", "match-customer", "unlink-customer", "customer-sync"]
FORM_DATA = {"name": "Changed", "halo_reference": "77", "step": "link", "enabled": "on", "interval_minutes": "10"}


def _nothing_changed() -> bool:
    return (
        not SyncRun.objects.exists()
        and not FieldChange.objects.exists()
        and HaloLink.objects.count() == 1
        and DuplicateCandidate.objects.get().status == "open"
        and not SyncSchedule.objects.filter(enabled=True, interval_minutes=10).exists()
        and not HaloClientSync.objects.exists()
        and not WebhookEvent.objects.exists()
    )


@pytest.mark.parametrize("name", POST_ONLY)
def test_state_changing_views_refuse_get(admin_client_, name: str) -> None:
    url = _targets()[name]
    assert admin_client_.get(url).status_code == 405
    assert _nothing_changed()


@pytest.mark.parametrize("name", ALL_WRITES)
def test_state_changing_views_refuse_post_without_csrf(admin_user, name: str) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    url = _targets()[name]
    assert strict.post(url, FORM_DATA).status_code == 403
    assert _nothing_changed()


def test_queueing_a_run_needs_run_halo_sync(billing_client) -> None:
    assert billing_client.post(reverse("syncapp:sync-halopsa")).status_code == 403
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("name", ["match-customer", "unlink-customer", "duplicate-different"])
def test_linking_needs_match_customer(client, django_user_model, name: str) -> None:
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="x")
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "view_syncrun"]))
    client.force_login(viewer)
    assert client.post(_targets()[name], FORM_DATA).status_code == 403
    assert _nothing_changed()


def test_a_user_without_any_portal_permission_sees_no_screen(client, django_user_model) -> None:
    client.force_login(django_user_model.objects.create_user("outsider", password="x"))
    for name in ("customer-list", "run-list", "matching", "field-mappings", "sync-halopsa"):
        assert client.get(reverse(f"syncapp:{name}")).status_code == 403


def test_a_refusal_is_a_portal_page_that_says_what_to_do(billing_client) -> None:
    response = billing_client.post(reverse("syncapp:sync-halopsa"))
    assert response.status_code == 403
    assert b"You don't have permission to do that" in response.content
    assert b"Sync operators" in response.content


def test_an_expired_form_is_a_portal_page_that_says_nothing_changed(admin_user) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    response = strict.post(reverse("syncapp:sync-halopsa"))
    assert response.status_code == 403
    assert b"This form has expired" in response.content and b"Nothing was changed" in response.content
