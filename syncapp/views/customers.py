"""The Customers screen (list with filters and the gears) and a customer's page (fields, sites, link, history)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from syncapp.choices import ChangeAction
from syncapp.exceptions import PortalError
from syncapp.filters import CustomerFilter, history_field_label
from syncapp.forms import CustomerFieldsForm
from syncapp.models import Customer
from syncapp.selectors.customer_search import CustomerSearch
from syncapp.selectors.customers import (
    NAME_LETTERS,
    customer_for_page,
    customer_history,
    customer_history_fields,
    customer_link,
    customer_sites,
    customer_table_rows,
    customers_from_letter,
    halo_client_url,
    last_synced_at,
)
from syncapp.selectors.matching import open_duplicates_of
from syncapp.selectors.runs import open_sync_run
from syncapp.services.customers import editable_fields, update_local_fields
from syncapp.sync.mapping import CUSTOMER_MANAGED_FIELDS
from syncapp.sync.normalise import invalid_email_addresses
from syncapp.tables import UNLINKED_WARNING, CustomerTable
from syncapp.views.common import PAGE_SIZES, configure_table, page_size, paginate

HISTORY_PAGE_SIZE = 25
# Rows the customer list counts and pages through (200 pages of 25); past them, search or jump to a letter.
CUSTOMER_LIST_DEPTH = 5_000


@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    search = CustomerSearch.parse(request.GET.get("q", ""))
    customer_filter = CustomerFilter(request.GET or None, queryset=customer_table_rows(searching=bool(search)))
    rows = customer_filter.qs
    sort = request.GET.get("sort", "")
    by_name = sort in ("", "name", "-name")  # the letters jump along the name order only
    letter = request.GET.get("letter", "").lower() if by_name else ""
    if letter in NAME_LETTERS:
        rows = customers_from_letter(rows, letter, descending=sort == "-name")
    else:
        letter = ""
    # A refused search (the form says why) filtered nothing, so no row says what it matched.
    shown_search = search if search and customer_filter.is_valid() else None
    table = configure_table(request, CustomerTable(rows, search=shown_search), depth=CUSTOMER_LIST_DEPTH)
    filtered = any(request.GET.get(name) for name in customer_filter.filters) or bool(letter)
    return render(
        request,
        "syncapp/customer_list.html",
        {
            "nav_section": "customers",
            "filter": customer_filter,
            "table": table,
            "filtered": filtered,
            "open_run": open_sync_run(),
            "page_sizes": PAGE_SIZES,
            "per_page": page_size(request),
            "letters": NAME_LETTERS if by_name else (),
            "letter": letter,
        },
    )


def _field_rows(customer: Customer, form: CustomerFieldsForm, *, linked: bool) -> list[dict]:
    """One row per customer field, in form order: editable ones carry their bound field, managed ones their value."""
    rows = []
    for name in CustomerFieldsForm.Meta.fields:
        model_field = Customer._meta.get_field(name)
        rows.append(
            {
                "name": name,
                "label": model_field.verbose_name,
                "value": getattr(customer, name),
                "managed": linked and name in CUSTOMER_MANAGED_FIELDS,
                "bound": form[name] if name in form.fields else None,
            }
        )
    return rows


def _render_customer(
    request: HttpRequest, customer: Customer, *, form: CustomerFieldsForm | None = None, status: int = 200
) -> HttpResponse:
    link = customer_link(customer)
    editable = editable_fields(customer=customer)
    if form is None:
        form = CustomerFieldsForm(initial=model_to_dict(customer, fields=editable), editable=editable)
    field = request.GET.get("field", "")
    history_page = paginate(
        request, customer_history(customer=customer, field=field), per_page=HISTORY_PAGE_SIZE, param="history_page"
    )
    history_fields = customer_history_fields(customer=customer)
    invalid_emails = {
        name: invalid_email_addresses(getattr(customer, name)) for name in ("invoice_email_to", "invoice_email_cc")
    }
    return render(
        request,
        "syncapp/customer_detail.html",
        {
            "nav_section": "customers",
            "customer": customer,
            "link": link,
            "last_synced_at": last_synced_at(link),
            "halo_url": halo_client_url(link.halo_id) if link else None,
            "unlinked_warning": UNLINKED_WARNING,
            "field_rows": _field_rows(customer, form, linked=link is not None),
            "form": form,
            "can_edit": request.user.has_perm("syncapp.change_customer"),
            "can_match": request.user.has_perm("syncapp.match_customer"),
            "invalid_emails": {name: found for name, found in invalid_emails.items() if found},
            "sites": customer_sites(customer=customer),
            "history_page": history_page,
            "history_field": field,
            "history_field_label": history_field_label(field) if field else "",
            "history_fields": [(name, history_field_label(name)) for name in history_fields],
            "created_action": ChangeAction.CREATED,
            "duplicates": open_duplicates_of(customer=customer) if link is None else [],
        },
        status=status,
    )


@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_customer(request, customer_for_page(pk=pk))


@require_POST
@permission_required("syncapp.change_customer", raise_exception=True)
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for_page(pk=pk)
    editable = editable_fields(customer=customer)
    form = CustomerFieldsForm(request.POST, initial=model_to_dict(customer, fields=editable), editable=editable)
    if form.is_valid():
        try:
            changes = update_local_fields(customer=customer, actor=request.user, values=form.changed_values())
        except PortalError as error:
            form.add_error(None, str(error))
        else:
            if changes:
                labels = ", ".join(history_field_label(change.field) for change in changes)
                messages.success(request, f"Saved. Changed: {labels}.")
            else:
                messages.info(request, "Nothing was changed.")
            return redirect(customer)
    return _render_customer(request, customer, form=form, status=400)
