"""Typed-in customers, the duplicate hold-back, bulk linking and merge, in a real browser with a real worker."""

import re

import pytest
from playwright.sync_api import Page, expect

from syncapp.choices import ChangeAction, ChangeOrigin
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloLink
from tests.factories import CustomerFactory, SiteFactory

RUN_TIMEOUT_MS = 90_000
WIDTHS = (1366, 390)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed_tenant(tenant) -> dict[str, dict]:
    """One ticked client; two unticked ones that customers typed into Datagate will turn out to be."""
    acme = tenant.add_client("Acme Widgets Pty Ltd", ticked=True, accountsemailaddress="accounts@acme.test")
    tenant.add_site(acme["id"], "Head office", main=True, line1="1 Main Street", line3="Perth", postcode="6000")
    kg = tenant.add_client("Knight & Gibson Partners", ticked=False, accountsemailaddress="ap@knightgibson.test")
    tenant.add_site(
        kg["id"], "Hay St", main=True, line1="12 Hay Street", line3="Perth", postcode="6000", phonenumber="08 9200 1000"
    )
    coral = tenant.add_client("Coral Reef IT Services", ticked=False)
    return {"acme": acme, "kg": kg, "coral": coral}


def _sync_from_the_gears(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/")
    page.locator("#gears summary").click()
    page.get_by_role("menuitem", name=re.compile("HaloPSA")).click()
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#summary")).to_be_visible()


def _screenshots(page: Page, artifacts, name: str) -> None:
    """The screen at a desktop and a phone width, whole page."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(artifacts / f"browser-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


@pytest.mark.worker
def test_type_suggest_hold_back_bulk_link_and_merge(
    page: Page, live_server, log_in, operator_user, celery_worker_process, halo_sim, artifacts
) -> None:
    clients = halo_sim.edit(_seed_tenant)
    log_in(page, operator_user.username)
    _sync_from_the_gears(page, live_server)
    expect(page.locator('[data-count="created"]')).to_have_text("1")

    # 1. Type a customer into the portal; a bad e-mail is refused first and nothing is saved.
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="New customer…").click()
    page.get_by_label("Customer name").fill("Knight and Gibson")
    page.get_by_label("Contact Phone").fill("(08) 9200 1000")
    page.get_by_label("Email invoice to").fill("accounts@knightgibson.test; not-an-address")
    page.get_by_role("button", name="Add customer").click()
    expect(page.locator(".message-error")).to_contain_text("Nothing was saved")
    expect(page.locator('[data-field="invoice_email_to"] .field-error')).to_contain_text("“not-an-address”")
    _screenshots(page, artifacts, "customer-form-error")
    assert not Customer.objects.filter(name="Knight and Gibson").exists()
    page.get_by_label("Email invoice to").fill("accounts@knightgibson.test")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("heading", name="Knight and Gibson", level=1)).to_be_visible()
    typed = Customer.objects.get(name="Knight and Gibson")

    # 2. It is suggested with its reasons on the matching screen.
    page.get_by_role("link", name="Matching", exact=True).click()
    row = page.locator(f"#unlinked-{typed.pk}")
    expect(row).to_contain_text("Knight & Gibson Partners")
    expect(row).to_contain_text("High match")
    expect(row).to_contain_text("same phone")
    _screenshots(page, artifacts, "matching-suggestions")

    # 3. Tick the client in HaloPSA and sync: it is held back as a possible duplicate, not imported.
    halo_sim.edit(lambda t: t.set_ticked(clients["kg"]["id"], True))
    _sync_from_the_gears(page, live_server)
    expect(page.locator('[data-count="created"]')).to_have_text("0")
    page.get_by_role("link", name="Matching", exact=True).click()
    duplicates = page.locator("#duplicates")
    expect(duplicates).to_contain_text("Knight & Gibson Partners")
    expect(duplicates).to_contain_text("same phone")
    _screenshots(page, artifacts, "matching-held-back")
    assert Customer.objects.filter(name__icontains="Knight").count() == 1
    assert DuplicateCandidate.objects.get().customer == typed

    # 4. Bulk-link the High suggestion of another typed customer.
    coral = CustomerFactory(name="Coral Reef I.T. Services", contact_phone="", postcode="", city="")
    page.reload()
    page.get_by_role("link", name=re.compile(r"Link 1 high-confidence suggestion")).click()
    table = page.locator("#bulk-form")
    expect(table).to_contain_text("Coral Reef IT Services")
    expect(table.get_by_role("checkbox")).to_be_checked()
    _screenshots(page, artifacts, "bulk-link-preview")
    page.get_by_role("button", name="Link the ticked pairs").click()
    expect(page.locator("#bulk-linked")).to_contain_text("Linked 1 customer")
    assert HaloLink.objects.get(customer=coral).halo_id == clients["coral"]["id"]

    # 5. Merge a hand-typed duplicate into the imported customer; one customer shows both histories.
    acme = Customer.objects.get(halo_link__halo_id=clients["acme"]["id"])
    twin = CustomerFactory(name="Acme Widgets", country="Australia")
    SiteFactory(customer=twin, name="Acme warehouse (typed)")
    FieldChange.objects.create(
        customer=twin,
        action=ChangeAction.CREATED,
        new_value=twin.name,
        origin=ChangeOrigin.STAFF,
        changed_by=operator_user,
    )
    page.goto(f"{live_server.url}{twin.get_absolute_url()}")
    page.get_by_role("link", name="Merge into another customer…").click()
    page.get_by_label("Name, customer number or HaloPSA id").fill("Acme Widgets Pty")
    page.get_by_role("button", name="Find").click()
    page.locator("#merge-candidates").get_by_role("link", name="Preview merge").first.click()
    preview = page.locator("#merge-preview")
    expect(preview).to_contain_text("Acme warehouse (typed)")
    expect(preview).to_contain_text("Country: Australia")
    _screenshots(page, artifacts, "merge-preview")
    page.get_by_role("button", name=re.compile("^Merge Acme Widgets into")).click()
    expect(page.get_by_role("heading", name="Acme Widgets Pty Ltd", level=1)).to_be_visible()
    expect(page.locator("#merged-from")).to_contain_text("Acme Widgets")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Merged from")
    expect(timeline).to_contain_text("From Acme Widgets")  # the merged customer's own rows
    expect(timeline).to_contain_text("HaloPSA sync run")  # and the kept one's
    expect(page.locator("#sites-panel")).to_contain_text("Acme warehouse (typed)")
    _screenshots(page, artifacts, "merged-customer")
    page.locator("#merged-from").get_by_role("link", name="Acme Widgets").click()
    expect(page.locator("#merged-into")).to_contain_text("Acme Widgets Pty Ltd")
    twin.refresh_from_db()
    assert (twin.is_active, twin.merged_into_id) == (False, acme.pk)
