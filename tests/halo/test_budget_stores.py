"""The shared budget's stores: changes from many threads (as from many processes) are never lost."""

import os
import threading

import pytest
from django.core.cache.backends.locmem import LocMemCache

from syncapp.halo import RequestBudget
from syncapp.halo_budget import CacheBudgetStore, FileBudgetStore, halo_budget_store

THREADS, EACH = 8, 25


def _hammer(store) -> int:
    """Increment a counter from several threads at once; return the final count."""

    def add_many() -> None:
        for _ in range(EACH):
            store.update(lambda state: state.__setitem__("n", state.get("n", 0) + 1))

    threads = [threading.Thread(target=add_many) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return store.update(lambda state: state["n"])


def test_the_file_store_loses_no_change(tmp_path) -> None:
    # A new store object per use, as each process opens the file on its own.
    path = tmp_path / "budget.json"
    assert _hammer(FileBudgetStore(path)) == THREADS * EACH
    assert FileBudgetStore(path).update(lambda state: state["n"]) == THREADS * EACH


def test_the_cache_store_loses_no_change() -> None:
    cache = LocMemCache("budget-test", {})
    assert _hammer(CacheBudgetStore(cache)) == THREADS * EACH


def test_the_cache_store_on_redis_loses_no_change() -> None:
    from django.core.cache.backends.redis import RedisCache

    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("set CELERY_BROKER_URL=redis://... to test the budget on Redis")
    cache = RedisCache(url, {"KEY_PREFIX": f"budget-test-{os.getpid()}"})
    store = CacheBudgetStore(cache)
    cache.delete(store.key)
    try:
        assert _hammer(store) == THREADS * EACH
    finally:
        cache.delete(store.key)


def test_two_budgets_on_one_store_count_together(tmp_path) -> None:
    first = RequestBudget(FileBudgetStore(tmp_path / "b.json"), limit=5, window=60.0)
    second = RequestBudget(FileBudgetStore(tmp_path / "b.json"), limit=5, window=60.0)
    taken = [budget.try_reserve(100.0).slot for budget in (first, second, first, second, first, second)]
    assert taken == [100.0] * 5 + [None]


def test_the_portal_uses_the_configured_cache_else_the_file(settings, tmp_path) -> None:
    settings.HALO_BUDGET_FILE = str(tmp_path / "portal-budget.json")
    store = halo_budget_store()
    assert isinstance(store, FileBudgetStore) and str(store.path) == settings.HALO_BUDGET_FILE
    settings.CACHES = {**settings.CACHES, "halo-budget": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert isinstance(halo_budget_store(), CacheBudgetStore)
