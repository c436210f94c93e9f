"""The rolling-window request budget every HaloPSA call draws from, and the store protocol that may share it.

HaloPSA counts requests per tenant over a rolling window (300 per 5 minutes on hosted tenants), and the portal's web
workers, Celery worker and commands all spend the same budget. The counting lives here; *where* the window is kept
is a BudgetStore: in this process (LocalBudgetStore) or shared across processes (the portal injects one backed by
Django's cache or a locked file; see syncapp/services/halo_budget.py). Times are seconds on the client's clock,
which for a shared store must be the wall clock (every process agrees on it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
# One window's requests, the times they were sent (then answered), and a pause every caller honours.
SENT = "sent"
HELD_UNTIL = "held_until"


class BudgetStore(Protocol):
    """Keeps the budget's state (a small JSON-ready dict) and changes it atomically for every process sharing it."""

    def update(self, change: Callable[[dict[str, Any]], T]) -> T:
        """Run change(state) with nobody else changing the state meanwhile; keep what it leaves in `state`."""
        ...


class LocalBudgetStore:
    """The budget of this process only (the default when nothing shared is injected)."""

    def __init__(self) -> None:
        self._state: dict[str, Any] = {}
        self._lock = threading.Lock()

    def update(self, change: Callable[[dict[str, Any]], T]) -> T:
        with self._lock:
            return change(self._state)


@dataclass(frozen=True)
class Reservation:
    """The answer to "may I send now?": a slot (its time) or how long until one frees up and why."""

    slot: float | None
    wait: float = 0.0
    held: bool = False  # the wait is a pause HaloPSA asked for (a 429), not the window being full


class RequestBudget:
    """At most `limit` requests in any `window` seconds across everybody sharing the store.

    Background callers leave `reserve` slots free for people waiting on a page, so interactive calls go first.
    A request's slot is taken when it is sent and moved to the moment its answer arrived: HaloPSA counts a request
    when it arrives, which is somewhere in between, so a window measured from the answers is never too short.
    """

    def __init__(self, store: BudgetStore, *, limit: int, window: float, reserve: int = 0) -> None:
        self.store = store
        self.limit = limit
        self.window = window
        self.reserve = min(max(reserve, 0), limit - 1)

    def _recent(self, state: dict[str, Any], now: float) -> list[float]:
        sent = [t for t in state.get(SENT, []) if t > now - self.window]
        state[SENT] = sent
        return sent

    def try_reserve(self, now: float, *, interactive: bool = False) -> Reservation:
        """Take a slot at `now` if one is free (and HaloPSA asked for no pause); else say how long to wait."""

        def change(state: dict[str, Any]) -> Reservation:
            held_until = float(state.get(HELD_UNTIL, 0.0))
            if held_until > now:
                return Reservation(None, held_until - now, held=True)
            sent = self._recent(state, now)
            allowed = self.limit if interactive else self.limit - self.reserve
            if len(sent) < allowed:
                sent.append(now)
                return Reservation(now)
            # The slot frees when the request `allowed` places from the end leaves the window.
            ordered = sorted(sent)
            return Reservation(None, max(ordered[len(ordered) - allowed] + self.window - now, 0.001))

        return self.store.update(change)

    def settle(self, slot: float, answered_at: float) -> None:
        """Move a slot from when its request was sent to when its answer arrived."""

        def change(state: dict[str, Any]) -> None:
            sent = state.get(SENT, [])
            if slot in sent:
                sent[sent.index(slot)] = answered_at

        self.store.update(change)

    def hold(self, until: float) -> None:
        """Nobody sharing the budget sends before `until` (HaloPSA answered 429 and said, or we guessed, when)."""

        def change(state: dict[str, Any]) -> None:
            state[HELD_UNTIL] = max(float(state.get(HELD_UNTIL, 0.0)), until)

        self.store.update(change)

    def note_remaining(self, now: float, remaining: int) -> None:
        """HaloPSA said only `remaining` requests are left: count the others' use (another integration) as ours."""

        def change(state: dict[str, Any]) -> None:
            sent = self._recent(state, now)
            missing = self.limit - max(remaining, 0) - len(sent)
            if missing > 0:
                sent.extend([now] * missing)

        self.store.update(change)

    def in_window(self, now: float) -> int:
        """Requests counted in the window ending at `now`."""
        return self.store.update(lambda state: len(self._recent(state, now)))
