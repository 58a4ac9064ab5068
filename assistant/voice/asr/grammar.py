"""The home's sentence space, for grammar-first recognition: what can be said in this home, and the
sentences nearest to what the recogniser heard.

The space is the intent templates (Home Assistant's, from ``home-assistant-intents``, and the project's
own, ``assistant/train/templates/intents.yaml``; hassil syntax) expanded into *skeletons*: the words of a
sentence with its slots left open (``turn on the {name} in the {area}``). Full expansion is not possible
(over eleven million skeletons before any name is filled in), so each template gives at most
``PER_TEMPLATE`` of them: every one when it has no more, else a fixed-seed sample of its paths. Skeletons
do not depend on the home; the slot values do (device, area and floor names and aliases, colours),
and they are filled in lazily, per utterance, from the spans of what was heard that sound like them.
Numbers (brightness, positions, temperatures, durations) are taken as heard.

``SentenceSpace.nearest(text)``: the heard text with the spans that sound like a name, an area, a floor,
a colour or a value replaced by slots, looked up among the skeletons by spelling and by sound
(metaphone keys, rapidfuzz), filled back with the nearest values: a few whole sentences of the home,
each with the intent of its template. ``values`` is rebuilt when the registry changes (``with_registry``).

Pure and thread-safe after construction (read-only). hassil and home-assistant-intents are needed to build it.
"""

from __future__ import annotations

import functools
import itertools
import logging
import random
import re
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import factorial
from pathlib import Path
from typing import Any

from ...devices import Registry
from ...errors import ModelError
from ...paths import install_hint

log = logging.getLogger(__name__)

OWN_TEMPLATES = Path(__file__).resolve().parents[2] / "train" / "templates" / "intents.yaml"
PER_TEMPLATE = 32
"""Skeletons kept from one template (all of them when it has no more)."""
MAX_SKELETON_WORDS = 14

# Slots and what fills them. Own lists (see assistant/train/data.py OWN_LISTS) and Home Assistant's.
NAME_LISTS = frozenset({"name", "light", "switch", "fan", "cover", "lock", "media", "climate", "vacuum", "scene",
                        "script", "sensor", "valve", "weather_name", "button", "alarm", "mode"})  # fmt: skip
VALUE_LISTS = frozenset({"brightness", "position", "volume", "percentage", "temperature", "color_temp", "duration",
                         "fan_speed", "color_temperature", "volume_step_up", "volume_step_down", "timer_seconds",
                         "timer_minutes", "timer_hours"})  # fmt: skip
STEP_LISTS = frozenset({"step", "step_deg", "step_vol"})
"""Own lists whose values say "by ...": ``by {value}``."""
LITERAL_LISTS: dict[str, tuple[str, ...]] = {
    "floor_adv": ("upstairs", "downstairs"),
    "state_onoff": ("on", "off", "switched on", "switched off", "turned on", "turned off", "running"),
    "state_lock": ("locked", "unlocked", "open"),
    "state_open": ("open", "closed", "shut", "opened"),
    "state_any": ("on", "off", "open", "closed", "locked", "unlocked", "running"),
    "position_word": ("halfway", "half way", "fully", "all the way"),
}
"""Own lists of a few fixed words, expanded in place."""
VALUE_WORDS = {"percentage": ("low", "medium", "high", "full speed", "max"), "fan_speed": ("low", "medium", "high"),
               "brightness": ("max", "maximum", "full"), "volume": ("max", "maximum")}
"""Values said in words, beside numbers."""
SETTINGS = {"low": "low", "medium": "medium", "high": "high", "max": "max", "maximum": "max", "full": "max",
            "min": "min", "minimum": "min", "halfway": "halfway", "fully": "fully", "upstairs": "upstairs",
            "downstairs": "downstairs"}  # fmt: skip
"""Words that say a value, and the one they mean: in two sentences of one template, another value."""
SLOT = {"area": "{area}", "floor": "{floor}", "floor_n": "{floor}", "color": "{color}"}
COLOURS = ("white", "black", "red", "orange", "yellow", "green", "blue", "purple", "brown", "pink", "turquoise",
           "warm white", "cool white", "cyan", "magenta", "violet", "gold", "lime", "teal")  # fmt: skip
UNITS = r"(?:percent|per cent|degrees?(?: celsius| fahrenheit)?|kelvin|minutes?|seconds?|hours?|steps?|points?)"
VALUE_RE = re.compile(rf"\b\d+(?:\.\d+)?(?: {UNITS})?(?: and (?:a half|\d+(?: {UNITS})?))?")
POLITE = re.compile(r"^((?:(?:hey|ok|okay|so) )?(?:(?:(?:can|could|would|will) you(?: please)?|please|i want you to|"
                    r"i'd like you to|i need you to|go ahead and) )*)(.*?)((?: (?:please|for me|now|thanks|thank you))*)$")
"""Politeness around a command ("could you please ... for me"): the templates' ways of saying it are too many
to expand, so skeletons are kept without it and what was heard is put back around the sentence found."""
_FILLER = frozenset({"the", "a", "an", "my", "our", "please", "all", "now", "for", "me", "could", "can", "would",
                     "you", "will", "hey", "ok", "okay"})  # fmt: skip
_PLACEHOLDER = re.compile(r"\{(name|area|floor|color|value)\}")
_KEYS = {"{name}": "#N", "{area}": "#A", "{floor}": "#F", "{color}": "#C", "{value}": "#V"}


class Skip(Exception):
    """A path through a template that cannot be in the grammar (an open list: items, messages, timer names)."""


@dataclass(frozen=True)
class Candidate:
    """A sentence of the home near what was heard."""

    text: str
    """Lower case words, numbers as digits."""
    intent: str
    """The intent of its template (the project's label, e.g. ``HassTurnOn`` or ``LightDimmer``)."""
    values: tuple[str, ...]
    """The slot values filled in, in order: with the intent, what the sentence means."""
    score: float
    """Look-up similarity, 0..1: spelling or sound of the skeleton, times that of the values filled in."""

    @property
    def meaning(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """(Home Assistant intent, slot values, values said in words): two sentences with the same do the same
        ("set the fan to high" and "to low" fill the same slot, and do not)."""
        from ...understanding.schema import public_intent

        said = tuple(SETTINGS[w] for w in self.text.split() if w in SETTINGS)
        return public_intent(self.intent) or self.intent, self.values, said

    @property
    def gist(self) -> tuple[str, str]:
        """(Home Assistant intent, the words without articles, politeness and plural s): "turn on the office
        fans" and "turn on office fan" do the same, though one names an area and the other a device."""
        words = [w.removesuffix("s") for w in self.text.split() if w not in _FILLER]
        return self.meaning[0], " ".join(words)


def normal(text: str) -> str:
    """Lower case words, numbers as digits, "%" as "percent", no punctuation (the look-up's form)."""
    from ...understanding.normalize import to_digits

    text = text.casefold().replace("%", " percent").replace("-", " ")
    text = re.sub(r"[^\w' ]+", " ", text)
    return " ".join(to_digits(" ".join(text.split())).split())


def sound(text: str) -> str:
    """Metaphone keys of the words; slot placeholders kept as themselves."""
    import jellyfish

    return " ".join(_KEYS.get(w) or jellyfish.metaphone(w) or w for w in text.split())


def similarity(a: str, b: str) -> float:
    """0..1: how alike two normalised texts are spelled or sound (rapidfuzz ratio of the words or of their
    metaphone keys, whichever is higher)."""
    from rapidfuzz import fuzz

    return max(fuzz.ratio(a, b), fuzz.ratio(sound(a), sound(b))) / 100


# -- building ---------------------------------------------------------------------------------------


def _count(expr: Any, rules: dict[str, Any], lists: Callable[[str], int]) -> int:
    from hassil.expression import Alternative, ListReference, Permutation, RuleReference, Sequence, TextChunk

    if isinstance(expr, TextChunk):
        return 1
    if isinstance(expr, ListReference):
        return lists(expr.list_name)
    if isinstance(expr, Alternative):
        return sum(_count(i, rules, lists) for i in expr.items)
    if isinstance(expr, (Sequence, Permutation)):
        n = factorial(len(expr.items)) if isinstance(expr, Permutation) else 1
        for item in expr.items:
            n *= _count(item, rules, lists)
        return n
    if isinstance(expr, RuleReference):
        return _count(rules[expr.rule_name].expression, rules, lists) if expr.rule_name in rules else 0
    raise TypeError(f"unexpected template expression {expr!r}")


def _paths(expr: Any, rules: dict[str, Any], fill: Callable[[str], list[Any]]) -> Iterator[list[str]]:
    """Every path through ``expr``: lists of text pieces (``fill(list_name)`` gives a list's expansions)."""
    from hassil.expression import Alternative, ListReference, Permutation, RuleReference, Sequence, TextChunk

    if isinstance(expr, TextChunk):
        yield [expr.original_text if expr.original_text is not None else expr.text]
    elif isinstance(expr, ListReference):
        for value in fill(expr.list_name):
            yield from (_paths(value, rules, fill) if not isinstance(value, str) else [[value]])
    elif isinstance(expr, Alternative):
        for item in expr.items:
            yield from _paths(item, rules, fill)
    elif isinstance(expr, (Sequence, Permutation)):
        orders = itertools.permutations(expr.items) if isinstance(expr, Permutation) else [expr.items]
        for items in orders:
            for parts in itertools.product(*(list(_paths(i, rules, fill)) for i in items)):
                yield [" " + "".join(p) + " " for p in parts] if isinstance(expr, Permutation) else [x for p in parts for x in p]
    elif isinstance(expr, RuleReference):
        if expr.rule_name not in rules:
            raise Skip(expr.rule_name)
        yield from _paths(rules[expr.rule_name].expression, rules, fill)


def _walk(expr: Any, rules: dict[str, Any], fill: Callable[[str], list[Any]], rng: random.Random,
          out: list[str]) -> None:  # fmt: skip
    """One random path through ``expr``."""
    from hassil.expression import Alternative, ListReference, Permutation, RuleReference, Sequence, TextChunk

    if isinstance(expr, TextChunk):
        out.append(expr.original_text if expr.original_text is not None else expr.text)
    elif isinstance(expr, ListReference):
        value = rng.choice(fill(expr.list_name))
        out.append(value) if isinstance(value, str) else _walk(value, rules, fill, rng, out)
    elif isinstance(expr, Alternative):
        _walk(rng.choice(expr.items), rules, fill, rng, out)
    elif isinstance(expr, (Sequence, Permutation)):
        items = list(expr.items)
        if isinstance(expr, Permutation):
            rng.shuffle(items)
        for item in items:
            out.append(" " if isinstance(expr, Permutation) else "")
            _walk(item, rules, fill, rng, out)
            out.append(" " if isinstance(expr, Permutation) else "")
    elif isinstance(expr, RuleReference):
        if expr.rule_name not in rules:
            raise Skip(expr.rule_name)
        _walk(rules[expr.rule_name].expression, rules, fill, rng, out)


def _skeleton(pieces: list[str]) -> str | None:
    joined = "".join(pieces)
    parts = [p if _PLACEHOLDER.fullmatch(p) else normal(p) for p in re.split(r"(\{\w+\})", joined)]
    text = " ".join(" ".join(parts).split())
    text = re.sub(r"(\{\w+\}) 2nd\b", r"\1 second", text)  # "{value} second timer": the unit, read alone as "2nd"
    # a value's unit belongs to the value as heard ("50 percent" fills {value} whole)
    text = re.sub(rf"(\{{value\}}) {UNITS}\b", r"\1", text)
    text = polite(text)[1]
    return text if text and len(text.split()) <= MAX_SKELETON_WORDS else None


def polite(text: str) -> tuple[str, str, str]:
    """(the polite words before, the command, those after) of normalised ``text``."""
    match = POLITE.match(text)
    if match is None or not match.group(2):
        return "", text, ""
    return match.group(1).strip(), match.group(2), match.group(3).strip()


def _tokens(text: str) -> tuple[list[str], set[int]]:
    """The words of normalised ``text``, each value heard ("10 minutes", "50 percent") one of them, and
    the indices of those."""
    words: list[str] = []
    values: set[int] = set()
    at = 0
    for match in VALUE_RE.finditer(text):
        words += text[at : match.start()].split()
        values.add(len(words))
        words.append(match.group(0))
        at = match.end()
    words += text[at:].split()
    return words, values


def expand(expr: Any, rules: dict[str, Any], fill: Callable[[str], list[Any]], seed: int,
           cap: int = PER_TEMPLATE) -> set[str]:  # fmt: skip
    """Up to ``cap`` skeletons of one template: all when there are no more, else a sample of ``4 * cap`` walks."""
    out: set[str] = set()
    try:
        total = _count(expr, rules, lambda name: len(fill(name)))
    except Skip:
        total = cap + 1
    if total <= cap:
        try:
            for pieces in _paths(expr, rules, fill):
                if (text := _skeleton(pieces)) is not None:
                    out.add(text)
            return out
        except Skip:
            out.clear()
    rng = random.Random(seed)
    for _ in range(4 * cap):
        walked: list[str] = []
        try:
            _walk(expr, rules, fill, rng, walked)
        except Skip:
            continue
        if (text := _skeleton(walked)) is not None:
            out.add(text)
        if len(out) >= cap:
            break
    return out


def _value(name: str) -> list[Any]:
    """What fills list ``name`` in a skeleton; Skip for open lists (items, messages, timer names...)."""
    if name in NAME_LISTS:
        return ["{name}"]
    if name in VALUE_LISTS:
        return ["{value}", *VALUE_WORDS.get(name, ())]
    if name in STEP_LISTS:
        return ["by {value}"]
    if name in SLOT:
        return [SLOT[name]]
    if name in LITERAL_LISTS:
        return list(LITERAL_LISTS[name])
    raise Skip(name)


@functools.lru_cache(maxsize=2)
def template_skeletons(cap: int = PER_TEMPLATE) -> list[tuple[str, str]]:
    """(skeleton, intent) for the project's own templates and Home Assistant's English ones (built once per
    process: they do not depend on the home); ModelError naming the install command when hassil or
    home-assistant-intents is missing."""
    try:
        import home_assistant_intents
        import yaml
        from hassil import Intents, parse_sentence
        from hassil.intents import RangeSlotList, TextSlotList
    except ImportError:
        raise ModelError(f"grammar-first recognition (asr.grammar) needs hassil and home-assistant-intents: "
                         f"{install_hint('voice')}") from None  # fmt: skip
    out: dict[str, str] = {}
    doc = yaml.safe_load(OWN_TEMPLATES.read_text(encoding="utf-8"))
    rules = {k: parse_sentence(v) for k, v in (doc.get("rules") or {}).items()}
    for intent, spec in doc["intents"].items():
        for i, template in enumerate(spec["templates"]):
            seed = zlib.crc32(f"{intent}:{i}".encode())  # the same sample in every process (str hashes are not)
            for text in sorted(expand(parse_sentence(template).expression, rules, _value, seed, cap)):
                out.setdefault(text, intent)
    data = home_assistant_intents.get_intents("en")
    if data is None:
        raise ModelError("home-assistant-intents has no English intents")
    intents = Intents.from_dict(data)

    def ha_value(name: str) -> list[Any]:
        if name in NAME_LISTS or name in VALUE_LISTS or name in SLOT:
            return _value(name)
        slot_list = intents.slot_lists.get(name)
        if isinstance(slot_list, TextSlotList):
            return [v.text_in for v in slot_list.values]
        if isinstance(slot_list, RangeSlotList):
            return ["{value}"]
        raise Skip(name)

    for name, intent in intents.intents.items():
        for d, data_block in enumerate(intent.data):
            block_rules = {**intents.expansion_rules, **data_block.expansion_rules}
            for s, sentence in enumerate(data_block.sentences):
                seed = zlib.crc32(f"{name}:{d}:{s}".encode())
                for text in sorted(expand(sentence.expression, block_rules, ha_value, seed, cap)):
                    out.setdefault(text, name)
    return list(out.items())


def home_values(registry: Registry) -> dict[str, tuple[str, ...]]:
    """Slot -> the names this home gives it (lower case, digits for numbers)."""

    def names(items: Any) -> tuple[str, ...]:
        return tuple(dict.fromkeys(normal(n) for item in items for n in (item.name, *item.aliases) if normal(n)))

    return {"name": names(registry.devices), "area": names(registry.areas), "floor": names(registry.floors),
            "color": COLOURS}  # fmt: skip


# -- looking up -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    slot: str
    values: tuple[tuple[str, float], ...]
    """The nearest values and their similarity, best first."""


class SentenceSpace:
    """Skeletons indexed by spelling and by sound, and this home's slot values."""

    MIN_VALUE_SIMILARITY = 0.62
    """A span of the heard words must sound at least this much like a name to be taken for one..."""
    MIN_WORDS_SIMILARITY = 0.8
    """...and this much when all its words are the templates' own: "turn off" is not "watering office" (0.70),
    "the all way light" is "hallway light" (0.85)."""

    def __init__(self, skeletons: list[tuple[str, str]], values: dict[str, tuple[str, ...]]) -> None:
        self.skeletons = [s for s, _ in skeletons]
        self.intents = [i for _, i in skeletons]
        self.sounds = [sound(s) for s in self.skeletons]
        self.words = frozenset(w for s in self.skeletons for w in s.split() if not _PLACEHOLDER.fullmatch(w))
        self.values = values
        self._value_sounds = {slot: [sound(v) for v in vs] for slot, vs in values.items() if vs}
        self.values = {slot: vs for slot, vs in values.items() if vs}

    @classmethod
    def build(cls, registry: Registry, cap: int = PER_TEMPLATE) -> SentenceSpace:
        started = time.perf_counter()
        space = cls(template_skeletons(cap), home_values(registry))
        log.info("grammar: %d skeletons, %d sentences with this home's names, built in %.1f s", len(space.skeletons),
                 space.size(), time.perf_counter() - started)  # fmt: skip
        return space

    def with_registry(self, registry: Registry) -> SentenceSpace:
        """The same skeletons with another home's names (the registry changed)."""
        space = object.__new__(SentenceSpace)
        space.skeletons, space.intents, space.sounds, space.words = self.skeletons, self.intents, self.sounds, self.words
        space.values = {slot: vs for slot, vs in home_values(registry).items() if vs}
        space._value_sounds = {slot: [sound(v) for v in vs] for slot, vs in space.values.items()}
        return space

    @functools.cached_property
    def names(self) -> frozenset[str]:
        """The home's names: its devices', areas' and floors'."""
        return frozenset(value for slot in ("name", "area", "floor") for value in self.values.get(slot, ()))

    def vocabulary(self) -> set[str]:
        """Every word of the home's sentences: the templates' own and those of the names."""
        return set(self.words) | {w for values in self.values.values() for v in values for w in v.split()}

    def size(self, numbers: int = 101) -> int:
        """Whole sentences the skeletons stand for, with this home's values (``numbers`` for each value slot)."""
        counts = {**{k: len(v) for k, v in self.values.items()}, "value": numbers}
        total = 0
        for skeleton in self.skeletons:
            n = 1
            for slot in _PLACEHOLDER.findall(skeleton):
                n *= counts.get(slot, 0)  # a slot this home has no names for: none
            total += n
        return total

    def _spans(self, words: list[str]) -> list[_Span]:
        """Spans of the heard words that sound like one of the home's values, best first."""
        from rapidfuzz import fuzz, process

        spans = []
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + 4) + 1):
                piece = " ".join(words[i:j])
                piece_sound = sound(piece)
                need = self.MIN_WORDS_SIMILARITY if all(w in self.words for w in words[i:j]) else self.MIN_VALUE_SIMILARITY
                for slot, values in self.values.items():
                    # spelling and sound both: metaphone alone hears "what" as "white"
                    spelled = process.extract(piece, values, scorer=fuzz.ratio, limit=3)
                    sounded = process.extract(piece_sound, self._value_sounds[slot], scorer=fuzz.ratio, limit=3)
                    best: dict[int, float] = {}
                    for k in {k for *_x, k in spelled} | {k for *_x, k in sounded}:
                        best[k] = (fuzz.ratio(piece, values[k]) + fuzz.ratio(piece_sound, self._value_sounds[slot][k])) / 200
                    ranked = sorted(((values[k], v) for k, v in best.items() if v >= need), key=lambda x: -x[1])[:2]
                    if ranked:
                        spans.append(_Span(i, j, slot, tuple(ranked)))
        # a long span that sounds nearly alike before a short exact one ("kitchen sealing light" before "kitchen")
        return sorted(spans, key=lambda s: -(s.values[0][1] ** 4) * len(" ".join(words[s.start : s.end])))

    def _variants(self, text: str) -> list[tuple[str, list[tuple[str, tuple[tuple[str, float], ...]]]]]:
        """The heard text with slots for what sounds like values: (skeleton-like text, fills in order)."""
        words, heard_values = _tokens(text)
        spans = [s for s in self._spans(words) if not heard_values & set(range(s.start, s.end))]
        out = []
        places = ("area", "floor")
        # the best spans; areas before names; areas alone and the best span alone (a weak name that merely
        # sounds like a word of the skeleton must not hide it: "whilst the temperature in the bedroom" is not
        # "{name} in the {area}", nor "told on the coffee machine" "{name} on the {name}"); none
        for choice in (spans, sorted(spans, key=lambda s: s.slot not in places),
                       [s for s in spans if s.slot in places], spans[:1], []):  # fmt: skip
            taken: dict[int, _Span] = {}
            used: set[int] = set()
            for span in choice:
                if not used & set(range(span.start, span.end)):
                    taken[span.start] = span
                    used |= set(range(span.start, span.end))
            pieces: list[str] = []
            fills: list[tuple[str, tuple[tuple[str, float], ...]]] = []
            i = 0
            while i < len(words):
                if i in taken:
                    pieces.append("{" + taken[i].slot + "}")
                    fills.append((taken[i].slot, taken[i].values))
                    i = taken[i].end
                    continue
                if i in heard_values:
                    pieces.append("{value}")
                    fills.append(("value", ((words[i], 1.0),)))
                else:
                    pieces.append(words[i])
                i += 1
            variant = (" ".join(pieces), fills)
            if variant not in out:
                out.append(variant)
        return out

    def nearest(self, heard: str, limit: int = 8, per_variant: int = 8) -> list[Candidate]:
        """Up to ``limit`` sentences of the home nearest to ``heard``, best first."""
        import numpy as np
        from rapidfuzz import fuzz, process

        found: dict[str, Candidate] = {}
        before, heard, after = polite(normal(heard))
        variants = [(variant, fills) for variant, fills in self._variants(heard) if variant]
        if not variants:
            return []
        # every variant against every skeleton in one call each, by spelling and by sound, not one look-up per
        # variant (the same sentences found; on 150 typed sentences, p95 lower and the median level)
        queries = [variant for variant, _ in variants]
        spelled = process.cdist(queries, self.skeletons, scorer=fuzz.ratio, score_cutoff=50, dtype=np.float32)
        sounded = process.cdist([sound(q) for q in queries], self.sounds, scorer=fuzz.ratio, score_cutoff=50,
                                dtype=np.float32)  # fmt: skip
        keep = min(per_variant, len(self.skeletons))
        for row, (_variant, fills) in enumerate(variants):
            hits: dict[int, float] = {}
            for scores in (spelled[row], sounded[row]):
                # the best ``keep``, ties to the first (as rapidfuzz's extract ranks them)
                tied = np.flatnonzero(scores >= max(50.0, float(np.partition(scores, -keep)[-keep])))
                for index in tied[np.argsort(-scores[tied], kind="stable")][:keep]:
                    hits[int(index)] = max(hits.get(int(index), 0.0), float(scores[index]) / 100)
            for index, score in hits.items():
                for candidate in self._fill(index, score, fills, before, after):
                    if candidate.text not in found or found[candidate.text].score < candidate.score:
                        found[candidate.text] = candidate
        return sorted(found.values(), key=lambda c: -c.score)[:limit]

    def _fill(self, index: int, score: float, fills: list[tuple[str, tuple[tuple[str, float], ...]]],
              before: str, after: str) -> Iterator[Candidate]:  # fmt: skip
        skeleton = self.skeletons[index]
        slots = _PLACEHOLDER.findall(skeleton)
        options: list[tuple[tuple[str, float], ...]] = []
        remaining = list(fills)
        for slot in slots:
            match = next((f for f in remaining if f[0] == slot), None)
            if match is None:
                return  # the skeleton needs a value nothing heard sounds like
            remaining.remove(match)
            options.append(match[1])
        for chosen in itertools.product(*options):
            parts = iter(chosen)
            text = " ".join(f"{before} {_PLACEHOLDER.sub(lambda _m: next(parts)[0], skeleton)} {after}".split())
            fit = 1.0
            for _value_text, similarity in chosen:
                fit *= similarity
            yield Candidate(text, self.intents[index], tuple(v for v, _ in chosen), score * fit)
