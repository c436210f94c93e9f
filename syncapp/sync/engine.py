"""The sync engine: fetch sites and client pages from HaloPSA, plan each page, apply it in one transaction."""

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from syncapp.choices import ChangeAction, NotSyncingReason
from syncapp.exceptions import SyncCancelled, SyncRunLeaseLost
from syncapp.halo import ClientCustomFields, HaloClient, HaloSiteRecord
from syncapp.models import HaloLink, SyncRun
from syncapp.services.custom_fields import record_custom_field_labels
from syncapp.sync.counters import RunCounter, run_counter_fields
from syncapp.sync.duplicates import build_duplicate_guard, duplicate_decisions
from syncapp.sync.plan import PagePlan, PagePlanner, RunContext
from syncapp.sync.staging import RunReadPages
from syncapp.sync.writer import load_page_state, write_page_plan

logger = logging.getLogger("syncapp.sync")

PLANNED_CHANGES_KEPT = 5000  # a dry run keeps this many planned changes on the run; the counts cover the rest


class SliceOutcome(StrEnum):
    FINISHED = "finished"  # every page done; the caller closes the run
    CHECKPOINTED = "checkpointed"  # the slice's time ran out; the pages it kept say where the next one goes on


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
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.run = run
        self.should_stop = should_stop  # staff cancelled the run: stop after the page just written
        # Earlier slices' traffic, so the run's counts are totals over the whole run, not this slice's client only.
        self._traffic_before = (run.requests_made, run.rate_limited_count)
        self.halo = halo
        self.clock = clock
        self.deadline = clock() + slice_seconds if slice_seconds is not None else None
        self.on_page = on_page
        self._next_page: int | None = 1
        self.read_pages = RunReadPages(run)

    def execute(self) -> SliceOutcome:
        # Whatever an earlier slice (or a worker that died) applied is kept with the run: go on after it.
        self._next_page = self.read_pages.next_client_page()
        seen_ids = self.read_pages.seen_client_ids()
        return self._execute(seen_ids)

    def _execute(self, seen_ids: set[int]) -> SliceOutcome:
        self._stage("Reading HaloPSA custom fields")
        custom_fields = self.read_pages.custom_fields(self.halo.discover_custom_fields)
        record_custom_field_labels(custom_fields)
        self._stage("Reading HaloPSA sites")
        sites_by_client, site_by_id = self._read_sites()
        context = RunContext(
            run_id=self.run.pk,
            now=timezone.now(),
            custom_fields=custom_fields,
            sites_by_client=sites_by_client,
            site_by_id=site_by_id,
            duplicate_status=(decisions := duplicate_decisions()),
            duplicate_guard=build_duplicate_guard(decisions),
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
            self._apply(plan, context, page_no=page.page_no, progress_total=page.record_count, seen_ids=seen_ids)
            self._next_page = page.page_no + 1
            if self.should_stop is not None and self.should_stop():
                raise SyncCancelled()
            more_pages = len(seen_ids) < page.record_count
            if more_pages and self.deadline is not None and self.clock() >= self.deadline:
                return
        self._next_page = None

    # --- phases --------------------------------------------------------------------------------------------
    def _read_sites(self) -> tuple[dict[int, list[HaloSiteRecord]], dict[int, HaloSiteRecord]]:
        """Every HaloPSA site, grouped by client: the main-site address fields come from here."""
        by_client: dict[int, list[HaloSiteRecord]] = defaultdict(list)
        by_id: dict[int, HaloSiteRecord] = {}
        for page in self.read_pages.site_pages(self.halo):
            for site in page.sites:
                by_client[site.client_id].append(site)
                by_id[site.id] = site
        return dict(by_client), by_id

    def _record_traffic(self) -> None:
        stats = self.halo.stats
        self.run.requests_made = self._traffic_before[0] + stats.total_requests
        self.run.rate_limited_count = self._traffic_before[1] + stats.rate_limited
        self.run.used_detail_fallback = stats.detail_fallback

    def _apply(
        self, plan: PagePlan, context: RunContext, *, page_no: int, progress_total: int, seen_ids: set[int]
    ) -> None:
        """Write the page, its place in the listing and the run's progress in one transaction.

        So a crash never leaves half a page, and a resumed run goes on exactly after the last page written.
        """
        run = self.run
        progress_done = len(seen_ids)
        for counter, value in plan.counts.items():
            setattr(run, counter.field, getattr(run, counter.field) + value)
        run.failures = [*run.failures, *plan.failures]
        run.progress_total, run.progress_done = progress_total, progress_done
        self._record_traffic()
        with transaction.atomic():
            if run.dry_run:
                run.planned_changes = _planned_changes(run.planned_changes, plan)
            elif not plan.is_empty():
                write_page_plan(plan, context)
            self.read_pages.keep_client_page(page_no=page_no, record_count=progress_total, client_ids=plan.seen_ids)
            self._save_run(
                *run_counter_fields(),
                "failures",
                "progress_total",
                "progress_done",
                "requests_made",
                "rate_limited_count",
                "used_detail_fallback",
                "planned_changes",
            )
        if self.on_page:
            self.on_page(run)

    def _mark_missing(self, seen_ids: set[int]) -> None:
        """After a complete listing only: links whose client HaloPSA no longer lists are marked "not syncing"."""
        gone = (NotSyncingReason.MISSING, NotSyncingReason.REMOVED)  # a client removed in HaloPSA stays "removed"
        not_missing = HaloLink.objects.exclude(not_syncing_reason__in=gone)
        missing = [(pk, halo_id) for pk, halo_id in not_missing.values_list("id", "halo_id") if halo_id not in seen_ids]
        counter = RunCounter.NOT_SYNCING.field
        setattr(self.run, counter, getattr(self.run, counter) + len(missing))
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
        self._save_run(counter, "planned_changes")

    # --- run bookkeeping -----------------------------------------------------------------------------------
    def _stage(self, stage: str) -> None:
        # The heartbeat is not the engine's: sync_run_kept_alive beats it, also while HaloPSA's pacing holds a call.
        self.run.stage = stage
        self._save_run("stage")

    def _save_run(self, *fields: str) -> None:
        """Save run fields, only while this worker still holds the run's lease (else roll back and stop)."""
        saved = SyncRun.objects.filter(pk=self.run.pk, lease=self.run.lease).update(
            **{name: getattr(self.run, name) for name in fields}
        )
        if not saved:
            raise SyncRunLeaseLost(f"Sync run #{self.run.pk} was taken over by another worker; this one stops.")


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
        if change.action == ChangeAction.CHANGED
    ]
    return kept + planned[:room]
