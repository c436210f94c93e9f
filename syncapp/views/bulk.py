"""Bulk linking: preview every High-confidence suggestion with its reasons, confirm once, link each one."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from syncapp.halo import HaloError
from syncapp.selectors.matching import high_confidence_pairs, unlinked_customers
from syncapp.services.linking import bulk_link as bulk_link_pairs
from syncapp.services.linking import fetch_linked_clients
from syncapp.views.common import paginate
from syncapp.views.matching import QUEUE_PAGE_SIZE


def _pairs_of_queue_page(request: HttpRequest) -> list:
    """The High pairs among the customers of the matching queue's page (?page=), as the queue counts them."""
    page = paginate(request, unlinked_customers(), per_page=QUEUE_PAGE_SIZE)
    return high_confidence_pairs(customers=list(page.object_list))


def _parse_pairs(values: list[str]) -> tuple[list[tuple[int, int]], list[str]]:
    pairs, bad = [], []
    for value in values:
        customer_id, _, halo_id = value.partition(":")
        if customer_id.isdigit() and halo_id.isdigit():
            pairs.append((int(customer_id), int(halo_id)))
        else:
            bad.append(value)
    return pairs, bad


@require_http_methods(["GET", "POST"])
@permission_required("syncapp.match_customer", raise_exception=True)
def bulk_link(request: HttpRequest) -> HttpResponse:
    """GET: the preview table (all ticked). POST pair=customer:halo ...: link the ticked ones, list what was skipped."""
    context = {"nav_section": "matching"}
    if request.method == "GET":
        return render(request, "syncapp/bulk_link.html", {**context, "pairs": _pairs_of_queue_page(request)})
    pairs, bad = _parse_pairs(request.POST.getlist("pair"))
    if bad or not pairs:
        error = "Tick at least one pair to link." if not bad else "The form was not understood; nothing was linked."
        return render(
            request,
            "syncapp/bulk_link.html",
            {**context, "pairs": _pairs_of_queue_page(request), "error": error},
            status=400,
        )
    outcome = bulk_link_pairs(pairs=pairs, actor=request.user)
    fetch_error = ""
    if outcome.linked:
        try:
            fetch_linked_clients(halo_ids=[halo_id for _, halo_id in outcome.linked], actor=request.user)
        except HaloError as error:
            fetch_error = str(error)
    return render(request, "syncapp/bulk_link.html", {**context, "outcome": outcome, "fetch_error": fetch_error})
