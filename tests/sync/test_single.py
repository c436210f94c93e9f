"""One-client syncs against the simulator over real HTTP: the full sync's rules, three requests, runs of their own."""

import pytest
from django.core.management import CommandError, call_command

from syncapp.choices import (
    ChangeAction,
    NotSyncingReason,
    SyncKind,
    SyncStatus,
    SyncTrigger,
)
from syncapp.models import Customer, DuplicateCandidate, FieldChange, HaloClientSync, HaloLink, Site, SyncRun
from syncapp.services.client_sync import client_sync_execute
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ONE_CLIENT_REQUESTS = {"POST /auth/token": 1, "GET /api/Client/{id}": 1, "GET /api/Site": 1}


def sync_one(halo_id: int, kind: SyncKind = SyncKind.SINGLE_CUSTOMER):
    return client_sync_execute(halo_id=halo_id, kind=kind, trigger=SyncTrigger.COMMAND)


def test_a_rename_is_applied_with_one_history_row_on_a_run_of_its_own_in_three_requests(
    run_sync, add_client, halo_sim
) -> None:
    client = add_client("Acme")
    full = run_sync()
    halo_sim.reset_stats()
    halo_sim.edit(lambda t: t.update_client(client["id"], name="Acme Renamed"))

    result = sync_one(client["id"])

    assert halo_sim.stats() == ONE_CLIENT_REQUESTS
    run = result.run
    assert (result.outcome, run.kind, run.status, run.trigger) == (
        "applied",
        SyncKind.SINGLE_CUSTOMER,
        SyncStatus.SUCCEEDED,
        SyncTrigger.COMMAND,
    )
    assert (run.updated_count, run.requests_made, run.is_open) == (1, 3, False)
    assert Customer.objects.get().name == "Acme Renamed"
    change = FieldChange.objects.exclude(sync_run=full).get()
    assert (change.field, change.old_value, change.new_value, change.sync_run_id) == (
        "name",
        "Acme",
        "Acme Renamed",
        run.pk,
    )


def test_after_one_client_syncs_of_every_change_a_full_sync_finds_nothing_left_to_do(
    run_sync, add_client, halo_sim
) -> None:
    """The invariant behind "one code path": a one-client sync leaves exactly what the full sync would."""
    renamed = add_client("Renamed Co", accountsemailaddress="a@renamed.example")
    unticked = add_client("Unticked Co")
    deactivated = add_client("Deactivated Co")
    moved_site = add_client("Site Edits Co")
    run_sync()
    site_id = halo_sim.edit(lambda t: t.sites_of(moved_site["id"])[0]["id"])

    def edit(tenant):
        tenant.update_client(renamed["id"], name="Renamed Co 2", accountsemailaddress="b@renamed.example; c@x.example")
        tenant.set_ticked(unticked["id"], False)
        tenant.update_client(deactivated["id"], inactive=True)
        tenant.update_site(site_id, name="New HQ name", line3="Parramatta")
        tenant.add_site(moved_site["id"], "Second site", line1="2 Side St")
        return tenant.add_client("Brand New Ltd", ticked=True)

    brand_new = halo_sim.edit(edit)
    for client in (renamed, unticked, deactivated, moved_site, brand_new):
        assert sync_one(client["id"]).outcome == "applied"

    history_before = FieldChange.objects.count()
    full = run_sync()
    assert full.status == SyncStatus.SUCCEEDED
    assert (full.created_count, full.updated_count, full.deactivated_count, full.sites_created_count) == (0, 0, 0, 0)
    assert FieldChange.objects.count() == history_before
    assert HaloLink.objects.get(halo_id=unticked["id"]).not_syncing_reason == NotSyncingReason.UNTICKED
    assert not Customer.objects.get(halo_link__halo_id=deactivated["id"]).is_active
    assert Customer.objects.filter(halo_link__halo_id=brand_new["id"]).exists()
    assert Site.objects.get(halo_id=site_id).city == "Parramatta"


def test_an_unticked_client_keeps_its_customer_and_is_shown_not_syncing(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.update_client(client["id"], name="Changed While Unticked", ticked=False))

    sync_one(client["id"])

    link = HaloLink.objects.get()
    assert (link.not_syncing_reason, link.in_scope) == (NotSyncingReason.UNTICKED, False)
    assert Customer.objects.get().name == "Acme"


def test_an_inactive_client_makes_its_customer_inactive_with_a_history_row(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.update_client(client["id"], inactive=True))

    run = sync_one(client["id"]).run

    assert not Customer.objects.get().is_active
    assert run.deactivated_count == 1
    assert list(FieldChange.objects.filter(sync_run=run).values_list("field", "old_value", "new_value")) == [
        ("is_active", "Active", "Inactive")
    ]


def test_a_client_gone_from_halopsa_is_marked_missing_in_two_requests_and_nothing_is_deleted(
    run_sync, add_client, halo_sim
) -> None:
    client = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.delete_client(client["id"]))
    halo_sim.reset_stats()

    run = sync_one(client["id"]).run

    assert halo_sim.stats() == {"POST /auth/token": 1, "GET /api/Client/{id}": 1}
    assert HaloLink.objects.get().not_syncing_reason == NotSyncingReason.MISSING
    assert (Customer.objects.count(), Site.objects.count()) == (1, 1)
    assert run.not_syncing_count == 1
    assert "no client" in run.error_message


def test_after_a_delete_event_a_gone_client_is_removed_and_a_full_sync_keeps_it_so(
    run_sync, add_client, halo_sim
) -> None:
    client = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.delete_client(client["id"]))
    HaloClientSync.objects.create(halo_id=client["id"], delete_seen=True)

    sync_one(client["id"], kind=SyncKind.WEBHOOK)
    assert HaloLink.objects.get().not_syncing_reason == NotSyncingReason.REMOVED
    assert not HaloClientSync.objects.get().delete_seen

    run_sync()
    assert HaloLink.objects.get().not_syncing_reason == NotSyncingReason.REMOVED
    assert Customer.objects.count() == 1


def test_a_ticked_client_not_yet_linked_is_imported_like_the_full_sync_does(add_client, halo_sim) -> None:
    client = add_client("Newco", accountsemailaddress="billing@newco.example")
    halo_sim.edit(lambda t: t.add_site(client["id"], "Newco Depot", line1="9 Dock Rd"))

    run = sync_one(client["id"]).run

    customer = Customer.objects.get()
    assert (customer.name, customer.invoice_email_to, customer.city) == ("Newco", "billing@newco.example", "Sydney")
    assert customer.halo_link.halo_id == client["id"]
    assert (run.created_count, run.sites_created_count) == (1, 2)
    assert sorted(FieldChange.objects.values_list("action", flat=True)) == [ChangeAction.CREATED] * 3


def test_a_ticked_client_with_an_unlinked_namesake_is_held_back_as_a_possible_duplicate(add_client) -> None:
    local = CustomerFactory(name="ACME pty. ltd")
    client = add_client("Acme Pty Ltd")

    run = sync_one(client["id"]).run

    assert run.duplicate_count == 1
    assert list(Customer.objects.values_list("pk", flat=True)) == [local.pk]
    assert DuplicateCandidate.objects.get().halo_id == client["id"]


def test_an_unticked_client_not_linked_is_not_imported(add_client) -> None:
    client = add_client("Not For Us", ticked=False)
    run = sync_one(client["id"]).run
    assert (run.created_count, Customer.objects.count()) == (0, 0)


def test_a_read_older_than_one_already_applied_is_not_written(run_sync, add_client, halo_sim) -> None:
    client = add_client("Acme")
    run_sync()
    halo_sim.edit(lambda t: t.update_client(client["id"], name="Newest"))
    sync_one(client["id"])
    # A slow task that took read number 1 while the later read (2) was already applied.
    HaloClientSync.objects.filter(halo_id=client["id"]).update(applied_seq=99)
    halo_sim.edit(lambda t: t.update_client(client["id"], name="Should Not Win"))

    result = sync_one(client["id"])

    assert (result.outcome, result.run) == ("superseded", None)
    assert Customer.objects.get().name == "Newest"


def test_while_a_full_sync_is_open_an_import_waits_and_an_update_is_applied(
    run_sync, add_client, halo_sim, django_capture_on_commit_callbacks
) -> None:
    linked = add_client("Linked Co")
    run_sync()
    new = add_client("Arrived During Full Sync")
    halo_sim.edit(lambda t: t.update_client(linked["id"], name="Linked Co Renamed"))
    full = SyncRun.objects.create(trigger=SyncTrigger.MANUAL, status=SyncStatus.RUNNING)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deferred = sync_one(new["id"])
        applied = sync_one(linked["id"])

    assert deferred.outcome == "deferred" and f"#{full.pk}" in deferred.message
    assert not Customer.objects.filter(halo_link__halo_id=new["id"]).exists()
    assert applied.outcome == "applied"
    assert Customer.objects.get(halo_link__halo_id=linked["id"]).name == "Linked Co Renamed"
    assert len(callbacks) == 2  # both re-checked once the full sync closes


def test_the_command_syncs_one_client_and_refuses_an_unknown_id(run_sync, add_client, halo_sim, capsys) -> None:
    client = add_client("Acme")
    call_command("sync_halo", client=client["id"])
    assert Customer.objects.get().name == "Acme"
    assert SyncRun.objects.get().kind == SyncKind.SINGLE_CUSTOMER
    assert "created: 1;" in capsys.readouterr().out

    with pytest.raises(CommandError, match="HaloPSA has no client 424242"):
        call_command("sync_halo", client=424242)
    with pytest.raises(CommandError, match="not a HaloPSA client id"):
        call_command("sync_halo", client=0)
    assert Customer.objects.count() == 1


def test_a_webhook_read_waits_until_the_events_go_quiet_but_not_for_ever(settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from syncapp.services.client_sync import client_sync_wait_seconds

    settings.HALO_WEBHOOK_COALESCE_SECONDS, settings.HALO_WEBHOOK_COALESCE_MAX_SECONDS = 0.5, 10.0
    now = timezone.now()
    assert client_sync_wait_seconds(halo_id=5, now=now) == 0.0  # nothing queued for it
    HaloClientSync.objects.create(halo_id=6, queued_at=now, last_event_at=now)
    assert client_sync_wait_seconds(halo_id=6, now=now + timedelta(seconds=0.1)) == 0.0  # no event joined it
    state = HaloClientSync.objects.create(halo_id=5, queued_at=now - timedelta(seconds=3), last_event_at=now)
    assert client_sync_wait_seconds(halo_id=5, now=now + timedelta(seconds=0.2)) == pytest.approx(0.3)
    assert client_sync_wait_seconds(halo_id=5, now=now + timedelta(seconds=0.5)) == 0.0  # quiet long enough
    state.queued_at = now - timedelta(seconds=10)  # busy for 10 s: read now, however busy
    state.save()
    assert client_sync_wait_seconds(halo_id=5, now=now + timedelta(seconds=0.1)) == 0.0
