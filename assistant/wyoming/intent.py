"""Conversation over Wyoming, the pure part: who is asking, and what the answer looks like on the wire.

``asker(context, satellites, peer)`` names the conversation (``source``) and room (``area``) of a
``transcript`` from its context; ``answer_events(parse, reply, mode)`` turns the service's answer into
Wyoming's ``handled`` / ``not-handled`` (mode ``handle``) or ``intent`` / ``not-recognized`` (mode
``intent``, with Home Assistant's slot names, from ``ha_entities``). No I/O, no threads.

Several commands in one sentence ("turn on the kitchen light and set the office lamp to 30 percent"):
in handle mode they are carried out together and answered by one ``handled`` with the one reply (the
protocol's ``handled`` carries one text); in intent mode they are answered with the protocol's
multi-intent wrapper (wyoming 1.10: ``intents-start``, one ``intent`` per command in the order spoken,
each with its own slots and reply, ``intents-stop``). A sentence with a part not understood is
``not-recognized`` as a whole: Home Assistant never carries out half of it.
"""

from __future__ import annotations

from typing import Any

from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.intent import Entity, Intent, IntentsStart, IntentsStop, NotRecognized

from ..config import Satellite
from ..core.events import MAX_SOURCE_CHARS, Reply
from ..core.messages import Parse
from ..devices import Registry

HANDLED_OUTCOMES = frozenset({"done", "answer", "confirm", "cancelled"})
"""Answers Home Assistant takes as ours; anything else (rejected, unsure, no target, ...) is `not-handled`,
so HA can fall back to its own agent."""

CONTEXT_IDS = ("satellite_id", "device_id", "conversation_id")
"""Context keys naming who is asking, in order of preference."""

MAX_TEXT_CHARS = 1000
"""Longer transcripts are cut here."""

PASSED_SLOTS = ("brightness", "color", "temperature", "position", "percentage", "volume_level", "item", "state")
"""Our slot names that Home Assistant's intents use as they are."""


def asker(context: dict[str, Any] | None, satellites: list[Satellite], peer: str) -> tuple[str, str | None]:
    """``(source, area)`` of a command: a configured satellite's id and room when the context names one
    (``satellite_id`` or ``device_id``), else ``wyoming:<id>`` from the context, else ``wyoming:<peer>``.
    An ``area`` in the context wins over the satellite's."""
    context = context if isinstance(context, dict) else {}
    ids = [str(context[k]) for k in CONTEXT_IDS if isinstance(context.get(k), (str, int))]
    known = {s.id: s for s in satellites}
    satellite = next((known[i] for i in ids if i in known), None)
    area = context.get("area") if isinstance(context.get("area"), str) else None
    if satellite is not None:
        return satellite.id, area or satellite.area
    source = f"wyoming:{ids[0] if ids else peer}"
    return source[:MAX_SOURCE_CHARS], area


def ha_entities(parse: Parse, registry: Registry) -> list[Entity]:
    """Home Assistant's slots for ``parse``: the target's ``name`` (one device) or its ``area`` and
    ``domain`` (several), the values HA names as we do, and a timer's duration in hours/minutes/seconds."""
    slots: dict[str, Any] = {}
    devices = [registry.device(t) for t in parse.targets]
    if len(devices) == 1:
        slots["name"] = devices[0].name
    elif devices:
        areas = {d.area for d in devices}
        domains = {d.domain for d in devices}
        if len(areas) == 1 and None not in areas:
            slots["area"] = areas.pop()
        if len(domains) == 1:
            slots["domain"] = domains.pop()
    elif isinstance(parse.slots.get("area"), str):
        area = registry.area(parse.slots["area"])
        slots["area"] = area.name if area else parse.slots["area"]
    for key in PASSED_SLOTS:
        if key in parse.slots:
            slots[key] = parse.slots[key]
    duration = parse.slots.get("duration_s")
    if isinstance(duration, (int, float)) and duration > 0:
        hours, rest = divmod(int(duration), 3600)
        minutes, seconds = divmod(rest, 60)
        slots.update({k: v for k, v in (("hours", hours), ("minutes", minutes), ("seconds", seconds)) if v})
    return [Entity(name, value) for name, value in slots.items()]


def answer_events(parse: Parse | None, reply: Reply, mode: str, registry: Registry) -> list[Event]:
    """The Wyoming events that answer one ``transcript`` (see the module docstring)."""
    if mode == "intent":
        if parse is None or not all(_recognized(c) for c in parse.commands or (parse,)):
            return [NotRecognized(text=reply.text or None).event()]
        if not parse.commands:
            return [Intent(parse.intent or "", ha_entities(parse, registry), text=reply.text or None).event()]
        intents = [Intent(c.intent or "", ha_entities(c, registry), text=c.reply or None).event() for c in parse.commands]
        return [IntentsStart().event(), *intents, IntentsStop().event()]
    if reply.outcome in HANDLED_OUTCOMES:
        return [Handled(text=reply.text).event()]
    return [NotHandled(text=reply.text or None).event()]


def _recognized(parse: Parse) -> bool:
    """An intent Home Assistant can be given (the target may be one only HA knows)."""
    return parse.intent is not None and parse.outcome not in ("rejected", "unsure")
