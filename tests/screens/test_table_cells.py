"""table_cells.id_paths: one reverse() per page gives what reverse() gives for every id."""

import pytest
from django.urls import NoReverseMatch, get_script_prefix, reverse, set_script_prefix

from syncapp.table_cells import id_paths


@pytest.mark.parametrize("url_name", ["syncapp:customer-detail", "syncapp:customer-sync", "syncapp:run-detail"])
def test_every_id_gets_the_path_reverse_gives(url_name: str) -> None:
    path = id_paths(url_name)
    for pk in (1, 42, 2_147_483_647, 10**12):
        assert path(pk) == reverse(url_name, args=[pk])


def test_a_script_prefix_holding_the_marker_digits_is_left_alone() -> None:
    before = get_script_prefix()
    set_script_prefix("/portal-2147483647/")
    try:
        path = id_paths("syncapp:customer-detail")
        assert path(7) == reverse("syncapp:customer-detail", args=[7])
        assert path(7).startswith("/portal-2147483647/")
    finally:
        set_script_prefix(before)


def test_a_url_without_an_id_is_refused_when_the_table_is_made() -> None:
    with pytest.raises(NoReverseMatch):
        id_paths("syncapp:customer-list")
