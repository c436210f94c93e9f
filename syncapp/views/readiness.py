"""Invoice export readiness: active customers whose invoices would not export to HaloPSA, with filters and CSV."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from syncapp.filters import ReadinessFilter
from syncapp.selectors.readiness import export_blocked_customers, export_readiness_counts
from syncapp.tables import ReadinessTable
from syncapp.views.common import configure_table, csv_response

# Rows the page pages through (200 pages of 25); past them, staff filter by reason or search by name.
READINESS_DEPTH = 5_000


def _readiness_filter(request: HttpRequest) -> ReadinessFilter:
    searching = bool(request.GET.get("q", "").strip())
    return ReadinessFilter(request.GET or None, queryset=export_blocked_customers(searching=searching))


def _searching(readiness_filter: ReadinessFilter) -> bool:
    return readiness_filter.is_bound and readiness_filter.is_valid() and bool(readiness_filter.form.cleaned_data["q"])


def _rows_counted_already(readiness_filter: ReadinessFilter, counts: dict[str, int]) -> int | None:
    """The number of rows listed, when the page's per-reason counts say it (no name search); else None."""
    if not readiness_filter.is_bound:
        return counts["total"]
    if not readiness_filter.is_valid() or _searching(readiness_filter):
        return None
    return counts.get(readiness_filter.form.cleaned_data.get("reason") or "total")


@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def export_readiness(request: HttpRequest) -> HttpResponse:
    readiness_filter = _readiness_filter(request)
    can_match = request.user.has_perm("syncapp.match_customer")
    counts = export_readiness_counts()
    table = configure_table(
        request,
        ReadinessTable(readiness_filter.qs, can_match=can_match),
        depth=READINESS_DEPTH,
        found=_rows_counted_already(readiness_filter, counts),
        # A name search reads every row anyway (the name may hold the text anywhere): count while paging.
        count_with_page=_searching(readiness_filter),
    )
    return render(
        request,
        "syncapp/readiness.html",
        {
            "nav_section": "readiness",
            "filter": readiness_filter,
            "table": table,
            "counts": counts,
            "filtered": any(request.GET.get(name) for name in readiness_filter.filters),
        },
    )


@require_GET
@permission_required("syncapp.view_customer", raise_exception=True)
def export_readiness_csv(request: HttpRequest) -> HttpResponse:
    """Every row the page lists under the same filters (all pages), as CSV through django-tables2's export."""
    return csv_response(ReadinessTable(_readiness_filter(request).qs), "invoice-export-readiness")
