"""Listings fetch the next page while the caller works on the current one, and never a page they do not need."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from syncapp.halo.listing import iter_verified_pages
from syncapp.halo.records import HaloSiteRecord


def _site(site_id: int) -> dict:
    return {"id": site_id, "name": f"Site {site_id}", "client_id": 1.0}


def _listing(total: int, page_size: int = 100):
    fetched: list[tuple[int, str]] = []

    def fetch(page_no: int) -> dict:
        fetched.append((page_no, threading.current_thread().name))
        first = (page_no - 1) * page_size + 1
        rows = [_site(i) for i in range(first, min(first + page_size, total + 1))]
        return {"record_count": total, "sites": rows}

    return fetch, fetched


def _parse(row: dict) -> HaloSiteRecord:
    from syncapp.halo.parsing import parse_site

    return parse_site(row)


def test_the_next_page_is_already_requested_when_a_page_is_handed_over() -> None:
    fetch, fetched = _listing(250)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ahead") as executor:
        pages = iter_verified_pages(fetch, "sites", "site", _parse, fetch_ahead=executor)
        page_no, record_count, records = next(pages)
        assert (page_no, record_count, len(records)) == (1, 250, 100)
        executor.submit(lambda: None).result()  # whatever the thread was doing has finished
        assert [n for n, _ in fetched] == [1, 2]
        assert [len(records) for _, _, records in pages] == [100, 50]
    assert [n for n, _ in fetched] == [1, 2, 3]  # exactly the pages the listing needs, once each
    assert {thread for _, thread in fetched} == {"ahead_0"}


def test_stopping_early_leaves_later_pages_unrequested() -> None:
    fetch, fetched = _listing(1000)
    with ThreadPoolExecutor(max_workers=1) as executor:
        pages = iter_verified_pages(fetch, "sites", "site", _parse, fetch_ahead=executor)
        next(pages)
        pages.close()
    # Page 2 was asked for ahead (it may have been cancelled before it left); pages 3 to 10 never were.
    assert [n for n, _ in fetched] in ([1], [1, 2])


def test_without_an_executor_pages_are_fetched_in_the_callers_thread() -> None:
    fetch, fetched = _listing(150)
    assert sum(len(records) for _, _, records in iter_verified_pages(fetch, "sites", "site", _parse)) == 150
    assert {thread for _, thread in fetched} == {threading.current_thread().name}


def test_an_error_fetching_ahead_surfaces_when_that_page_is_read() -> None:
    def fetch(page_no: int) -> dict:
        if page_no == 2:
            raise ConnectionError("HaloPSA went away")
        return {"record_count": 150, "sites": [_site(i) for i in range(1, 101)]}

    with ThreadPoolExecutor(max_workers=1) as executor:
        pages = iter_verified_pages(fetch, "sites", "site", _parse, fetch_ahead=executor)
        assert len(next(pages)[2]) == 100
        with pytest.raises(ConnectionError):
            next(pages)
