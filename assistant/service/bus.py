"""The service's inbox: a bounded queue of typed events whose overflow policy is "drop the oldest and
count it", and the counters of everything dropped (published as ``<prefix>/<site>/stats``)."""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter

from ..core.events import InEvent
from ..queues import put_drop_oldest

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


class Bus:
    """Events from any thread to the main loop, at most ``size`` waiting."""

    def __init__(self, size: int, counters: Counters) -> None:
        self._queue: queue.Queue[InEvent] = queue.Queue(maxsize=size)
        self.counters = counters

    def put(self, event: InEvent) -> None:
        for _ in range(put_drop_oldest(self._queue, event)):
            self.counters.count("queue_overflow", "dropped the oldest waiting message")

    def get(self, timeout_s: float) -> InEvent | None:
        try:
            return self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None
