"""Paged HaloPSA listings read to the end and verified against record_count, so partial data never passes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from .errors import HaloIncompleteListing
from .parsing import parse_listing
from .records import HaloClientRecord, HaloSiteRecord

PAGE_SIZE = 100  # HaloPSA caps pages at 100 rows whatever is asked (halopsa-api.md §2)
RecordT = TypeVar("RecordT", HaloClientRecord, HaloSiteRecord)


def iter_verified_pages(
    fetch: Callable[[int], Any],
    key: str,
    noun: str,
    parse: Callable[[Any], RecordT],
    *,
    start_page: int = 1,
    page_size: int = PAGE_SIZE,
    fetch_ahead: Executor | None = None,
) -> Iterator[tuple[int, int, tuple[RecordT, ...]]]:
    """Yield (page_no, record_count, records not seen on an earlier page) until rows seen reach record_count.

    `fetch(page_no)` returns one page's JSON body. HaloIncompleteListing is raised, before the faulty page is
    yielded, when a page comes back short before the total is reached, when the rows do not add up to
    record_count, when a page only repeats rows already read, or when record_count falls mid-listing.
    """
    if start_page < 1:
        raise ValueError("start_page counts from 1")
    page_no = start_page
    offset = (start_page - 1) * page_size
    rows_seen = offset
    seen_ids: set[int] = set()
    previous_count: int | None = None
    pending: Future | None = _fetch(fetch_ahead, fetch, page_no)
    try:
        while True:
            record_count, rows = parse_listing(pending.result(), key, f"{noun} list")
            pending = None
            if previous_count is not None and record_count < previous_count:
                # With ids ascending, a removal shifts later rows onto pages already read: one may have been missed.
                raise HaloIncompleteListing(
                    f"HaloPSA's {noun} count fell from {previous_count:,} to {record_count:,} while the list was "
                    f"being read, so a {noun} may have been skipped; run again."
                )
            previous_count = record_count
            rows_seen += len(rows)
            if rows_seen < record_count and len(rows) < page_size:
                raise HaloIncompleteListing(
                    f"HaloPSA's {noun} list is incomplete: page {page_no} held {len(rows)} rows instead of "
                    f"{page_size}, after {rows_seen:,} of {record_count:,} {noun}s."
                )
            if rows_seen < record_count:
                pending = _fetch(fetch_ahead, fetch, page_no + 1)  # downloads while this page is parsed and used
            records = [parse(row) for row in rows]
            fresh = tuple(record for record in records if record.id not in seen_ids)
            if records and not fresh:
                raise HaloIncompleteListing(
                    f"HaloPSA's {noun} list repeated page {page_no}: it seems to ignore paging, so the list "
                    "cannot be read completely."
                )
            seen_ids.update(record.id for record in fresh)
            # A row read twice (the set shifted between pages) means another one was missed, so the distinct
            # ids, not just the rows, must add up to the total.
            if rows_seen >= record_count and (rows_seen != record_count or offset + len(seen_ids) != record_count):
                raise HaloIncompleteListing(
                    f"HaloPSA's {noun} list does not add up: {offset + len(seen_ids):,} different {noun}s read "
                    f"({rows_seen:,} rows) but HaloPSA counts {record_count:,}; run again."
                )
            yield page_no, record_count, fresh
            if rows_seen >= record_count:
                return
            page_no += 1
    finally:
        if pending is not None:
            pending.cancel()  # the caller stopped early: a page not yet sent for is not sent


def _fetch(executor: Executor | None, fetch: Callable[[int], Any], page_no: int) -> Future:
    """fetch(page_no) on the executor's thread, or here and now when there is no executor."""
    if executor is not None:
        return executor.submit(fetch, page_no)
    done: Future = Future()
    try:
        done.set_result(fetch(page_no))
    except Exception as error:  # raised again by .result(), where the page is read
        done.set_exception(error)
    return done
