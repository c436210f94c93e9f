"""The gears' HaloPSA confirm step, a sync run's page with live progress, its JSON progress, and sync history."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from syncapp.choices import SyncTrigger
from syncapp.exceptions import PortalError, SyncAlreadyRunning
from syncapp.filters import RunChangeFilter, history_field_choices
from syncapp.models import SyncRun
from syncapp.run_counts import RUN_COUNTS, run_count_rows
from syncapp.selectors.custom_fields import field_display_labels
from syncapp.selectors.runs import (
    last_finished_sync_run,
    not_syncing_customers,
    open_sync_run,
    run_changes_with_ids,
    run_current_wait,
    run_elapsed_seconds,
    run_failures,
    run_waiting_summary,
    sync_run_changes,
    sync_run_for_page,
    sync_run_list,
    sync_schedule,
)
from syncapp.services.runs import sync_run_cancel, sync_run_request
from syncapp.tables import HistoryExportTable, RunChangeTable, SyncRunTable
from syncapp.templatetags.portal_tags import run_status_label
from syncapp.views.common import BoundedPaginator, configure_table, csv_response, filter_status

# Changes a run's page counts and pages through (100 pages of 50); past them, filter by customer or field.
RUN_CHANGES_DEPTH = 5_000


class RunChangePaginator(BoundedPaginator):
    """A run's change list, paged from the ids of its first `depth` + 1 rows, read once in the list's order.

    Their number is the count and a page is a slice of them, whose rows are then read by primary key. A filter that
    reads every customer's name (or every change's date) runs once per view, not for the count and again for the
    page, and a deep page costs no OFFSET walk.
    """

    @cached_property
    def ids(self) -> list[int]:
        return list(self.counted.values_list("pk", flat=True)[: self.depth + 1])

    @cached_property
    def found(self) -> int:
        return len(self.ids)

    def window(self, bottom: int, top: int) -> QuerySet:
        return run_changes_with_ids(self.ids[bottom:top], order_by=self.counted.query.order_by)


def stage_label(run: SyncRun) -> str:
    if run.is_not_responding:
        return "Not responding: no sign of life from the worker; starting a new sync closes this one"
    if run.status == "queued":
        return "Waiting for a worker to pick it up"
    stage = (run.stage or "").replace("_", " ").strip() or "starting"
    # Only the first letter: the engine's stages name things like "HaloPSA" that must keep their case.
    return stage[:1].upper() + stage[1:]


def run_progress_payload(run: SyncRun) -> dict:
    """What the progress bar needs; the page polls this and never asks Celery."""
    if not run.is_open:
        percent = 100
    elif run.progress_total:
        percent = min(99, run.progress_done * 100 // run.progress_total)
    else:
        percent = 0
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": run_status_label(run),
        "is_open": run.is_open,
        "not_responding": run.is_not_responding,
        "finished": not run.is_open,
        "stage": stage_label(run),
        "progress_done": run.progress_done,
        "progress_total": run.progress_total,
        "percent": percent,
        **{count.key: getattr(run, count.field) for count in RUN_COUNTS},
        "error_message": run.error_message,
        # What HaloPSA holds the run on right now (None when nothing), and the waiting so far / in total.
        "wait": run_current_wait(run),
        "elapsed_seconds": run_elapsed_seconds(run),
        "waited_seconds": round(run.waited_seconds, 1),
        "rate_limited_count": run.rate_limited_count,
        "retry_count": run.retry_count,
        "waiting_summary": run_waiting_summary(run),
        "cancel_requested": run.is_open and run.cancelled_at is not None,
    }


@require_http_methods(["GET", "POST"])
@permission_required("syncapp.view_syncrun", raise_exception=True)
def sync_halopsa(request: HttpRequest) -> HttpResponse:
    """GET: what will happen, the last run and the schedule. POST (run_halo_sync): queue the run and show it."""
    if request.method == "POST":
        if not request.user.has_perm("syncapp.run_halo_sync"):
            raise PermissionDenied("You may not start a HaloPSA sync.")
        try:
            run = sync_run_request(actor=request.user, trigger=SyncTrigger.MANUAL)
        except SyncAlreadyRunning as running:
            messages.warning(request, str(running))
            return redirect(running.run)
        except PortalError as error:
            messages.error(request, str(error))
            return redirect("syncapp:sync-halopsa")
        messages.success(request, f"HaloPSA sync queued as run #{run.pk}. Progress is shown below.")
        return redirect(run)
    # A GET writes nothing: a dead worker's run is shown as not responding, and Confirm (POST) closes it.
    return render(
        request,
        "syncapp/sync_confirm.html",
        {
            "nav_section": "customers",
            "open_run": open_sync_run(),
            "last_run": last_finished_sync_run(),
            "schedule": sync_schedule(),
            "can_run": request.user.has_perm("syncapp.run_halo_sync"),
        },
    )


@require_GET
@permission_required("syncapp.view_syncrun", raise_exception=True)
def run_list(request: HttpRequest) -> HttpResponse:
    table = configure_table(request, SyncRunTable(sync_run_list()))
    return render(request, "syncapp/run_list.html", {"nav_section": "runs", "table": table})


def _run_changes(request: HttpRequest, run: SyncRun) -> tuple[RunChangeFilter, dict[str, str]]:
    labels = field_display_labels()
    change_filter = RunChangeFilter(
        request.GET or None, queryset=sync_run_changes(run=run), field_choices=history_field_choices(labels)
    )
    return change_filter, labels


@require_GET
@permission_required("syncapp.view_syncrun", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = sync_run_for_page(pk=pk)
    change_filter, labels = _run_changes(request, run)
    status = filter_status(change_filter)
    rows = change_filter.queryset.none() if status == 400 else change_filter.qs
    table = configure_table(
        request,
        RunChangeTable(rows, field_labels=labels),
        per_page=50,
        depth=RUN_CHANGES_DEPTH,
        paginator_class=RunChangePaginator,
    )
    progress = run_progress_payload(run)
    counts = run_count_rows(run)
    return render(
        request,
        "syncapp/run_detail.html",
        {
            "nav_section": "runs",
            "run": run,
            "progress": progress,
            "counts": counts,
            "customer_counts": [row for row in counts if row["group"] == "customers"],
            "site_counts": [row for row in counts if row["group"] == "sites"],
            "failures": run_failures(run=run),
            "not_syncing": not_syncing_customers() if run.not_syncing_count and not run.is_open else None,
            "filter": change_filter,
            "table": table,
            "filtered": any(request.GET.get(name) for name in change_filter.filters),
            "can_cancel": run.is_open and request.user.has_perm("syncapp.run_halo_sync"),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@permission_required("syncapp.run_halo_sync", raise_exception=True)
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: confirm cancelling the run. POST: cancel it (a running one stops after its current page)."""
    run = sync_run_for_page(pk=pk)
    if request.method == "POST":
        try:
            run = sync_run_cancel(run_id=run.pk, actor=request.user)
        except PortalError as error:
            messages.warning(request, str(error))
            return redirect(run)
        if run.is_open:
            messages.success(request, f"Cancelling run #{run.pk}: it stops after the page it is on.")
        else:
            messages.success(request, f"Run #{run.pk} was cancelled before it started.")
        return redirect(run)
    return render(request, "syncapp/run_cancel_confirm.html", {"nav_section": "runs", "run": run})


@require_GET
@permission_required("syncapp.view_syncrun", raise_exception=True)
def run_changes_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's changes as CSV, with the same filters as the page (django-tables2's export)."""
    run = sync_run_for_page(pk=pk)
    change_filter, labels = _run_changes(request, run)
    table = HistoryExportTable(change_filter.qs.select_related("changed_by"), field_labels=labels)
    return csv_response(table, f"sync-run-{run.pk}-changes")


@never_cache
@require_GET
@permission_required("syncapp.view_syncrun", raise_exception=True)
def run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(run_progress_payload(sync_run_for_page(pk=pk)))
