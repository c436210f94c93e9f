"""A page of a list whose order is parts listed one after another, each read in an order an index gives."""

from collections.abc import Sequence

from django.db.models import QuerySet


def ids_of_parts(parts: Sequence[QuerySet], *, bottom: int, top: int) -> list[int]:
    """The ids from `bottom` to `top` of the parts' rows listed one part after another, each in its own order.

    A part the page starts past is counted (at most `bottom` rows, which the list's depth bounds); a part the page
    starts in is read from there; the parts after it from their beginning, until the page is full.
    """
    ids: list[int] = []
    skip = bottom
    for part in parts:
        wanted = top - bottom - len(ids)
        if wanted <= 0:
            break
        part_ids = part.values_list("pk", flat=True)
        found = list(part_ids[skip : skip + wanted])
        if found:
            ids += found
            skip = 0
        elif skip:
            skip -= part_ids[:skip].count()
    return ids
