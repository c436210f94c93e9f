"""Reads don't write: a GET of any portal screen (staff screens and the admin) issues no INSERT, UPDATE or DELETE."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from django.utils import timezone

from syncapp import urls as portal_urls
from syncapp.choices import ChangeAction, SyncStatus
from syncapp.models import SyncRun
from tests.factories import (
    CustomerFactory,
    FieldChangeFactory,
    HaloClientEntryFactory,
    HaloLinkFactory,
    SiteFactory,
    SyncRunFactory,
)

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@pytest.fixture
def portal_data(settings) -> dict[str, int | list[int]]:
    """A little of everything the screens show: linked and unlinked customers with sites and history, a duplicate,
    finished runs and an open run whose heartbeat is stale (which a read must not close). No schedule row yet."""
    from syncapp.models import DuplicateCandidate

    linked = HaloLinkFactory(last_seen_at=timezone.now(), last_synced_at=timezone.now()).customer
    site = SiteFactory(customer=linked, halo_id=9001)
    unlinked = CustomerFactory(name="Hand Typed Widgets")
    typed_site = SiteFactory(customer=unlinked, halo_id=None)
    finished = SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=timezone.now(), created_count=1)
    FieldChangeFactory(customer=linked, sync_run=finished, action=ChangeAction.CREATED, field="")
    FieldChangeFactory(customer=linked, site=site, sync_run=finished, field="city")
    stale = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS + 60)
    open_run = SyncRunFactory(status=SyncStatus.RUNNING, heartbeat_at=stale, started_at=stale)
    HaloClientEntryFactory(name="Hand Typed Widgets Pty Ltd")
    duplicate = DuplicateCandidate.objects.create(customer=unlinked, halo_id=4242, halo_name="Hand Typed Widgets")
    return {
        "customer-detail": linked.pk,
        "customer-edit": linked.pk,
        "match-customer": unlinked.pk,
        "unlink-customer": linked.pk,
        "site-create": unlinked.pk,
        "site-edit": [unlinked.pk, typed_site.pk],
        "merge-customer": unlinked.pk,
        "customer-sync": linked.pk,
        "customer-sync-state": linked.pk,
        "duplicate-different": duplicate.pk,
        "run-detail": open_run.pk,
        "run-progress": open_run.pk,
        "run-cancel": open_run.pk,
        "run-changes-csv": finished.pk,
        "customer-history-csv": linked.pk,
        "finished-run": finished.pk,
    }


def _portal_urls(ids: dict[str, int | list[int]]) -> list[str]:
    """Every URL pattern of the portal, with a real object for those that take one; and every admin screen."""
    urls = [reverse("login")]
    for pattern in portal_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        name = f"syncapp:{pattern.name}"
        if "<int:" not in str(pattern.pattern):
            urls.append(reverse(name))
            continue
        args = ids[pattern.name]  # a pattern with a new object in it needs one here: the test fails until given
        urls.append(reverse(name, args=args if isinstance(args, list) else [args]))
    urls.append(reverse("syncapp:run-detail", args=[ids["finished-run"]]))
    urls.append(reverse("admin:index"))
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        first = model._default_manager.first()
        if first is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
    return urls


def test_no_get_of_any_screen_writes(admin_client_, portal_data, settings) -> None:
    settings.HALO_WEBHOOK_TOKEN = "configured-for-this-test"  # the webhook endpoint is a 404 until configured
    urls = _portal_urls(portal_data)
    assert len(urls) > 20
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client_.get(url)
        assert response.status_code in (200, 302, 405), (url, response.status_code)
        writes = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
        assert writes == [], f"GET {url} wrote: {writes}"
    open_run = SyncRun.objects.get(pk=portal_data["run-detail"])
    assert open_run.status == SyncStatus.RUNNING  # shown as not responding, not closed by a read
