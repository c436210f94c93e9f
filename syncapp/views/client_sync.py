"""One customer's "Sync from HaloPSA" (confirm, queue) and the small JSON its page polls to show fresh data."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from syncapp.choices import SyncKind, SyncTrigger
from syncapp.selectors.client_sync import customer_page_version, one_client_sync_status
from syncapp.selectors.customers import customer_for_page, customer_link
from syncapp.services.client_sync import client_sync_request


@require_http_methods(["GET", "POST"])
@permission_required("syncapp.view_customer", raise_exception=True)
def customer_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what will happen. POST (run_halo_sync): queue a sync of this customer's HaloPSA client."""
    customer = customer_for_page(pk=pk)
    link = customer_link(customer)
    can_run = request.user.has_perm("syncapp.run_halo_sync")
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied("You may not start a HaloPSA sync.")
        if link is None:
            messages.error(request, "This customer has no HaloPSA id, so there is nothing to sync. Nothing was queued.")
            return redirect(customer)
        client_sync_request(
            halo_id=link.halo_id, kind=SyncKind.SINGLE_CUSTOMER, trigger=SyncTrigger.MANUAL, actor=request.user
        )
        messages.success(
            request, f"Sync from HaloPSA queued for client {link.halo_id}. This page updates when it is done."
        )
        return redirect(customer)
    return render(
        request,
        "syncapp/customer_sync_confirm.html",
        {"nav_section": "customers", "customer": customer, "link": link, "can_run": can_run},
        status=200 if link is not None else 400,
    )


@never_cache
@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def customer_sync_state(request: HttpRequest, pk: int) -> JsonResponse:
    """What the customer page polls: a version that changes whenever a sync or person changes the customer."""
    customer = customer_for_page(pk=pk)
    link = customer_link(customer)
    status = one_client_sync_status(halo_id=link.halo_id) if link else {"pending": False, "message": ""}
    return JsonResponse({"version": customer_page_version(customer), **status})
