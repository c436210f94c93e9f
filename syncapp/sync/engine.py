"""The sync engine: fetch sites and client pages from HaloPSA, plan each page, apply it in one transaction."""

import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from syncapp.choices import NotSyncingReason
from syncapp.halo import ClientCustomFields, HaloClient, HaloError, HaloSiteRecord
from syncapp.models import Customer, DuplicateCandidate, HaloLink, SyncRun
from syncapp.services.custom_fields import record_custom_field_labels
from syncapp.sync.normalise import name_key
from syncapp.sync.plan import PagePlan, PagePlanner, RunContext
from syncapp.sync.writer import load_page_state, write_page_plan

logger = logging.getLogger("syncapp.sync")

# Run counters a page adds to, by the plan's count name.
COUNTERS = {
    "created": "created_count",
    "updated": "updated_count",
    "unchanged": "unchanged_count",
    "deactivated": "deactivated_count",
    "reactivated": "reactivated_count",
    "failed": "failed_count",
    "not_syncing": "not_syncing_count",
    "duplicates": "duplicate_count",
    "sites_created": "sites_created_count",
    "sites_updated": "sites_updated_count",
    "sites_deactivated": "sites_deactivated_count",
}
PLANNED_CHANGES_KEPT = 5000  # a dry run keeps this many planned changes on the run; the counts cover the rest
HEARTBEAT_EVERY_SECONDS = 5.0


class SliceOutcome(StrEnum):
    FINISHED = "finished"  # every page done; the caller closes the run
    CHECKPOINTED = "checkpointed"  # the slice's time ran out; run.checkpoint says where to go on


class SyncEngine:
    """Runs one slice of a sync run; a long sync checkpoints after a page and the next slice resumes there."""

    def __init__(
        self,
        *,
        run: SyncRun,
        halo: HaloClient,
        slice_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_page: Callable[[SyncRun], None] | None = None,
    ) -> None:
        self.run = run
        self.halo = halo
        self.clock = clock
        self.deadline = clock() + slice_seconds if slice_seconds is not None else None
        self.on_page = on_page
        self._last_heartbeat = 0.0
        self._next_page: int | None = 1

    def execute(self) -> SliceOutcome:
        checkpoint = self.run.checkpoint or {}
        self._next_page = int(checkpoint.get("page_no", 1))
        seen_ids: set[int] = set(checkpoint.get("seen_ids", []))
        try:
            with _prompt_thread_switching():
                return self._execute(seen_ids)
        except HaloError as error:
            if error.transient and self._next_page is not None:
                # Keep the pages already applied: a retry of the task resumes at the first page not yet written.
                self._checkpoint(self._next_page, seen_ids)
            raise

    def _execute(self, seen_ids: set[int]) -> SliceOutcome:
        self._stage("Reading HaloPSA custom fields")
        custom_fields = self.halo.discover_custom_fields()
        record_custom_field_labels(custom_fields)
        self._stage("Reading HaloPSA sites")
        sites_by_client, site_by_id = self._read_sites()
        context = RunContext(
            run_id=self.run.pk,
            now=timezone.now(),
            custom_fields=custom_fields,
            sites_by_client=sites_by_client,
            site_by_id=site_by_id,
            unlinked_by_key=_unlinked_customers_by_name_key(),
            duplicate_status=_duplicate_decisions(),
        )
        self._stage("Syncing HaloPSA clients")
        self._sync_clients(custom_fields, context, seen_ids)
        if self._next_page is not None:
            return SliceOutcome.CHECKPOINTED
        self._stage("Marking clients missing from HaloPSA")
        self._mark_missing(seen_ids)
        return SliceOutcome.FINISHED

    def _sync_clients(self, custom_fields: ClientCustomFields, context: RunContext, seen_ids: set[int]) -> None:
        """Plan and apply client pages from self._next_page; leaves _next_page None when the listing is done.

        The HaloPSA client fetches the next page while this one is planned and written.
        """
        for page in self.halo.iter_client_pages(custom_fields=custom_fields, start_page=self._next_page):
            context.now = timezone.now()
            plan = PagePlanner(context, load_page_state(page.clients, context)).plan_page(page.clients)
            seen_ids.update(plan.seen_ids)
            self._apply(plan, context, progress_total=page.record_count, progress_done=len(seen_ids))
            self._next_page = page.page_no + 1
            more_pages = len(seen_ids) < page.record_count
            if more_pages and self.deadline is not None and self.clock() >= self.deadline:
                self._checkpoint(self._next_page, seen_ids)
                return
        self._next_page = None

    # --- phases --------------------------------------------------------------------------------------------
    def _read_sites(self) -> tuple[dict[int, list[HaloSiteRecord]], dict[int, HaloSiteRecord]]:
        """Every HaloPSA site, grouped by client: the main-site address fields come from here."""
        by_client: dict[int, list[HaloSiteRecord]] = defaultdict(list)
        by_id: dict[int, HaloSiteRecord] = {}
        for page in self.halo.iter_site_pages():
            for site in page.sites:
                by_client[site.client_id].append(site)
                by_id[site.id] = site
            self._heartbeat()
        return dict(by_client), by_id

    def _record_traffic(self) -> None:
        stats = self.halo.stats
        self.run.requests_made = stats.total_requests
        self.run.rate_limited_count = stats.rate_limited
        self.run.used_detail_fallback = stats.detail_fallback

    def _apply(self, plan: PagePlan, context: RunContext, *, progress_total: int, progress_done: int) -> None:
        """Write the page and the run's progress in one transaction, so a crash never leaves half a page."""
        run = self.run
        for name, value in plan.counts.items():
            if name in COUNTERS:
                setattr(run, COUNTERS[name], getattr(run, COUNTERS[name]) + value)
        run.failures = [*run.failures, *plan.failures]
        run.progress_total, run.progress_done = progress_total, progress_done
        run.heartbeat_at = timezone.now()
        self._record_traffic()
        with transaction.atomic():
            if run.dry_run:
                run.planned_changes = _planned_changes(run.planned_changes, plan)
            elif not plan.is_empty():
                write_page_plan(plan, context)
            self._save_run(
                *COUNTERS.values(),
                "failures",
                "progress_total",
                "progress_done",
                "requests_made",
                "rate_limited_count",
                "used_detail_fallback",
                "heartbeat_at",
                "planned_changes",
            )
        self._last_heartbeat = self.clock()
        if self.on_page:
            self.on_page(run)

    def _mark_missing(self, seen_ids: set[int]) -> None:
        """After a complete listing only: links whose client HaloPSA no longer lists are marked "not syncing"."""
        not_missing = HaloLink.objects.exclude(not_syncing_reason=NotSyncingReason.MISSING)
        missing = [(pk, halo_id) for pk, halo_id in not_missing.values_list("id", "halo_id") if halo_id not in seen_ids]
        self.run.not_syncing_count += len(missing)
        if missing and not self.run.dry_run:
            HaloLink.objects.filter(pk__in=[pk for pk, _ in missing]).update(
                not_syncing_reason=NotSyncingReason.MISSING, in_scope=False
            )
        elif missing:
            self.run.planned_changes = [
                *self.run.planned_changes,
                *(
                    {"halo_id": halo_id, "action": "not syncing", "field": "", "old": "", "new": "missing"}
                    for _, halo_id in missing
                ),
            ][:PLANNED_CHANGES_KEPT]
        self._save_run("not_syncing_count", "planned_changes")

    # --- run bookkeeping -----------------------------------------------------------------------------------
    def _stage(self, stage: str) -> None:
        self.run.stage = stage
        self.run.heartbeat_at = timezone.now()
        self._save_run("stage", "heartbeat_at")
        self._last_heartbeat = self.clock()

    def _heartbeat(self) -> None:
        if self.clock() - self._last_heartbeat >= HEARTBEAT_EVERY_SECONDS:
            self.run.heartbeat_at = timezone.now()
            self._record_traffic()
            self._save_run("heartbeat_at", "requests_made", "rate_limited_count", "used_detail_fallback")
            self._last_heartbeat = self.clock()

    def _checkpoint(self, next_page: int, seen_ids: set[int]) -> None:
        self.run.checkpoint = {"page_no": next_page, "seen_ids": sorted(seen_ids)}
        self._save_run("checkpoint")

    def _save_run(self, *fields: str) -> None:
        SyncRun.objects.filter(pk=self.run.pk).update(**{name: getattr(self.run, name) for name in fields})


@contextmanager
def _prompt_thread_switching(interval: float = 0.0005) -> Iterator[None]:
    """Let the HaloPSA client's fetch-ahead thread take the interpreter back promptly while a sync runs.

    When a HaloPSA response arrives, that thread waits for this one to yield the GIL, by default after up to
    5 ms of planning or writing: on hundreds of pages that was most of what the sync spent beyond the bare
    download time (measured in bench/). The setting is the process's, so it is restored afterwards.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, interval))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _unlinked_customers_by_name_key() -> dict[str, list[int]]:
    by_key: dict[str, list[int]] = defaultdict(list)
    for customer_id, name in Customer.objects.filter(halo_link__isnull=True).values_list("id", "name"):
        by_key[name_key(name)].append(customer_id)
    return dict(by_key)


def _duplicate_decisions() -> dict[tuple[int, int], str]:
    return {
        (customer_id, halo_id): status
        for customer_id, halo_id, status in DuplicateCandidate.objects.values_list("customer_id", "halo_id", "status")
    }


def _planned_changes(kept: list[dict], plan: PagePlan) -> list[dict]:
    """What a dry run would have written, in a form people can read on the run page."""
    room = PLANNED_CHANGES_KEPT - len(kept)
    if room <= 0:
        return kept
    planned = [
        {"halo_id": new.link.halo_id, "action": "create", "field": "", "old": "", "new": new.customer.name}
        for new in plan.new_customers
    ]
    planned += [
        {
            "customer_id": change.customer_id,
            "site_id": change.site_id,
            "action": "change",
            "field": change.field,
            "old": change.old_value,
            "new": change.new_value,
        }
        for change in plan.history
    ]
    return kept + planned[:room]
