"""Helpers shared by the staff screens: table pagination, page-size choices and the administrators' check."""

from collections.abc import Callable
from functools import wraps
from math import ceil

from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest, HttpResponse
from django.utils.functional import cached_property
from django_filters import CharFilter, FilterSet
from django_tables2 import RequestConfig, Table
from django_tables2.export import TableExport
from django_tables2.rows import BoundRows

from syncapp.selectors.ordered_parts import ids_of_parts

PAGE_SIZES = (25, 50, 100, 250)


def page_size(request: HttpRequest, default: int = PAGE_SIZES[0]) -> int:
    """The page size asked for, if it is one of the offered sizes (so nobody asks for a million rows)."""
    try:
        asked = int(request.GET.get("per_page", default))
    except ValueError:
        return default
    return asked if asked in PAGE_SIZES else default


class BoundedPaginator(Paginator):
    """Counts at most `depth` rows and pages only through those, so no page view counts or skips a whole table.

    A deep page costs what its offset costs; bounding the offset bounds every page. Past the bound, staff search,
    filter or (on the customer list) jump to a letter, which start a new, short walk along an index.
    """

    def __init__(
        self,
        object_list,
        per_page: int,
        *,
        counted: QuerySet,
        depth: int,
        found: int | None = None,
        count_with_page: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.counted = counted
        self.depth = depth
        self.count_with_page = count_with_page
        if found is not None:  # the caller knows how many rows there are (e.g. from counts it shows anyway)
            self.found = found

    @cached_property
    def found(self) -> int:
        """Rows found, up to depth + 1: one more than the depth says there are more than it."""
        return self.counted.order_by().values("pk")[: self.depth + 1].count()

    @property
    def capped(self) -> bool:
        return self.found > self.depth

    @cached_property
    def count(self) -> int:
        return min(self.found, self.depth)

    @cached_property
    def num_pages(self) -> int:
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        return max(1, ceil(self.count / self.per_page))

    def page(self, number) -> Page:
        """The page's rows in one query that orders only their ids over the whole list, then loads just them.

        `id IN (ordered ids LIMIT n OFFSET m)`: the skipped rows cost their sort key alone (an index entry, for
        the name order), not the page's annotations (site counts, link state), which are worked out for the rows
        shown only.
        """
        if self.count_with_page and "found" not in self.__dict__:
            page = self._page_and_count(number)
            if page is not None:
                return page
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        return self._get_page(BoundRows(data=self.window(bottom, top), table=self.object_list.table), number, self)

    def window(self, bottom: int, top: int) -> QuerySet:
        """The rows from `bottom` to `top` as the list shows them (a subclass may find them another way).

        A table ordered by a key an index cannot give may say how to walk that order instead: `order_parts`, the
        rows as parts listed one after another, each in an order an index gives (selectors.customer_order).
        """
        parts = getattr(self.object_list.table, "order_parts", None)
        if parts:
            return self.counted.filter(pk__in=ids_of_parts(parts, bottom=bottom, top=top))
        return self.counted.filter(pk__in=self.counted.values("pk")[bottom:top])

    def _page_and_count(self, number) -> Page | None:
        """A page of a search and the number of rows found, from one pass over the rows (None: page the usual way).

        A search cannot walk an index (a word may be anywhere in a name): counting its matches and then ordering
        them for the page would read the table twice. COUNT(*) OVER () counts the matches while they are ordered
        for the page. Past the last page, nothing comes back and the rows are counted the usual way.
        """
        try:
            number = int(number)
        except (TypeError, ValueError):
            return None
        bottom = (number - 1) * self.per_page
        if number < 1 or bottom >= self.depth:
            return None
        top = min(bottom + self.per_page, self.depth)
        ids = list(self.counted.annotate(found=Window(Count("*"))).values_list("pk", "found")[bottom:top])
        if not ids and number > 1:
            return None
        self.found = min(ids[0][1], self.depth + 1) if ids else 0
        window = self.counted.filter(pk__in=[pk for pk, _ in ids])
        return self._get_page(BoundRows(data=window, table=self.object_list.table), number, self)


def configure_table(
    request: HttpRequest,
    table: Table,
    *,
    per_page: int | None = None,
    depth: int | None = None,
    found: int | None = None,
    count_with_page: bool = False,
    paginator_class: type[BoundedPaginator] = BoundedPaginator,
) -> Table:
    """Apply the requested ordering and page; an out-of-range page shows the last one rather than an error.

    With a depth, only that many rows are counted and paged through (BoundedPaginator, or the subclass given);
    `found`, when the caller knows how many rows there are, spares the count; `count_with_page` counts them while
    reading the page (for a search, which reads every row anyway).
    """
    RequestConfig(request, paginate=False).configure(table)
    size = per_page or page_size(request)
    options = {}
    if depth is not None:
        options = {
            "paginator_class": paginator_class,
            "counted": table.data.data,
            "depth": depth,
            "found": found,
            "count_with_page": count_with_page,
        }
    try:
        table.paginate(page=request.GET.get(table.prefixed_page_field, 1), per_page=size, **options)
    except PageNotAnInteger:
        table.paginate(page=1, per_page=size, **options)
    except EmptyPage:
        # The paginator has counted already; asking it for its last page does not count again.
        table.page = table.paginator.page(table.paginator.num_pages)
    return table


def paginate(request: HttpRequest, items: QuerySet | list, *, per_page: int, param: str = "page") -> Page:
    """One page of items (Django's Paginator), tolerant of bad page numbers."""
    return Paginator(items, per_page).get_page(request.GET.get(param))


def filter_status(filterset: FilterSet) -> int:
    """400 when a typed filter (a search box) was refused, e.g. for NUL, which PostgreSQL refuses; else 200.

    The form's errors are shown beside its fields; a refused search lists no rows rather than every row. A bad
    choice (a hand-edited URL) is only ignored, as it always was.
    """
    if not filterset.is_bound or filterset.is_valid():
        return 200
    refused_text = any(isinstance(filterset.filters[name], CharFilter) for name in filterset.errors)
    return 400 if refused_text else 200


def administrators_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let through staff members (is_staff) and superusers; everyone else gets 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not (request.user.is_staff or request.user.is_superuser):
            raise PermissionDenied("Only administrators may see the HaloPSA connection.")
        return view(request, *args, **kwargs)

    return wrapper


# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection); text from HaloPSA
# or typed by staff must stay text, so such a cell gets a leading apostrophe, as OWASP advises.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SpreadsheetSafeExport(TableExport):
    """django-tables2's export with every text cell made safe to open in a spreadsheet."""

    def table_to_dataset(self, table: Table, exclude_columns, dataset_kwargs=None):
        dataset = super().table_to_dataset(table, exclude_columns, dataset_kwargs)
        rows = [[spreadsheet_safe(value) for value in row] for row in dataset]
        headers = dataset.headers
        dataset.wipe()
        dataset.headers = headers
        for row in rows:
            dataset.append(row)
        return dataset


def csv_response(table: Table, name: str) -> HttpResponse:
    """The whole table (every row, not one page) as a CSV download, through django-tables2's export (tablib)."""
    return SpreadsheetSafeExport("csv", table).response(filename=f"{name}.csv")
