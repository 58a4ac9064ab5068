"""Entity resolution: the spoken device, area and floor words -> registry devices.

Names and aliases are matched exactly, then fuzzily (rapidfuzz) and phonetically (metaphone keys,
jellyfish), so that a recogniser's "living groom lamp" still finds the Living Room Lamp. Without a
name, a device type ("the lights", "the blinds") is looked up in the area spoken, the floor spoken,
the whole home ("all the lights"), or else the area the request came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import jellyfish
from rapidfuzz import fuzz

from ..config import Device
from ..devices.registry import Registry

MATCH_THRESHOLD = 82.0
"""Minimum similarity (0..100) for a spoken name to match a registry name."""
TIE_MARGIN = 3.0
"""Candidates within this many points of the best are equally good."""

_FILLER = {"the", "my", "our", "a", "an", "your", "this", "that", "in", "on", "of", "all", "every", "please"}

# Words that name a kind of device rather than a device: word -> (domains, device_class or None)
DOMAIN_WORDS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "light": (("light",), None), "lights": (("light",), None), "lamp": (("light",), None),
    "lamps": (("light",), None), "lighting": (("light",), None), "bulb": (("light",), None),
    "bulbs": (("light",), None),
    "fan": (("fan",), None), "fans": (("fan",), None),
    "blind": (("cover",), "blind"), "blinds": (("cover",), "blind"),
    "curtain": (("cover",), "curtain"), "curtains": (("cover",), "curtain"), "drapes": (("cover",), "curtain"),
    "shade": (("cover",), "shade"), "shades": (("cover",), "shade"),
    "shutter": (("cover",), "shutter"), "shutters": (("cover",), "shutter"), "awning": (("cover",), "awning"),
    "garage": (("cover",), "garage"), "gate": (("cover",), "gate"),
    "window": (("cover", "binary_sensor"), "window"), "windows": (("cover", "binary_sensor"), "window"),
    "door": (("lock", "cover", "binary_sensor"), "door"), "lock": (("lock",), None), "locks": (("lock",), None),
    "heating": (("climate",), None), "heat": (("climate",), None), "thermostat": (("climate",), None),
    "radiator": (("climate",), None), "ac": (("climate",), None), "aircon": (("climate",), None),
    "air conditioning": (("climate",), None),
    "music": (("media_player",), None), "media": (("media_player",), None), "volume": (("media_player",), None),
    "speakers": (("media_player",), None),
    "vacuum": (("vacuum",), None), "hoover": (("vacuum",), None), "robot": (("vacuum",), None),
    "sprinkler": (("valve",), None), "sprinklers": (("valve",), None), "valve": (("valve",), None),
    "plug": (("switch",), "outlet"), "socket": (("switch",), "outlet"), "outlet": (("switch",), "outlet"),
    "humidity": (("sensor",), "humidity"), "temperature": (("sensor", "climate"), None),
}  # fmt: skip

_VERB_DOMAINS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"\b(un)?lock(ed)?\b"), ("lock",)),
    (re.compile(r"\b(open|close|shut|raise|opened|closed)\b"), ("cover", "valve", "binary_sensor")),
]
_ALL_RE = re.compile(r"\b(all|every|everything|whole (house|home|flat|apartment)|entire (house|home)|everywhere"
                     r"|throughout|every room|house)\b")  # fmt: skip
_HERE_RE = re.compile(r"\b(in here|here|this room)\b")


def normalise(text: str) -> str:
    text = text.lower().replace("'s ", " ").replace("’s ", " ")
    words = re.sub(r"[^a-z0-9 ]+", " ", text).split()
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
    by_text = fuzz.ratio(spoken, name)
    by_sound = fuzz.ratio(_phonetic(spoken), _phonetic(name)) * 0.95
    joined = fuzz.ratio(spoken.replace(" ", ""), name.replace(" ", ""))  # "living room" vs "livingroom"
    return max(by_text, by_sound, joined)


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
    """None, "no_target", "ambiguous" or "unsupported" (the device named cannot do what was asked)."""
    reply: str = ""
    generic: bool = False
    """Found by a kind of device ("the lights") rather than by a name."""
    exact: bool = False
    """Found by a name said exactly (not a near miss)."""


def _best(spoken: str, options: Iterable[tuple[str, str]]) -> list[tuple[float, str]]:
    """Scores of (key, candidate name) options, best first, one per key."""
    best: dict[str, float] = {}
    for key, name in options:
        score = similarity(spoken, normalise(name))
        if score > best.get(key, -1):
            best[key] = score
    return sorted(((s, k) for k, s in best.items()), reverse=True)


def match_area(registry: Registry, spoken: str) -> str | None:
    """The area named by ``spoken``: all of it ("the lounge"), or a part of it ("kitchen lights")."""
    spoken = normalise(spoken)
    if not spoken:
        return None
    options = [(a.name, n) for a in registry.areas for n in (a.name, *a.aliases)]
    scores = _best(spoken, options)
    if scores and scores[0][0] >= MATCH_THRESHOLD:
        return scores[0][1]
    padded = f" {spoken} "
    inside = [(len(n), key) for key, n in options if f" {normalise(n)} " in padded]
    return max(inside)[1] if inside else None


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
    for word, (word_domains, device_class) in DOMAIN_WORDS.items():
        if f" {word} " in lowered:
            domains.update(word_domains)
            if device_class:
                classes.add(device_class)
    return domains, classes


def _device_names(device: Device) -> list[str]:
    """A device's names, plus each name with its area's words removed ("ceiling light" for the Kitchen
    Ceiling Light in the Kitchen)."""
    names = [device.name, *device.aliases]
    if device.area:
        area_words = normalise(device.area).split()
        for name in list(names):
            words = [w for w in normalise(name).split() if w not in area_words]
            if words and len(words) < len(normalise(name).split()) and " ".join(words) not in DOMAIN_WORDS:
                names.append(" ".join(words))  # but not "door" for the Garage Door: that is any door
    return names


class Resolver:
    """Resolves spoken references against one registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

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
        scored = [_best(normalise(v), ((d.id, n) for d in candidates for n in _device_names(d))) for v in variants]
        for ranking in scored:
            for score, key in ranking:
                best[key] = max(score, best.get(key, 0.0))
        exact = bool(scored and scored[0] and scored[0][0][0] >= 100.0)
        for ranking in scored[1:]:
            # the span with the next words clearly names one device ("living room" + "lamb": the Living Room
            # Lamp, not the Living Room TV), and the span alone named none exactly
            if not exact and ranking and ranking[0][0] >= MATCH_THRESHOLD + 5 and (
                    len(ranking) == 1 or ranking[1][0] < ranking[0][0] - 2 * TIE_MARGIN):  # fmt: skip
                resolution = Resolution(devices=[self.registry.device(ranking[0][1])], scope=scope)
                resolution.exact = ranking[0][0] >= 100.0
                return resolution
        good = sorted(((s, k) for k, s in best.items() if s >= MATCH_THRESHOLD), reverse=True)
        if not good:
            if domains and (other := self.by_name(variants, set(), scope, context_area)).devices:
                # "start the coffee machine" heard as a vacuum command: the device exists, the action does not fit
                return Resolution(scope=scope, problem="unsupported",
                                  reply=f"Sorry, {other.devices[0].name} can't do that.")  # fmt: skip
            return Resolution(scope=scope, problem="no_target",
                              reply=f"Sorry, I don't know any device called {variants[0]}.")  # fmt: skip
        top = good[0][0]
        tied = [self.registry.device(k) for s, k in good if s >= top - TIE_MARGIN]
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
        for device in self.registry.devices:
            if domains and device.domain not in domains:
                continue
            given = {normalise(n) for n in (device.name, *device.aliases)}
            for name in _device_names(device):
                name = normalise(name)
                if not name or name in DOMAIN_WORDS or f" {name} " not in padded:
                    continue
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

    def by_kind(self, text: str, domains: set[str], classes: set[str], scope: Scope) -> Resolution:
        devices = [d for d in self.registry.devices if d.domain in domains]
        if classes:
            classed = [d for d in devices if d.device_class in classes]
            devices = classed or [d for d in devices if d.device_class is None and d.domain not in ("cover",)]
        everywhere = devices
        if not scope.whole_home:
            devices = self.registry.in_areas(devices, scope.areas)
        if not devices and not scope.spoken and len(everywhere) == 1:
            # Nothing of that kind here, but exactly one in the home ("open the garage" from the kitchen).
            devices = everywhere
        if not devices and not scope.spoken and len(everywhere) > 1:
            names = " or ".join(d.name for d in everywhere[:4])
            return Resolution(scope=scope, problem="ambiguous", reply=f"Which one do you mean: {names}?")
        if not devices:
            where = (f" on the {scope.floor}" if scope.floor else
                     f" in the {scope.areas[0]}" if len(scope.areas) == 1 else "")  # fmt: skip
            kind = _kind_word(domains, classes)
            return Resolution(scope=scope, problem="no_target", reply=f"Sorry, there are no {kind}{where}.")
        return Resolution(devices=devices, scope=scope, generic=True)

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
    ) -> Resolution:
        """Devices the request is about. ``name`` is the spoken name (or variants of it); ``domains`` are
        those the intent can act on; ``default_domains`` apply when the sentence names no kind of device
        ("turn on the kitchen")."""
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
            if named.problem != "no_target":
                return named
            if mentioned is not None:
                return mentioned
            span_domains, span_classes = kind_words(variants[0])
            span_area = match_area(self.registry, variants[0])
            next_kinds = kind_words(variants[1])[0] if len(variants) > 1 else set()
            if span_area:  # "the kitchen lights" tagged as a name: area + kind words inside it
                if not scope.spoken:
                    scope = Scope(areas=[span_area], spoken=True)
                if not span_domains & domains:
                    span_domains = default_domains
            elif span_domains or next_kinds:
                return named  # "the porch light", "the shed door": a device this home does not have
            else:
                # A stray word tagged as a name; act only if the rest of the sentence says what is meant
                # ("the lawn's soaked, shut off the sprinkler").
                rest_domains, _ = kind_words(text)
                if not rest_domains & domains and not scope.spoken:
                    return named
        elif mentioned is not None:
            return mentioned
        kinds, classes = kind_words(text)
        kinds |= span_domains
        classes |= span_classes
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
        return self.by_kind(text, wanted, classes, scope)


_KIND_NAMES = {"light": "lights", "fan": "fans", "cover": "covers", "lock": "locks", "climate": "thermostats",
               "media_player": "media players", "vacuum": "vacuums", "valve": "valves", "switch": "switches",
               "sensor": "sensors", "binary_sensor": "sensors", "scene": "scenes", "todo": "lists"}  # fmt: skip


def _kind_word(domains: set[str], classes: set[str]) -> str:
    if classes:
        return " or ".join(sorted(f"{c}s" for c in classes))
    names = sorted({_KIND_NAMES.get(d, d) for d in domains})
    return " or ".join(names) if len(names) <= 2 else "such devices"
