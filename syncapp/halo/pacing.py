"""Client-side pacing for HaloPSA: retry back-off and reading the rate-limit headers HaloPSA may send."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

BACKOFF_BASE_SECONDS = 1.0
# A 429 without a hint: start at 5 s and double up to the whole rolling window (storms on hosted Halo last minutes).
RATE_LIMIT_BACKOFF_BASE_SECONDS = 5.0
# X-RateLimit-Reset is either seconds to wait or a Unix time; values past this are taken as a Unix time.
EPOCH_THRESHOLD = 1_000_000_000


def backoff_delay(attempt: int, *, cap: float, jitter: float, base: float = BACKOFF_BASE_SECONDS) -> float:
    """Exponential backoff for retry `attempt` (0-based): 1, 2, 4 ... s capped at `cap`, then "equal jitter"."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    # Half fixed, half random, so concurrent workers spread out but never retry immediately.
    return ceiling / 2 + ceiling / 2 * min(max(jitter, 0.0), 1.0)


def rate_limit_backoff(attempt: int, *, window: float, jitter: float) -> float:
    """Back-off for the `attempt`-th (0-based) hintless 429 in a row: 5, 10, 20 ... s, up to `window`."""
    return backoff_delay(attempt, cap=window, jitter=jitter, base=RATE_LIMIT_BACKOFF_BASE_SECONDS)


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
    wait = retry_after_seconds(headers.get("Retry-After"), now=datetime.fromtimestamp(wall_clock(), UTC))
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


def remaining_requests(headers: Mapping[str, str]) -> int | None:
    """X-RateLimit-Remaining as a whole number; None when absent or unreadable."""
    value = headers.get("X-RateLimit-Remaining")
    try:
        return int(float(value)) if value is not None and value.strip() else None
    except ValueError:
        return None
