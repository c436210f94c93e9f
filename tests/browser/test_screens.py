"""Every screen at desktop (1366x900) and phone (390x844) width: no sideways scrolling, working menus, screenshots."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from syncapp.choices import ChangeAction, ChangeOrigin, NotSyncingReason, SyncStatus, SyncTrigger
from syncapp.models import Customer, DuplicateCandidate, HaloCustomFieldLabel
from tests.browser.conftest import PASSWORD
from tests.factories import (
    CustomerFactory,
    FieldChangeFactory,
    HaloLinkFactory,
    SiteFactory,
    SyncRunFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
# The innermost elements that reach past the window's right edge, to say what overflowed.
WIDEST_ELEMENTS = """
Array.from(document.querySelectorAll("body *"))
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter(el => !Array.from(el.children).some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
  .slice(0, 5)
  .map(el => `${el.tagName.toLowerCase()}#${el.id}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)
"""
LONG_EMAIL = "accounts.payable.department.invoices@really-long-subsidiary-name.example.com.au"


def _seed() -> dict:
    """A small portal as billing staff meet it: linked, not-syncing and typed customers, a finished run, labels."""
    now = timezone.now()
    for position, (halo_id, name, label) in enumerate(
        ((140, "CFAccountManager", "Account Manager"), (141, "CFContractTier", "Contract Tier")), start=1
    ):
        HaloCustomFieldLabel.objects.create(position=position, halo_id=halo_id, name=name, label=label)
    run = SyncRunFactory(
        status=SyncStatus.PARTIAL,
        trigger=SyncTrigger.MANUAL,
        queued_at=now - timedelta(minutes=3),
        started_at=now - timedelta(minutes=3),
        finished_at=now - timedelta(minutes=2),
        created_count=1,
        updated_count=2,
        deactivated_count=1,
        unchanged_count=21,
        not_syncing_count=1,
        failed_count=1,
        sites_created_count=2,
        failures=[{"halo_id": 9001, "name": "Broken Name Pty Ltd", "message": "The client name is blank."}],
        error_message="1 client could not be synced.",
    )
    acme = CustomerFactory(
        name="Acme Widgets Pty Ltd", invoice_email_to=LONG_EMAIL, contact_phone="+61 8 9000 1234", extra_field_2="Gold"
    )
    HaloLinkFactory(customer=acme, halo_id=501, last_synced_at=now)
    SiteFactory(customer=acme, name="Head office", halo_id=7001)
    FieldChangeFactory(customer=acme, sync_run=run, field="extra_field_2", old_value="Silver", new_value="Gold")
    FieldChangeFactory(customer=acme, sync_run=run, action=ChangeAction.CREATED, field="", new_value=acme.name)
    gone = CustomerFactory(name="Blue Sky Telecom", is_active=False)
    HaloLinkFactory(customer=gone, halo_id=502, halo_inactive=True)
    FieldChangeFactory(customer=gone, sync_run=run, field="is_active", old_value="Active", new_value="Inactive")
    unticked = CustomerFactory(name="Coral Reef IT")
    HaloLinkFactory(customer=unticked, halo_id=503, not_syncing_reason=NotSyncingReason.UNTICKED, in_scope=False)
    no_site = CustomerFactory(name="Delta Freight")
    HaloLinkFactory(customer=no_site, halo_id=504, main_site_missing=True)
    typed = CustomerFactory(name="Harbour Freight", invoice_email_to="billing@harbour.example")
    editor = UserFactory(username="clerk", first_name="Casey", last_name="Clerk")
    FieldChangeFactory(
        customer=typed,
        sync_run=None,
        origin=ChangeOrigin.STAFF,
        changed_by=editor,
        field="country",
        old_value="",
        new_value="Australia",
    )
    DuplicateCandidate.objects.create(
        customer=typed, halo_id=505, halo_name="Harbour Freight Pty Ltd", detected_by_run=run
    )
    for n in range(30):
        CustomerFactory(name=f"Typed Customer {n:02d}")
    return {"run": run, "acme": acme, "typed": typed}


def _context(browser, viewport: str):
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-GB")
    context.set_default_timeout(15_000)
    return context


def _log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/(\?.*)?$"))


def _assert_fits(page: Page, what: str) -> None:
    """No sideways scrolling of the page: the document is never wider than the window."""
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll_width > inner_width:
        wide = page.evaluate(WIDEST_ELEMENTS)
        raise AssertionError(f"{what}: the page is {scroll_width} px wide in a {inner_width} px window: {wide}")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_screen_fits_the_window_and_is_photographed(browser, live_server, admin_user, artifacts, viewport):
    seeded = _seed()
    acme, typed, run = seeded["acme"], seeded["typed"], seeded["run"]
    context = _context(browser, viewport)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        _assert_fits(page, "login")
        page.screenshot(path=str(artifacts / f"screen-login-{viewport}.png"), full_page=True)
        _log_in(page, live_server, admin_user.username)
        screens = {
            "customers": "/",
            "customers-not-syncing": "/?linked=yes&syncing=no",
            "customer-linked": acme.get_absolute_url(),
            "customer-typed": typed.get_absolute_url(),
            "readiness": "/readiness/",
            "matching": "/matching/",
            "match-customer": f"/matching/{typed.pk}/",
            "unlink-confirm": f"/matching/{acme.pk}/unlink/",
            "run-list": "/runs/",
            "run-detail": run.get_absolute_url(),
            "sync-confirm": "/sync/halopsa/",
            "field-mappings": "/mappings/",
            "connection": "/connection/",
        }
        for name, path in screens.items():
            page.goto(f"{live_server.url}{path}")
            expect(page.locator("main h1").first).to_be_visible()
            _assert_fits(page, name)
            page.screenshot(path=str(artifacts / f"screen-{name}-{viewport}.png"), full_page=True)
            if viewport == "phone":  # what a phone shows first, readable at full size
                page.screenshot(path=str(artifacts / f"screen-{name}-{viewport}-first-screen.png"))
        # A long e-mail address wraps inside its box instead of widening the page.
        page.goto(f"{live_server.url}{acme.get_absolute_url()}")
        expect(page.locator('[data-field="invoice_email_to"]')).to_contain_text(LONG_EMAIL)
        box = page.locator('[data-field="invoice_email_to"] .value').bounding_box()
        assert box["x"] + box["width"] <= VIEWPORTS[viewport]["width"]
        # Extra Field 2 carries the HaloPSA name, "Extra Field 2" as its second label; one legend, no badge per field.
        expect(page.locator('[data-field="extra_field_2"] dt')).to_contain_text("Contract Tier")
        expect(page.locator('[data-field="extra_field_2"] dt')).to_contain_text("Extra Field 2")
        expect(page.locator("#managed-legend")).to_be_visible()
        expect(page.locator("#timeline")).to_contain_text("Contract Tier (Extra Field 2)")
    finally:
        context.close()


def test_the_collapsed_menu_opens_and_navigates_at_phone_width(browser, live_server, admin_user, artifacts):
    _seed()
    context = _context(browser, "phone")
    page = context.new_page()
    try:
        _log_in(page, live_server, admin_user.username)
        nav_link = page.locator("#mainnav").get_by_role("link", name="Sync history")
        expect(nav_link).to_be_hidden()
        toggle = page.get_by_role("button", name="Menu")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(nav_link).to_be_visible()
        _assert_fits(page, "open menu")
        page.screenshot(path=str(artifacts / "screen-menu-open-phone.png"), full_page=True)
        nav_link.click()
        expect(page).to_have_url(re.compile(r"/runs/$"))
        expect(page.get_by_role("heading", name="Sync history", level=1)).to_be_visible()
        # The menu also closes with Escape and gives the focus back to its button.
        toggle = page.get_by_role("button", name="Menu")
        toggle.click()
        page.keyboard.press("Escape")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(toggle).to_be_focused()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_gears_menu_opens_by_keyboard_and_closes_on_escape(browser, live_server, operator_user, viewport):
    context = _context(browser, viewport)
    page = context.new_page()
    try:
        _log_in(page, live_server, operator_user.username)
        summary = page.locator("#gears summary")
        summary.focus()
        page.keyboard.press("Enter")
        item = page.get_by_role("menuitem", name=re.compile("HaloPSA"))
        expect(item).to_be_visible()
        _assert_fits(page, "gears open")
        page.keyboard.press("ArrowDown")
        expect(item).to_be_focused()
        page.keyboard.press("Escape")
        expect(item).to_be_hidden()
        expect(summary).to_be_focused()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_billing_staff_see_the_sync_item_disabled_with_the_reason(
    browser, live_server, billing_user, artifacts, viewport
):
    context = _context(browser, viewport)
    page = context.new_page()
    try:
        _log_in(page, live_server, billing_user.username)
        page.locator("#gears summary").click()
        item = page.locator("#sync-halopsa-link")
        expect(item).to_have_attribute("aria-disabled", "true")
        expect(page.locator("#sync-not-allowed")).to_contain_text("Sync operators")
        _assert_fits(page, "gears open")
        page.screenshot(path=str(artifacts / f"screen-gears-billing-{viewport}.png"), full_page=True)
    finally:
        context.close()


def test_a_run_count_opens_its_filtered_list(browser, live_server, admin_user, artifacts):
    run = _seed()["run"]
    context = _context(browser, "desktop")
    page = context.new_page()
    try:
        _log_in(page, live_server, admin_user.username)
        page.goto(f"{live_server.url}{run.get_absolute_url()}")
        page.locator('[data-count-link="deactivated"]').click()
        expect(page).to_have_url(re.compile(r"what=deactivated"))
        rows = page.locator("#change-table tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Blue Sky Telecom")
        expect(page.locator("#id_what")).to_have_value("deactivated")
        page.screenshot(path=str(artifacts / "screen-run-count-filtered-desktop.png"), full_page=True)

        page.goto(f"{live_server.url}{run.get_absolute_url()}")
        page.locator('[data-count-link="not_syncing"]').click()
        expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
        table = page.locator("#customer-table")
        expect(table.get_by_role("link", name="Coral Reef IT")).to_be_visible()
        expect(table).not_to_contain_text("Acme Widgets")
        # The failed client is named with a link to HaloPSA; the not-syncing customer is named on the run page.
        page.goto(f"{live_server.url}{run.get_absolute_url()}")
        expect(page.locator("#failures")).to_contain_text("Broken Name Pty Ltd (9001)")
        expect(page.locator("#not-syncing-list").get_by_role("link", name="Coral Reef IT")).to_be_visible()
    finally:
        context.close()


def _csv_rows(download) -> list[dict]:
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(io.StringIO(handle.read())))


def test_the_readiness_page_exports_the_csv_it_shows(browser, live_server, billing_user, artifacts):
    _seed()
    context = _context(browser, "desktop")
    page = context.new_page()
    try:
        _log_in(page, live_server, billing_user.username)
        page.locator("#readiness-counts").get_by_role("link", name=re.compile("won't export")).click()
        expect(page.get_by_role("heading", name="Invoice export readiness")).to_be_visible()
        page.get_by_label("Why").select_option("no_halo_id")
        page.get_by_role("button", name="Apply").click()
        on_screen = page.locator("#readiness-table tbody tr td:first-child").all_inner_texts()
        assert "Harbour Freight" in on_screen and "Coral Reef IT" not in on_screen
        with page.expect_download() as download_info:
            page.locator("#export-readiness").click()
        rows = _csv_rows(download_info.value)
        assert [row["Customer"] for row in rows][: len(on_screen)] == on_screen
        unlinked = Customer.objects.filter(is_active=True, halo_link__isnull=True).count()
        assert len(rows) == unlinked > len(on_screen)  # every page, not only the one shown
        assert {row["Why not"] for row in rows} == {"No HaloPSA id"}
        page.screenshot(path=str(artifacts / "screen-readiness-filtered-desktop.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_user_without_a_group_gets_a_way_out_of_the_refusal(browser, live_server, artifacts, viewport):
    UserFactory(username="newcomer")
    context = _context(browser, viewport)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill("newcomer")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="You don't have permission to do that")).to_be_visible()
        _assert_fits(page, "403")
        page.screenshot(path=str(artifacts / f"screen-403-no-group-{viewport}.png"), full_page=True)
        page.get_by_role("button", name="Sign out").last.click()
        expect(page).to_have_url(re.compile(r"/login/"))
    finally:
        context.close()
