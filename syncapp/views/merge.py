"""Merging two customers that are one company, from either customer's page: find, preview, confirm."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from syncapp.exceptions import MergeRefused
from syncapp.models import Customer
from syncapp.selectors.customers import customer_link
from syncapp.selectors.merge import merge_candidates
from syncapp.services.merge import merge_customers, merge_roles, plan_merge
from syncapp.sync.mapping import CUSTOMER_FIELD_LABELS


def _other_customer(raw: str | None) -> tuple[Customer | None, str]:
    """The customer numbered `raw`, or None and what is wrong with it."""
    raw = (raw or "").strip()
    if not raw:
        return None, ""
    if not raw.isdigit():
        return None, f"“{raw}” is not a customer number: choose a customer from the list."
    other = Customer.objects.select_related("halo_link").filter(pk=int(raw)).first()
    if other is None:
        return None, f"No customer has number {raw}."
    return other, ""


@require_http_methods(["GET", "POST"])
@permission_required("syncapp.change_customer", raise_exception=True)
@permission_required("syncapp.match_customer", raise_exception=True)
def merge_customer(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: search for the other customer, then preview (?other=ID). POST other=ID: merge."""
    this = get_object_or_404(Customer.objects.select_related("halo_link", "merged_into"), pk=pk)
    source_arg = request.POST.get("other") if request.method == "POST" else request.GET.get("other")
    other, error = _other_customer(source_arg)
    plan = None
    if other is not None:
        source, target = merge_roles(this=this, other=other)
        try:
            if request.method == "POST":
                plan = merge_customers(source=source, target=target, actor=request.user)
                messages.success(
                    request,
                    f"{source.name} was merged into {target.name}: {len(plan.sites_moving)} site"
                    f"{'s' if len(plan.sites_moving) != 1 else ''} moved, and both histories show here.",
                )
                return redirect(target)
            plan = plan_merge(source=source, target=target)
        except MergeRefused as refused:
            error = str(refused)
    elif request.method == "POST" and not error:
        error = "Choose the customer to merge with."
    query = request.GET.get("q", "")
    return render(
        request,
        "syncapp/merge_customer.html",
        {
            "nav_section": "customers",
            "customer": this,
            "link": customer_link(this),
            "query": query,
            "candidates": merge_candidates(customer=this, query=query) if plan is None else [],
            "plan": plan,
            "fills": [
                (CUSTOMER_FIELD_LABELS.get(name, name), value) for name, value in (plan.fills if plan else {}).items()
            ],
            "error": error,
        },
        status=400 if error else 200,
    )
