"""Reads for one-client syncs and webhooks: a customer page's freshness, a client's pending sync, event health."""

from datetime import datetime, time

from django.db.models import Max
from django.utils import timezone

from syncapp.choices import WebhookEventStatus
from syncapp.models import Customer, FieldChange, HaloClientSync, WebhookEvent


def customer_page_version(customer: Customer) -> str:
    """Changes whenever a sync or a person changes the customer, its sites, its history or its link's state."""
    last_change = FieldChange.objects.filter(customer=customer).aggregate(last=Max("id"))["last"] or 0
    link = getattr(customer, "halo_link", None)
    link_state = f"{link.not_syncing_reason}|{link.in_scope}|{link.halo_inactive}" if link else "unlinked"
    return f"{customer.updated_at.isoformat()}|{last_change}|{link_state}"


def one_client_sync_status(*, halo_id: int) -> dict:
    """Whether a person's "Sync from HaloPSA" is still waiting, and what the last one-client sync did."""
    state = HaloClientSync.objects.select_related("last_run").filter(halo_id=halo_id).first()
    if state is None:
        return {"pending": False, "message": ""}
    pending = state.requested_at is not None and (state.finished_at is None or state.finished_at < state.requested_at)
    if pending:
        message = "Sync from HaloPSA is on its way…"
    elif state.last_error:
        message = f"The last sync from HaloPSA did not complete: {state.last_error}"
    elif state.last_run is not None:
        when = timezone.localtime(state.last_run.finished_at).strftime("%d %b %Y, %H:%M:%S")
        message = f"Last one-customer sync from HaloPSA: {when} (run #{state.last_run.pk})."
    else:
        message = ""
    return {"pending": pending, "message": message}


def webhook_health(*, now: datetime | None = None) -> dict:
    """Whether HaloPSA's events arrive: the last one received, how many today, and the last error."""
    now = timezone.localtime(now or timezone.now())
    start_of_day = timezone.make_aware(datetime.combine(now.date(), time.min), now.tzinfo)
    events = WebhookEvent.objects.exclude(status=WebhookEventStatus.TEST)
    last = events.exclude(status=WebhookEventStatus.REJECTED).order_by("-received_at", "-id").first()
    last_error = (
        WebhookEvent.objects.filter(status__in=(WebhookEventStatus.FAILED, WebhookEventStatus.REJECTED))
        .order_by("-received_at", "-id")
        .first()
    )
    return {
        "last": last,
        "today": events.filter(received_at__gte=start_of_day).exclude(status=WebhookEventStatus.REJECTED).count(),
        "last_error": last_error,
        "last_test": WebhookEvent.objects.filter(status=WebhookEventStatus.TEST).order_by("-received_at").first(),
    }
