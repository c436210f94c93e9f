"""Matching: the queue of unlinked customers and possible duplicates, check-then-link, unlink, "different"."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from syncapp.exceptions import HaloIdLinkedElsewhere, LinkError
from syncapp.forms import HaloReferenceForm
from syncapp.halo import HaloClientRecord, HaloError
from syncapp.models import Customer, DuplicateCandidate
from syncapp.selectors.customers import customer_for_page, customer_link, halo_client_url
from syncapp.selectors.matching import (
    halo_client_for_linking,
    high_confidence_pairs,
    matching_queue_counts,
    open_duplicates,
    open_duplicates_of,
    suggestions_for,
    unlinked_customers,
)
from syncapp.services.customers import link_customer, resolve_duplicate_as_different, unlink_customer
from syncapp.services.linking import fetch_linked_clients

QUEUE_PAGE_SIZE = 20
QUEUE_SUGGESTIONS = 3


class _CountedPaginator(Paginator):
    """A paginator given its count, counted already for the page's figures, rather than counting a second time."""

    def __init__(self, object_list: QuerySet, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @property
    def count(self) -> int:
        return self.known_count


@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def matching_queue(request: HttpRequest) -> HttpResponse:
    counts = matching_queue_counts()
    paginator = _CountedPaginator(unlinked_customers(), QUEUE_PAGE_SIZE, count=counts["unlinked"])
    page = paginator.get_page(request.GET.get("page"))
    customers = list(page.object_list)
    suggestions = suggestions_for(customers=customers, limit=QUEUE_SUGGESTIONS)
    return render(
        request,
        "syncapp/matching_queue.html",
        {
            "nav_section": "matching",
            "duplicates": open_duplicates(),
            "page": page,
            "rows": [(customer, suggestions[customer.pk]) for customer in customers],
            "counts": counts,
            "high_confidence": len(high_confidence_pairs(customers=customers, suggestions=suggestions)),
            "can_match": request.user.has_perm("syncapp.match_customer"),
        },
    )


def _render_match(
    request: HttpRequest,
    customer: Customer,
    *,
    form: HaloReferenceForm,
    checked: HaloClientRecord | None = None,
    linked_elsewhere: Customer | None = None,
    status: int = 200,
) -> HttpResponse:
    link = customer_link(customer)
    return render(
        request,
        "syncapp/match_customer.html",
        {
            "nav_section": "matching",
            "customer": customer,
            "link": link,
            "form": form,
            "checked": checked,
            "checked_url": halo_client_url(checked.id) if checked else None,
            "linked_elsewhere": linked_elsewhere,
            "suggestions": [] if link else suggestions_for(customers=[customer])[customer.pk],
            "duplicates": [] if link else open_duplicates_of(customer=customer),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@permission_required("syncapp.match_customer", raise_exception=True)
def match_customer(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the form and suggestions. POST step=check: look the id up in HaloPSA. POST step=link: save the link."""
    customer = customer_for_page(pk=pk)
    if request.method == "GET":
        return _render_match(request, customer, form=HaloReferenceForm())
    form = HaloReferenceForm(request.POST)
    if not form.is_valid():
        return _render_match(request, customer, form=form, status=400)
    halo_id = form.cleaned_data["halo_reference"]
    try:
        record = halo_client_for_linking(customer=customer, halo_id=halo_id)
        if request.POST.get("step") != "link":
            return _render_match(request, customer, form=form, checked=record)
        link_customer(customer=customer, halo_client=record, actor=request.user)
    except HaloIdLinkedElsewhere as error:
        form.add_error("halo_reference", str(error))
        return _render_match(request, customer, form=form, linked_elsewhere=error.customer, status=400)
    except LinkError as error:
        form.add_error("halo_reference", str(error))
        return _render_match(request, customer, form=form, status=400)
    messages.success(request, f"{customer.name} is now linked to HaloPSA client {record.id} ({record.name}).")
    _fetch_now(request, [record.id])
    if not record.datagate_ticked:
        messages.warning(request, UNTICKED_AFTER_LINK)
    return redirect(customer)


UNTICKED_AFTER_LINK = (
    "The Datagate box of this client is not ticked in HaloPSA, so the customer will not keep syncing until "
    "“Datagate” is ticked there."
)


def _fetch_now(request: HttpRequest, halo_ids: list[int]) -> None:
    """Bring the linked clients' HaloPSA values in at once; when HaloPSA cannot be read, the next sync does it."""
    try:
        fetch_linked_clients(halo_ids=halo_ids, actor=request.user)
    except HaloError as error:
        messages.warning(
            request, f"HaloPSA's current values could not be fetched now ({error}); the next sync brings them in."
        )


@require_http_methods(["GET", "POST"])
@permission_required("syncapp.match_customer", raise_exception=True)
def unlink_customer_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: ask for confirmation. POST: remove the link; the customer and its history stay."""
    customer = customer_for_page(pk=pk)
    link = customer_link(customer)
    if link is None:
        messages.info(request, f"{customer.name} is not linked to a HaloPSA client.")
        return redirect(customer)
    if request.method == "POST":
        try:
            halo_id = unlink_customer(customer=customer, actor=request.user)
        except LinkError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{customer.name} is no longer linked to HaloPSA client {halo_id}.")
        return redirect(customer)
    return render(
        request,
        "syncapp/unlink_confirm.html",
        {"nav_section": "matching", "customer": customer, "link": link, "halo_url": halo_client_url(link.halo_id)},
    )


@require_POST
@permission_required("syncapp.match_customer", raise_exception=True)
def duplicate_different(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff confirm a possible duplicate is another company; the next sync imports the HaloPSA client."""
    candidate = get_object_or_404(DuplicateCandidate.objects.select_related("customer"), pk=pk)
    try:
        resolve_duplicate_as_different(candidate=candidate, actor=request.user)
    except LinkError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Noted: HaloPSA client {candidate.halo_id} ({candidate.halo_name}) is not {candidate.customer.name}. "
            "The next sync imports it as a new customer.",
        )
    return redirect("syncapp:matching")
