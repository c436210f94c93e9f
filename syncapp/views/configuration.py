"""Read-only field mappings and the administrators' HaloPSA connection page (settings, schedule, access test)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from syncapp.forms import SyncScheduleForm
from syncapp.halo import (
    HaloError,
    describe_access_check,
    describe_access_failure,
)
from syncapp.halo_budget import portal_access_check
from syncapp.matching.score import WEIGHTS, weight_rows
from syncapp.selectors.client_sync import webhook_health
from syncapp.selectors.custom_fields import extra_field_labels
from syncapp.selectors.runs import schedule_times, sync_schedule, ticked_clients_note
from syncapp.services.schedule import update_sync_schedule
from syncapp.services.webhooks import webhook_enabled, webhook_send_test_event
from syncapp.sync.mapping import CUSTOMER_FIELDS, CUSTOMER_LOCAL_FIELDS, SITE_FIELDS, SITE_LOCAL_FIELDS
from syncapp.views.common import administrators_only


@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def field_mappings(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "syncapp/field_mappings.html",
        {
            "nav_section": "mappings",
            "extra_labels": extra_field_labels(),
            "tables": [
                ("Customer", "customer-mapping", CUSTOMER_FIELDS, CUSTOMER_LOCAL_FIELDS),
                ("Site", "site-mapping", SITE_FIELDS, SITE_LOCAL_FIELDS),
            ],
            "match_weights": weight_rows(),
            "match_levels": WEIGHTS,
            "hold_back_score": settings.DUPLICATE_HOLD_BACK_SCORE,
        },
    )


def _connection_settings() -> list[tuple[str, str, object]]:
    """The HALO_* settings in use, for display; the secret only as set / not set."""
    return [
        ("HaloPSA address", "HALO_RESOURCE_URL", settings.HALO_RESOURCE_URL),
        ("Authorisation URL", "HALO_AUTH_URL", settings.HALO_AUTH_URL),
        ("Tenant", "HALO_TENANT", settings.HALO_TENANT or "—"),
        ("Client ID", "HALO_CLIENT_ID", settings.HALO_CLIENT_ID),
        ("Client secret", "HALO_CLIENT_SECRET", "set" if settings.HALO_CLIENT_SECRET else "not set"),
        ("Scope", "HALO_SCOPE", settings.HALO_SCOPE),
        ("Rate limit (per 5 minutes)", "HALO_RATE_LIMIT", settings.HALO_RATE_LIMIT),
        ("Timeout (seconds)", "HALO_TIMEOUT", settings.HALO_TIMEOUT),
    ]


def _render_connection(
    request: HttpRequest,
    *,
    form: SyncScheduleForm | None = None,
    check: dict | None = None,
    webhook_check: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    schedule = sync_schedule()
    return render(
        request,
        "syncapp/connection.html",
        {
            "nav_section": "connection",
            "settings_rows": _connection_settings(),
            "schedule": schedule,
            "schedule_times": schedule_times(schedule),
            "form": form or SyncScheduleForm(instance=schedule),
            "check": check,
            "webhook": {
                "enabled": webhook_enabled(),
                "url": request.build_absolute_uri(reverse("syncapp:halo-webhook")),
                "auth": "token" if settings.HALO_WEBHOOK_TOKEN else "basic",
                "username": settings.HALO_WEBHOOK_USERNAME,
                "health": webhook_health(),
                "check": webhook_check,
            },
            "time_zone": settings.TIME_ZONE,
        },
        status=status,
    )


@require_GET
@administrators_only
def connection(request: HttpRequest) -> HttpResponse:
    return _render_connection(request)


@require_POST
@administrators_only
def connection_schedule(request: HttpRequest) -> HttpResponse:
    form = SyncScheduleForm(request.POST, instance=sync_schedule())
    if not form.is_valid():
        return _render_connection(request, form=form, status=400)
    schedule = update_sync_schedule(
        enabled=form.cleaned_data["enabled"],
        interval_minutes=form.cleaned_data["interval_minutes"],
        actor=request.user,
    )
    if schedule.enabled:
        every = f"every {schedule.interval_minutes} minutes"
        messages.success(request, f"Schedule saved: the HaloPSA Product Sync runs {every}.")
    else:
        messages.success(request, "Schedule saved: the HaloPSA Product Sync runs only when started by hand.")
    return redirect("syncapp:connection")


@require_POST
@administrators_only
def connection_test(request: HttpRequest) -> HttpResponse:
    """The "Test account access" button: the same check as `manage.py halo_check`, answered on the page."""
    try:
        result, used = portal_access_check(interactive=True)
    except HaloError as error:
        check = {"ok": False, "message": describe_access_failure(error)}
    else:
        check = {"ok": True, "message": describe_access_check(result, used, ticked_clients_note())}
    return _render_connection(request, check=check)


@require_POST
@administrators_only
def connection_webhook_test(request: HttpRequest) -> HttpResponse:
    """The "Send a test event" check: a real HTTP POST to this portal's webhook URL, as HaloPSA sends them."""
    ok, message = webhook_send_test_event(url=request.build_absolute_uri(reverse("syncapp:halo-webhook")))
    return _render_connection(request, webhook_check={"ok": ok, "message": message})
