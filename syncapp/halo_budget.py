"""The portal's one HaloPSA request budget, shared by every process: kept in Django's cache or a file-locked store.

Web workers ("Test account access", the matching screen's id check), the Celery worker (syncs) and commands
(`sync_halo`, `halo_check`) each build their own HaloClient; they all draw from the budget made here, so together they
stay under HaloPSA's per-tenant rolling window. Production sets HALO_BUDGET_CACHE_URL (Redis, or the database cache);
the embedded defaults use a small JSON file under var/ guarded by an OS file lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings as django_settings
from django.core.cache import BaseCache, caches

from syncapp.halo import (
    AccessCheck,
    HaloClient,
    HaloSettings,
    RequestBudget,
    halo_settings_from_django,
    run_access_check,
)

T = TypeVar("T")
BUDGET_CACHE_ALIAS = "halo-budget"
STATE_KEY = "halo-request-budget"
LOCK_SECONDS = 5  # a holder that died frees the lock after this long; a change takes milliseconds
LOCK_POLL_SECONDS = 0.002


class CacheBudgetStore:
    """The budget's state under one key of a Django cache, changed under a lock made with the atomic cache.add."""

    def __init__(self, cache: BaseCache, *, key: str = STATE_KEY) -> None:
        self.cache = cache
        self.key = key
        self.lock_key = key + ":lock"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        token = uuid.uuid4().hex
        deadline = time.monotonic() + 2 * LOCK_SECONDS
        while not self.cache.add(self.lock_key, token, timeout=LOCK_SECONDS):
            if time.monotonic() > deadline:  # a lock left by a crashed holder outlives its timeout only on bad caches
                self.cache.delete(self.lock_key)
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            if self.cache.get(self.lock_key) == token:
                self.cache.delete(self.lock_key)

    def update(self, change: Callable[[dict[str, Any]], T]) -> T:
        with self._locked():
            state = self.cache.get(self.key) or {}
            result = change(state)
            self.cache.set(self.key, state, timeout=None)
            return result


class FileBudgetStore:
    """The budget's state in a JSON file, changed under an exclusive OS lock (processes on one machine)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def update(self, change: Callable[[dict[str, Any]], T]) -> T:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "r+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
            text = handle.read()
            try:
                state = json.loads(text) if text.strip() else {}
            except ValueError:
                state = {}  # a torn write by a killed process: start counting afresh
            result = change(state)
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(state))
            handle.flush()
            return result


def halo_budget_store() -> CacheBudgetStore | FileBudgetStore:
    """The store every process of this deployment shares (HALO_BUDGET_CACHE_URL, else HALO_BUDGET_FILE)."""
    if BUDGET_CACHE_ALIAS in django_settings.CACHES:
        return CacheBudgetStore(caches[BUDGET_CACHE_ALIAS])
    return FileBudgetStore(django_settings.HALO_BUDGET_FILE)


def halo_request_budget(halo_settings: HaloSettings) -> RequestBudget:
    """The shared rolling-window budget for these settings (HALO_RATE_LIMIT per HALO_RATE_WINDOW)."""
    return RequestBudget(
        halo_budget_store(),
        limit=halo_settings.rate_limit,
        window=halo_settings.rate_window,
        reserve=halo_settings.background_reserve,
    )


def portal_access_check(*, interactive: bool = False) -> tuple[AccessCheck, HaloSettings]:
    """The "Test account access" check (button and `halo_check`), drawing from the shared budget."""
    halo_settings = halo_settings_from_django(interactive=interactive)
    return run_access_check(halo_settings, budget=halo_request_budget(halo_settings))


def portal_halo_client(*, interactive: bool = False, **client_options: Any) -> HaloClient:
    """A HaloClient from the HALO_* settings drawing from the shared budget: every portal HaloPSA call uses this.

    `interactive`: a person waits on a page, so the call goes first and never waits more than a few seconds.
    """
    halo_settings = halo_settings_from_django(interactive=interactive)
    return HaloClient(halo_settings, budget=halo_request_budget(halo_settings), **client_options)
