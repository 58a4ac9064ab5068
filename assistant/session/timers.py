"""Timers that run inside the daemon. Time is monotonic seconds passed in by the caller, so the
timers keep running through broker outages and tests drive them with their own clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from ..understanding.replies import timer_label, timer_status


@dataclass
class Timer:
    id: int
    duration_s: float
    """As set, including time added or taken off."""
    ends_at: float | None
    """Monotonic seconds; None while paused."""
    remaining_when_paused: float = 0.0
    name: str | None = None

    def remaining(self, now: float) -> float:
        return self.remaining_when_paused if self.ends_at is None else max(0.0, self.ends_at - now)

    @property
    def paused(self) -> bool:
        return self.ends_at is None

    def label(self) -> str:
        """ "10-minute timer", "1 hour and 30 minutes timer" """
        return timer_label(self.duration_s)


@dataclass
class Timers:
    timers: list[Timer] = field(default_factory=list)
    _ids: count = field(default_factory=lambda: count(1))

    def start(self, duration_s: float, now: float, name: str | None = None) -> Timer:
        timer = Timer(next(self._ids), duration_s, now + duration_s, name=name)
        self.timers.append(timer)
        return timer

    def _pick(self, duration_s: float | None, want_paused: bool | None = None) -> Timer | None:
        """The timer a command means: one set for the spoken duration, else the newest."""
        candidates = [t for t in self.timers if want_paused is None or t.paused == want_paused]
        if duration_s is not None:
            same = [t for t in candidates if abs(t.duration_s - duration_s) < 1]
            candidates = same or candidates
        return candidates[-1] if candidates else None

    def cancel(self, duration_s: float | None = None) -> Timer | None:
        timer = self._pick(duration_s)
        if timer:
            self.timers.remove(timer)
        return timer

    def cancel_all(self) -> int:
        n = len(self.timers)
        self.timers.clear()
        return n

    def pause(self, now: float) -> Timer | None:
        timer = self._pick(None, want_paused=False)
        if timer and timer.ends_at is not None:
            timer.remaining_when_paused = timer.remaining(now)
            timer.ends_at = None
        return timer

    def resume(self, now: float) -> Timer | None:
        timer = self._pick(None, want_paused=True)
        if timer:
            timer.ends_at = now + timer.remaining_when_paused
        return timer

    def adjust(self, delta_s: float, now: float) -> Timer | None:
        timer = self._pick(None)
        if timer is None:
            return None
        timer.duration_s = max(0.0, timer.duration_s + delta_s)
        if timer.ends_at is None:
            timer.remaining_when_paused = max(0.0, timer.remaining_when_paused + delta_s)
        else:
            timer.ends_at = max(now, timer.ends_at + delta_s)
        return timer

    def due(self, now: float) -> list[Timer]:
        """Remove and return the timers that have finished."""
        done = [t for t in self.timers if t.ends_at is not None and t.ends_at <= now]
        for timer in done:
            self.timers.remove(timer)
        return done

    def status(self, now: float) -> str:
        return timer_status([(t.remaining(now), t.label(), t.paused) for t in self.timers])
