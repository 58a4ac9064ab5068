"""Several commands in one sentence: where to split, and how the parts' results make one answer. Pure.

"close the bedroom curtains and turn on the bedside lamp" is two commands; "turn off the tv and the lights" is
two commands that share a verb; "set a timer for an hour and a half" is one. The parser splits at "and",
"then", "and also", commas and semicolons, except inside a span the model tagged on the whole sentence (a
duration, a name, an item), and only where both sides read as commands (``split``): "turn the big light off,
it's blinding me" is one. Each part is understood by the same model; a part with no words of its own beyond a
device ("and the lights") is understood as a follow-up of the part before it, so it borrows that verb and its
values, and must name the devices it lands on. ``combine`` makes the parts one Parse: every part done, in order, with one reply that says each
result; any part not understood or not possible, and nothing is done, with a reply that says which part.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..config import Device
from ..core.messages import Action, Parse
from ..devices import Registry
from .resolve import kind_words

_SEPARATOR = re.compile(
    r"\s*[,;](?=\s)\s*(?:(?:and\s+)?(?:then|also|after\s+that)\s+|and\s+|plus\s+)?"
    r"|\s+and\s+(?:then|also|after\s+that)\s+|\s+(?:and|then|plus)\s+|\.\s+(?=\w)",
    re.I,
)
_FILLER = re.compile(r"^(?:ok(?:ay)?|hey|hi|hello|please|um+|uh+|er+|so|well|right|alright|now|thanks|thank you|"
                     r"cheers|yes|yeah|computer|assistant|and|then|also)(?:\s+(?:please|now|thanks))?[.!?]*$", re.I)  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_DANGLING = re.compile(r"\b(?:the|a|an|my|our|to|in|on the|of|for|at|with|by)$", re.I)
_OWN_WORDS = re.compile(r"\b(?!(?:the|a|an|my|our|all|both|too|also|as|well|please|in|on|of|for|to|at|ones?|"
                        r"lights?|lamps?)\b)[^\W\d_]+", re.I)  # fmt: skip


_PREFIX = re.compile(r"^(?:(?:and|then|also|now|oh|um+|uh+|so|just|quickly|kindly|please|ok(?:ay)?|hey|right|"
                     r"go ahead and|i want you to|i'd like you to|(?:can|could|would|will) you(?: please)?)[\s,]+)+", re.I)  # fmt: skip
_QUESTION = frozenset("what what's whats which is are how how's where where's who who's when does do has any".split())
_COMMAND_START = _QUESTION | frozenset(
    "turn switch set put make dim brighten lower raise increase decrease reduce boost open close shut lock unlock "
    "start stop pause resume continue unpause play skip mute unmute add remove delete check cross tick mark complete "
    "cancel arm disarm activate deactivate run trigger press push vacuum clean hoover mow dock park send return bring "
    "tell announce broadcast boil brew heat cool warm chill crank bump kill cut enable disable change adjust give "
    "next previous go restart reboot reset ring water".split())
_PARTICLES = frozenset({"on", "off", "up", "down"})
_NOT_DEVICE = frozenset("the a an my our all both too also as well please in on of for to at and".split())
_TRAILING = re.compile(r"[\s,]+(?:and|then|and then)$", re.I)
_VALUES = frozenset("to at by degrees degree percent per cent half full max maximum min minimum zero one two three four "
                    "five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty sixty seventy eighty "
                    "ninety hundred".split())
_JOINED = re.compile(r"\b(?:and|then|also|plus)\b", re.I)
_HOW = re.compile(r"\b(?:on|off|up|down|\d+|percent|degrees?|half|max|min)\b|%", re.I)


_NOT_A_VERB = _NOT_DEVICE | _QUESTION | frozenset(
    "it i we you they he she that this there here so but because if when while since just not no".split())
_OBJECT = frozenset("the my our your his her their".split())


def attempts_a_command(part: str) -> bool:
    """A part that has the shape of a command this assistant may not know: a word, then its object
    ("blorp the frobnicator", "feed the cat"). After "and" it is cut off as a command of its own, so that
    it is not silently dropped from the one before: not understood, nothing is done and the reply says so."""
    words = [w.casefold().strip(",.!?") for w in part.split()]
    return len(words) >= 2 and words[0].isalpha() and words[0] not in _NOT_A_VERB and words[1] in _OBJECT


def starts_like_command(part: str) -> bool:
    """Whether a part begins as a command or a question does ("turn ...", "what's ..."), politeness aside."""
    words = _PREFIX.sub("", part.strip()).split(maxsplit=1)
    return bool(words) and words[0].casefold().strip(",.!?") in _COMMAND_START


def _reads_as_command(part: str, is_command: Callable[[str], bool], *, first: bool = False,
                      joined: bool = True) -> bool:  # fmt: skip
    """``is_command``, and: a device named with nothing said about it is a command only after another one
    ("..., and the lights"), not first ("mower, go back to your dock"); a question after a bare comma is an
    aside ("how warm is it outside, does mum need a coat")."""
    if not is_command(part):
        return False
    words = _PREFIX.sub("", part).split(maxsplit=1)
    head = words[0].casefold().strip(",.!?") if words else ""
    if head in _COMMAND_START and not (head in _QUESTION and not joined):
        return True
    if head in _QUESTION:
        return False
    return bool(_HOW.search(part)) or not first  # "..., the garage light and the hallway light"


def split(text: str, protected: Sequence[tuple[int, int]] = (),
          is_command: Callable[[str], bool] = starts_like_command) -> list[str]:  # fmt: skip
    """The commands of a sentence. It is cut at separators ("and", "then", commas...) outside the protected
    character ranges (the whole sentence's tagged spans), and only where what comes before and what comes after
    both read as commands (``is_command``): "turn the light off, it's blinding me" and "ugh, pause the telly" are
    one command each. False starts are dropped; one part means one command."""
    cuts: list[tuple[int, int]] = []  # (start, end) of each separator
    for match in _SEPARATOR.finditer(text):
        if any(a < match.end() and match.start() < b for a, b in protected):
            continue
        if cuts and _FILLER.match(text[cuts[-1][1]:match.start()].strip(" ,;.")):
            cuts[-1] = (cuts[-1][0], match.end())  # "kettle on and, uh, resume the radio": one separator
        else:
            cuts.append((match.start(), match.end()))
    parts: list[str] = []
    begin = 0
    for i, (start, end) in enumerate(cuts):
        left = _TRAILING.sub("", text[begin:start].strip(" ,;."))
        right = text[end:cuts[i + 1][0] if i + 1 < len(cuts) else len(text)].strip(" ,;.")
        joined = bool(_JOINED.search(text[start:end]))
        if not left or _FILLER.match(left):
            begin = end  # "ok, turn on the light"
        elif _DANGLING.search(left) or right.casefold().startswith(left.casefold()):
            begin = end  # a false start: "turn on the, turn on the living room lamp"
        elif _reads_as_command(left, is_command, first=not parts) and (
                _reads_as_command(_PREFIX.sub("", right), is_command, joined=joined)
                or (joined and attempts_a_command(_PREFIX.sub("", right)))):  # fmt: skip
            parts.append(left)
            begin = end
    last = _PREFIX.sub("", text[begin:].strip(" ,;.")) if parts else text[begin:].strip(" ,;.")
    if last and not (parts and _FILLER.match(last)):  # "turn it off, please"
        parts.append(last)
    return parts or [text]


_DEVICE_WORDS = frozenset(
    "light lights lamp lamps bulb bulbs fan fans heater heating tv telly television speaker speakers radio music door "
    "doors blind blinds curtain curtains shade shades shutter shutters window windows plug plugs socket "
    "switches thermostat radiator ac aircon vacuum robot hoover mower sprinkler valve kettle alarm one ones "
    "room rooms floor upstairs downstairs outside inside here there everything everywhere timer timers".split())


_VERBS = frozenset("lock unlock switch turn open close shut set start stop play pause resume dim brighten run arm "
                   "disarm mute unmute clean mow boil make heat cool raise lower activate press".split())


_WORDS_OF: dict[int, tuple[Registry, frozenset[str]]] = {}


def _device_words(registry: Registry) -> frozenset[str]:
    """Every word of the home's device names, aliases and areas (kept for the last few registries)."""
    cached = _WORDS_OF.get(id(registry))
    if cached is not None and cached[0] is registry:
        return cached[1]
    words = _words_of(registry)
    if len(_WORDS_OF) >= 4:
        _WORDS_OF.pop(next(iter(_WORDS_OF)))
    _WORDS_OF[id(registry)] = (registry, words)
    return words


def _words_of(registry: Registry) -> frozenset[str]:
    known = set(_DEVICE_WORDS)
    for device in registry.devices:
        for words in (device.name, *device.aliases, device.area or ""):
            known.update(words.casefold().split())
    for area in registry.areas:
        for words in (area.name, *area.aliases):
            known.update(words.casefold().split())
    return frozenset(known - _VERBS - _PARTICLES - _VALUES - _NOT_DEVICE)


def says_which(part: str, devices: Sequence[Device]) -> bool:
    """Whether a part's words name these devices: their name, alias or area, or their kind ("the lights")."""
    said = {w.casefold() for w in _WORD.findall(part)}
    kinds = kind_words(part)[0]
    for device in devices:
        words = {w for name in (device.name, *device.aliases, device.area or "") for w in name.casefold().split()}
        if device.domain in kinds or said & (words - _NOT_DEVICE):
            return True
    return False


def names_a_device(part: str, registry: Registry) -> bool:
    """Whether a part says which device or where ("the radiator to 18" does; "25 percent" does not)."""
    known = _device_words(registry)
    return any(w.casefold() in known for w in _WORD.findall(part))


def has_own_words(part: str, registry: Registry, values: frozenset[str] = frozenset()) -> bool:
    """Whether a part says more than which device or where: "the lights", "the fan in the office", "the
    bedroom too" say only where, and borrow the verb of the part before."""
    known = _device_words(registry)  # "Front Door Lock" is a name, but "lock" is still a verb: not in it
    extra = _PARTICLES | _VALUES | values  # "the telly on", "Bedroom Radiator 17 degrees": which device, how
    return any(w.casefold() not in known and w.casefold() not in extra for w in _OWN_WORDS.findall(part))


def particle(part: str) -> str | None:
    """The on/off/up/down a part ends with ("the telly on"), if any."""
    match = re.search(r"\b(on|off|up|down)[.!?]*$", part, re.I)
    return match.group(1).lower() if match else None


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
        else:  # "Sorry, there is no sauna here, so I did nothing."; "... should I open or close it? I did nothing."
            said = blocking.reply.rstrip()
            reply = f"{said[:-1]}, so I did nothing." if said.endswith(".") else f"{said} I did nothing."
        # the parts that would have gone ahead did not: they say so ("held"), with nothing sent
        held = tuple(replace(p, actions=(), pending_actions=(), pending_reply="", outcome="held",
                             reply="Not done: another part of the sentence was not possible.")
                     if p.outcome in OK_OUTCOMES or p.outcome == "confirm" else p for p in parts)  # fmt: skip
        return Parse(text=text, intent=blocking.intent, confidence=confidence, slots=dict(blocking.slots),
                     targets=targets, reply=reply, outcome=blocking.outcome, timings_ms=timings,
                     commands=held)  # fmt: skip
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
