"""The Customers screen (list with filters and the gears) and a customer's page (fields, sites, link, history)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from syncapp.choices import ChangeAction, ExportBlock
from syncapp.exceptions import PortalError
from syncapp.filters import CustomerFilter, HistoryFilter, history_field_choices, history_field_label
from syncapp.forms import CustomerFieldsForm
from syncapp.models import Customer
from syncapp.selectors.client_sync import customer_page_version, one_client_sync_status
from syncapp.selectors.custom_fields import ExtraFieldLabel, extra_field_labels
from syncapp.selectors.customer_search import CustomerSearch
from syncapp.selectors.customers import (
    NAME_LETTERS,
    customer_for_page,
    customer_history,
    customer_history_people,
    customer_link,
    customer_sites,
    customer_table_rows,
    customers_from_letter,
    halo_client_url,
    last_synced_at,
)
from syncapp.selectors.matching import open_duplicates_of
from syncapp.selectors.merge import merged_customers_of
from syncapp.selectors.readiness import export_readiness_counts
from syncapp.selectors.runs import last_sync_summary, open_sync_run
from syncapp.services.customers import editable_fields, update_local_fields
from syncapp.sync.mapping import CUSTOMER_MANAGED_FIELDS
from syncapp.sync.normalise import invalid_email_addresses
from syncapp.tables import UNLINKED_WARNING, CustomerTable, HistoryExportTable
from syncapp.views.common import PAGE_SIZES, configure_table, csv_response, filter_status, page_size, paginate

HISTORY_PAGE_SIZE = 25
# Rows the customer list counts and pages through (200 pages of 25); past them, search or jump to a letter.
CUSTOMER_LIST_DEPTH = 5_000


@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    search = CustomerSearch.parse(request.GET.get("q", ""))
    last_sync = last_sync_summary()
    checked_at = last_sync.last_complete_at if last_sync else None
    customer_filter = CustomerFilter(
        request.GET or None, queryset=customer_table_rows(checked_at=checked_at, searching=bool(search))
    )
    status = filter_status(customer_filter)
    rows = customer_filter.queryset.none() if status == 400 else customer_filter.qs
    sort = request.GET.get("sort", "")
    by_name = sort in ("", "name", "-name")  # the letters jump along the name order only
    letter = request.GET.get("letter", "").lower() if by_name else ""
    if letter in NAME_LETTERS:
        rows = customers_from_letter(rows, letter, descending=sort == "-name")
    else:
        letter = ""
    # A refused search (the form says why) filtered nothing, so no row says what it matched.
    shown_search = search if search and customer_filter.is_valid() else None
    can_sync = request.user.has_perm("syncapp.run_halo_sync")
    table = configure_table(
        request,
        CustomerTable(
            rows,
            search=shown_search,
            checked_at=checked_at,
            unlinked_only=customer_filter.is_valid() and customer_filter.form.cleaned_data.get("linked") == "no",
            exclude=() if can_sync else ("actions",),
        ),
        depth=CUSTOMER_LIST_DEPTH,
        count_with_page=shown_search is not None,
    )
    filtered = any(request.GET.get(name) for name in customer_filter.filters) or bool(letter)
    return render(
        request,
        "syncapp/customer_list.html",
        {
            "nav_section": "customers",
            "filter": customer_filter,
            "table": table,
            "filtered": filtered,
            # Only the empty list says a first import is under way.
            "open_run": None if table.paginator.count or filtered else open_sync_run(),
            "readiness": export_readiness_counts(),
            "export_blocks": ExportBlock,
            "last_sync": last_sync,
            "page_sizes": PAGE_SIZES,
            "per_page": page_size(request),
            "letters": NAME_LETTERS if by_name else (),
            "letter": letter,
        },
        status=status,
    )


def _field_rows(
    customer: Customer, form: CustomerFieldsForm, *, linked: bool, extra_labels: dict[str, ExtraFieldLabel]
) -> list[dict]:
    """One row per customer field, in form order: editable ones carry their bound field, managed ones their value.

    Extra Fields are labelled with their HaloPSA custom field names, "Extra Field N" as the secondary label.
    """
    rows = []
    for name in CustomerFieldsForm.Meta.fields:
        model_field = Customer._meta.get_field(name)
        extra = extra_labels.get(name)
        rows.append(
            {
                "name": name,
                "label": extra.title if extra else model_field.verbose_name,
                "secondary": extra.secondary if extra else "",
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
    extra_labels = extra_field_labels()
    merged = merged_customers_of(customer=customer)
    history_filter = _history_filter(request, customer, extra_labels, merged=merged)
    history_page = paginate(request, history_filter.qs, per_page=HISTORY_PAGE_SIZE, param="history_page")
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
            "field_rows": _field_rows(customer, form, linked=link is not None, extra_labels=extra_labels),
            "form": form,
            "can_edit": request.user.has_perm("syncapp.change_customer"),
            "can_match": request.user.has_perm("syncapp.match_customer"),
            "invalid_emails": {name: found for name, found in invalid_emails.items() if found},
            "sites": customer_sites(customer=customer),
            "history_page": history_page,
            "history_filter": history_filter,
            "history_filtered": any(request.GET.get(name) for name in history_filter.filters),
            "field_labels": {name: label.display for name, label in extra_labels.items()},
            "created_action": ChangeAction.CREATED,
            "duplicates": open_duplicates_of(customer=customer) if link is None else [],
            "can_add_site": request.user.has_perm("syncapp.add_site"),
            "can_change_site": request.user.has_perm("syncapp.change_site"),
            "can_merge": request.user.has_perm("syncapp.change_customer")
            and request.user.has_perm("syncapp.match_customer"),
            "merged_customers": merged,
            "can_sync": request.user.has_perm("syncapp.run_halo_sync"),
            "sync_status": one_client_sync_status(halo_id=link.halo_id) if link else {},
            "page_version": customer_page_version(customer),
        },
        status=status,
    )


def _history_filter(
    request: HttpRequest,
    customer: Customer,
    extra_labels: dict[str, ExtraFieldLabel],
    *,
    merged: list[Customer] | None = None,
) -> HistoryFilter:
    """The customer's history filtered by field, origin, person and date (every field a history row can name)."""
    labels = {name: label.display for name, label in extra_labels.items()}
    return HistoryFilter(
        request.GET or None,
        queryset=customer_history(customer=customer, merged=merged),
        field_choices=history_field_choices(labels),
        people=customer_history_people(customer=customer),
    )


@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def customer_history_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's history as CSV, with the same filters as the page (django-tables2's export)."""
    customer = customer_for_page(pk=pk)
    extra_labels = extra_field_labels()
    history_filter = _history_filter(request, customer, extra_labels)
    labels = {name: label.display for name, label in extra_labels.items()}
    return csv_response(HistoryExportTable(history_filter.qs, field_labels=labels), f"customer-{customer.pk}-history")


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
                names = {name: label.display for name, label in extra_field_labels().items()}
                labels = ", ".join(history_field_label(change.field, names) for change in changes)
                messages.success(request, f"Saved. Changed: {labels}.")
            else:
                messages.info(request, "Nothing was changed.")
            return redirect(customer)
    return _render_customer(request, customer, form=form, status=400)
