"""Run pages you can act on, the schedule's times, the Customers page's last-sync line and a way out of a 403."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.choices import NotSyncingReason, SyncStatus, SyncTrigger
from syncapp.models import SyncSchedule
from syncapp.run_counts import RUN_COUNTS
from tests.factories import CustomerFactory, HaloLinkFactory, SyncRunFactory, UserFactory


def _finished_run(**counts):
    now = timezone.now()
    return SyncRunFactory(
        status=SyncStatus.PARTIAL if counts.get("failed_count") else SyncStatus.SUCCEEDED,
        started_at=now - timedelta(minutes=2),
        finished_at=now,
        **counts,
    )


def _count_links(html: str) -> dict[str, str]:
    """The run page's count links by count key."""
    found = re.findall(r'<a href="([^"]+)" data-count-link="(\w+)"', html)
    return {key: href.replace("&amp;", "&") for href, key in found}


def test_every_nonzero_count_with_a_list_links_to_it(billing_client) -> None:
    run = _finished_run(
        created_count=1,
        updated_count=3,
        deactivated_count=1,
        reactivated_count=1,
        unchanged_count=9,
        not_syncing_count=1,
        duplicate_count=1,
        failed_count=1,
        sites_created_count=2,
        sites_updated_count=1,
        sites_deactivated_count=1,
        failures=[{"halo_id": 5, "name": "Bad", "message": "blank"}],
    )
    links = _count_links(billing_client.get(run.get_absolute_url()).content.decode())
    base = run.get_absolute_url()
    assert links == {
        "created": f"{base}?record=customer&what=created#changes",
        "updated": f"{base}?what=changed#changes",
        "deactivated": f"{base}?record=customer&what=deactivated#changes",
        "reactivated": f"{base}?record=customer&what=reactivated#changes",
        "not_syncing": f"{reverse('syncapp:customer-list')}?linked=yes&syncing=no",
        "duplicates": f"{reverse('syncapp:matching')}#duplicates",
        "failed": f"{base}#failures",
        "sites_created": f"{base}?record=site&what=created#changes",
        "sites_updated": f"{base}?record=site&what=changed#changes",
        "sites_deactivated": f"{base}?record=site&what=deactivated#changes",
    }  # "unchanged" has no rows behind it, so it is no link


def test_zero_counts_are_not_links_and_the_overlap_is_said(billing_client) -> None:
    run = _finished_run(unchanged_count=4)
    html = billing_client.get(run.get_absolute_url()).content.decode()
    assert _count_links(html) == {}
    assert "Deactivated and reactivated customers are also counted in Updated" in html
    assert html.count("(in Updated)") == 2


def test_the_counts_list_covers_every_counter_of_a_run() -> None:
    from syncapp.models import SyncRun

    traffic = {"rate_limited_count", "retry_count"}  # HaloPSA traffic, not what the run did to records
    counters = {f.name for f in SyncRun._meta.fields if f.name.endswith("_count") and f.name not in traffic}
    assert {count.field for count in RUN_COUNTS} == counters


def test_not_syncing_customers_are_named_and_the_count_filter_finds_them(billing_client) -> None:
    unticked = CustomerFactory(name="Unticked Co")
    HaloLinkFactory(customer=unticked, not_syncing_reason=NotSyncingReason.UNTICKED, in_scope=False)
    HaloLinkFactory(customer=CustomerFactory(name="Syncing Co"))
    CustomerFactory(name="Typed Co")
    run = _finished_run(not_syncing_count=1)
    html = billing_client.get(run.get_absolute_url()).content.decode()
    named = html.split('id="not-syncing-list"')[1].split("</ul>")[0]
    assert unticked.get_absolute_url() in named and "Datagate box unticked in HaloPSA" in named
    assert "Syncing Co" not in named and "Typed Co" not in named
    listed = billing_client.get(reverse("syncapp:customer-list"), {"linked": "yes", "syncing": "no"})
    assert [row.record.name for row in listed.context["table"].paginated_rows] == ["Unticked Co"]


def test_a_failed_client_links_to_its_customer_when_there_is_one(billing_client, settings) -> None:
    settings.HALO_RESOURCE_URL = "https://tenant.halopsa.example"
    linked = CustomerFactory(name="Linked But Broken")
    HaloLinkFactory(customer=linked, halo_id=4242)
    run = _finished_run(
        failed_count=2,
        failures=[
            {"halo_id": 4242, "name": "Linked But Broken", "message": "name too long"},
            {"halo_id": 4343, "name": "", "message": "blank name"},
        ],
    )
    html = billing_client.get(run.get_absolute_url()).content.decode()
    failures = html.split('id="failures"')[1].split("</table>")[0]
    assert f'href="{linked.get_absolute_url()}"' in failures
    assert "https://tenant.halopsa.example/customers?clientid=4343" in failures
    assert "(no name) (4343)" in failures and "Not imported" in failures


def test_a_running_run_shows_its_elapsed_time(billing_client) -> None:
    started = timezone.now() - timedelta(minutes=2, seconds=5)
    run = SyncRunFactory(status=SyncStatus.RUNNING, started_at=started, heartbeat_at=timezone.now())
    html = billing_client.get(run.get_absolute_url()).content.decode()
    assert 'id="run-elapsed"' in html and "2 min 0" in html
    payload = billing_client.get(reverse("syncapp:run-progress", args=[run.pk])).json()
    assert 125 <= payload["elapsed_seconds"] < 185


def test_the_run_list_labels_every_count(billing_client) -> None:
    _finished_run(not_syncing_count=2, duplicate_count=1, failed_count=1)
    html = billing_client.get(reverse("syncapp:run-list")).content.decode()
    for label in ("Created", "Updated", "Unchanged", "Not syncing", "Possible duplicates", "Failed", "Sites created"):
        assert f"{label} <b>" in html
    assert '<span class="c-not_syncing">Not syncing <b>2</b></span>' in html


# --- the schedule, the last sync and the 403 page ---------------------------------------------------------------


def test_the_connection_page_shows_the_schedules_last_and_next_run(admin_client_, settings) -> None:
    settings.TIME_ZONE = "Australia/Sydney"
    SyncSchedule.objects.create(enabled=True, interval_minutes=60)
    queued = timezone.now() - timedelta(minutes=20)
    run = SyncRunFactory(trigger=SyncTrigger.SCHEDULED, queued_at=queued, finished_at=queued)
    html = admin_client_.get(reverse("syncapp:connection")).content.decode()
    last = html.split('id="schedule-last"')[1].split("</dd>")[0]
    assert f"#{run.pk}" in last and "AEDT" in last
    following = html.split('id="schedule-next"')[1].split("</dd>")[0]
    next_local = timezone.localtime(queued + timedelta(minutes=60), timezone.get_current_timezone())
    assert next_local.strftime("%H:%M") in following
    assert re.search(r"in (39|40)\xa0minutes", following), following  # relative, the exact time on hover


def test_an_off_schedule_has_no_next_run(admin_client_) -> None:
    SyncSchedule.objects.create(enabled=False)
    html = admin_client_.get(reverse("syncapp:connection")).content.decode()
    assert "None: the schedule is off" in html and "Never" in html


def test_customers_page_says_what_the_last_scheduled_sync_did(billing_client) -> None:
    CustomerFactory()
    run = _finished_run(created_count=40)
    run.trigger = SyncTrigger.SCHEDULED
    run.save()
    html = billing_client.get(reverse("syncapp:customer-list")).content.decode()
    line = html.split('id="last-sync"')[1].split("</p>")[0]
    assert f"run #{run.pk}" in line and "a scheduled sync" in line and "imported 40 customers" in line
    assert timezone.localtime(run.finished_at).strftime("%H:%M") in line


@pytest.mark.parametrize("trigger", [SyncTrigger.MANUAL, SyncTrigger.COMMAND])
def test_the_last_sync_line_without_a_person(billing_client, trigger) -> None:
    CustomerFactory()
    SyncRunFactory(trigger=trigger, requested_by=None, finished_at=timezone.now())
    response = billing_client.get(reverse("syncapp:customer-list"))
    assert response.status_code == 200 and 'id="last-sync"' in response.content.decode()


def test_a_user_without_a_group_is_offered_to_sign_out_not_another_403(client, db) -> None:
    client.force_login(UserFactory(username="newcomer"))
    response = client.get(reverse("syncapp:customer-list"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "belongs to no portal group" in html and 'id="forbidden-sign-out"' in html
    assert f'href="{reverse("syncapp:customer-list")}"' not in html  # neither the way out nor the navigation


def test_billing_staff_refused_an_admin_page_go_back_to_customers(billing_client) -> None:
    html = billing_client.get(reverse("syncapp:connection")).content.decode()
    assert f'href="{reverse("syncapp:customer-list")}"' in html and "Back to Customers" in html
    assert reverse("syncapp:connection") not in html.split("<main")[0]  # the nav does not offer it
