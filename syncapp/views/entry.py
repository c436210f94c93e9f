"""Customers and sites typed into the portal: the "New customer" form, and adding or editing a site."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from syncapp.exceptions import PortalError
from syncapp.forms import CustomerFieldsForm, SiteFieldsForm
from syncapp.models import Site
from syncapp.selectors.customers import customer_for_page, customer_link
from syncapp.services.customer_entry import create_customer, create_site, site_editable_fields, update_site
from syncapp.services.customers import STAFF_EDITABLE_FIELDS


@require_http_methods(["GET", "POST"])
@permission_required("syncapp.add_customer", raise_exception=True)
def customer_create(request: HttpRequest) -> HttpResponse:
    """GET: an empty customer form. POST: create it (no HaloPSA id) and open its page."""
    form = CustomerFieldsForm(request.POST or None, editable=STAFF_EDITABLE_FIELDS)
    if request.method == "POST" and form.is_valid():
        values = {name: value for name, value in form.cleaned_data.items() if value}
        customer = create_customer(actor=request.user, values=values)
        messages.success(request, f"{customer.name} was added. Add its sites below, or match it with a HaloPSA client.")
        return redirect(customer)
    return render(
        request,
        "syncapp/customer_form.html",
        {"nav_section": "customers", "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@permission_required("syncapp.add_site", raise_exception=True)
def site_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for_page(pk=pk)
    if customer_link(customer) is not None:
        messages.info(request, f"{customer.name} is linked to HaloPSA: its sites come from HaloPSA; add them there.")
        return redirect(customer)
    editable = site_editable_fields(site=None, customer=customer)
    form = SiteFieldsForm(request.POST or None, editable=editable)
    if request.method == "POST" and form.is_valid():
        try:
            site = create_site(customer=customer, actor=request.user, values=form.cleaned_data)
        except PortalError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Site {site.name} was added to {customer.name}.")
            return redirect(customer)
    return render(
        request,
        "syncapp/site_form.html",
        {"nav_section": "customers", "form": form, "customer": customer, "site": None},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@permission_required("syncapp.change_site", raise_exception=True)
def site_edit(request: HttpRequest, pk: int, site_pk: int) -> HttpResponse:
    customer = customer_for_page(pk=pk)
    site = get_object_or_404(Site, pk=site_pk, customer=customer)
    editable = site_editable_fields(site=site, customer=customer)
    initial = model_to_dict(site, fields=editable)
    form = SiteFieldsForm(request.POST or None, initial=initial, editable=editable)
    if request.method == "POST" and form.is_valid():
        try:
            changes = update_site(site=site, actor=request.user, values=form.changed_values())
        except PortalError as error:
            form.add_error(None, str(error))
        else:
            if changes:
                messages.success(request, f"Saved site {site.name}.")
            else:
                messages.info(request, "Nothing was changed.")
            return redirect(customer)
    return render(
        request,
        "syncapp/site_form.html",
        {"nav_section": "customers", "form": form, "customer": customer, "site": site, "editable": editable},
        status=400 if form.errors else 200,
    )
