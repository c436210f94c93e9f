"""Simulator → webhook → one-client sync, over real HTTP: bursts, batches, deletes, unticks, a concurrent full sync."""

import logging

import pytest

from syncapp.choices import NotSyncingReason, SyncKind, SyncStatus, SyncTrigger, WebhookEventStatus
from syncapp.halo import HaloClient, halo_settings_from_django
from syncapp.models import Customer, FieldChange, HaloLink, SyncRun, WebhookEvent
from syncapp.services.client_sync import client_sync_execute
from syncapp.services.runs import sync_run_execute, sync_run_request
from tests.webhooks.conftest import WEBHOOK_TOKEN, deliver

pytestmark = pytest.mark.django_db(transaction=True)

ONE_CLIENT_REQUESTS = {"POST /auth/token": 1, "GET /api/Client/{id}": 1, "GET /api/Site": 1}


def test_a_burst_of_twenty_renames_costs_one_read_of_three_requests_and_the_last_name_wins(
    sim_sends_webhooks, run_sync, add_client, queued_tasks
) -> None:
    sim = sim_sends_webhooks
    client = add_client("Burst Co")
    deliver(sim)
    run_sync()
    queued_tasks.run_all()  # the creation events queued a read: done, as a worker would
    sim.reset_stats()

    for n in range(20):
        sim.edit(lambda t, n=n: t.update_client(client["id"], name=f"Burst Co {n}"))
    deliver(sim)

    assert sim.webhooks.stats.events >= 21  # the creation above and the 20 renames, one body each
    assert len(queued_tasks.named("sync_halo_client")) == 1
    assert queued_tasks.run_all() == ["applied"]
    assert sim.stats() == ONE_CLIENT_REQUESTS
    assert Customer.objects.get().name == "Burst Co 19"
    run = SyncRun.objects.filter(kind=SyncKind.WEBHOOK).latest("id")
    assert (run.trigger, run.updated_count, run.requests_made) == (SyncTrigger.WEBHOOK, 1, 3)
    renames = WebhookEvent.objects.filter(status=WebhookEventStatus.APPLIED, sync_run=run)
    assert renames.count() == 20


def test_batched_webhooks_arrive_as_arrays_and_each_client_is_read_once(
    sim_sends_webhooks, run_sync, add_client, queued_tasks
) -> None:
    sim = sim_sends_webhooks
    first, second = add_client("First Co"), add_client("Second Co")
    deliver(sim)
    run_sync()
    queued_tasks.run_all()  # the creation events queued a read: done, as a worker would
    sim.config.webhook_batch_seconds = 0.5
    bodies_before = sim.webhooks.stats.bodies

    def edit(tenant):
        for n in range(3):
            tenant.update_client(first["id"], name=f"First Co {n}")
        site = tenant.sites_of(second["id"])[0]
        tenant.update_site(site["id"], line3="Newcastle")

    sim.edit(edit)
    deliver(sim)

    assert sim.webhooks.stats.bodies == bodies_before + 1  # one array of four events
    assert sorted(kwargs["halo_id"] for kwargs in queued_tasks.named("sync_halo_client")) == sorted(
        [first["id"], second["id"]]
    )
    queued_tasks.run_all()
    assert Customer.objects.get(halo_link__halo_id=first["id"]).name == "First Co 2"
    assert Customer.objects.get(halo_link__halo_id=second["id"]).city == "Newcastle"


def test_a_delete_event_marks_the_client_removed_and_deletes_nothing(
    sim_sends_webhooks, run_sync, add_client, queued_tasks
) -> None:
    sim = sim_sends_webhooks
    client = add_client("Doomed Co")
    deliver(sim)
    run_sync()
    queued_tasks.run_all()  # the creation events queued a read: done, as a worker would

    sim.edit(lambda t: t.delete_client(client["id"]))
    deliver(sim)
    queued_tasks.run_all()

    link = HaloLink.objects.get()
    assert (link.not_syncing_reason, link.in_scope) == (NotSyncingReason.REMOVED, False)
    customer = Customer.objects.get()
    assert (customer.name, customer.is_active, customer.sites.count()) == ("Doomed Co", True, 1)
    assert WebhookEvent.objects.filter(event="Client Deleted", status=WebhookEventStatus.APPLIED).count() == 1


def test_an_event_for_an_unticked_client_leaves_its_customer_as_it_is(
    sim_sends_webhooks, run_sync, add_client, queued_tasks
) -> None:
    sim = sim_sends_webhooks
    client = add_client("Leaving Co")
    never = add_client("Never Ticked Co", ticked=False)
    deliver(sim)
    run_sync()
    queued_tasks.run_all()  # the creation events queued a read: done, as a worker would

    sim.edit(lambda t: t.update_client(client["id"], name="Renamed After Unticking", ticked=False))
    sim.edit(lambda t: t.update_client(never["id"], name="Still Not Ticked"))
    deliver(sim)
    queued_tasks.run_all()

    link = HaloLink.objects.get()
    assert link.not_syncing_reason == NotSyncingReason.UNTICKED
    assert list(Customer.objects.values_list("name", flat=True)) == ["Leaving Co"]


def test_an_event_arriving_during_a_full_sync_is_not_lost(
    sim_sends_webhooks, run_sync, add_client, queued_tasks
) -> None:
    """The full sync reads the page, the webhook's sync applies a rename, then the full sync writes its stale page:
    the re-check after the full sync closes reads the client again, so the final data equals HaloPSA's."""
    sim = sim_sends_webhooks
    client = add_client("Race Co")
    deliver(sim)
    run_sync()
    queued_tasks.run_all()  # the creation events queued a read: done, as a worker would

    class PageReadThenRenamed(HaloClient):
        def iter_client_pages(self, **kwargs):
            for page in super().iter_client_pages(**kwargs):
                # The page is in hand (with the old name); now the rename happens and its webhook is applied.
                sim.edit(lambda t: t.update_client(client["id"], name="Race Co Renamed"))
                deliver(sim)
                assert queued_tasks.run_all(only="sync_halo_client") == ["applied"]
                assert Customer.objects.get().name == "Race Co Renamed"
                yield page

    full = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    full = sync_run_execute(run_id=full.pk, halo=PageReadThenRenamed(halo_settings_from_django()))
    assert full.status == SyncStatus.SUCCEEDED
    assert Customer.objects.get().name == "Race Co"  # the stale page was written over the rename...

    assert queued_tasks.run_all() == ["queued", "applied"]  # ...and the re-check puts HaloPSA's value back
    assert Customer.objects.get().name == "Race Co Renamed"
    # Re-checking again changes nothing: the link is as the last one-client sync left it.
    names = list(FieldChange.objects.filter(field="name").order_by("id").values_list("new_value", flat=True))
    assert names == ["Race Co Renamed", "Race Co", "Race Co Renamed"]


def test_a_change_applied_before_the_full_sync_reached_its_page_needs_no_second_read(
    sim_sends_webhooks, run_sync, add_client, queued_tasks
) -> None:
    sim = sim_sends_webhooks
    client = add_client("Calm Co")
    deliver(sim)
    run_sync()
    queued_tasks.run_all()  # the creation events queued a read: done, as a worker would
    full = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)  # open, its pages not yet read
    sim.edit(lambda t: t.update_client(client["id"], name="Calm Co Renamed"))
    deliver(sim)
    assert queued_tasks.run_all(only="sync_halo_client") == ["applied"]
    sim.reset_stats()

    sync_run_execute(run_id=full.pk)  # reads the page after the rename: writes the same data
    assert queued_tasks.run_all() == ["unchanged"]
    assert Customer.objects.get().name == "Calm Co Renamed"
    assert "GET /api/Client/{id}" not in sim.stats()


def test_the_webhook_secret_never_appears_in_logs_events_or_pages(
    sim_sends_webhooks, run_sync, add_client, queued_tasks, caplog, client, admin_user
) -> None:
    sim = sim_sends_webhooks
    with caplog.at_level(logging.DEBUG):
        created = add_client("Secretive Co")
        deliver(sim)
        queued_tasks.run_all()
        sim.edit(lambda t: t.update_client(created["id"], name="Secretive Co 2"))
        deliver(sim)
        queued_tasks.run_all()
        client.force_login(admin_user)
        page = client.get("/connection/").content.decode()
        customer_page = client.get(Customer.objects.get().get_absolute_url()).content.decode()
    assert Customer.objects.get().name == "Secretive Co 2"
    assert WEBHOOK_TOKEN not in caplog.text
    assert WEBHOOK_TOKEN not in page and WEBHOOK_TOKEN not in customer_page
    assert "/halo/webhook/" in page
    for row in WebhookEvent.objects.values():
        assert WEBHOOK_TOKEN not in repr(row)
    assert WEBHOOK_TOKEN not in repr(sim.webhooks.stats.as_dict()) and WEBHOOK_TOKEN not in repr(sim.config.as_dict())


def test_a_one_client_sync_needs_the_single_kind_runs_not_to_hold_the_full_sync_slot(add_client, halo_sim) -> None:
    client = add_client("Any Co")
    full = sync_run_request(actor=None, trigger=SyncTrigger.MANUAL)
    result = client_sync_execute(halo_id=client["id"], kind=SyncKind.SINGLE_CUSTOMER, trigger=SyncTrigger.MANUAL)
    assert result.outcome == "deferred"  # an import waits for the open full sync
    assert SyncRun.objects.filter(status__in=SyncStatus.open_values()).get() == full
