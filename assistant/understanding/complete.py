"""Is what was said so far a whole command? The judgement behind acting at a short pause (``audio.act_early``).

``why_wait(parse, registry)`` is a pure function of what the parser made of the words heard at a pause: None
when they are a whole, confident device action with every device said, so acting now cannot cut the command
short; otherwise the reason to wait for the end of speech (for the log and the tests). It only ever says
"wait" more often than the parser would act: a fragment ("turn on the kitchen", "set the lamp to") never acts
early, and neither does anything that asks first (a sensitive action's confirmation), answers (a question,
a timer), leans on the site's own room for its devices ("turn off the lights" may go on "... in the hall")
or could still be given a value ("dim the kitchen lights" may go on "... to 30%").
"""

from __future__ import annotations

import re

from ..core.messages import Parse
from ..devices import Registry
from . import polarity
from .plan import INTENTS
from .resolve import kind_words, match_area, normalise

MIN_CONFIDENCE = 0.95
"""The model's probability for each command's intent: early action is for sentences it is sure of (the parser
acts from ``understanding.min_confidence_to_act``, 0.8 by default; a fragment like "dim the" scores 0.83)."""

_DEVICE_SLOTS = ("name", "area", "floor")

_OPEN_END = re.compile(
    r"\b(the|a|an|my|our|your|his|her|their|this|that|these|those|some|every|each|both|"
    r"to|in|into|at|of|for|from|by|with|within|near|across|under|over|than|as|until|till|about|around|between|"
    r"and|or|but|then|also|plus|so|"
    r"set|turn|switch|put|make|get|dim|brighten|open|close|shut|lock|unlock|start|stop|play|pause|raise|lower|"
    r"is|are|be|can|could|would|will)\W*$", re.I)  # fmt: skip
"""A last word that expects more: an article, a preposition, a conjunction, a verb still waiting for its object."""

_NUMBER_END = re.compile(
    r"(\d|\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    r"point|half))[^\w%\u00b0]*$", re.I)  # fmt: skip
"""A value still being said: "twenty" may go on "... two", "50" may go on "... degrees" ("50%" is whole)."""

_VALUE_SAID = re.compile(r"\b(to|by|at)\s+\S|%|\bpercent\b", re.I)
"""A value given: "dim the lights" may go on "... to 30%"; "dim the lights to 30%" has it."""
_SET = re.compile(r"\bset\b", re.I)


def why_wait(parse: Parse, registry: Registry, min_confidence: float = MIN_CONFIDENCE) -> str | None:
    """None when ``parse`` (of the words heard so far) may be acted on now; else why it must wait."""
    if parse.outcome != "done" or not parse.actions:
        return f"not a device action done at once (outcome {parse.outcome})"
    if parse.pending_actions:
        return "it asks for a confirmation first"
    text = parse.text.strip()
    if _OPEN_END.search(text):
        return f"the last word expects more: {text.split()[-1]!r}"
    if _NUMBER_END.search(text):
        return "it ends in a number, which may go on"
    if polarity.TURN.search(text) and not polarity.ON_OR_OFF.search(text):  # waiting for its on or off
        return "'turn'/'switch' without 'on' or 'off' yet"
    if _SET.search(text) and not _VALUE_SAID.search(text):
        return "'set' without a value yet"
    for part in parse.commands or (parse,):
        if part.confidence < min_confidence:
            return f"not sure enough: {part.text!r} at {part.confidence:.2f} (< {min_confidence:.2f})"
        if part.outcome != "done" or not part.targets:
            return f"{part.text!r} has no devices done at once (outcome {part.outcome})"
        said = [k for k in _DEVICE_SLOTS if part.slots.get(k)]
        if not said:
            return f"{part.text!r} names no device, room or floor (the site's own room may be said next)"
        room_named = "name" in said and match_area(registry, str(part.slots["name"]), fuzzy=False) is not None \
            and not kind_words(str(part.slots["name"]))[0]  # fmt: skip
        if ("name" not in said or room_named) and not kind_words(part.text)[0]:
            return f"{part.text!r} names a room but no device in it ('the kitchen' ... 'light')"
        spec = INTENTS.get(part.intent or "")
        if spec is not None and spec.slots and not _VALUE_SAID.search(part.text):
            return f"{part.text!r} may still be given a value ('dim the lights' ... 'to 30%')"
        if "name" in said and (longer := _longer_name(str(part.slots["name"]), registry)):
            return f"{part.slots['name']!r} may go on to {longer!r}"
    return None


def _longer_name(said: str, registry: Registry) -> str | None:
    """A device name or alias that begins with the name said and goes on ("desk lamp" of "desk lamp strip")."""
    spoken = normalise(said)
    if not spoken:
        return None
    for device in registry.devices:
        for name in (device.name, *device.aliases):
            if normalise(name).startswith(spoken + " "):
                return name
    return None
