"""Several commands in one sentence: where to split, and how the parts' results make one answer. Pure.

"close the bedroom curtains and turn on the bedside lamp" is two commands; "turn off the tv and the lights" is
two commands that share a verb; "set a timer for an hour and a half" is one. The parser splits at "and",
"then", "and also", commas and semicolons, except inside a span the model tagged on the whole sentence (a
duration, a name, an item). Each part is understood by the same model; a part with no words of its own beyond
a device ("and the lights") is understood as a follow-up of the part before it, so it borrows that verb and
its values. ``combine`` makes the parts one Parse: every part done, in order, with one reply that says each
result; any part not understood or not possible, and nothing is done, with a reply that says which part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from ..core.messages import Action, Parse
from ..devices import Registry

_SEPARATOR = re.compile(
    r"\s*[,;](?=\s)\s*(?:(?:and\s+)?(?:then|also|after\s+that)\s+|and\s+|plus\s+)?"
    r"|\s+and\s+(?:then|also|after\s+that)\s+|\s+(?:and|then|plus)\s+|\.\s+(?=\w)",
    re.I,
)
_FILLER = re.compile(r"^(?:ok(?:ay)?|hey|hi|hello|please|um+|uh+|er+|so|well|right|alright|now|thanks|thank you|"
                     r"cheers|yes|yeah|computer|assistant|and|then|also)(?:\s+(?:please|now|thanks))?[.!?]*$", re.I)  # fmt: skip
_DANGLING = re.compile(r"\b(?:the|a|an|my|our|to|in|on the|of|for|at|with|by)$", re.I)
_OWN_WORDS = re.compile(r"\b(?!(?:the|a|an|my|our|all|both|too|also|as|well|please|in|on|of|for|to|at|ones?|"
                        r"lights?|lamps?)\b)[^\W\d_]+", re.I)  # fmt: skip


def split(text: str, protected: Sequence[tuple[int, int]] = ()) -> list[str]:
    """The parts of a sentence, at separators outside the protected character ranges (the whole sentence's
    tagged spans). Filler parts ("ok", "please") join their neighbour; one part means one command."""
    parts: list[str] = []
    start = 0
    for match in _SEPARATOR.finditer(text):
        if any(a < match.end() and match.start() < b for a, b in protected):
            continue
        parts.append(text[start:match.start()])
        start = match.end()
    parts.append(text[start:])
    kept: list[str] = []
    parts = [p.strip(" ,;.") for p in parts]
    for i, part in enumerate(parts):
        if not part or _FILLER.match(part):
            continue  # "ok, turn on the light", "turn it off, please"
        later = parts[i + 1] if i + 1 < len(parts) else ""
        if later and (_DANGLING.search(part) or later.casefold().startswith(part.casefold())):
            continue  # a false start: "turn on the, turn on the living room lamp"
        kept.append(part)
    return kept or [text]


_DEVICE_WORDS = frozenset(
    "light lights lamp lamps bulb bulbs fan fans heater heating tv telly television speaker speakers radio music door "
    "doors blind blinds curtain curtains shade shades shutter shutters window windows plug plugs socket "
    "switches thermostat radiator ac aircon vacuum robot hoover mower sprinkler valve kettle alarm one ones "
    "room rooms floor upstairs downstairs outside inside here there everything everywhere".split())


_VERBS = frozenset("lock unlock switch turn open close shut set start stop play pause resume dim brighten run arm "
                   "disarm mute unmute clean mow boil make heat cool raise lower activate press".split())


def has_own_words(part: str, registry: Registry) -> bool:
    """Whether a part says more than which device or where: "the lights", "the fan in the office", "the
    bedroom too" say only where, and borrow the verb of the part before."""
    known = set(_DEVICE_WORDS)
    for device in registry.devices:
        for words in (device.name, *device.aliases, device.area or ""):
            known.update(words.casefold().split())
    for area in registry.areas:
        for words in (area.name, *area.aliases):
            known.update(words.casefold().split())
    known -= _VERBS  # "Front Door Lock" is a name, but "lock" is still a verb
    return any(w.casefold() not in known for w in _OWN_WORDS.findall(part))


def _dedupe(actions: Sequence[Action]) -> tuple[Action, ...]:
    out: list[Action] = []
    for action in actions:
        if action not in out:
            out.append(action)
    return tuple(out)


OK_OUTCOMES = ("done", "answer", "confirm")


def combine(text: str, parts: Sequence[Parse], failed: Sequence[str] = ()) -> Parse:
    """One Parse for several commands. ``failed`` names each part that was not understood (its words)."""
    first = parts[0]
    targets = tuple(sorted({t for p in parts for t in p.targets}))
    confidence = min(p.confidence for p in parts)
    timings = {"total": round(sum(p.timings_ms.get("total", 0.0) for p in parts), 3)}
    blocking = next((p for p in parts if p.outcome not in OK_OUTCOMES), None)
    if blocking is not None:
        if blocking.intent is None:
            words = failed[0] if failed else blocking.text
            reply = f"Sorry, I didn't understand \u201c{words}\u201d, so I did nothing."
        else:
            reply = f"{blocking.reply.rstrip()} So I did nothing.".replace(". So", ", so", 1) \
                if blocking.reply.rstrip().endswith(".") else f"{blocking.reply.rstrip()} I did nothing."
        return Parse(text=text, intent=blocking.intent, confidence=confidence, slots=dict(blocking.slots),
                     targets=targets, reply=reply, outcome=blocking.outcome, timings_ms=timings,
                     commands=tuple(parts))  # fmt: skip
    if any(p.outcome == "confirm" for p in parts):
        question = next(p.reply for p in parts if p.outcome == "confirm")
        pending = _dedupe([a for p in parts for a in (p.pending_actions if p.outcome == "confirm" else p.actions)])
        pending_reply = " ".join(p.pending_reply if p.outcome == "confirm" else p.reply for p in parts)
        return Parse(text=text, intent=first.intent, confidence=confidence, slots=dict(first.slots), targets=targets,
                     reply=question, outcome="confirm", timings_ms=timings, pending_actions=pending,
                     pending_reply=pending_reply, commands=tuple(parts))  # fmt: skip
    actions = _dedupe([a for p in parts for a in p.actions])
    outcome = "done" if any(p.outcome == "done" for p in parts) else "answer"
    return Parse(text=text, intent=first.intent, confidence=confidence, slots=dict(first.slots), targets=targets,
                 actions=actions, reply=" ".join(p.reply for p in parts), outcome=outcome, timings_ms=timings,
                 commands=tuple(parts))  # fmt: skip


def with_parts(parse: Parse, parts: Sequence[Parse]) -> Parse:
    """A compound Parse again after its parts changed (the session answered its timer parts)."""
    return replace(combine(parse.text, parts), timings_ms=parse.timings_ms)
