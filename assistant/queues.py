"""Bounded hand-over queues whose overflow policy is: drop the oldest item, and say how many went."""

from __future__ import annotations

import queue
from typing import TypeVar

T = TypeVar("T")


def put_drop_oldest(q: queue.Queue[T], item: T) -> int:
    """Put ``item`` without blocking, dropping the oldest waiting items to make room. Returns how many
    were dropped (callers count them)."""
    dropped = 0
    while True:
        try:
            q.put_nowait(item)
            return dropped
        except queue.Full:
            try:
                q.get_nowait()
                dropped += 1
            except queue.Empty:
                pass
