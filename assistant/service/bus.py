"""The service's inbox: a bounded queue of typed events whose overflow policy is "drop the oldest and
count it", and the counters of everything dropped (published as ``<prefix>/<site>/stats``)."""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter

from ..core.events import InEvent

log = logging.getLogger(__name__)


class Counters:
    """Dropped messages by reason. Thread-safe: paho's thread counts oversize messages, the main thread the rest."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.dirty = True
        """Changed since last published (true at start, so the first stats go out at once)."""

    def count(self, reason: str, detail: str) -> None:
        with self._lock:
            self._counts[reason] += 1
            n = self._counts[reason]
            self.dirty = True
        if n <= 10 or n % 100 == 0:
            log.warning("dropped message (%s, %d so far): %s", reason, n, detail)

    def __getitem__(self, reason: str) -> int:
        with self._lock:
            return self._counts[reason]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            self.dirty = False
            return dict(self._counts)

    def values(self) -> list[int]:
        with self._lock:
            return list(self._counts.values())


class _Nudge:
    """Something changed that the main loop polls (a broker acknowledgement): not an event."""


class Bus:
    """Events from any thread to the main loop, at most ``size`` waiting."""

    def __init__(self, size: int, counters: Counters) -> None:
        self._queue: queue.Queue[InEvent | _Nudge] = queue.Queue(maxsize=size)
        self.counters = counters
        self._nudged = threading.Event()

    def put(self, event: InEvent) -> None:
        """Never blocks: with the queue full the oldest waiting event is dropped, and counted."""
        while True:
            try:
                self._queue.put_nowait(event)
                return
            except queue.Full:
                try:
                    oldest = self._queue.get_nowait()
                except queue.Empty:
                    continue
                if isinstance(oldest, _Nudge):
                    self._nudged.clear()
                else:
                    self.counters.count("queue_overflow", "dropped the oldest waiting message")

    def nudge(self) -> None:
        """Wake the main loop early. At most one nudge waits, and it never displaces an event: with a
        full queue the loop is busy anyway and looks again after the next event."""
        if not self._nudged.is_set():
            self._nudged.set()
            try:
                self._queue.put_nowait(_Nudge())
            except queue.Full:
                self._nudged.clear()

    def get(self, timeout_s: float) -> InEvent | None:
        """The next event, or None after ``timeout_s`` or a nudge."""
        try:
            item = self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if isinstance(item, _Nudge):
            self._nudged.clear()
            return None
        return item
