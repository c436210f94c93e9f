"""A running sync's watch thread: heartbeat, what HaloPSA holds it on (for the run page), and the cancel signal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from syncapp.choices import SyncStatus
from syncapp.exceptions import SyncCancelled
from syncapp.halo import WaitNotice
from syncapp.models import SyncRun
from syncapp.selectors.runs import LEFT

logger = logging.getLogger("syncapp.sync")
# How often the watch looks for a cancel request and writes a changed wait; a cheap query on the run's row.
WATCH_SECONDS = 1.0


def wait_reason(notice: WaitNotice) -> str:
    """The run page's words for a wait, with LEFT where the remaining time goes."""
    if notice.kind == "server":
        what = f"HaloPSA answered {notice.status}" if notice.status else "HaloPSA could not be reached"
        return f"{what}: retry {notice.attempt} of {notice.max_attempts} in {LEFT}"
    if notice.kind == "budget":
        return f"Waiting for room in the HaloPSA request budget: {LEFT}"
    return f"Waiting for HaloPSA's rate limit: {LEFT}"


class RunWatch:
    """Shared by the worker's threads: the current wait to show, and whether staff asked to cancel the run."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.wake = threading.Event()
        self._lock = threading.Lock()
        self._wait: tuple[str, object] | None = None  # (reason, until) not yet written
        self._dirty = False

    def show_wait(self, notice: WaitNotice | None) -> None:
        """The HaloPSA client's observer: remember what holds the run; the watch thread writes it to the run."""
        with self._lock:
            if notice is None:
                self._wait = ("", None)
            else:
                self._wait = (wait_reason(notice), timezone.now() + timedelta(seconds=notice.seconds))
            self._dirty = True
        self.wake.set()

    def take_wait(self) -> tuple[str, object] | None:
        """The wait to write, once (None when nothing changed since the last call)."""
        with self._lock:
            if not self._dirty:
                return None
            self._dirty = False
            return self._wait

    def sleep(self, seconds: float) -> None:
        """The HaloPSA client's sleep: waits as asked, but a cancel ends the wait (and the run) at once."""
        if self.cancelled.wait(seconds):
            raise SyncCancelled()

    def stop_requested(self) -> bool:
        """The engine's check between pages."""
        return self.cancelled.is_set()


def _look_once(run_id: int, lease: str, changes: dict[str, object], watch: RunWatch) -> None:
    """Read the run's state (a cancel request) and write the changes, only while this worker holds the run."""
    row = SyncRun.objects.filter(pk=run_id).values("status", "cancelled_at", "lease").first()
    # Not running (closed), taken over by another worker, or not visible to this thread's connection yet: nothing
    # of this worker's to beat or show.
    if row is None or row["status"] != SyncStatus.RUNNING or row["lease"] != lease:
        return
    if row["cancelled_at"] is not None:
        watch.cancelled.set()
    if changes:
        SyncRun.objects.filter(pk=run_id, status=SyncStatus.RUNNING, lease=lease).update(**changes)


@contextmanager
def sync_run_kept_alive(*, run_id: int, lease: str, every: float | None = None) -> Iterator[RunWatch]:
    """Watch a running run from a background thread: heartbeat, what HaloPSA holds it on, and a cancel request.

    The run's one heartbeat: every SYNC_HEARTBEAT_SECONDS whatever the sync is doing, also while HaloPSA's pacing
    (300 requests per rolling 5 minutes) holds one request for minutes; the engine never writes it. Writes check
    the worker's lease, so a worker that was taken over keeps nothing alive. A worker that dies takes this thread
    with it, so its run goes stale and the next worker takes it over.
    """
    interval = settings.SYNC_HEARTBEAT_SECONDS if every is None else every
    watch = RunWatch()
    stop = threading.Event()

    def look() -> None:
        last_beat = timezone.now()
        try:
            while not stop.is_set():
                watch.wake.wait(min(interval, WATCH_SECONDS))
                watch.wake.clear()
                if stop.is_set():
                    break
                now = timezone.now()
                changes: dict[str, object] = {}
                if (now - last_beat).total_seconds() >= interval:
                    changes["heartbeat_at"], last_beat = now, now
                wait = watch.take_wait()
                if wait is not None:
                    changes["wait_reason"], changes["wait_until"] = wait
                try:
                    _look_once(run_id, lease, changes, watch)
                except DatabaseError:  # a busy or restarted database must not end the watch; the next look tries again
                    logger.warning("Sync run #%s: could not update its heartbeat or wait", run_id, exc_info=True)
                    connections.close_all()  # a dead connection is replaced by a new one at the next look
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=look, name=f"sync-run-{run_id}-watch", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        stop.set()
        watch.wake.set()
        thread.join()
