"""'Sync from HaloPSA' on one customer: confirm page, permission, queueing, the row menu and the page's state JSON."""

import pytest
from django.urls import reverse

from syncapp.choices import SyncKind, SyncStatus, SyncTrigger
from syncapp.models import FieldChange, HaloClientSync, SyncRun
from tests.factories import CustomerFactory, HaloLinkFactory

pytestmark = pytest.mark.django_db


def sync_url(customer) -> str:
    return reverse("syncapp:customer-sync", args=[customer.pk])


def state_url(customer) -> str:
    return reverse("syncapp:customer-sync-state", args=[customer.pk])


@pytest.fixture
def queued(monkeypatch) -> list[dict]:
    from syncapp import tasks

    calls: list[dict] = []
    monkeypatch.setattr(tasks.sync_halo_client, "apply_async", lambda kwargs, countdown=None: calls.append(kwargs))
    return calls


def test_an_operator_confirms_and_a_sync_of_that_client_is_queued(
    operator_client, operator_user, queued, django_capture_on_commit_callbacks
) -> None:
    link = HaloLinkFactory(halo_id=314, customer__name="Acme")
    page = operator_client.get(sync_url(link.customer)).content.decode()
    assert "HaloPSA client 314" in page and 'id="confirm-customer-sync"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(sync_url(link.customer), follow=True)

    assert response.redirect_chain[-1][0] == link.customer.get_absolute_url()
    html = response.content.decode()
    assert "Sync from HaloPSA queued for client 314" in html
    assert 'id="sync-pending"' in html
    assert queued == [
        {"halo_id": 314, "kind": SyncKind.SINGLE_CUSTOMER, "trigger": SyncTrigger.MANUAL, "actor_id": operator_user.pk}
    ]
    state = operator_client.get(state_url(link.customer)).json()
    assert state["pending"] is True


def test_two_clicks_queue_two_reads_each_a_run_of_their_own(
    operator_client, queued, django_capture_on_commit_callbacks
):
    link = HaloLinkFactory(halo_id=315)
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(sync_url(link.customer))
        operator_client.post(sync_url(link.customer))
    assert len(queued) == 2


def test_billing_staff_see_the_page_but_may_not_start_a_sync(billing_client, queued) -> None:
    link = HaloLinkFactory(halo_id=316)
    page = billing_client.get(sync_url(link.customer)).content.decode()
    assert "Sync operators" in page and "confirm-customer-sync" not in page
    assert billing_client.post(sync_url(link.customer)).status_code == 403
    detail = billing_client.get(link.customer.get_absolute_url()).content.decode()
    assert 'id="sync-customer"' not in detail
    assert queued == [] and not HaloClientSync.objects.exists()


def test_an_unlinked_customer_has_nothing_to_sync(operator_client, queued) -> None:
    customer = CustomerFactory(name="Typed Ltd")
    assert operator_client.get(sync_url(customer)).status_code == 400
    response = operator_client.post(sync_url(customer), follow=True)
    assert "nothing to sync" in response.content.decode()
    assert queued == [] and not HaloClientSync.objects.exists()
    assert 'id="sync-customer"' not in operator_client.get(customer.get_absolute_url()).content.decode()


def test_the_row_menu_offers_the_sync_to_operators_on_linked_rows_only(operator_client, billing_user) -> None:
    link = HaloLinkFactory(halo_id=317, customer__name="Linked Ltd")
    CustomerFactory(name="Typed Ltd")
    html = operator_client.get(reverse("syncapp:customer-list")).content.decode()
    assert html.count('class="menu row-menu"') == 1
    assert sync_url(link.customer) in html
    operator_client.force_login(billing_user)
    assert 'class="menu row-menu"' not in operator_client.get(reverse("syncapp:customer-list")).content.decode()


def test_the_state_json_changes_when_the_customer_changes_and_reports_the_outcome(billing_client) -> None:
    link = HaloLinkFactory(halo_id=318)
    before = billing_client.get(state_url(link.customer)).json()
    assert before == {"version": before["version"], "pending": False, "message": ""}
    run = SyncRun.objects.create(kind=SyncKind.WEBHOOK, trigger=SyncTrigger.WEBHOOK, status=SyncStatus.SUCCEEDED)
    FieldChange.objects.create(
        customer=link.customer, field="name", old_value="a", new_value="b", origin="sync", sync_run=run
    )
    HaloClientSync.objects.create(halo_id=318, last_run=run)
    run.finished_at = run.queued_at
    run.save()
    after = billing_client.get(state_url(link.customer)).json()
    assert after["version"] != before["version"]
    assert f"run #{run.pk}" in after["message"]


def test_the_customer_page_polls_from_a_static_script_not_an_inline_one(billing_client) -> None:
    link = HaloLinkFactory(halo_id=319)
    html = billing_client.get(link.customer.get_absolute_url()).content.decode()
    assert 'src="/static/portal/fresh_data.js"' in html
    assert state_url(link.customer) in html
    assert "<script>" not in html


def test_the_run_list_tells_one_client_runs_apart(billing_client) -> None:
    SyncRun.objects.create(kind=SyncKind.WEBHOOK, trigger=SyncTrigger.WEBHOOK, status=SyncStatus.SUCCEEDED)
    SyncRun.objects.create(kind=SyncKind.SINGLE_CUSTOMER, trigger=SyncTrigger.MANUAL, status=SyncStatus.SUCCEEDED)
    html = billing_client.get(reverse("syncapp:run-list")).content.decode()
    assert "HaloPSA webhook (one customer)" in html
    assert "Staff (Sync from HaloPSA, one customer)" in html
