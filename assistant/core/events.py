"""Typed events: what the edges (MQTT, the microphone, later Wyoming) hand the service, and what it hands back.

Each event is a frozen dataclass; those that cross MQTT carry their wire form beside them, as wyoming's
``Eventable`` does: ``from_payload(bytes)`` for what comes in (raises ``BadMessage``, counted and dropped by
the caller), ``payload()`` for what goes out. Queues carry these, never tuples; nothing is told apart by a
made-up topic.

In: ``TextCommand``, ``SpokenCommand``, ``AskedCommand``, ``StateReport``, ``DiscoveryMessage``,
``ConnectionChanged``, ``Say``, ``Listen``. Out: ``IntentResult``, ``Reply``, ``TimerFinished``,
``TimerChanged`` (not on MQTT: for the satellite that set the timer).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .messages import Action, Parse

COMMAND_FIELDS = frozenset({"text", "id", "context", "source"})
MAX_SOURCE_CHARS = 64
MAX_SAY_CHARS = 1000


class BadMessage(Exception):
    """An incoming message that is dropped and counted under ``reason``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _finite(data: Any) -> Any:
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def wire_json(data: Any) -> bytes:
    """Strict JSON out: NaN and Infinity (invalid JSON for every other reader) become null; lone surrogates
    become U+FFFD, so one odd string never stops a reply."""
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(data), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8", errors="replace")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"duplicate key {key!r}")
        data[key] = value
    return data


def strict_loads(text: str) -> Any:
    """JSON in: duplicate keys and NaN/Infinity are errors (ValueError), not silently last-wins or floats."""
    return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)


# -- in ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextCommand:
    """A command typed or sent by a program over ``<prefix>/<site>/command``.

    Wire form: plain UTF-8 text, or JSON ``{"text", "id", "context": {"area"}, "source"}``."""

    text: str
    request_id: str | int | float | None = None
    """Echoed in the reply and the intent result, so a client can match them."""
    area: str | None = None
    source: str = "mqtt"
    """Who is talking: each source has a conversation of its own (follow-ups, confirmations, timers)."""
    received_s: float | None = field(default=None, compare=False)
    """When it arrived, on the service's monotonic clock (not on the wire): a command that waited longer
    than ``mqtt.delivery_timeout_s`` is answered "too late" instead of acted on."""

    @classmethod
    def from_payload(cls, payload: bytes) -> TextCommand:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise BadMessage("invalid_utf8", "command is not UTF-8") from None
        stripped = text.strip()
        if not stripped.startswith("{"):
            return cls(stripped)
        try:
            data = strict_loads(stripped)
        except (ValueError, RecursionError):
            raise BadMessage("invalid_json", "command looks like JSON but is not") from None
        if not isinstance(data, dict):
            raise BadMessage("invalid_json", "command JSON must be an object")
        unknown = set(data) - COMMAND_FIELDS
        if unknown:
            raise BadMessage("unknown_fields", f"unknown fields {sorted(unknown)[:5]}")
        if not isinstance(data.get("text"), str):
            raise BadMessage("bad_fields", "`text` must be a string")
        request_id = data.get("id")
        if isinstance(request_id, bool) or (request_id is not None and not isinstance(request_id, (str, int, float))):
            raise BadMessage("bad_fields", "`id` must be a string or a number")
        if isinstance(request_id, float) and not math.isfinite(request_id):
            raise BadMessage("bad_fields", "`id` must be a finite number")
        context = data.get("context") or {}
        if not isinstance(context, dict) or not isinstance(context.get("area", ""), str) or set(context) - {"area"}:
            raise BadMessage("bad_fields", "`context` may only hold `area` (a string)")
        source = data.get("source", "mqtt")
        if not isinstance(source, str) or len(source) > MAX_SOURCE_CHARS:
            raise BadMessage("bad_fields", "`source` must be a short string")
        return cls(data["text"], request_id, context.get("area"), source)


@dataclass(frozen=True)
class SpokenCommand:
    """A command heard by a microphone, after the wake gate (the wake phrase is already taken off)."""

    text: str
    source: str = "voice"
    area: str | None = None
    """The room the microphone is in; None: the site's area."""
    received_s: float | None = field(default=None, compare=False)
    """When it was heard, on ``time.monotonic``'s clock (as ``TextCommand.received_s``)."""


@dataclass(frozen=True, eq=False)
class AskedCommand:
    """A command whose asker waits for the answer on a thread of its own (Home Assistant over Wyoming, a
    satellite). Its wire form is Wyoming's ``transcript`` (``assistant.wyoming``).

    ``act`` True: understood in ``source``'s conversation and carried out like any other command; False
    (Wyoming's intent mode): only understood, nothing is sent. ``answer(parse, reply)`` is called once, on
    the service's main thread: it must only hand the answer over (``loop.call_soon_threadsafe``), never
    block. A command dropped from a full bus is never answered: the asker waits with a timeout."""

    text: str
    source: str
    area: str | None
    answer: Callable[[Parse | None, Reply], None]
    act: bool = True
    received_s: float | None = field(default_factory=time.monotonic, compare=False)
    """When it was asked (``time.monotonic``): as ``TextCommand.received_s``."""


@dataclass(frozen=True)
class StateReport:
    """A message on a device's state topic."""

    topic: str
    payload: bytes


@dataclass(frozen=True)
class DiscoveryMessage:
    """A Home Assistant discovery config, or Zigbee2MQTT's device list; an empty payload removes."""

    topic: str
    payload: bytes


@dataclass(frozen=True)
class ConnectionChanged:
    up: bool


@dataclass(frozen=True)
class Say:
    """``<prefix>/<site>/say``: speak this text (UTF-8, at most ``MAX_SAY_CHARS`` characters kept)."""

    text: str

    @classmethod
    def from_payload(cls, payload: bytes) -> Say:
        return cls(payload.decode("utf-8", errors="replace")[:MAX_SAY_CHARS])


@dataclass(frozen=True)
class Listen:
    """``<prefix>/<site>/listen``: the next utterance needs no wake phrase."""


@dataclass(frozen=True)
class RejectedCommand:
    """A message on the command topic that could not be taken (malformed, oversize): counted under
    ``reason`` and answered, so the sender is not left waiting."""

    reason: str
    detail: str


InEvent = (TextCommand | SpokenCommand | AskedCommand | StateReport | DiscoveryMessage | ConnectionChanged | Say
           | Listen | RejectedCommand)  # fmt: skip


# -- out -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntentResult:
    """What a command was understood as, and which device messages went out: ``<prefix>/<site>/intent``."""

    parse: Parse
    request_id: Any = None
    sent: tuple[Action, ...] = ()
    failed: tuple[Action, ...] = ()
    publish_ms: float = 0.0

    def payload(self) -> bytes:
        message = self.parse.as_dict(self.request_id)
        message["sent"] = [a.as_dict() for a in self.sent]
        message["failed"] = [a.as_dict() for a in self.failed]
        message["timings_ms"] = {**self.parse.timings_ms, "publish": round(self.publish_ms, 3)}
        return wire_json(message)


@dataclass(frozen=True)
class Reply:
    """The answer to one command: ``<prefix>/<site>/reply`` ``{"text", "success", "outcome", "id"}``."""

    text: str
    success: bool
    outcome: str
    request_id: Any = None
    source: str = "mqtt"
    """The conversation it answers (spoken replies go back to the microphone that asked)."""

    def payload(self) -> bytes:
        message: dict[str, Any] = {"text": self.text, "success": self.success, "outcome": self.outcome}
        if self.request_id is not None:
            message["id"] = self.request_id
        return wire_json(message)


@dataclass(frozen=True)
class TimerFinished:
    """``<prefix>/<site>/timer`` ``{"event": "finished", "id", "duration_s", "name"}``."""

    timer_id: int
    duration_s: float
    name: str | None = None
    source: str = "mqtt"
    label: str = field(default="timer", compare=False)
    """How the timer is spoken of ("10-minute timer")."""

    def payload(self) -> bytes:
        return wire_json({"event": "finished", "id": self.timer_id, "duration_s": self.duration_s, "name": self.name})


@dataclass(frozen=True)
class TimerChanged:
    """A command started, paused, resumed, lengthened, shortened or cancelled a timer (``Turn.timers``).
    Not published on MQTT; the Wyoming satellite that set the timer is told (Wyoming's ``timer-started``,
    ``timer-updated``, ``timer-cancelled``)."""

    change: Literal["started", "updated", "cancelled"]
    timer_id: int
    duration_s: float
    """As set, including time added or taken off."""
    remaining_s: float
    """Seconds left (when paused: left when it was paused)."""
    active: bool
    """False while paused."""
    name: str | None = None
    source: str = "mqtt"
