"""Pacing a HaloPSA transport: the shared budget, 429 patience, 5xx back-off, and telling an observer about waits."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping

from .budget import RequestBudget
from .errors import HaloRateLimited
from .pacing import backoff_delay, rate_limit_backoff, remaining_requests, server_wait_seconds
from .records import ClientStats, WaitNotice
from .settings import HaloSettings

logger = logging.getLogger("syncapp.halo")


def in_words(seconds: float) -> str:
    """42 s, 5 min, 1 min 30 s: a wait as staff read it (whole seconds, rounded up)."""
    whole = max(math.ceil(seconds), 0)
    minutes, rest = divmod(whole, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" + (f" {rest} s" if rest else "")


class Pacer:
    """Decides when a transport may send and how long it waits; every wait goes through `wait` (and the observer)."""

    def __init__(
        self,
        settings: HaloSettings,
        *,
        budget: RequestBudget,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        jitter: Callable[[], float],
        stats: ClientStats,
        on_wait: Callable[[WaitNotice | None], None] | None = None,
        before_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self.before_wait = before_wait  # may refuse a wait by raising (a person's check has a time limit)
        self.budget = budget
        self.stats = stats
        self.on_wait = on_wait
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        # Since when HaloPSA has refused every request with 429 (None once it answers again): drives the patience.
        self._refused_since: float | None = None
        self._refusals = 0

    def wait(self, notice: WaitNotice) -> None:
        """Sleep for `notice.seconds`, telling the observer (the run page) what holds the client meanwhile."""
        if self.before_wait is not None:
            self.before_wait(notice.seconds)
        if self.on_wait is not None:
            self.on_wait(notice)
        try:
            self._sleep(notice.seconds)
        finally:
            if self.on_wait is not None:
                self.on_wait(None)
        self.stats.waited_seconds += notice.seconds

    def pause(self, attempt: int, route: str, reason: str, status: int | None) -> None:
        """Back off before retry `attempt` (0-based) of a 5xx or a dropped connection."""
        delay = backoff_delay(attempt, cap=self.settings.backoff_cap, jitter=self._jitter())
        self.stats.retries += 1
        retries = self.settings.max_retries
        logger.warning("HaloPSA %s %s; retry %d of %d in %.1f s", route, reason, attempt + 1, retries, delay)
        what = f"HaloPSA answered {status}" if status else "HaloPSA could not be reached"
        message = f"{what}: retry {attempt + 1} of {retries} in {in_words(delay)}"
        self.wait(WaitNotice("server", delay, message, status=status, attempt=attempt + 1, max_attempts=retries))

    def _too_long_for_a_person(self, seconds: float) -> HaloRateLimited:
        return HaloRateLimited(f"HaloPSA's rate limit is reached; try again in {in_words(seconds)}.", status=429)

    def take_slot(self) -> float:
        """Wait until the shared rolling window has room (and HaloPSA's pause is over); return the slot taken."""
        settings = self.settings
        while True:
            reservation = self.budget.try_reserve(self._clock(), interactive=settings.interactive)
            if reservation.slot is not None:
                return reservation.slot
            wait = reservation.wait
            if settings.interactive and wait > settings.interactive_max_wait:
                raise self._too_long_for_a_person(wait)
            if reservation.held:
                message = f"Waiting for HaloPSA's rate limit: {in_words(wait)}"
                self.wait(WaitNotice("rate_limit", wait, message, status=429))
            else:
                message = f"Waiting for room in the HaloPSA request budget: {in_words(wait)}"
                self.wait(WaitNotice("budget", wait, message))

    def rate_limited(self, headers: Mapping[str, str], label: str, what: str, halo_message: str) -> None:
        """A 429: hold everybody sharing the budget for as long as HaloPSA asked (or a growing guess), or give up.

        Gives up only once HaloPSA has refused every request for the patience (interactive callers: at once when
        the wait is more than a person should sit through).
        """
        settings = self.settings
        now = self._clock()
        self.stats.rate_limited += 1
        if self._refused_since is None:
            self._refused_since, self._refusals = now, 0
        refused_for = now - self._refused_since
        hint = server_wait_seconds(headers, wall_clock=self._clock)
        if hint is None:
            delay = rate_limit_backoff(self._refusals, window=settings.rate_window, jitter=self._jitter())
        else:
            # A rolling window never needs a longer wait than the window itself.
            delay = min(hint, settings.rate_window)
        self._refusals += 1
        detail = f": {halo_message}" if halo_message else ""
        if settings.interactive and (delay > settings.interactive_max_wait or self._refusals > settings.max_retries):
            self.budget.hold(now + delay)
            raise self._too_long_for_a_person(delay)
        if refused_for >= settings.rate_limit_patience:
            error = HaloRateLimited(
                f"HaloPSA refused every request for {in_words(refused_for)} because its rate limit was reached, "
                f"as long as the portal waits (HALO_RATE_LIMIT_PATIENCE, {in_words(settings.rate_limit_patience)}); "
                f"gave up on {what}{detail}",
                status=429,
                halo_message=halo_message,
            )
            error.transient = False  # the patience is the whole allowance: retrying the task would only extend it
            raise error
        delay = max(min(delay, settings.rate_limit_patience - refused_for), 0.001)
        self.budget.hold(now + delay)
        self.stats.retries += 1
        logger.warning("HaloPSA %s answered HTTP 429 (rate limit); waiting %.1f s", label, delay)

    def answered(self, status: int, headers: Mapping[str, str], slot: float) -> None:
        """Count the request at the moment its answer came and learn what HaloPSA said about the budget."""
        now = self._clock()
        if status != 429:
            self._refused_since = None  # HaloPSA answers again: the next refusal starts a new streak
        self.budget.settle(slot, now)
        remaining = remaining_requests(headers)
        if remaining is not None:
            self.budget.note_remaining(now, remaining)
            if remaining <= 0 and status != 429:
                # Nothing left and no word on when: wait as for a 429 without a hint.
                delay = rate_limit_backoff(0, window=self.settings.rate_window, jitter=self._jitter())
                self.budget.hold(now + delay)
