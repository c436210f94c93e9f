"""A run held by HaloPSA in a real browser: the wait reads well at 1366 and 390 px, and an operator cancels it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from syncapp.choices import SyncStatus
from syncapp.models import SyncRun
from tests.factories import SyncRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page: Page, selector: str) -> bool:
    """Every element matching `selector` ends within the window's width (and at least one matches)."""
    rights = page.evaluate(
        "selector => Array.from(document.querySelectorAll(selector), e => e.getBoundingClientRect().right)", selector
    )
    width = page.evaluate("window.innerWidth")
    return bool(rights) and all(right <= width for right in rights)


@pytest.mark.parametrize("width", [1366, 390])
def test_a_waiting_run_shows_its_wait_and_is_cancelled_from_its_page(
    page: Page, live_server, log_in, operator_user, artifacts, width: int
) -> None:
    now = timezone.now()
    run = SyncRunFactory(
        status=SyncStatus.RUNNING,
        started_at=now - timedelta(minutes=4),
        heartbeat_at=now,
        stage="Syncing HaloPSA clients",
        progress_done=100,
        progress_total=250,
        wait_reason="Waiting for HaloPSA's rate limit: {left}",
        wait_until=now + timedelta(minutes=10),
        waited_seconds=190.0,
        rate_limited_count=3,
        retry_count=3,
    )
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, operator_user.username)
    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.locator("#run-wait-message")).to_contain_text("Waiting for HaloPSA's rate limit: ")
    expect(page.locator("#run-waited")).to_have_text("3 min 10 s")
    # The wait block, the totals and the cancel link fit the screen (they wrap).
    assert fits(page, "#run-wait, #run-wait-totals, #run-cancel")
    page.screenshot(path=str(artifacts / f"run-waiting-{width}.png"), full_page=True)

    page.get_by_role("link", name="Cancel this run…").click()
    expect(page.get_by_role("heading", name=f"Cancel HaloPSA sync run #{run.pk}?")).to_be_visible()
    assert fits(page, ".confirm-card, .confirm-card li, #cancel-button")
    page.get_by_role("button", name="Cancel the run").click()
    expect(page.locator("#run-cancel-requested")).to_contain_text("Cancel requested by operator")
    stored = SyncRun.objects.get(pk=run.pk)
    assert stored.cancelled_by == operator_user and stored.status == SyncStatus.RUNNING
