"""One-client syncs ("Sync from HaloPSA", webhooks, `sync_halo --client`): queue, coalesce, read, apply, record.

How they coexist with each other and with a full sync (see the README's "Changes in seconds"):
- A one-client run is written whole in one transaction, created already closed, so the one-open-run-per-kind
  constraint never holds it open and any number of them can be requested at once.
- Two of the same client queue behind each other on their HaloClientSync row (locked by an UPDATE first, which is
  SQLite's write lock and PostgreSQL's row lock); a read older than one already applied is dropped, never written.
- While a full sync is open, a change to existing rows is applied at once and checked again when the full sync
  closes (its page may have been read before this change and written after it); a change that would create rows
  (an import, a new site) waits for the full sync to close, so the two can never create the same row twice.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from syncapp.choices import NotSyncingReason, SyncKind, SyncStatus, SyncTrigger, WebhookEventStatus
from syncapp.halo import HaloClient, HaloError, halo_settings_from_django
from syncapp.models import HaloClientSync, HaloLink, SyncRun, WebhookEvent
from syncapp.sync.single import (
    ClientSnapshot,
    apply_client_plan,
    fetch_client_snapshot,
    mark_client_gone,
    plan_client_snapshot,
    plan_inserts_rows,
)

logger = logging.getLogger("syncapp.sync")

RECHECK_EVERY_SECONDS = 5.0  # how often a change applied during a full sync looks whether that sync has closed


@dataclass(frozen=True)
class ClientSyncOutcome:
    """What one task did: "applied" (with its run), "superseded", "deferred" or "failed"."""

    outcome: str
    run: SyncRun | None = None
    message: str = ""


class _Deferred(Exception):
    """Raised inside the write transaction to roll it back: the change waits for the open full sync."""


def full_sync_open() -> SyncRun | None:
    return SyncRun.objects.filter(kind=SyncKind.HALOPSA, status__in=SyncStatus.open_values()).first()


def client_sync_request(
    *,
    halo_id: int,
    kind: SyncKind = SyncKind.SINGLE_CUSTOMER,
    trigger: SyncTrigger = SyncTrigger.MANUAL,
    actor: AbstractBaseUser | None = None,
    delete_seen: bool = False,
    countdown: float = 0.0,
) -> bool:
    """Queue a one-client sync (on commit) unless one is queued and not yet started: then this joins it.

    Returns True when a task was queued. A person's request ("Sync from HaloPSA") always queues its own task.
    """
    now = timezone.now()
    person = actor is not None and actor.is_authenticated
    with transaction.atomic():
        state, _ = HaloClientSync.objects.get_or_create(halo_id=halo_id)
        changes: dict = {}
        if delete_seen:
            changes["delete_seen"] = True
        if kind == SyncKind.WEBHOOK:
            changes["last_event_at"] = now
        if person:
            changes["requested_at"] = now
        stale = now - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
        # A queued mark older than the stale limit belongs to a task that was lost (worker or broker died).
        free = Q(queued_at__isnull=True) | Q(queued_at__lt=stale)
        queued = HaloClientSync.objects.filter(free, pk=state.pk).update(queued_at=now, **changes)
        if not queued and (changes or person):
            HaloClientSync.objects.filter(pk=state.pk).update(**changes)
        if not (queued or person):
            return False
        from syncapp.tasks import sync_halo_client

        kwargs = {
            "halo_id": halo_id,
            "kind": kind.value,
            "trigger": trigger.value,
            "actor_id": actor.pk if person else None,
        }
        transaction.on_commit(lambda: sync_halo_client.apply_async(kwargs=kwargs, countdown=countdown or None))
    return True


def client_sync_wait_seconds(*, halo_id: int, now: datetime | None = None) -> float:
    """How much longer a webhook's read should wait for the client's events to go quiet (0: read now).

    Events keep joining the queued read while they arrive less than HALO_WEBHOOK_COALESCE_SECONDS apart, so a
    burst costs one read; after HALO_WEBHOOK_COALESCE_MAX_SECONDS from the first, it is read however busy it is.
    """
    now = now or timezone.now()
    state = HaloClientSync.objects.filter(halo_id=halo_id).values("queued_at", "last_event_at").first()
    if state is None or state["queued_at"] is None or state["last_event_at"] is None:
        return 0.0
    if state["last_event_at"] <= state["queued_at"]:
        return 0.0  # no event joined after the one that queued this read, which already waited the quiet period
    quiet = settings.HALO_WEBHOOK_COALESCE_SECONDS
    since_last = (now - state["last_event_at"]).total_seconds()
    since_first = (now - state["queued_at"]).total_seconds()
    if since_last >= quiet or since_first >= settings.HALO_WEBHOOK_COALESCE_MAX_SECONDS:
        return 0.0
    return quiet - since_last


def client_sync_execute(
    *,
    halo_id: int,
    kind: SyncKind,
    trigger: SyncTrigger,
    actor_id: int | None = None,
    halo: HaloClient | None = None,
) -> ClientSyncOutcome:
    """Read one client from HaloPSA (at most 3 requests) and apply it with the full sync's rules.

    HaloError propagates (after the failure is recorded) so the caller may retry a transient one.
    """
    seq, delete_seen, claimed_at = _claim(halo_id)
    started = timezone.now()
    try:
        with halo or HaloClient(halo_settings_from_django()) as client:
            snapshot = fetch_client_snapshot(client, halo_id)
            requests_made = client.stats.total_requests
    except HaloError as error:
        _record_failure(halo_id, claimed_at, str(error))
        raise
    try:
        return _apply(snapshot, seq, delete_seen, claimed_at, started, kind, trigger, actor_id, requests_made)
    except _Deferred:
        return _defer(halo_id, kind, trigger, actor_id)
    except IntegrityError:
        # A full sync created the same row between our planning and writing: plan again on what it wrote.
        logger.info("One-client sync of HaloPSA client %s met a concurrent write; planning again", halo_id)
        try:
            return _apply(snapshot, seq, delete_seen, claimed_at, started, kind, trigger, actor_id, requests_made)
        except _Deferred:
            return _defer(halo_id, kind, trigger, actor_id)


def _claim(halo_id: int) -> tuple[int, bool, datetime]:
    """Take the next read number and clear the queued mark: an event from now on queues a fresh read."""
    with transaction.atomic():
        state, _ = HaloClientSync.objects.get_or_create(halo_id=halo_id)
        HaloClientSync.objects.filter(pk=state.pk).update(queued_at=None, fetch_seq=F("fetch_seq") + 1)
        # Taken with the row locked: every event that joined this read committed before, so it was received before.
        now = timezone.now()
        state.refresh_from_db()
    return state.fetch_seq, state.delete_seen, now


def _apply(
    snapshot: ClientSnapshot,
    seq: int,
    delete_seen: bool,
    claimed_at: datetime,
    started: datetime,
    kind: SyncKind,
    trigger: SyncTrigger,
    actor_id: int | None,
    requests_made: int,
) -> ClientSyncOutcome:
    halo_id = snapshot.halo_id
    recheck_after: SyncRun | None = None
    with transaction.atomic():
        now = timezone.now()
        # Writing first takes the lock (SQLite's database lock, PostgreSQL's row lock) before anything is read.
        HaloClientSync.objects.filter(halo_id=halo_id).update(finished_at=now)
        state = HaloClientSync.objects.select_for_update().get(halo_id=halo_id)
        if state.applied_seq > seq:
            # A later read of this client was applied already: this older one must not be written over it.
            return ClientSyncOutcome("superseded")
        full_run = full_sync_open()
        run = SyncRun.objects.create(
            kind=kind,
            trigger=trigger,
            requested_by_id=actor_id,
            status=SyncStatus.SUCCEEDED,
            queued_at=claimed_at,
            started_at=started,
            finished_at=now,
            heartbeat_at=now,
            stage="done",
            progress_total=1,
            progress_done=1,
            requests_made=requests_made,
        )
        if snapshot.client is None:
            reason = NotSyncingReason.REMOVED if delete_seen else NotSyncingReason.MISSING
            run.not_syncing_count = mark_client_gone(halo_id, reason)
            if HaloLink.objects.filter(halo_id=halo_id).exists():
                run.error_message = (
                    f"HaloPSA has no client {halo_id}: its customer is marked not syncing ({reason.label})."
                )
            else:
                run.error_message = f"HaloPSA has no client {halo_id}, and no customer here is linked to it."
                if kind == SyncKind.SINGLE_CUSTOMER:
                    run.status = SyncStatus.FAILED
        else:
            plan, context = plan_client_snapshot(snapshot, run_id=run.pk, now=now)
            if full_run is not None and plan_inserts_rows(plan):
                raise _Deferred
            apply_client_plan(plan, context)
            for counter, value in plan.counts.items():
                setattr(run, counter.field, value)
            run.failures = plan.failures
            if plan.failures:
                run.status = SyncStatus.PARTIAL
        run.save()
        HaloClientSync.objects.filter(pk=state.pk).update(
            applied_seq=seq,
            last_run=run,
            last_error=run.error_message,
            delete_seen=False if snapshot.client is None else state.delete_seen,
        )
        _close_events(halo_id, claimed_at, status=WebhookEventStatus.APPLIED, run=run, error="")
        if full_run is not None:
            recheck_after = full_run
    if recheck_after is not None:
        _queue_recheck(halo_id, recheck_after.pk, kind, trigger)
    return ClientSyncOutcome("applied", run=run)


def _defer(halo_id: int, kind: SyncKind, trigger: SyncTrigger, actor_id: int | None) -> ClientSyncOutcome:
    """Creating rows while a full sync runs could collide with its page: sync again once it has closed."""
    run = full_sync_open()
    if run is None:  # it closed meanwhile: queue a fresh read right away
        client_sync_request(halo_id=halo_id, kind=kind, trigger=trigger)
        return ClientSyncOutcome("deferred", message="The full sync closed meanwhile; read again.")
    _queue_recheck(halo_id, run.pk, kind, trigger, always=True)
    return ClientSyncOutcome("deferred", message=f"Waits for HaloPSA sync run #{run.pk} to finish.")


def _queue_recheck(halo_id: int, run_id: int, kind: SyncKind, trigger: SyncTrigger, *, always: bool = False) -> None:
    from syncapp.tasks import recheck_client_after_full_sync

    kwargs = {
        "halo_id": halo_id,
        "run_id": run_id,
        "kind": kind.value,
        "trigger": trigger.value,
        "expected": None if always else _link_marker(halo_id),
    }
    transaction.on_commit(
        lambda: recheck_client_after_full_sync.apply_async(kwargs=kwargs, countdown=RECHECK_EVERY_SECONDS)
    )


def recheck_after_full_sync(
    *, halo_id: int, run_id: int, kind: SyncKind, trigger: SyncTrigger, expected: list[str] | None
) -> str:
    """Say "waiting" while the full sync is open; then read the client again unless its link is as we left it."""
    if SyncRun.objects.filter(pk=run_id, status__in=SyncStatus.open_values()).exists():
        return "waiting"
    if expected is not None and _link_marker(halo_id) == expected:
        return "unchanged"  # the full sync wrote this client before our change, or wrote the same data
    client_sync_request(halo_id=halo_id, kind=kind, trigger=trigger)
    return "queued"


def _link_marker(halo_id: int) -> list[str] | None:
    """What tells whether a full sync wrote over a client since: when the sync last changed it, and its reason.

    A full sync that wrote older data over the one-client sync's changed the customer, so it set last_synced_at.
    """
    link = HaloLink.objects.filter(halo_id=halo_id).values("last_synced_at", "not_syncing_reason").first()
    if link is None:
        return None
    synced = link["last_synced_at"]
    return [synced.isoformat() if synced else "", link["not_syncing_reason"]]


def _record_failure(halo_id: int, claimed_at: datetime, message: str) -> None:
    with transaction.atomic():
        HaloClientSync.objects.filter(halo_id=halo_id).update(finished_at=timezone.now(), last_error=message)
        _close_events(halo_id, claimed_at, status=WebhookEventStatus.FAILED, run=None, error=message)


def _close_events(
    halo_id: int, claimed_at: datetime, *, status: WebhookEventStatus, run: SyncRun | None, error: str
) -> None:
    WebhookEvent.objects.filter(
        client_halo_id=halo_id,
        status__in=(WebhookEventStatus.QUEUED, WebhookEventStatus.COALESCED),
        received_at__lte=claimed_at,
    ).update(status=status, sync_run=run, error=error[:1000])


def client_sync_state(*, halo_id: int) -> HaloClientSync | None:
    return HaloClientSync.objects.select_related("last_run").filter(halo_id=halo_id).first()
