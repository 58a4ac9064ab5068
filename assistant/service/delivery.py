"""Carrying a turn's device messages out without ever blocking the main loop, and telling the truth
about what became of them.

The rule is "decide before writing": a command is written only on a connection that has just shown
it works (``MqttLink.fresh``; otherwise a probe goes first and the commands wait for its answer), and
only before the command's deadline (``mqtt.delivery_timeout_s`` from when the command arrived). Once
written, bytes cannot be recalled: a command the broker never acknowledges by the deadline is reported
as "may or may not have happened", one it refuses (an MQTT 5 reason code) as refused, one never written
as not sent. A deadline missed also drops the connection (the broker has stalled), so nothing else is
written to it. All of it runs on the main thread; ``advance`` is called after every event and wake.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.messages import Action
from ..mqtt.link import Delivery, MqttLink
from ..session import Turn


@dataclass(frozen=True)
class Outcome:
    """Each of a turn's actions, by what became of it."""

    done: tuple[Action, ...] = ()
    not_sent: tuple[Action, ...] = ()
    refused: tuple[Action, ...] = ()
    unknown: tuple[Action, ...] = ()
    publish_ms: float = 0.0

    @property
    def failed(self) -> tuple[Action, ...]:
        return self.not_sent + self.refused + self.unknown


@dataclass(eq=False)
class Errand:
    """One turn on its way out."""

    turn: Turn
    deadline: float
    started: float = field(default_factory=time.perf_counter)
    probe: Delivery | None = None
    deliveries: list[Delivery] = field(default_factory=list)


class Courier:
    def __init__(self, link: MqttLink, clock: Callable[[], float], timeout_s: float,
                 finish: Callable[[Turn, Outcome], None]) -> None:  # fmt: skip
        """``finish(turn, outcome)``: called once per turn, when every action's fate is known."""
        self.link = link
        self.clock = clock
        self.timeout_s = timeout_s
        self.finish = finish
        self.errands: list[Errand] = []
        self._idle_probe: Delivery | None = None
        self._idle_probe_at = 0.0

    def carry(self, turn: Turn, received_s: float | None = None) -> None:
        """Start sending ``turn``'s actions; its deadline counts from ``received_s`` (when known)."""
        start = self.clock() if received_s is None else received_s
        errand = Errand(turn, start + self.timeout_s)
        if not turn.actions:  # an answer, a question: nothing to send, no probe to wait for
            self._finish(errand)
            return
        self.errands.append(errand)
        self.advance()

    def next_due_s(self) -> float | None:
        """Seconds until the nearest deadline, for the main loop's wait; None when nothing is open."""
        if not self.errands:
            return None
        return max(0.0, min(e.deadline for e in self.errands) - self.clock())

    def advance(self) -> None:
        self.link.settle()
        now = self.clock()
        for errand in list(self.errands):
            if self._step(errand, now):
                self.errands.remove(errand)
                self._finish(errand)

    def keep_alive(self, every_s: float) -> None:
        """Between commands: a probe when the broker has been quiet for ``every_s``, and a fresh
        connection when one goes unanswered as long (the watchdog reads ``link.working``)."""
        probe = self._idle_probe
        now = self.clock()
        if probe is not None and probe.open:
            if now - self._idle_probe_at > every_s:
                self.link.forget(probe)
                self._idle_probe = None
                self.link.reset(f"no answer to a probe in {every_s:.0f} s")
            return
        if self.link.connected and not self.link.heard_within(every_s) and now - self._idle_probe_at > every_s:
            self._idle_probe, self._idle_probe_at = self.link.probe(), now

    def abandon(self) -> None:
        """At stop: every open errand finished with what is known now."""
        self.link.settle()
        for errand in self.errands:
            for d in errand.deliveries:
                self.link.forget(d)
            self._finish(errand)
        self.errands.clear()

    def _step(self, errand: Errand, now: float) -> bool:
        """True when the errand is finished."""
        late = now >= errand.deadline
        if not errand.deliveries:
            if errand.probe is None:
                if self.link.fresh():
                    return self._write(errand)
                if not self.link.connected or late:
                    return True  # nothing written: every action "not sent"
                errand.probe = self.link.probe()
            if errand.probe.state == "not_sent" or errand.probe.orphaned:
                return True
            if errand.probe.state == "pending":
                if late:
                    self.link.forget(errand.probe)
                    self.link.reset("the broker did not answer before a command's deadline")
                    return True
                return False
            return self._write(errand)  # the broker answered (acknowledged or even refused: it is alive)
        if not any(d.open for d in errand.deliveries):
            return True
        if late:
            self.link.reset("a device command was not acknowledged in time")
            return True
        return False

    def _write(self, errand: Errand) -> bool:
        errand.deliveries = [self.link.send(a) for a in errand.turn.actions]
        return not any(d.open for d in errand.deliveries)

    def _finish(self, errand: Errand) -> None:
        by_state: dict[str, list[Action]] = {"acknowledged": [], "not_sent": [], "refused": [], "pending": []}
        if errand.deliveries:
            for d in errand.deliveries:
                assert d.action is not None
                by_state[d.state].append(d.action)
        else:
            by_state["not_sent"] = list(errand.turn.actions)
        outcome = Outcome(tuple(by_state["acknowledged"]), tuple(by_state["not_sent"]), tuple(by_state["refused"]),
                          tuple(by_state["pending"]), (time.perf_counter() - errand.started) * 1000)  # fmt: skip
        self.finish(errand.turn, outcome)
