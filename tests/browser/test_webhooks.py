"""Changes in seconds, in a real browser: a rename on the simulator's page reaches the open customer page by itself,
and "Sync from HaloPSA" on a customer's page is carried out by a real worker."""

import re

import pytest
from playwright.sync_api import Page, expect

from halosim.webhooks import WebhookAuth
from syncapp.choices import SyncKind, SyncTrigger
from syncapp.models import Customer, SyncRun
from syncapp.services.runs import sync_run_execute, sync_run_request

WAIT_MS = 60_000
# A throwaway credential of this test; it must never show on a page.
TOKEN = "browser-webhook-token-77Qx"

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _linked_client(halo_sim) -> dict:
    def seed(tenant):
        client = tenant.add_client("Harbour Freight Pty Ltd", ticked=True)
        tenant.add_site(client["id"], "Head office", main=True, line1="1 Wharf St", line3="Sydney", postcode="2000")
        return client

    client = halo_sim.edit(seed)
    run = sync_run_request(actor=None, trigger=SyncTrigger.COMMAND)
    sync_run_execute(run_id=run.pk)
    return client


def _rename_on_the_simulator_page(page: Page, halo_sim, client: dict, name: str) -> None:
    page.goto(f"{halo_sim.base_url}/clients/{client['id']}")
    form = page.locator("#client-form")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#flash")).to_have_text("Saved.")


def test_a_rename_on_the_simulator_page_shows_on_the_open_customer_page_without_a_sync(
    page: Page, live_server, log_in, operator_user, celery_worker_process, halo_sim, settings, artifacts
) -> None:
    client = _linked_client(halo_sim)
    settings.HALO_WEBHOOK_TOKEN = TOKEN
    halo_sim.webhooks.auth = WebhookAuth(token=TOKEN)
    halo_sim.config.webhook_url = f"{live_server.url}/halo/webhook/"
    customer = Customer.objects.get()

    log_in(page, operator_user.username)
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Harbour Freight Pty Ltd", level=1)).to_be_visible()

    halo_tab = page.context.new_page()
    _rename_on_the_simulator_page(halo_tab, halo_sim, client, "Harbour Freight Group")
    halo_tab.close()

    # Nobody presses anything: the webhook's sync runs on the worker and the page refreshes itself.
    expect(page.get_by_role("heading", name="Harbour Freight Group", level=1)).to_be_visible(timeout=WAIT_MS)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Harbour Freight Pty Ltd")
    expect(timeline).to_contain_text("Harbour Freight Group")
    assert SyncRun.objects.filter(kind=SyncKind.WEBHOOK).exists()
    assert TOKEN not in page.content()
    page.screenshot(path=str(artifacts / "browser-webhook-rename.png"), full_page=True)


def test_sync_from_halopsa_on_the_customer_page_runs_on_the_worker_and_the_page_shows_the_outcome(
    page: Page, live_server, log_in, operator_user, celery_worker_process, halo_sim, artifacts
) -> None:
    client = _linked_client(halo_sim)  # no webhooks configured: only the button brings the change
    customer = Customer.objects.get()
    log_in(page, operator_user.username)
    _rename_on_the_simulator_page(page, halo_sim, client, "Harbour Freight Holdings")

    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Harbour Freight Pty Ltd", level=1)).to_be_visible()
    page.locator("#sync-customer").click()
    expect(page.get_by_role("heading", name=re.compile("Sync Harbour Freight Pty Ltd from HaloPSA"))).to_be_visible()
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Harbour Freight Holdings", level=1)).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#single-sync-status")).to_contain_text("Last one-customer sync from HaloPSA")
    expect(page.locator("#timeline")).to_contain_text("Harbour Freight Holdings")
    run = SyncRun.objects.get(kind=SyncKind.SINGLE_CUSTOMER)
    assert (run.requested_by, run.trigger, run.updated_count, run.requests_made) == (
        operator_user,
        SyncTrigger.MANUAL,
        1,
        3,
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "browser-customer-sync-390.png"), full_page=True)
