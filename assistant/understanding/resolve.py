"""Entity resolution: the spoken device, area and floor words -> registry devices.

Names and aliases are matched exactly, then fuzzily (rapidfuzz) and phonetically (metaphone keys,
jellyfish), so that a recogniser's "living groom lamp" still finds the Living Room Lamp; number words are
digits ("guest bedroom one light"). The longest name said exactly wins ("the lamp" is the one called Lamp, not
the Desk Lamp of this room). Without a name, a device type ("the lights", "the blinds") is looked up in the
area spoken, the floor spoken, the whole home ("all the lights"), or else the area the request came from;
when there is none of that kind there but several in the home, the one called by the very word said ("the
AC"), then the one in a state the intent prefers ("pause the music": the one playing), else the question
which. People and the weather belong to no room. When the words name no device at all, what they are for
(``PURPOSES``: "a latte" is the coffee machine) and a scene's or script's distinctive words ("movie time" is
Movie Night) are tried before the kind of device; last, a name no spelling or sound matches is compared with
every device's names by meaning (``Meanings``: the model's embedding of the words), acted on only above a
calibrated similarity, asked about a little below it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar, cast

import jellyfish
import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from ..config import Device
from ..devices.registry import Registry

MATCH_THRESHOLD = 82.0
"""Minimum similarity (0..100) for a spoken name to match a registry name."""
TIE_MARGIN = 3.0
"""Candidates within this many points of the best are equally good."""

MEANING_ACT = 0.65
"""Cosine similarity (the model's embeddings) at which a name said is taken for a device's name that it does
not match in spelling or sound ("the reading light": the one called reading lamp). Calibrated on the example
home: each of its names and aliases said with that name taken out of the registry, against 45 words for things
that are no device there (README, "Names by meaning")."""
MEANING_MARGIN = 0.10
"""...and only when the best device beats the next one by this much: in the calibration every wrong best
device was within 0.04 of the next, and every one acted on was right."""
MEANING_ASK = 0.60
"""Below MEANING_ACT (or too close to the next) but from here: the reply asks whether that device was meant,
and nothing is done."""

_FILLER = {"the", "my", "our", "a", "an", "your", "this", "that", "in", "on", "of", "all", "every", "please"}

# Words that name a kind of device rather than a device: word -> (domains, device classes; none: any)
DOMAIN_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "light": (("light",), ()), "lights": (("light",), ()), "lamp": (("light",), ()),
    "lamps": (("light",), ()), "lighting": (("light",), ()), "bulb": (("light",), ()),
    "bulbs": (("light",), ()),
    "fan": (("fan",), ()), "fans": (("fan",), ()),
    "blind": (("cover",), ("blind",)), "blinds": (("cover",), ("blind",)),
    "curtain": (("cover",), ("curtain",)), "curtains": (("cover",), ("curtain",)), "drapes": (("cover",), ("curtain",)),
    "shade": (("cover",), ("shade",)), "shades": (("cover",), ("shade",)),
    "shutter": (("cover",), ("shutter",)), "shutters": (("cover",), ("shutter",)), "awning": (("cover",), ("awning",)),
    "garage": (("cover",), ("garage",)), "gate": (("cover",), ("gate",)),
    "window": (("cover", "binary_sensor"), ("window",)), "windows": (("cover", "binary_sensor"), ("window",)),
    "door": (("lock", "cover", "binary_sensor"), ("door",)), "lock": (("lock",), ()), "locks": (("lock",), ()),
    "heating": (("climate",), ()), "heat": (("climate",), ()), "thermostat": (("climate",), ()),
    "radiator": (("climate",), ()), "ac": (("climate",), ()), "aircon": (("climate",), ()),
    "air conditioning": (("climate",), ()), "air conditioner": (("climate",), ()),
    "music": (("media_player",), ()), "media": (("media_player",), ()), "volume": (("media_player",), ()),
    "speakers": (("media_player",), ()), "speaker": (("media_player",), ()),
    "vacuum": (("vacuum",), ()), "hoover": (("vacuum",), ()), "robot": (("vacuum",), ()),
    "sprinkler": (("valve",), ()), "sprinklers": (("valve",), ()), "valve": (("valve",), ()),
    "irrigation": (("valve",), ()),
    "plug": (("switch",), ("outlet",)), "socket": (("switch",), ("outlet",)), "outlet": (("switch",), ("outlet",)),
    "humidity": (("sensor",), ("humidity",)), "temperature": (("sensor", "climate"), ()),
    "battery": (("binary_sensor",), ("battery",)), "leak": (("binary_sensor",), ("moisture",)),
    "motion": (("binary_sensor",), ("motion", "occupancy")),
    "alarm": (("alarm_control_panel",), ()), "alarm system": (("alarm_control_panel",), ()),
    "mower": (("lawn_mower",), ()), "lawnmower": (("lawn_mower",), ()), "lawn mower": (("lawn_mower",), ()),
    "weather": (("weather",), ()), "forecast": (("weather",), ()),
    "who": (("person",), ()), "anyone": (("person",), ()), "anybody": (("person",), ()),
    "someone": (("person",), ()), "somebody": (("person",), ()), "everyone": (("person",), ()),
    "everybody": (("person",), ()), "people": (("person",), ()),
    "button": (("button",), ()),
}  # fmt: skip

PURPOSES: dict[str, tuple[str, ...]] = {
    "coffee": ("coffee machine", "coffee maker", "espresso machine"), "espresso": ("espresso machine", "coffee machine",
    "coffee maker"), "latte": ("coffee machine", "coffee maker", "espresso machine"),
    "cappuccino": ("coffee machine", "coffee maker", "espresso machine"),
    "tea": ("kettle",), "hot water": ("kettle",), "boil": ("kettle",), "boiling": ("kettle",),
    "toast": ("toaster",), "laundry": ("washing machine", "washer"), "wash": ("washing machine", "washer"),
    "washing": ("washing machine", "washer"), "clothes": ("washing machine", "washer"),
    "dishes": ("dishwasher",), "watering": ("sprinkler", "sprinklers", "irrigation"),
    "water the": ("sprinkler", "sprinklers", "irrigation"),  # "water the lawn"; not "boil some water"
}  # fmt: skip
"""What a thing is for -> the words of the devices that do it ("make me a latte": the coffee machine), used
only when the words said name no device."""

_CALLED_KINDS = frozenset({"ac", "aircon", "air conditioning", "air conditioner"})
"""Kind words that, as a device's alias, mean that device: "the AC" is the one called AC, not the radiator here
(unlike "heating" or "thermostat", which any climate device of the room answers to)."""

_PLACELESS = frozenset({"person", "weather"})
"""Domains not in any room: an area said or the request's area does not narrow them."""

_VERB_DOMAINS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"\b((un)?lock(ed)?|secure|(un)?bolt)\b"), ("lock",)),  # "secure the house": its locks, not lights
    (re.compile(r"\b(open|close|shut|raise|opened|closed)\b"), ("cover", "valve", "binary_sensor")),
    (re.compile(r"\b(dis)?arm(ed|ing)?\b"), ("alarm_control_panel",)),  # "disarm": the alarm, not the lights
]
_ALL_RE = re.compile(r"\b(all|every|everything|whole (house|home|flat|apartment)|entire (house|home)|everywhere"
                     r"|throughout|every room|house)\b")  # fmt: skip
_HERE_RE = re.compile(r"\b(in here|here|this room)\b")


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
    " seventeen eighteen nineteen twenty".split())}  # fmt: skip


@lru_cache(maxsize=8192)  # the same device names are normalised for every request
def normalise(text: str) -> str:
    """Lower case, letters and digits, no leading filler; number words as digits ("bedroom one" = "bedroom 1")."""
    text = text.lower().replace("'s ", " ").replace("’s ", " ")
    words = [_NUMBER_WORDS.get(w, w) for w in re.sub(r"[^a-z0-9 ]+", " ", text).split()]
    while words and words[0] in _FILLER:
        words.pop(0)
    return " ".join(words)


@lru_cache(maxsize=4096)
def _phonetic(text: str) -> str:
    return " ".join(jellyfish.metaphone(w) for w in text.split())


def similarity(spoken: str, name: str) -> float:
    """0..100: the better of spelling and sound-alike similarity."""
    if spoken == name:
        return 100.0
    return float(_similarities(spoken, (name,), (_phonetic(name),), (name.replace(" ", ""),))[0])


def _similarities(spoken: str, spelled: tuple[str, ...], sounds: tuple[str, ...], joined: tuple[str, ...]) -> np.ndarray:
    """``similarity`` of ``spoken`` with each name, given spelled, by sound (``_phonetic``) and without its spaces
    ("living room" vs "livingroom"), for all the names at once (rapidfuzz's ``cdist``)."""
    scores = np.maximum(cdist([spoken], spelled, scorer=fuzz.ratio, dtype=np.float64)[0],
                        cdist([_phonetic(spoken)], sounds, scorer=fuzz.ratio, dtype=np.float64)[0] * 0.95)
    np.maximum(scores, cdist([spoken.replace(" ", "")], joined, scorer=fuzz.ratio, dtype=np.float64)[0], out=scores)
    return scores


@dataclass
class Scope:
    """Where a request applies."""

    areas: list[str] = field(default_factory=list)
    floor: str | None = None
    whole_home: bool = False
    spoken: bool = False
    """True when the area or floor was said, not taken from the context."""


@dataclass
class Resolution:
    devices: list[Device] = field(default_factory=list)
    scope: Scope = field(default_factory=Scope)
    problem: str | None = None
    """None, "no_target", "ambiguous", "unsupported" (the device named cannot do what was asked) or "unsure"
    (nothing said which devices, for an intent that must not guess)."""
    reply: str = ""
    generic: bool = False
    """Found by a kind of device ("the lights") rather than by a name."""
    exact: bool = False
    """Found by a name said exactly (not a near miss)."""
    guessed: bool = False
    """Nothing in the words said which devices (no name, kind, area, purpose, "everything" or verb that implies a
    kind): the intent's default kind in the request's area ("Water, whatever I can publish" as a turn on)."""


@dataclass(frozen=True)
class _Names:
    """(key, name) options ready to score against a spoken name: each name spelled, by sound and without its
    spaces, as ``similarity`` reads them, and the key each belongs to."""

    keys: tuple[str, ...]
    """Each key once."""
    owner: np.ndarray
    """For each name, the index of its key in ``keys``."""
    spelled: tuple[str, ...]
    sounds: tuple[str, ...]
    joined: tuple[str, ...]


@lru_cache(maxsize=1024)
def _names(options: tuple[tuple[str, str], ...]) -> _Names:
    """Built once per set of names (the registry's names change rarely), not once per request."""
    keys = tuple(dict.fromkeys(key for key, _ in options))
    index = {key: i for i, key in enumerate(keys)}
    spelled = tuple(normalise(name) for _, name in options)
    return _Names(keys, np.fromiter((index[key] for key, _ in options), dtype=np.intp, count=len(options)),
                  spelled, tuple(_phonetic(n) for n in spelled), tuple(n.replace(" ", "") for n in spelled))


T = TypeVar("T")

_PER_DEVICES: dict[tuple[int, object], tuple[tuple[Device, ...], Any]] = {}


def _per_devices(devices: tuple[Device, ...], key: object, build: Callable[[tuple[Device, ...]], T]) -> T:
    """``build(devices)``, built once per registry (its tuple of devices) and ``key``, not once per request: a
    parse looks names up several times."""
    entry = (id(devices), key)
    hit = _PER_DEVICES.get(entry)
    if hit is not None and hit[0] is devices:
        return cast(T, hit[1])
    value = build(devices)
    if len(_PER_DEVICES) >= 256:  # registries replaced many times over: start again
        _PER_DEVICES.clear()
    _PER_DEVICES[entry] = (devices, value)
    return value


def _name_options(devices: tuple[Device, ...], domains: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """(device id, name) for every name of the devices in ``domains`` (all of them when empty)."""
    return _per_devices(devices, ("names", domains), lambda all_: tuple(
        (d.id, n) for d in all_ if not domains or d.domain in domains for n in _device_names(d)))


def _best(spoken: str, options: Iterable[tuple[str, str]]) -> list[tuple[float, str]]:
    """Scores of (key, candidate name) options, best first, one per key: ``similarity`` of ``spoken`` with
    each name, all the names at once."""
    table = _names(options if isinstance(options, tuple) else tuple(options))
    if not table.keys:
        return []
    scores = _similarities(spoken, table.spelled, table.sounds, table.joined)
    best = np.full(len(table.keys), -1.0)
    np.maximum.at(best, table.owner, scores)
    return sorted(zip(best.tolist(), table.keys), reverse=True)


def _spelled_rivals(variants: list[str], candidates: list[Device], options: tuple[tuple[str, str], ...],
                    found: Device) -> list[Device]:  # fmt: skip
    """Devices whose names are spelled at least as near the words as ``found``'s, when ``found`` won by sound
    alone: "best lamp" sounds like the Bedside Lamp (BST, BTST) and is spelled more like the Desk Lamp, so the
    words do not say which (a recogniser's "best lamp" was the desk lamp said)."""
    table = _names(options)  # by_name's (``_name_options`` of ``candidates``), cached
    scores = cdist([normalise(v) for v in variants], table.spelled, scorer=fuzz.ratio, dtype=np.float64).max(axis=0)
    best = np.full(len(table.keys), -1.0)
    np.maximum.at(best, table.owner, scores)
    spelled = dict(zip(table.keys, best.tolist()))
    own = spelled[found.id]
    if own >= MATCH_THRESHOLD:
        return []
    floor = max(own, MATCH_THRESHOLD - 10)
    return [d for d in candidates if d.id != found.id and spelled[d.id] >= floor]


def match_area(registry: Registry, spoken: str, *, fuzzy: bool = True) -> str | None:
    """The area named by ``spoken``: all of it ("the lounge"), or a part of it ("kitchen lights"). ``fuzzy``:
    also a near spelling or sound ("the livin room"); never for a device's name ("curtains" sounds like
    "garden")."""
    spoken = normalise(spoken)
    if not spoken:
        return None
    options = _area_names(registry)
    scores = _best(spoken, options) if fuzzy else [(100.0, key) for key, n in options if normalise(n) == spoken]
    if scores and scores[0][0] >= MATCH_THRESHOLD:
        return scores[0][1]
    padded = f" {spoken} "
    inside = [(len(n), key) for key, n in options if f" {normalise(n)} " in padded]
    return max(inside)[1] if inside else None


def _area_names(registry: Registry) -> list[tuple[str, str]]:
    """(area, one of its names or aliases as written) for every area of the home."""
    return [(a.name, n) for a in registry.areas for n in (a.name, *a.aliases)]


def match_floor(registry: Registry, spoken: str) -> str | None:
    spoken = normalise(spoken)
    if not spoken:
        return None
    scores = _best(spoken, ((f.name, n) for f in registry.floors for n in (f.name, *f.aliases)))
    if scores and scores[0][0] >= MATCH_THRESHOLD:
        return scores[0][1]
    return None


def kind_words(text: str) -> tuple[set[str], set[str]]:
    """Domains and device classes named by device-type words in ``text``."""
    domains: set[str] = set()
    classes: set[str] = set()
    lowered = " " + normalise(text) + " "
    for word, (word_domains, word_classes) in DOMAIN_WORDS.items():
        if f" {word} " in lowered:
            domains.update(word_domains)
            classes.update(word_classes)
    return domains, classes


def _of_its_kind(spoken: str, ranking: list[tuple[float, str]], registry: Registry) -> list[tuple[float, str]]:
    """``ranking`` (of the normalised name ``spoken``) without the devices that a name ending in a kind of device
    cannot be, unless said exactly: "the living room lights" (87 alike) are not the Living Room Blinds, nor "the
    oven light" the Movie Night scene. A switch can be any kind (a relay behind a light, a fan, a heater: "the
    garage lights", a switch.garage_light)."""
    words = spoken.split()
    kind = next((DOMAIN_WORDS[k] for k in (" ".join(words[-2:]), words[-1] if words else "") if k in DOMAIN_WORDS), None)
    if kind is None:
        return ranking
    return [(score, key) for score, key in ranking
            if score >= 100.0 or registry.device(key).domain in (*kind[0], "switch")]  # fmt: skip


def kind_classes(text: str, domains: set[str]) -> set[str]:
    """Device classes named in ``text`` by words of a kind among ``domains``."""
    lowered = " " + normalise(text) + " "
    return {c for word, (word_domains, word_classes) in DOMAIN_WORDS.items()
            if f" {word} " in lowered and set(word_domains) & domains for c in word_classes}  # fmt: skip


def only_kind_words(text: str) -> bool:
    """True when ``text`` says nothing but kinds of device ("the heating", "lights"): no name in it."""
    rest = f" {normalise(text)} "
    for word in sorted(DOMAIN_WORDS, key=len, reverse=True):
        rest = rest.replace(f" {word} ", " ")
    return bool(normalise(text)) and not [w for w in rest.split() if w not in _FILLER]


def _device_names(device: Device) -> list[str]:
    """A device's names, plus each name with its area's words removed ("ceiling light" for the Kitchen
    Ceiling Light in the Kitchen)."""
    return list(_names_of(device.name, tuple(device.aliases), device.area))


@lru_cache(maxsize=4096)
def _names_of(name: str, aliases: tuple[str, ...], area: str | None) -> tuple[str, ...]:
    device = _Named(name, aliases, area)
    names = [device.name, *device.aliases]
    if device.area:
        area_words = normalise(device.area).split()
        for name in list(names):
            words = [w for w in normalise(name).split() if w not in area_words]
            if words and len(words) < len(normalise(name).split()) and " ".join(words) not in DOMAIN_WORDS:
                names.append(" ".join(words))  # but not "door" for the Garage Door: that is any door
    return tuple(names)


@lru_cache(maxsize=4096)
def _said_names(name: str, aliases: tuple[str, ...], area: str | None) -> tuple[str, frozenset[str], tuple[str, ...]]:
    """A device's own name, the names it was given (name and aliases) and all its names (``_device_names``),
    normalised once."""
    given = frozenset(normalise(n) for n in (name, *aliases))
    return normalise(name), given, tuple(normalise(n) for n in _names_of(name, aliases, area))


@dataclass(frozen=True)
class _Named:
    name: str
    aliases: tuple[str, ...]
    area: str | None


def _containing(spoken: str, devices: list[Device]) -> list[Device]:
    """Devices with a name holding every word of ``spoken`` (two or more), in order."""
    words = [w for w in normalise(spoken).split() if w not in _FILLER]
    if len(words) < 2:
        return []
    pattern = re.compile(r"\b" + r"\b.*\b".join(map(re.escape, words)) + r"\b")
    return [d for d in devices if any(pattern.search(normalise(n)) for n in (d.name, *d.aliases))]


class Meanings:
    """Every device's names as the model's embeddings, for ``Resolver.by_meaning``: embedded on the first look-up
    (most commands name their devices and never need them), then kept while the devices stay the same."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], registry: Registry) -> None:
        named = [(d.id, n) for d in registry.devices for n in _device_names(d)]
        self.embed = embed
        self.ids = [device_id for device_id, _ in named]
        self.names = [normalise(n) for _, n in named]
        self.signature = Meanings.signature_of(registry)
        self._matrix: np.ndarray | None = None

    @property
    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            self._matrix = self.embed(self.names) if self.names else np.zeros((0, 1), np.float32)
        return self._matrix

    @staticmethod
    def signature_of(registry: Registry) -> tuple:
        """What the embeddings depend on: they are rebuilt when it changes (a reload, a discovered device)."""
        return tuple((d.id, d.name, tuple(d.aliases), d.area) for d in registry.devices)

    def nearest(self, spoken: str, allowed: set[str]) -> list[tuple[float, str, str]]:
        """(similarity, device id, the name it has) of the ``allowed`` devices, best name per device, best first."""
        if not self.ids or not allowed:
            return []
        scores = self.matrix @ self.embed([spoken])[0]
        best: dict[str, tuple[float, str]] = {}
        for device_id, name, score in zip(self.ids, self.names, scores.tolist()):
            if device_id in allowed and score > best.get(device_id, (-2.0, ""))[0]:
                best[device_id] = (score, name)
        return sorted(((score, k, name) for k, (score, name) in best.items()), reverse=True)

    def same_apart_from_shared(self, spoken: str, name: str) -> bool:
        """When the words said and the name share words, the others must mean the same too: "reading light"
        and "reading lamp" (kinds of the same device), not "sauna heater" and "office heater" (sauna, office)
        nor "sauna heater" and "heater", which are near only for the word they share."""
        said = [w for w in normalise(spoken).split() if w not in _FILLER]
        named = name.split()
        if not set(said) & set(named):
            return True  # nothing shared: by meaning alone ("the telly box")
        rest_said = [w for w in said if w not in named]
        rest_named = [w for w in named if w not in said]
        kinds_said, kinds_named = kind_words(" ".join(rest_said))[0], kind_words(" ".join(rest_named))[0]
        if kinds_said and kinds_named and not kinds_said & kinds_named:
            return False  # "the desk fan" is not the desk lamp
        rest_said = [w for w in rest_said if w not in DOMAIN_WORDS]
        rest_named = [w for w in rest_named if w not in DOMAIN_WORDS]
        if not rest_said:
            return True  # every other word said is in the name, or a kind of it ("the reading light")
        if not rest_named:
            return False  # a word said that the name lacks: "sauna heater" is no plain heater
        a, b = self.embed([" ".join(rest_said), " ".join(rest_named)])
        return float(a @ b) >= MEANING_ACT


class Resolver:
    """Resolves spoken references against one registry."""

    def __init__(self, registry: Registry, meanings: Meanings | None = None) -> None:
        self.registry = registry
        self.meanings = meanings

    def scope(self, text: str, area_span: str | None, floor_span: str | None, context_area: str | None) -> Scope:
        registry = self.registry
        if area_span:
            area = match_area(registry, area_span)
            if area:
                return Scope(areas=[area], spoken=True)
            floor = match_floor(registry, area_span)
            if floor:
                return Scope(areas=registry.areas_on_floor(floor), floor=floor, spoken=True)
            return Scope(areas=[], spoken=True)  # named an area that does not exist
        if floor_span:
            floor = match_floor(registry, floor_span)
            if floor:
                return Scope(areas=registry.areas_on_floor(floor), floor=floor, spoken=True)
            return Scope(areas=[], spoken=True)
        lowered = text.lower()
        if _ALL_RE.search(lowered) and not _HERE_RE.search(lowered):
            return Scope(areas=[a.name for a in registry.areas], whole_home=True)
        return Scope(areas=[context_area] if context_area else [])

    def by_name(self, spoken: str | list[str], domains: set[str], scope: Scope, context_area: str | None) -> Resolution:
        """The device a spoken name means. ``spoken`` may hold variants of one span (the span, the span
        with the next words); each device keeps its best score."""
        variants = [spoken] if isinstance(spoken, str) else spoken
        candidates = [d for d in self.registry.devices if not domains or d.domain in domains]
        best: dict[str, float] = {}
        options = _name_options(self.registry.devices, frozenset(domains))
        spoken_names = [normalise(v) for v in variants]
        scored = [_of_its_kind(n, _best(n, options), self.registry) for n in spoken_names]
        for n, ranking in enumerate(scored):
            for score, key in ranking:
                # the span with the next words makes a name only where it clearly does (as below): "bright
                # lights" is 87 alike the night light, and the model took only "bright" for a name
                if n and score < MATCH_THRESHOLD + 5:
                    continue
                best[key] = max(score, best.get(key, 0.0))
        said_exactly = [(len(n.split()), [k for s, k in ranking if s >= 100.0])
                        for n, ranking in zip(spoken_names, scored)]  # fmt: skip
        if longest := max((n for n, keys in said_exactly if keys), default=0):
            # the longest name said exactly: "the front door lock" + "battery" is the Front Door Lock Battery
            keys = dict.fromkeys(k for n, found in said_exactly if n == longest for k in found)
            resolution = self._one_of([self.registry.device(k) for k in keys], scope, context_area)
            resolution.exact = True
            return resolution
        for ranking in scored[1:]:
            # the span with the next words clearly names one device ("living room" + "lamb": the Living Room
            # Lamp, not the Living Room TV), and the span alone named none exactly
            if ranking and ranking[0][0] >= MATCH_THRESHOLD + 5 and (
                    len(ranking) == 1 or ranking[1][0] < ranking[0][0] - 2 * TIE_MARGIN):  # fmt: skip
                found = self.registry.device(ranking[0][1])
                if ranking[0][0] < 100.0 and (rivals := _spelled_rivals(variants, candidates, options, found)):
                    return self._one_of([found, *rivals], scope, context_area)
                resolution = Resolution(devices=[found], scope=scope)
                resolution.exact = ranking[0][0] >= 100.0
                return resolution
        good = sorted(((s, k) for k, s in best.items() if s >= MATCH_THRESHOLD), reverse=True)
        if not good and not match_area(self.registry, variants[0]) and not only_kind_words(variants[0]) \
                and (inside := _containing(variants[0], candidates)):
            # every word said, in order, inside one name ("the tv speaker": the Smart TV Speaker, not the TV)
            return self._one_of(inside, scope, context_area)
        if not good:
            if domains and (other := self.by_name(variants, set(), scope, context_area)).devices:
                # "start the coffee machine" heard as a vacuum command: the device exists, the action does not fit
                return Resolution(scope=scope, problem="unsupported",
                                  reply=f"Sorry, {other.devices[0].name} can't do that.")  # fmt: skip
            return Resolution(scope=scope, problem="no_target",
                              reply=f"Sorry, I don't know any device called {variants[0]}.")  # fmt: skip
        top = good[0][0]
        tied = [self.registry.device(k) for s, k in good if s >= top - TIE_MARGIN]
        if len(tied) == 1 and top < 100.0:
            tied += _spelled_rivals(variants, candidates, options, tied[0])
        resolution = self._one_of(tied, scope, context_area)
        resolution.exact = top >= 100.0
        return resolution

    def _one_of(self, tied: list[Device], scope: Scope, context_area: str | None) -> Resolution:
        """Equally good candidates: those in the area spoken, else in the area the request came from."""
        if len(tied) > 1 and scope.areas and not scope.whole_home:
            tied = self.registry.in_areas(tied, scope.areas) or tied
        if len(tied) > 1 and context_area and not scope.spoken:
            tied = self.registry.in_areas(tied, [context_area]) or tied
        if len(tied) > 1:
            names = " or ".join(d.name for d in tied[:4])
            return Resolution(scope=scope, problem="ambiguous", reply=f"Which one do you mean: {names}?")
        return Resolution(devices=tied, scope=scope)

    def mentions(self, text: str, domains: set[str], scope: Scope, context_area: str | None) -> Resolution | None:
        """Devices whose name or alias is said word for word in ``text`` (longest mentions first),
        whatever the model tagged. None when no name is said."""
        words = normalise(text).split()
        padded = " " + " ".join(words) + " "
        hits: list[tuple[int, int, Device]] = []
        said = _per_devices(self.registry.devices, "said", lambda all_: tuple(
            (d, *_said_names(d.name, tuple(d.aliases), d.area)) for d in all_))
        for device, own, given, names in said:
            if domains and device.domain not in domains:
                continue
            for name in names:
                if not name or (name in DOMAIN_WORDS and name != own and name not in _CALLED_KINDS) \
                        or f" {name} " not in padded:
                    continue  # an alias like "heating" is a kind of device; a device called "Lamp" is that lamp
                if name in DOMAIN_WORDS and any(f" {normalise(n)} {name} " in padded
                                                for area, n in _area_names(self.registry) if area != device.area):
                    continue  # "the bedroom ac" is not the Office's AC, called "ac"
                if name not in given and len(name.split()) < 2:
                    continue  # "heater" left of "Office Heater" once the area is taken out: too vague
                if scope.areas and scope.spoken and not scope.whole_home and device.area not in scope.areas \
                        and name in given \
                        and not set(name.split()) & {w for a in scope.areas for w in normalise(a).split()}:
                    continue  # "the heating in the bedroom": the area said wins over another room's alias
                start = padded.index(f" {name} ")
                hits.append((start, start + len(name), device))
        if not hits:
            return None
        hits.sort(key=lambda h: h[0] - h[1])  # longest first
        taken: list[tuple[int, int]] = []
        groups: list[list[Device]] = []
        for start, end, device in hits:
            for i, (a, b) in enumerate(taken):
                if (start, end) == (a, b):
                    if device not in groups[i]:
                        groups[i].append(device)
                    break
                if start < b and a < end:
                    break
            else:
                taken.append((start, end))
                groups.append([device])
        devices: list[Device] = []
        for group in groups:
            one = self._one_of(group, scope, context_area)
            if one.problem:
                return one
            devices += [d for d in one.devices if d not in devices]
        return Resolution(devices=devices, scope=scope)

    def by_kind(self, text: str, domains: set[str], classes: set[str], scope: Scope,
                prefer: tuple[str, ...] = ()) -> Resolution:  # fmt: skip
        devices = [d for d in self.registry.devices if d.domain in domains]
        if classes:
            classed = [d for d in devices if d.device_class in classes]
            devices = classed or [d for d in devices if d.device_class is None and d.domain not in ("cover",)]
        everywhere = devices
        if not scope.whole_home:
            devices = self.registry.in_areas(devices, scope.areas)
            devices += [d for d in everywhere if d.domain in _PLACELESS and d not in devices]
        if not devices and not scope.spoken and len(everywhere) == 1:
            # Nothing of that kind here, but exactly one in the home ("open the garage" from the kitchen).
            devices = everywhere
        if not devices and not scope.spoken and len(everywhere) > 1:
            # Several in the home, none here: the one called by the very word said ("the AC"), else the one in
            # a state the intent prefers ("pause the music": the one playing), else ask.
            chosen = self._called(text, everywhere) or self._in_state(everywhere, prefer)
            if len(chosen) != 1:
                names = " or ".join(d.name for d in everywhere[:4])
                return Resolution(scope=scope, problem="ambiguous", reply=f"Which one do you mean: {names}?")
            devices = chosen
        if not devices:
            where = (f" on the {scope.floor}" if scope.floor else
                     f" in the {scope.areas[0]}" if len(scope.areas) == 1 else "")  # fmt: skip
            kind = _kind_word(domains, classes)
            return Resolution(scope=scope, problem="no_target", reply=f"Sorry, there are no {kind}{where}.")
        return Resolution(devices=devices, scope=scope, generic=True)

    def _called(self, text: str, devices: list[Device]) -> list[Device]:
        """Those whose own name or alias is a kind word said ("turn on the AC": the one called AC)."""
        said = f" {normalise(text)} "
        return [d for d in devices if any(
            (n := normalise(name)) in DOMAIN_WORDS and f" {n} " in said for name in (d.name, *d.aliases))]  # fmt: skip

    def _in_state(self, devices: list[Device], prefer: tuple[str, ...]) -> list[Device]:
        for state in prefer:
            found = [d for d in devices if self.registry.state(d.id).get("state") == state]
            if found:
                return found
        return []

    def by_purpose(self, text: str, domains: set[str], scope: Scope, context_area: str | None) -> Resolution | None:
        """The device for what the words are for ("a latte": the coffee machine; "boil some water": the kettle),
        by the device words of PURPOSES at the end of its name or alias; None when none fits."""
        said = f" {normalise(text)} "
        wanted = {w for purpose, words in PURPOSES.items() if f" {purpose} " in said for w in words}
        if not wanted:
            return None
        found = [d for d in self.registry.devices if (not domains or d.domain in domains) and any(
            f" {normalise(n)}".endswith(f" {w}") for n in (d.name, *d.aliases) for w in wanted)]  # fmt: skip
        return self._one_of(found, scope, context_area) if found else None

    def by_meaning(self, spoken: str, domains: set[str], scope: Scope, context_area: str | None,
                   kinds: set[str] | None = None) -> Resolution | None:  # fmt: skip
        """The device whose name means what ``spoken`` says ("the telly box": the Living Room TV), by the
        model's embeddings; only devices the intent acts on (of ``kinds``, when the words name a kind) in the
        area said. Above MEANING_ACT and clear of the next one: that device; from MEANING_ASK: a question,
        nothing done; else None."""
        if self.meanings is None or not normalise(spoken):
            return None
        devices = [d for d in self.registry.devices if (not domains or d.domain in domains)
                   and (not kinds or d.domain in kinds)]  # fmt: skip
        if scope.spoken and scope.areas:
            devices = self.registry.in_areas(devices, scope.areas)
        ranked = self.meanings.nearest(normalise(spoken), {d.id for d in devices})
        if not ranked or ranked[0][0] < MEANING_ASK:
            return None
        score, best, name = ranked[0]
        device = self.registry.device(best)
        if score >= MEANING_ACT and (len(ranked) == 1 or ranked[1][0] <= score - MEANING_MARGIN) \
                and self.meanings.same_apart_from_shared(spoken, name):  # fmt: skip
            return Resolution(devices=[device], scope=scope)
        return Resolution(scope=scope, problem="no_target",
                          reply=f"Sorry, I don't know any device called {spoken}. Did you mean {device.name}?")  # fmt: skip

    def by_loose_name(self, text: str, domains: set[str], scope: Scope, context_area: str | None,
                      unique: bool = False) -> Resolution | None:  # fmt: skip
        """A scene or script by the distinctive words of its name ("movie time": Movie Night; "cinema": its
        alias Cinema Mode). ``unique``: only when one scores best (the words are a whole sentence, not a name)."""
        said = _distinctive(text)
        scored: list[tuple[int, Device]] = []
        for device in self.registry.devices:
            if device.domain in ("scene", "script") and device.domain in domains:
                words: set[str] = set().union(*(_distinctive(n) for n in (device.name, *device.aliases)))
                if said & words:
                    scored.append((len(said & words), device))
        if not scored:
            return None
        best = max(score for score, _ in scored)
        top = [d for score, d in scored if score == best]
        if unique and len(top) > 1:
            return None
        return self._one_of(top, scope, context_area)

    def resolve(
        self,
        text: str,
        *,
        name: str | list[str] | None,
        area: str | None,
        floor: str | None,
        domains: set[str],
        default_domains: set[str],
        context_area: str | None,
        prefer: tuple[str, ...] = (),
    ) -> Resolution:
        """Devices the request is about. ``name`` is the spoken name (or variants of it); ``domains`` are
        those the intent can act on; ``default_domains`` apply when the sentence names no kind of device
        ("turn on the kitchen"); ``prefer``: states that pick one of several devices of a kind when none is
        in the request's area."""
        variants = [name] if isinstance(name, str) else list(name or [])
        scope = self.scope(text, area, floor, context_area)
        mentioned = self.mentions(text, domains, scope, context_area)
        if area and not scope.areas:
            # The model took a device's name for an area: "turn on the garage light" -> area "garage light"
            # (that device, unless a name was tagged too), "blinds at 35 percent, it's glaring on the telly"
            # (another device's name: no area was said).
            if not variants:
                as_device = self.by_name(area, domains, Scope(), context_area)
                if as_device.devices:
                    return as_device
            if self.by_name(area, set(), Scope(), context_area).devices:
                scope = self.scope(text, None, floor, context_area)
            elif not variants:
                return mentioned or Resolution(scope=scope, problem="no_target",
                                               reply=f"Sorry, I don't know an area called {area}.")  # fmt: skip
        span_domains: set[str] = set()
        span_classes: set[str] = set()
        if variants:
            named = self.by_name(variants, domains, scope, context_area)
            if named.problem not in ("no_target", "unsupported"):
                return named
            if mentioned is not None:
                return mentioned
            # the words name nothing this intent acts on: what they are for ("coffee"; "boil some water", not the
            # weather it sounds like), a scene's loose name ("movie time")
            loose = self.by_purpose(variants[0], domains, scope, context_area) or \
                self.by_purpose(text, domains, scope, context_area) or \
                self.by_loose_name(variants[0], domains, scope, context_area)  # fmt: skip
            if loose is not None:
                return loose
            if named.problem == "unsupported":
                return named
            span_domains, span_classes = kind_words(variants[0])
            span_area = match_area(self.registry, variants[0], fuzzy=False)
            next_kinds = kind_words(variants[1])[0] if len(variants) > 1 else set()
            if span_area:  # "the kitchen lights" tagged as a name: area + kind words inside it
                if not scope.spoken:
                    scope = Scope(areas=[span_area], spoken=True)
                if not span_domains & domains:
                    # the kind said beside it ("the kitchen" + "fan"), else what the intent does by default
                    span_domains = (kind_words(text)[0] & domains) or default_domains
            elif span_domains and only_kind_words(variants[0]):
                pass  # "the heating" tagged as a name, and nothing is called that: the kind, found below
            elif span_domains or next_kinds:
                # "the porch light", "the shed door": a device this home does not have, unless a name of one
                # of that kind means the same ("the reading light": the one called Reading Lamp)
                return self.by_meaning(variants[0], domains, scope, context_area, span_domains or next_kinds) \
                    or named  # fmt: skip
            else:
                # A stray word tagged as a name; act only if the rest of the sentence says what is meant
                # ("the lawn's soaked, shut off the sprinkler") or a device's name means the same ("the telly")
                rest_domains, _ = kind_words(text)
                if not rest_domains & domains and not scope.spoken:
                    return self.by_meaning(variants[0], domains, scope, context_area) or named
        elif mentioned is not None:
            return mentioned
        elif (untagged := _untagged_name(text, self.registry)) and \
                ((named := self.by_name(untagged, domains, scope, context_area)).problem == "ambiguous" or
                 named.devices and all(max(similarity(normalise(untagged), normalise(n)) for n in _device_names(d))
                                       >= UNTAGGED_THRESHOLD for d in named.devices)):  # fmt: skip
            # a name the model did not tag, said before a kind of device: "turning on the best lamp" is the desk
            # lamp misheard (or the bedside lamp: ask), not every light in the room; a word that names no device
            # ("the main light"), or only loosely ("the bright lights", 83 like the "night light"), leaves the
            # kind to say which
            return named
        elif not kind_words(text)[0] and not scope.spoken:
            # no name, no kind of device: what the sentence is for ("make me a latte"), a scene ("movie time")
            loose = self.by_purpose(text, domains, scope, context_area) or \
                self.by_loose_name(text, domains, scope, context_area, unique=True)  # fmt: skip
            if loose is not None:
                return loose
            if (stray := _stray_object(text, self.registry)) and not self.mentions(text, set(), scope, context_area):
                # "turn on the water": a thing named that the model did not tag; not this room's lights
                return self.by_meaning(stray, domains, scope, context_area) or Resolution(
                    scope=scope, problem="no_target", reply=f"Sorry, I don't know any device called {stray}.")
        if mentioned is None and not span_domains and (elsewhere := self.mentions(text, set(), scope, context_area)):
            # a device said word for word that this intent cannot act on ("send the robot mower to its dock" as a
            # vacuum command): its words are not a kind of device ("robot"), and unless the rest of the sentence
            # names a kind this intent acts on, it is that device, and it cannot do this
            rest = f" {normalise(text)} "
            for device in elsewhere.devices:
                for name in sorted(map(normalise, (device.name, *device.aliases)), key=len, reverse=True):
                    rest = rest.replace(f" {name} ", " ")
            if elsewhere.devices and not kind_words(rest)[0] & domains:
                return Resolution(scope=scope, problem="unsupported",
                                  reply=f"Sorry, {elsewhere.devices[0].name} can't do that.")  # fmt: skip
            text = rest.strip()
        kinds = kind_words(text)[0] | span_domains
        for pattern, verb_domains in _VERB_DOMAINS:
            if pattern.search(text.lower()):
                # "open the door": a door that opens, not a lock ("open the garish door" must not lock)
                kinds = (kinds & set(verb_domains)) if kinds else set(verb_domains)
                break
        wanted = (kinds & domains) if kinds else (default_domains & domains)
        if not wanted:
            wanted = default_domains & domains or domains
        if scope.spoken and not scope.areas:
            return Resolution(scope=scope, problem="no_target", reply=f"Sorry, I don't know an area called {area or floor}.")
        # classes of the kinds wanted only: "humidity" says nothing about which thermostat
        classes = kind_classes(text, wanted) | (kind_classes(variants[0], wanted) if span_classes else set())
        found = self.by_kind(text, wanted, classes, scope, prefer)
        found.guessed = not variants and mentioned is None and not kinds and not scope.spoken and not scope.whole_home
        return found


_SWITCHED_RE = re.compile(r"^(?:(?:please|can you|could you|would you|will you)\s+)*(?:turn|switch|flip)\s+"
                          r"(?:on|off)\s+(?:the|my|our|your)\s+([a-z]+)\b")
_NOT_OBJECTS = frozenset({"one", "ones", "same", "other", "rest", "way", "moment", "time", "day", "morning",
                          "evening", "night", "afternoon", "weekend", "minute", "minutes", "hour", "hours", "second",
                          "seconds", "house", "home", "flat", "room", "place", "whole", "entire", "end", "next",
                          "last", "first", "volume", "temperature", "brightness", "level", "speed", "timer", "list",
                          "music", "song", "track", "news", "radio"})  # fmt: skip


def _stray_object(text: str, registry: Registry) -> str | None:
    """What "turn on" or "switch off" is said of, when the model did not tag it ("turn on the water"): the word
    right after the verb and "the" or "my", when it is no filler, area, floor or word the commands use; else
    None. Only those verbs: in "start mowing the lawn" or "boil the water" the object is not the device."""
    match = _SWITCHED_RE.match(normalise(re.split(r"[,;.!?]", text, maxsplit=1)[0]))
    if match is None:
        return None
    word = match.group(1)
    return word if _names_something(word, registry) else None


def _names_something(word: str, registry: Registry) -> bool:
    """Whether a word the model did not tag may be a thing's name: no filler, word the commands use, kind of
    device, purpose, area or floor."""
    return not (word in _FILLER or word in _NOT_OBJECTS or word in DOMAIN_WORDS or word in PURPOSES
                or match_area(registry, word, fuzzy=False) or match_floor(registry, word))  # fmt: skip


UNTAGGED_THRESHOLD = 90.0
"""A name the model did not tag is taken for one device only when it is at least this alike (``similarity``):
"bedsite lamp" (95) is the Bedside Lamp, "bright lights" (83 like the "night light") is not."""


def _untagged_name(text: str, registry: Registry) -> str | None:
    """A word and the kind of device after it ("best lamp" in "turning on the best lamp"), said after "the", "my",
    "our" or "your", when the word is no filler, area, floor, kind, purpose or word the commands use; else None."""
    words = normalise(re.split(r"[,;.!?]", text, maxsplit=1)[0]).split()
    for at in range(2, len(words)):
        word = words[at - 1]
        if words[at] not in DOMAIN_WORDS or words[at - 2] not in ("the", "my", "our", "your"):
            continue
        return f"{word} {words[at]}" if _names_something(word, registry) else None
    return None


_NOT_DISTINCTIVE = frozenset({"scene", "mode", "time", "script", "routine", "turn", "on", "off", "start", "run",
                              "activate", "set", "switch", "it", "is", "its", "let", "lets", "go", "do", "me", "i",
                              "want", "to", "for", "and", "up", "now", "put", "get", "make", "please", "we", "are"})  # fmt: skip


def _distinctive(text: str) -> set[str]:
    return {w for w in normalise(text).split() if len(w) > 2 and w not in _FILLER and w not in _NOT_DISTINCTIVE}


_KIND_NAMES = {"light": "lights", "fan": "fans", "cover": "covers", "lock": "locks", "climate": "thermostats",
               "media_player": "media players", "vacuum": "vacuums", "valve": "valves", "switch": "switches",
               "sensor": "sensors", "binary_sensor": "sensors", "scene": "scenes", "todo": "lists",
               "alarm_control_panel": "alarm panels", "lawn_mower": "lawn mowers", "person": "people",
               "weather": "weather sources", "button": "buttons", "input_boolean": "switches", "script": "scripts"}  # fmt: skip


def _kind_word(domains: set[str], classes: set[str]) -> str:
    if classes:
        sensor = bool(domains & {"sensor", "binary_sensor"}) and not domains & {"cover", "lock"}
        return " or ".join(sorted(f"{c.replace('_', ' ')} sensors" if sensor else f"{c.replace('_', ' ')}s"
                                  for c in classes))  # fmt: skip
    names = sorted({_KIND_NAMES.get(d, d) for d in domains})
    return " or ".join(names) if len(names) <= 2 else "such devices"
