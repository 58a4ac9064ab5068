"""The conversation: one owner of its state, one clock, one conversation per source.

``Session.handle(text, registry, source=..., area=...)`` understands a command in the context of that
source's conversation and returns a ``Turn``: what to publish on the intent topic, the device messages to
send, and the reply. The session never does I/O: the service (MQTT), ``assistant process`` (files) and the
benchmarks carry the turn out, so all of them behave alike.

What belongs to a conversation (and so never crosses from one speaker or client to another):
- the previous command, for follow-ups and pronouns ("turn it off", "and the bedroom too"), for
  ``follow_up_s``;
- a pending confirmation ("Are you sure you want to unlock the Front Door?") for ``confirm.window_s``:
  only a plain yes from the same source carries it out, a plain no drops it, anything else drops it and
  is handled as itself;
- its timers, whose replies tell the truth about the timers that run.

Time is seconds from ``clock`` (monotonic in the service, audio time in ``assistant process``).
Not thread-safe: one thread (the service's main loop) calls it.
"""

from __future__ import annotations

import copy
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..config import Config
from ..core.events import TimerChanged, TimerFinished
from ..core.messages import Action, Parse
from ..devices import Registry
from ..understanding import compound, replies
from ..understanding.context import Context, Previous
from ..understanding.parser import Understander
from .timers import Timer, Timers

YES = re.compile(r"^\W*(yes|yeah|yep|yup|sure|ok(ay)?|do it|go ahead|confirm(ed)?|please do|absolutely|correct)"
                 r"(\W+(please|do it|go ahead|thanks|thank you))?\W*$", re.I)  # fmt: skip
"""A plain yes: the whole utterance says yes and nothing else ("ok turn on the light" is a new command)."""
NO = re.compile(r"^\W*(no|nope|nah|don'?t|do not|cancel|stop|never ?mind|forget it)(\W+(thanks|thank you))?\W*$", re.I)
TIMER_INTENTS = frozenset({"HassStartTimer", "HassCancelTimer", "HassCancelAllTimers", "HassPauseTimer",
                           "HassUnpauseTimer", "HassTimerStatus", "HassIncreaseTimer", "HassDecreaseTimer"})  # fmt: skip
MAX_CONVERSATIONS = 256
"""Sources remembered at once; the least recently heard is forgotten first (its timers go with it)."""
MAX_TIMERS = 20
"""Timers one source may have running."""


@dataclass(frozen=True)
class Pending:
    """A sensitive action waiting for its yes."""

    parse: Parse
    request_id: Any
    expires: float


@dataclass
class Conversation:
    previous: Previous | None = None
    previous_at: float = 0.0
    pending: Pending | None = None
    timers: Timers = field(default_factory=Timers)


@dataclass(frozen=True)
class Turn:
    """What one command comes to."""

    parse: Parse | None
    """Published on the intent topic; None when there is nothing to report (a plain "no")."""
    actions: tuple[Action, ...]
    """Device messages to send now."""
    reply: str
    success: bool
    outcome: str
    request_id: Any = None
    source: str = "mqtt"
    timers: tuple[TimerChanged, ...] = ()
    """The source's timers this command started, changed or cancelled."""


class Session:
    def __init__(self, understander: Understander, config: Config, clock: Callable[[], float] = time.monotonic) -> None:
        self.configure(understander, config)
        self.clock = clock
        self.conversations: OrderedDict[str, Conversation] = OrderedDict()

    def configure(self, understander: Understander, config: Config) -> None:
        """After a reload: new settings, the conversations kept."""
        self.understander = understander
        self.follow_up_s = config.daemon.follow_up_s
        self.confirm_window_s = config.confirm.window_s

    def conversation(self, source: str) -> Conversation:
        conversation = self.conversations.pop(source, None) or Conversation()
        self.conversations[source] = conversation
        while len(self.conversations) > MAX_CONVERSATIONS:
            self.conversations.popitem(last=False)
        return conversation

    # -- one command -------------------------------------------------------------------------

    def handle(self, text: str, registry: Registry, *, source: str = "mqtt", area: str | None = None,
               request_id: Any = None) -> Turn:  # fmt: skip
        now = self.clock()
        conversation = self.conversation(source)
        pending, conversation.pending = conversation.pending, None
        if pending is not None and now <= pending.expires:
            if YES.match(text):
                done = replace(pending.parse, actions=pending.parse.pending_actions, reply=pending.parse.pending_reply,
                               outcome="done", pending_actions=(), pending_reply="")  # fmt: skip
                self._remember(conversation, done, now)
                return Turn(done, done.actions, done.reply, True, "done", request_id, source)
            if NO.match(text):
                return Turn(None, (), replies.CANCELLED, True, "cancelled", request_id, source)
            # anything else: the question is dropped, and this is a command of its own
        before = _timer_states(conversation.timers, now)
        previous = conversation.previous if conversation.previous and now - conversation.previous_at <= self.follow_up_s else None
        parse = self.understander.parse(text, registry, Context(area=area, previous=previous))
        if parse.outcome == "confirm":
            conversation.pending = Pending(parse, request_id, now + self.confirm_window_s)
            return Turn(parse, (), parse.reply, True, "confirm", request_id, source)
        if parse.commands and parse.outcome in ("done", "answer") and any(c.intent in TIMER_INTENTS for c in parse.commands):
            kept = copy.deepcopy(conversation.timers)
            parse = compound.with_parts(parse, [self._timer(conversation.timers, c, now)
                                                if c.intent in TIMER_INTENTS else c for c in parse.commands])  # fmt: skip
            if parse.outcome not in ("done", "answer"):  # a part could not be done: none of it is, timers included
                conversation.timers = kept
        elif parse.intent in TIMER_INTENTS:
            parse = self._timer(conversation.timers, parse, now)
        self._remember(conversation, parse, now)
        return Turn(parse, parse.actions, parse.reply, parse.outcome in ("done", "answer"), parse.outcome, request_id,
                    source, _timer_changes(before, conversation.timers, now, source))  # fmt: skip

    def _remember(self, conversation: Conversation, parse: Parse, now: float) -> None:
        last = parse.commands[-1] if parse.commands else parse  # "and the bedroom too" follows the last command
        if last.intent and parse.outcome in ("done", "answer"):
            conversation.previous, conversation.previous_at = Previous.of(last), now

    # -- timers --------------------------------------------------------------------------------

    def due(self) -> list[TimerFinished]:
        """Timers that have finished since the last call, each for the source that set it."""
        now = self.clock()
        return [TimerFinished(t.id, t.duration_s, t.name, source, t.label())
                for source, conversation in self.conversations.items() for t in conversation.timers.due(now)]  # fmt: skip

    @staticmethod
    def _timer(timers: Timers, parse: Parse, now: float) -> Parse:
        intent = parse.intent or ""
        duration = parse.slots.get("duration_s")
        timer: Timer | None = None
        count = 0
        if intent == "HassStartTimer":
            if not duration:
                return replace(parse, reply=replies.timer_reply(intent), outcome="unsupported")
            if len(timers.timers) >= MAX_TIMERS:
                return replace(parse, reply=replies.too_many_timers(MAX_TIMERS), outcome="unsupported")
            timer = timers.start(float(duration), now)
        elif intent == "HassCancelTimer":
            timer = timers.cancel(float(duration) if duration else None)
        elif intent == "HassCancelAllTimers":
            count = timers.cancel_all()
        elif intent == "HassPauseTimer":
            timer = timers.pause(now)
        elif intent == "HassUnpauseTimer":
            timer = timers.resume(now)
        elif intent in ("HassIncreaseTimer", "HassDecreaseTimer"):
            if not duration:
                return replace(parse, reply=replies.timer_reply(intent, known=True), outcome="unsupported")
            timer = timers.adjust((1 if intent == "HassIncreaseTimer" else -1) * float(duration), now)
        status = timers.status(now) if intent == "HassTimerStatus" else None
        reply = replies.timer_reply(intent, duration_s=timer.duration_s if intent == "HassStartTimer" and timer else duration,
                                    label=timer.label() if timer else None, known=True, count=count, status=status)  # fmt: skip
        return replace(parse, reply=reply)


def _timer_states(timers: Timers, now: float) -> dict[int, tuple[float, float, bool]]:
    """Each timer's (duration_s, remaining_s, active), by id."""
    return {t.id: (t.duration_s, t.remaining(now), not t.paused) for t in timers.timers}


def _timer_changes(before: dict[int, tuple[float, float, bool]], timers: Timers, now: float,
                   source: str) -> tuple[TimerChanged, ...]:  # fmt: skip
    """What one command did to the timers: compared before and after, so a command undone as a whole (a
    part of the sentence could not be done) changed nothing."""
    changes = []
    for timer in timers.timers:
        duration, remaining, active = timer.duration_s, timer.remaining(now), not timer.paused
        was = before.get(timer.id)
        if was is None:
            changes.append(TimerChanged("started", timer.id, duration, remaining, active, timer.name, source))
        elif was[0] != duration or was[2] != active:
            changes.append(TimerChanged("updated", timer.id, duration, remaining, active, timer.name, source))
    after = {t.id for t in timers.timers}
    for timer_id, (duration, remaining, active) in before.items():
        if timer_id not in after:
            changes.append(TimerChanged("cancelled", timer_id, duration, remaining, active, None, source))
    return tuple(changes)
