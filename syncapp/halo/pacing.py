"""Client-side pacing for HaloPSA: a rolling-window request limiter, retry backoff and Retry-After parsing."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

BACKOFF_BASE_SECONDS = 1.0
# X-RateLimit-Reset is either seconds to wait or a Unix time; values past this are taken as a Unix time.
EPOCH_THRESHOLD = 1_000_000_000


class RollingWindowLimiter:
    """Allows at most `limit` requests in any `window` seconds, the way HaloPSA counts them, by sleeping first."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()

    def _forget_old(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()

    def acquire(self) -> float:
        """Wait until one more request fits in the window, record it, and return the seconds waited."""
        waited = 0.0
        while True:
            now = self._clock()
            self._forget_old(now)
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return waited
            delay = self._sent[0] + self.window - now
            # A real clock may wake a hair early; the loop re-checks, so never sleep a negative or zero time.
            delay = max(delay, 0.001)
            self._sleep(delay)
            waited += delay

    @property
    def in_window(self) -> int:
        """Requests recorded in the current window."""
        self._forget_old(self._clock())
        return len(self._sent)


def backoff_delay(attempt: int, *, cap: float, jitter: float) -> float:
    """Exponential backoff for retry `attempt` (0-based): 1, 2, 4 ... s capped at `cap`, then "equal jitter"."""
    ceiling = min(cap, BACKOFF_BASE_SECONDS * (2**attempt))
    # Half fixed, half random, so concurrent workers spread out but never retry immediately.
    return ceiling / 2 + ceiling / 2 * min(max(jitter, 0.0), 1.0)


def retry_after_seconds(header: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not header or not header.strip():
        return None
    text = header.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


def server_wait_seconds(headers: Mapping[str, str], *, wall_clock: Callable[[], float] = time.time) -> float | None:
    """How long the server asked us to wait: Retry-After, else X-RateLimit-Reset; None when it did not say."""
    wait = retry_after_seconds(headers.get("Retry-After"))
    if wait is not None:
        return wait
    reset = headers.get("X-RateLimit-Reset")
    try:
        value = float(reset) if reset is not None else None
    except ValueError:
        return None
    if value is None or value != value:
        return None
    return max(value - wall_clock() if value > EPOCH_THRESHOLD else value, 0.0)
