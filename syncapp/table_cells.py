"""Tables whose rows draw their own cells: one call per row instead of django-tables2's work per cell."""

from collections.abc import Callable

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

OWN_CELLS_TEMPLATE = "syncapp/_table_own_cells.html"


class OwnCells:
    """Mixed into a django-tables2 Table whose Meta.template_name is OWN_CELLS_TEMPLATE.

    Each shown column needs a render_<name>(record) method that takes the record alone and shows an empty value
    itself. django-tables2's path for a cell resolves its accessor, inspects the render method's signature and
    renders template nodes for its attributes and label; on a page of 50 rows that cost more than the rest of the
    page. The markup is _table.html's; the columns' td attributes are worked out once per table, so they must not
    depend on the record.
    """

    @cached_property
    def _cells(self) -> list[tuple[SafeString, SafeString, Callable[[object], object]]]:
        """Each shown column's <td> attributes, its header escaped (the cell's data-label) and its render method."""
        return [
            (column.attrs["td"].as_html(), conditional_escape(column.header), getattr(self, f"render_{column.name}"))
            for column in self.columns
        ]

    def cells_html(self, record: object) -> SafeString:
        """One row's <td> cells, as _table.html draws them: each cell's content escaped unless it is safe HTML.

        The attributes and labels are escaped once per table above, so a row is one join rather than a
        format_html per cell (a page of 250 rows has 1,500 cells).
        """
        # Every part is escaped: the attributes by as_html, the labels above, the cells right here.
        return mark_safe(
            "".join(
                f'<td {td} data-label="{label}">{conditional_escape(render(record))}</td>'
                for td, label, render in self._cells
            )
        )


def id_paths(url_name: str) -> Callable[[int], str]:
    """The path of `url_name` for any id, from one reverse(): what reverse(url_name, args=[pk]) returns.

    For URLs whose one argument is an integer id (<int:pk>; others raise NoReverseMatch, or ValueError when the
    id is not in the path). A page of 250 rows reversed two URLs per row, a sixth of drawing it; this reverses each
    once per page. The id goes where reverse() put a marker id (the last match, so a script prefix that happens to
    hold the same digits is left alone).
    """
    marker = "2147483647"
    head, found, tail = reverse(url_name, args=[int(marker)]).rpartition(marker)
    if not found:
        raise ValueError(f"{url_name} does not take one integer id")
    return lambda pk: f"{head}{int(pk)}{tail}"
