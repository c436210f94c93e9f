"""A run's page follows the run live: by polling with JavaScript, and by refreshing itself without it."""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from syncapp.choices import SyncStatus
from syncapp.models import SyncRun
from tests.factories import SyncRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _finish(run: SyncRun) -> None:
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncStatus.SUCCEEDED,
        stage="done",
        progress_done=100,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        created_count=7,
    )


def test_progress_bar_and_counts_follow_the_run_then_the_summary_appears(
    page: Page, live_server, log_in, billing_user, artifacts
) -> None:
    run = SyncRunFactory(
        status=SyncStatus.RUNNING, stage="Syncing HaloPSA clients", progress_total=100, heartbeat_at=timezone.now()
    )
    log_in(page, billing_user.username)
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    expect(page.locator("#run-progress")).to_have_attribute("value", "0")

    SyncRun.objects.filter(pk=run.pk).update(progress_done=40, created_count=3, heartbeat_at=timezone.now())
    expect(page.locator("#run-progress")).to_have_attribute("value", "40")
    expect(page.locator("#run-counter")).to_have_text("40 of 100")
    expect(page.locator('#progress-panel [data-count="created"]')).to_have_text("3")
    page.screenshot(path=str(artifacts / "browser-run-progress.png"), full_page=True)

    _finish(run)
    expect(page.locator("#summary")).to_be_visible()
    expect(page.locator("#run-status")).to_have_text("Succeeded")
    expect(page.locator('#summary [data-count="created"]')).to_have_text("7")


def test_without_javascript_the_page_refreshes_itself_until_the_run_is_done(
    browser, live_server, billing_user, artifacts
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1360, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(billing_user.username)
        page.get_by_label("Password").fill("correct-horse-battery")
        page.get_by_role("button", name="Sign in").click()
        run = SyncRunFactory(status=SyncStatus.QUEUED, heartbeat_at=timezone.now())
        page.goto(f"{live_server.url}/runs/{run.pk}/")
        expect(page.locator("#run-stage")).to_have_text("Waiting for a worker to pick it up")
        _finish(run)
        expect(page.locator("#summary")).to_be_visible(timeout=15_000)
    finally:
        context.close()
