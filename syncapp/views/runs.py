"""The gears' HaloPSA confirm step, a sync run's page with live progress, its JSON progress, and sync history."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from syncapp.choices import SyncTrigger
from syncapp.exceptions import PortalError, SyncAlreadyRunning
from syncapp.filters import RunChangeFilter
from syncapp.models import SyncRun
from syncapp.selectors.runs import (
    last_finished_sync_run,
    open_sync_run,
    sync_run_changes,
    sync_run_for_page,
    sync_run_list,
    sync_schedule,
)
from syncapp.services.runs import abandon_stale_sync_runs, sync_run_request
from syncapp.tables import RunChangeTable, SyncRunTable
from syncapp.views.common import configure_table

# Changes a run's page counts and pages through (100 pages of 50); past them, filter by customer or field.
RUN_CHANGES_DEPTH = 5_000

# The counters the run page and its JSON show, in the order staff read them.
RUN_COUNTS = (
    ("created", "created_count", "Created"),
    ("updated", "updated_count", "Updated"),
    ("unchanged", "unchanged_count", "Unchanged"),
    ("deactivated", "deactivated_count", "Deactivated"),
    ("reactivated", "reactivated_count", "Reactivated"),
    ("not_syncing", "not_syncing_count", "Not syncing"),
    ("duplicates", "duplicate_count", "Possible duplicates"),
    ("failed", "failed_count", "Failed"),
    ("sites_created", "sites_created_count", "Sites created"),
    ("sites_updated", "sites_updated_count", "Sites updated"),
    ("sites_deactivated", "sites_deactivated_count", "Sites deactivated"),
)


def stage_label(run: SyncRun) -> str:
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
        "status_label": run.get_status_display(),
        "is_open": run.is_open,
        "finished": not run.is_open,
        "stage": stage_label(run),
        "progress_done": run.progress_done,
        "progress_total": run.progress_total,
        "percent": percent,
        **{key: getattr(run, attname) for key, attname, _ in RUN_COUNTS},
        "error_message": run.error_message,
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
    # A dead worker's run would otherwise hide the Confirm button until somebody else asked for a run.
    abandon_stale_sync_runs()
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


@require_GET
@permission_required("syncapp.view_syncrun", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    abandon_stale_sync_runs()
    run = sync_run_for_page(pk=pk)
    change_filter = RunChangeFilter(request.GET or None, queryset=sync_run_changes(run=run))
    table = configure_table(request, RunChangeTable(change_filter.qs), per_page=50, depth=RUN_CHANGES_DEPTH)
    progress = run_progress_payload(run)
    return render(
        request,
        "syncapp/run_detail.html",
        {
            "nav_section": "runs",
            "run": run,
            "progress": progress,
            "counts": [(key, label, progress[key]) for key, _, label in RUN_COUNTS],
            "filter": change_filter,
            "table": table,
            "filtered": any(request.GET.get(name) for name in change_filter.filters),
        },
    )


@never_cache
@require_GET
@permission_required("syncapp.view_syncrun", raise_exception=True)
def run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    abandon_stale_sync_runs()
    return JsonResponse(run_progress_payload(sync_run_for_page(pk=pk)))
