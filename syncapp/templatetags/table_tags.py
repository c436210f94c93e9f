"""The filter of tables whose rows draw their own cells (syncapp.table_cells.OwnCells)."""

from django import template
from django.utils.safestring import SafeString
from django_tables2.rows import BoundRow

register = template.Library()


@register.filter
def table_row_cells(row: BoundRow) -> SafeString:
    """The row's <td> cells, drawn by its table's cells_html in one call."""
    return row.table.cells_html(row.record)
