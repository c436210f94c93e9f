"""The staff flows in a real browser against a live portal, a real Celery worker and the HaloPSA simulator."""

import re

import pytest
from playwright.sync_api import Page, expect

from syncapp.models import Customer, HaloLink
from tests.factories import CustomerFactory

RUN_TIMEOUT_MS = 90_000

# Transactional, so the live server thread and the worker process see the rows the test writes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed_tenant(tenant) -> list[dict]:
    """Three ticked clients with sites and one unticked client, as billing staff would find them in HaloPSA."""
    clients = []
    for name, city in (("Acme Widgets Pty Ltd", "Perth"), ("Blue Sky Telecom", "Hobart"), ("Coral Reef IT", "Cairns")):
        client = tenant.add_client(name, ticked=True, accountsemailaddress=f"accounts@{name.split()[0].lower()}.test")
        tenant.add_site(client["id"], "Head office", main=True, line1="1 Main Street", line3=city, postcode="6000")
        tenant.add_site(client["id"], "Warehouse", line1="9 Dock Road", line3=city, postcode="6001")
        clients.append(client)
    tenant.add_client("Not For Datagate Ltd", ticked=False)
    return clients


def _sync_from_the_gears(page: Page, live_server) -> None:
    """Customers → gears → HaloPSA → Confirm, then wait on the run page until the run has succeeded."""
    page.goto(f"{live_server.url}/")
    page.locator("#gears summary").click()
    page.get_by_role("menuitem", name=re.compile("HaloPSA")).click()
    expect(page.get_by_role("heading", name="Sync customers from HaloPSA")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    # The page polls the run's progress and reloads itself with the summary once the run is done.
    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#summary")).to_be_visible()


@pytest.mark.worker
def test_gears_halopsa_confirm_imports_the_ticked_clients(
    page: Page, live_server, log_in, operator_user, celery_worker_process, halo_sim, artifacts
) -> None:
    halo_sim.edit(_seed_tenant)
    log_in(page, operator_user.username)
    expect(page.get_by_role("heading", name="No customers yet")).to_be_visible()

    _sync_from_the_gears(page, live_server)
    expect(page.locator('[data-count="created"]')).to_have_text("3")
    expect(page.locator('[data-count="sites_created"]')).to_have_text("6")

    page.get_by_role("link", name="Customers", exact=True).first.click()
    table = page.locator("#customer-table")
    for name in ("Acme Widgets Pty Ltd", "Blue Sky Telecom", "Coral Reef IT"):
        expect(table.get_by_role("link", name=name)).to_be_visible()
    expect(table).not_to_contain_text("Not For Datagate Ltd")
    expect(page.locator("#gears summary")).to_be_visible()  # the run is over: the gears offer a sync again
    page.screenshot(path=str(artifacts / "browser-gears-sync.png"), full_page=True)


@pytest.mark.worker
def test_a_rename_in_halopsa_shows_in_the_customer_history(
    page: Page, live_server, log_in, operator_user, celery_worker_process, halo_sim, artifacts
) -> None:
    [acme, *_] = halo_sim.edit(_seed_tenant)
    log_in(page, operator_user.username)
    _sync_from_the_gears(page, live_server)
    first_run = page.url

    # Billing staff rename the client in HaloPSA (the simulator's own page).
    page.goto(f"{halo_sim.base_url}/clients/{acme['id']}")
    form = page.locator("#client-form")
    form.get_by_label("Name", exact=True).fill("Acme Widgets Group")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#flash")).to_have_text("Saved.")

    _sync_from_the_gears(page, live_server)
    assert page.url != first_run
    run_number = re.search(r"/runs/(\d+)/", page.url).group(1)
    expect(page.locator('[data-count="updated"]')).to_have_text("1")
    changes = page.locator("#change-table")
    expect(changes).to_contain_text("Acme Widgets Pty Ltd")
    expect(changes).to_contain_text("Acme Widgets Group")

    changes.get_by_role("link", name="Acme Widgets Group").click()
    expect(page.get_by_role("heading", name="Acme Widgets Group", level=1)).to_be_visible()
    page.get_by_label("Field").select_option("name")
    page.get_by_role("button", name="Show").click()
    entry = page.locator("#timeline .timeline-item").first
    expect(entry.locator(".old")).to_have_text("Acme Widgets Pty Ltd")
    expect(entry.locator(".new")).to_have_text("Acme Widgets Group")
    expect(entry).to_contain_text(f"HaloPSA sync run #{run_number}")
    entry.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "browser-rename-history.png"), full_page=True)


def test_match_a_typed_customer_by_pasting_a_halopsa_url(
    page: Page, live_server, log_in, billing_user, halo_sim, artifacts
) -> None:
    client = halo_sim.edit(lambda t: t.add_client("Harbour Freight Pty Ltd", ticked=True))
    customer = CustomerFactory(name="Harbour Freight")
    log_in(page, billing_user.username)

    page.get_by_role("link", name="Matching").click()
    row = page.locator(f"#unlinked-{customer.pk}")
    expect(row).to_contain_text("Harbour Freight")
    row.get_by_role("link", name="Match…").click()

    field = page.get_by_label("HaloPSA client id or address")
    expect(field).to_be_focused()
    field.fill("https://example.halopsa.com/customers")  # a URL without the id first: refused on the form
    field.press("Enter")
    expect(page.locator("#halo-errors")).to_contain_text("no clientid=")

    page.get_by_label("HaloPSA client id or address").fill(f"{halo_sim.base_url}/customers?clientid={client['id']}")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#checked-name")).to_have_text("Harbour Freight Pty Ltd")
    expect(page.locator("#checked-ticked")).to_contain_text("Ticked")
    page.screenshot(path=str(artifacts / "browser-match-check.png"), full_page=True)

    page.get_by_role("button", name="Link to Harbour Freight Pty Ltd").click()
    expect(page.locator(".message-success")).to_contain_text(f"now linked to HaloPSA client {client['id']}")
    expect(page.locator("#link-panel")).to_contain_text("Matched by staff")
    expect(page.locator("#timeline")).to_contain_text(f"Linked to HaloPSA client {client['id']}")
    assert HaloLink.objects.get(customer=customer).halo_id == client["id"]
    assert Customer.objects.count() == 1
    page.screenshot(path=str(artifacts / "browser-match-linked.png"), full_page=True)
