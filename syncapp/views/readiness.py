"""Invoice export readiness: active customers whose invoices would not export to HaloPSA, with filters and CSV."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from syncapp.filters import ReadinessFilter
from syncapp.selectors.readiness import export_blocked_customers, export_readiness_counts
from syncapp.tables import ReadinessTable
from syncapp.views.common import configure_table, csv_response


def _readiness_filter(request: HttpRequest) -> ReadinessFilter:
    return ReadinessFilter(request.GET or None, queryset=export_blocked_customers())


@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def export_readiness(request: HttpRequest) -> HttpResponse:
    readiness_filter = _readiness_filter(request)
    can_match = request.user.has_perm("syncapp.match_customer")
    table = configure_table(request, ReadinessTable(readiness_filter.qs, can_match=can_match))
    return render(
        request,
        "syncapp/readiness.html",
        {
            "nav_section": "readiness",
            "filter": readiness_filter,
            "table": table,
            "counts": export_readiness_counts(),
            "filtered": any(request.GET.get(name) for name in readiness_filter.filters),
        },
    )


@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def export_readiness_csv(request: HttpRequest) -> HttpResponse:
    """Every row the page lists under the same filters (all pages), as CSV through django-tables2's export."""
    return csv_response(ReadinessTable(_readiness_filter(request).qs), "invoice-export-readiness")
