"""Training data: Home Assistant templates + own templates + OOD, with slot spans.

Sentences are produced by a random walk over hassil's parsed template expressions;
slot lists are filled from :mod:`assistant.train.pools` while the walk records the
character span of every filled value, so spans are exact by construction.
Heavy imports (hassil, home_assistant_intents, yaml, tokenizers) happen inside functions.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.train import pools as P
from assistant.understanding.schema import HA_INTENTS, INTENT_LABELS, MAX_TOKENS, NO_INTENT, TAG_LABELS

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


class Skip(Exception):
    """A template that cannot be used (wildcard command, zone, ...)."""


@dataclass
class Example:
    text: str
    intent: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    template: str = ""
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "intent": self.intent, "spans": [list(s) for s in self.spans],
                "template": self.template, "source": self.source}


# --------------------------------------------------------------------------- lists
def _floor_n() -> str:
    return random.choice([f for f in P.FLOORS if f not in ("upstairs", "downstairs")])


STATE_ONOFF = ["on", "off", "switched on", "switched off", "turned on", "turned off", "running"]
STATE_LOCK = ["locked", "unlocked", "open", "secured", "locked up"]
STATE_OPEN = ["open", "closed", "shut", "opened", "up", "down", "opening", "closing"]
STATE_ANY = ["on", "off", "open", "closed", "locked", "unlocked", "running", "triggered", "wet", "occupied"]

OWN_LISTS: dict[str, tuple[Callable[[], str], str | None]] = {
    "name": (P.any_name, "name"), "light": (P.light_name, "name"), "switch": (P.switch_name, "name"),
    "fan": (P.fan_name, "name"), "cover": (P.cover_name, "name"), "lock": (P.lock_name, "name"),
    "media": (P.media_name, "name"), "climate": (P.climate_name, "name"), "vacuum": (P.vacuum_name, "name"),
    "scene": (P.scene_name, "name"), "script": (P.script_name, "name"), "sensor": (P.sensor_name, "name"),
    "valve": (P.NAME_BY_DOMAIN["valve"], "name"), "weather_name": (P.NAME_BY_DOMAIN["weather"], "name"),
    "area": (lambda: random.choice(P.AREAS), "area"), "floor": (lambda: random.choice(P.FLOORS), "floor"),
    "floor_n": (_floor_n, "floor"), "floor_adv": (lambda: random.choice(["upstairs", "downstairs"]), "floor"),
    "brightness": (P.brightness_value, "brightness"), "color": (lambda: random.choice(P.COLORS), "color"),
    "color_temp": (P.color_temp_value, "color_temp"), "position": (P.position_value, "position"),
    "position_word": (lambda: random.choice(["halfway", "half way", "half", "a quarter", "a third", "partway",
                                             "part way", "three quarters", "fully", "all the way"]), "position"),
    "volume": (P.volume_value, "volume"), "percentage": (P.fan_value, "percentage"),
    "temperature": (P.temperature_value, "temperature"), "step": (P.step_pct, "step"),
    "step_deg": (P.step_deg, "step"), "step_vol": (P.step_vol, "step"), "duration": (P.duration_value, "duration"),
    "item": (P.item_value, "item"), "grocery": (lambda: random.choice(P.GROCERIES), "item"),
    "task": (lambda: random.choice(P.TASKS), "item"), "todo_list": (P.todo_list_name, "name"),
    "timer_name": (P.timer_name, "name"), "state_onoff": (lambda: random.choice(STATE_ONOFF), "state"),
    "state_lock": (lambda: random.choice(STATE_LOCK), "state"), "state_open": (lambda: random.choice(STATE_OPEN), "state"),
    "state_any": (lambda: random.choice(STATE_ANY), "state"),
    "button": (lambda: random.choice(P.BUTTONS), "name"), "alarm": (lambda: random.choice(P.ALARMS), "name"),
    "mode": (lambda: random.choice(P.MODES), "name"),
}

_PEOPLE = ["mom", "dad", "john", "sarah", "alex", "emma", "my boss", "grandma", "the plumber", "dr smith", "mike",
           "jessica", "tom", "lisa", "my wife", "my husband", "david", "anna", "peter", "the office", "james",
           "barack obama", "taylor swift", "einstein", "shakespeare", "elon musk", "beyonce", "mozart", "picasso",
           "marie curie", "the queen", "napoleon", "lionel messi", "serena williams"]
_CITIES = ["paris", "london", "new york", "berlin", "tokyo", "rome", "madrid", "chicago", "boston", "seattle",
           "sydney", "toronto", "amsterdam", "dublin", "lisbon", "barcelona", "vienna", "prague", "munich", "denver",
           "austin", "miami", "san francisco", "los angeles", "manchester", "edinburgh", "oslo", "stockholm"]
_FOOD = ["pasta", "lasagna", "pancakes", "chicken curry", "sushi", "pizza", "banana bread", "a steak", "rice",
         "eggs", "salmon", "chocolate cake", "tacos", "ramen", "soup", "chili", "risotto", "a burger", "waffles",
         "brownies", "hummus", "guacamole", "a roast chicken", "potatoes", "broccoli", "quinoa", "lentil soup",
         "apple pie", "cookies", "french toast", "pad thai", "dumplings", "a turkey", "meatballs", "mac and cheese"]
_TITLES = ["the hobbit", "dune", "harry potter", "the great gatsby", "inception", "the matrix", "frozen",
           "star wars", "oppenheimer", "barbie", "the godfather", "pride and prejudice", "1984", "moby dick",
           "the lion king", "titanic", "bohemian rhapsody", "thriller", "hotel california", "yesterday",
           "the martian", "interstellar", "little women", "the office", "friends", "serial", "the daily"]
_THINGS = ["the telephone", "penicillin", "the internet", "a new laptop", "headphones", "running shoes",
           "pick up the kids", "the meeting", "buy a gift", "mona lisa", "the moon landing", "pizza", "cats",
           "dogs", "football", "music", "the weekend", "my homework", "a birthday cake", "the radio", "electricity",
           "the piano", "a sofa", "a bike", "call grandma", "the ninth symphony", "a dishwasher", "gravity"]
_WORDS = ("apple window quickly purple seven running table ocean guitar yesterday happy mountain paper river "
          "lamp kitchen blue green door music warm the a of and "
          "banana elephant keyboard coffee sunday monday garden dream silver train forest pencil tiger cloud "
          "bottle chair mirror candle orange rocket piano jacket winter summer bridge castle engine planet "
          "pizza sugar honey storm thunder whisper marble velvet shadow basket ticket button puzzle volcano "
          "here there very much more less really just maybe yes no hello okay sure well "
          "living room bedroom degrees percent minutes hours red yellow movie song").split()
_DEVTHINGS = ["lamp", "sofa", "thermostat", "fan", "tv", "speaker", "fridge", "light bulb", "smart plug",
              "coffee machine", "vacuum", "robot vacuum", "curtains", "blinds", "rug", "bed", "desk", "chair",
              "dishwasher", "washing machine", "heater", "air conditioner", "doorbell", "lock", "router",
              "ceiling fan", "chandelier", "oven", "kettle", "toaster", "mirror", "bookshelf", "plant", "painting"]
OOD_LISTS: dict[str, Callable[[], str]] = {
    "num": lambda: P.number(random.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 50, 100, random.randint(1, 999)]), 0.4),
    "clock": lambda: random.choice(["7", "7 am", "seven thirty", "6:30", "noon", "midnight", "8 pm", "half past six",
                                    "quarter to nine", "10:15", "five o'clock", "9 in the morning"]),
    "restaurant": lambda: random.choice(["luigi's", "the golden dragon", "nando's", "olive garden", "pizza hut",
                                         "the ivy", "chez marie", "wagamama", "the local diner", "sushi palace",
                                         "mcdonald's", "the red lion", "taco bell", "el toro", "blue ginger"]),
    "city": lambda: random.choice(_CITIES), "food": lambda: random.choice(_FOOD),
    "title": lambda: random.choice(_TITLES), "person": lambda: random.choice(_PEOPLE),
    "thing": lambda: random.choice(_THINGS), "word": lambda: random.choice(_WORDS),
    "cinema": lambda: random.choice(["the odeon", "amc", "cineworld", "the regal", "imax", "vue", "the local cinema"]),
    "country": lambda: random.choice(["france", "japan", "brazil", "canada", "germany", "australia", "india",
                                      "egypt", "mexico", "italy", "spain", "kenya", "norway", "peru", "china"]),
    "landmark": lambda: random.choice(["the eiffel tower", "mount everest", "the moon", "the sun", "the nile",
                                       "the pacific ocean", "the empire state building", "big ben", "mars"]),
    "event": lambda: random.choice(["world cup", "super bowl", "champions league", "world series", "premier league",
                                    "oscars", "tour de france", "olympics", "french revolution", "moon landing",
                                    "eurovision", "nba finals", "wimbledon", "election"]),
    "team": lambda: random.choice(["lakers", "yankees", "arsenal", "chelsea", "patriots", "real madrid", "celtics",
                                   "cubs", "liverpool", "barcelona", "warriors", "packers", "red sox", "bulls"]),
    "company": lambda: random.choice(["apple", "google", "tesla", "amazon", "microsoft", "nvidia", "ikea", "netflix"]),
    "genre": lambda: random.choice(["jazz", "rock", "classical", "pop", "hip hop", "country", "lofi", "metal",
                                    "blues", "reggae", "chill", "workout", "christmas", "80s", "indie"]),
    "place": lambda: random.choice(["the airport", "work", "the office", "home", "the station", "the mall",
                                    "the beach", "downtown", "the hospital", "grandma's house", "the gym"]),
    "area": lambda: random.choice(P.AREAS), "devthing": lambda: random.choice(_DEVTHINGS),
    "brand": lambda: random.choice(["ikea", "philips", "samsung", "sonos", "nest", "dyson", "apple", "lg", "bosch"]),
}


# --------------------------------------------------------------------------- sampler
def walk(expr: Any, rules: dict[str, Any], fill: Callable[[Any], tuple[str, str | None]],
         out: list[tuple[str, str | None]]) -> None:
    from hassil.expression import Alternative, ListReference, Permutation, RuleReference, Sequence, TextChunk

    if isinstance(expr, TextChunk):
        out.append((expr.original_text if expr.original_text is not None else expr.text, None))
    elif isinstance(expr, Alternative):
        items = expr.items
        if expr.is_optional and random.random() < 0.5:
            items = [i for i in items if not (isinstance(i, TextChunk) and i.text == "")] or items
        walk(random.choice(items), rules, fill, out)
    elif isinstance(expr, Permutation):
        items = list(expr.items)
        random.shuffle(items)
        for it in items:
            out.append((" ", None))
            walk(it, rules, fill, out)
        out.append((" ", None))
    elif isinstance(expr, Sequence):
        for it in expr.items:
            walk(it, rules, fill, out)
    elif isinstance(expr, RuleReference):
        if expr.rule_name not in rules:
            raise Skip(f"missing rule {expr.rule_name}")
        walk(rules[expr.rule_name].expression, rules, fill, out)
    elif isinstance(expr, ListReference):
        out.append(fill(expr))
    else:
        raise TypeError(f"unexpected expression {expr!r}")


def assemble(segs: list[tuple[str, str | None]]) -> tuple[str, list[tuple[int, int, str]]]:
    """Join segments, collapsing whitespace, and return (text, spans)."""
    buf: list[str] = []
    spans: list[tuple[int, int, str]] = []
    for text, tag in segs:
        start = None
        for ch in text:
            if ch.isspace():
                if not buf or buf[-1] == " ":
                    continue
                buf.append(" ")
            else:
                if start is None:
                    start = len(buf)
                buf.append(ch)
        if tag is not None and start is not None:
            end = len(buf)
            while end > start and buf[end - 1] == " ":
                end -= 1
            spans.append((start, end, tag))
    text = "".join(buf).rstrip()
    return text, spans


_NUMERIC = {"brightness", "position", "volume", "percentage", "temperature", "color_temp", "step"}
_UNIT_RE = re.compile(r"^(\s?%|\s?(percent|per cent|pct)\b|\s?°\s?[cf]?\b|\s?°|\s(degrees?|deg)(\s(celsius|fahrenheit|c|f)\b)?"
                      r"|\s(celsius|fahrenheit)\b|\s?(kelvin|k)\b|\s(points?|steps?|notches|levels?)\b)")
_TIME_UNIT_RE = re.compile(r"^[\s-]?(an?\s)?(hours?|hrs?|minutes?|mins?|seconds?|secs?)\b")
_MERGE_GAP_RE = re.compile(r"^\s*(,\s*)?(and\s+)?(a\s+)?$")


def fix_spans(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    spans = sorted(spans)
    out: list[list[Any]] = []
    for s, e, t in spans:
        if t in _NUMERIC:
            m = _UNIT_RE.match(text[e:])
            if m and not (t != "color_temp" and m.group(0).strip() in ("k",)):
                e += len(m.group(0))
            if t == "step" and text[:s].endswith("by "):
                s -= 3
        if t == "duration":
            m = _TIME_UNIT_RE.match(text[e:])
            if m:
                e += len(m.group(0))
            if out and out[-1][2] == "duration" and _MERGE_GAP_RE.match(text[out[-1][1]:s]):
                out[-1][1] = e
                m = _TIME_UNIT_RE.match(text[e:])
                if m:
                    out[-1][1] = e + len(m.group(0))
                continue
        out.append([s, e, t])
    # time units after merged durations ("an hour and a half hours")
    res = []
    for s, e, t in out:
        if t == "duration":
            m = _TIME_UNIT_RE.match(text[e:])
            if m:
                e += len(m.group(0))
        res.append((s, e, t))
    return res


def _text_of(expr: Any) -> str:
    segs: list[tuple[str, str | None]] = []
    walk(expr, {}, lambda r: (_ for _ in ()).throw(Skip("nested list")), segs)
    return assemble(segs)[0]


# --------------------------------------------------------------------------- HA templates
_HA_SKIP_LISTS = {"timer_command", "zone"}
_RANGE_GEN: dict[str, tuple[Callable[[], str], str]] = {
    "brightness": (lambda: P.number(P.pct_number(1, 100)), "brightness"),
    "position": (lambda: P.number(P.pct_number(0, 100)), "position"),
    "fan_speed": (lambda: P.number(P.pct_number(0, 100)), "percentage"),
    "volume": (lambda: P.number(P.pct_number(0, 100)), "volume"),
    "volume_step_up": (lambda: P.number(random.choice([5, 10, 10, 15, 20, 25, 30])), "step"),
    "volume_step_down": (lambda: P.number(random.choice([5, 10, 10, 15, 20, 25, 30])), "step"),
    "color_temperature": (lambda: P.number(random.choice([2000, 2700, 3000, 4000, 5000, 6500]), 0.15), "color_temp"),
    "timer_hours": (lambda: P.number(random.choice([1, 1, 2, 3, 4, 5, 12])), "duration"),
    "timer_minutes": (lambda: P.number(random.choice([1, 2, 3, 5, 10, 15, 20, 25, 30, 40, 45, random.randint(1, 59)])), "duration"),
    "timer_seconds": (lambda: P.number(random.choice([5, 10, 15, 20, 30, 45, random.randint(1, 59)])), "duration"),
}
_HA_TAG_TEXT_LISTS = {"brightness_level": "brightness", "color": "color", "color_temperature_names": "color_temp",
                      "on_off_states": "state", "cover_states": "state", "lock_states": "state",
                      "bs_open_states": "state", "bs_occupancy_states": "state", "timer_half": "duration",
                      "media_class": "media_class", "fan_mode": "fan_mode"}


def _ha_temperature() -> str:
    r = random.random()
    n = random.randint(16, 28) if r < 0.6 else random.randint(60, 80)
    if random.random() < 0.1:
        return f"{n}.5"
    return P.number(n)


def _ha_name(intent: str, domain: str | None) -> Callable[[], str]:
    if intent == "HassListAddItem":
        return P.todo_list_name
    if "Timer" in intent:
        return P.timer_name
    if intent.startswith("HassMedia") or "Volume" in intent:
        return P.media_name
    if intent.startswith("HassClimate"):
        return P.climate_name
    if intent.startswith("HassVacuum"):
        return P.vacuum_name
    if intent == "HassFanSetSpeed":
        return P.fan_name
    if intent == "HassSetPosition":
        return P.cover_name
    if intent == "HassLightSet":
        return P.light_name
    if intent == "HassGetWeather":
        return P.NAME_BY_DOMAIN["weather"]
    if domain and domain in P.NAME_BY_DOMAIN:
        return P.NAME_BY_DOMAIN[domain]
    return P.any_name


def ha_templates() -> list[tuple[str, str, Any, dict[str, Any], Callable]]:
    """[(template_id, intent, expression, rules, filler)] for the intents we model."""
    import home_assistant_intents
    from hassil import Intents
    from hassil.intents import RangeSlotList, TextSlotList

    intents = Intents.from_dict(home_assistant_intents.get_intents("en"))
    out = []
    for intent_name in HA_INTENTS:
        intent = intents.intents.get(intent_name)
        if intent is None:
            continue
        for di, data in enumerate(intent.data):
            rules = {**intents.expansion_rules, **data.expansion_rules}
            domain = (data.slots or {}).get("domain")
            if isinstance(domain, list):
                domain = domain[0] if domain else None
            name_gen = _ha_name(intent_name, domain if isinstance(domain, str) else None)
            meta: dict[str, Any] = {}

            def fill(ref: Any, _ng=name_gen, _intent=intent_name, _meta=meta) -> tuple[str, str | None]:
                ln = ref.list_name
                if ln in _HA_SKIP_LISTS:
                    raise Skip(ln)
                if ln == "name":
                    return _ng(), "name"
                if ln == "area":
                    return random.choice(P.AREAS), "area"
                if ln == "floor":
                    return _floor_n(), "floor"
                if ln == "timer_name":
                    return P.timer_name(), "name"
                if ln == "message":
                    return P.message_value(), "message"
                if ln == "search_query":
                    return P.query_value(), "query"
                if ln in ("shopping_list_item",):
                    return random.choice(P.GROCERIES), "item"
                if ln == "todo_list_item":
                    return P.item_value(), "item"
                if ln == "temperature" and _intent != "HassLightSet":
                    return _ha_temperature(), "temperature"
                if ln in _RANGE_GEN:
                    if ln.startswith("volume_step_"):
                        _meta["dir"] = "up" if ln.endswith("up") else "down"
                    gen, tag = _RANGE_GEN[ln]
                    return gen(), tag
                sl = intents.slot_lists.get(ln)
                if isinstance(sl, TextSlotList):
                    if ln == "color" and random.random() < 0.5:
                        return random.choice(P.COLORS), "color"
                    val = random.choice(sl.values)
                    if ln == "volume_step":
                        _meta["dir"] = str(val.value_out)
                    return _text_of(val.text_in), _HA_TAG_TEXT_LISTS.get(ln)
                if isinstance(sl, RangeSlotList):
                    return P.number(random.randint(sl.start, sl.stop)), None
                raise Skip(ln)

            for si, sent in enumerate(data.sentences):
                out.append((f"ha:{intent_name}:{di}:{si}", intent_name, sent.expression, rules, fill, meta))
    return out


# --------------------------------------------------------------------------- own templates
def _load_yaml(name: str) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((TEMPLATE_DIR / name).read_text(encoding="utf-8"))


def _parse_rules(raw: dict[str, str]) -> dict[str, Any]:
    from hassil import parse_sentence

    return {k: parse_sentence(v) for k, v in (raw or {}).items()}


def own_templates() -> tuple[list[tuple[str, str, Any, dict[str, Any], Callable, dict]], dict[str, str]]:
    from hassil import parse_sentence

    doc = _load_yaml("intents.yaml")
    rules = _parse_rules(doc.get("rules", {}))

    def fill(ref: Any) -> tuple[str, str | None]:
        if ref.list_name not in OWN_LISTS:
            raise KeyError(f"unknown list {{{ref.list_name}}}")
        gen, tag = OWN_LISTS[ref.list_name]
        return gen(), tag

    out = []
    kinds = {}
    for intent, spec in doc["intents"].items():
        assert intent in INTENT_LABELS, intent
        kinds[intent] = spec.get("kind", "command")
        for i, t in enumerate(spec["templates"]):
            out.append((f"own:{intent}:{i}", intent, parse_sentence(t).expression, rules, fill, {}))
    return out, kinds


def ood_templates() -> list[tuple[str, str, Any, dict[str, Any], Callable, dict]]:
    from hassil import parse_sentence

    doc = _load_yaml("ood.yaml")
    rules = _parse_rules(doc.get("rules", {}))

    def fill(ref: Any) -> tuple[str, str | None]:
        return OOD_LISTS[ref.list_name](), None

    out = []
    for group, temps in doc["templates"].items():
        for i, t in enumerate(temps):
            out.append((f"ood:{group}:{i}", NO_INTENT, parse_sentence(t).expression, rules, fill, {}))
    return out


def word_salad() -> Example:
    n = random.randint(2, 9)
    words = [random.choice(_WORDS + P.AREAS[:30] + P.COLORS[:20] + _DEVTHINGS) for _ in range(n)]
    return Example(" ".join(words), NO_INTENT, [], "salad", "salad")


# --------------------------------------------------------------------------- augmentation
CMD_PREFIX = ["please", "hey", "ok", "okay", "can you", "could you", "could you please", "can you please",
              "would you", "would you please", "will you", "hey can you", "hey could you", "i want you to",
              "i'd like you to", "i need you to", "go ahead and", "please could you", "um", "uh", "so",
              "alright", "hey assistant", "hey jarvis", "computer", "yo", "quick", "just", "oh and",
              "do me a favor and", "would you mind if you", "be a dear and", "now", "right", "and"]
Q_PREFIX = ["hey", "ok", "okay", "um", "uh", "so", "hey assistant", "quick question", "computer", "tell me",
            "excuse me", "hi", "hello", "yo", "alright", "and", "also", "oh", "hmm", "sorry"]
SUFFIX = ["please", "thanks", "thank you", "for me", "now", "right now", "for me please", "please and thank you",
          "asap", "quickly", "thx", "cheers", "if you can", "would you", "ok", "okay", "mate", "buddy",
          "when you get a chance", "straight away", "immediately", "real quick", "thanks a lot", "pls", "plz"]
Q_SUFFIX = ["please", "thanks", "thank you", "right now", "at the moment", "currently", "exactly", "again",
            "real quick", "pls"]
FILLERS = ["um", "uh", "er", "erm", "like", "uhm", "hmm", "you know", "so", "actually", "just"]
ASR_SUBS = {"lights": ["lites", "light's", "lighs"], "light": ["lite", "like"], "off": ["of", "awf"],
            "what's": ["whats", "what"], "it's": ["its", "it"], "the": ["da", "a", "that"], "to": ["too", "two"],
            "turn": ["tern", "turned"], "temperature": ["temp", "temprature", "temperatures"],
            "bedroom": ["bed room", "bedrooms"], "living room": ["livingroom", "living-room", "leaving room"],
            "downstairs": ["down stairs"], "upstairs": ["up stairs"], "kitchen": ["kitchens", "kitchin"],
            "minutes": ["minute", "mins"], "timer": ["time", "timers"], "volume": ["volumes", "volume's"],
            "brightness": ["brightness's", "brightest"], "weather": ["whether"], "please": ["pleas", "plz"],
            "for": ["four", "fore"], "thermostat": ["thermostats", "thermo stat"], "blinds": ["blind", "blinks"],
            "curtains": ["curtain", "certains"], "switch": ["which", "switched"], "on": ["one"],
            "percent": ["per cent", "%"], "degrees": ["degree", "decrees"], "playing": ["plane"], "fan": ["fans", "van"],
            "garage": ["garages", "garbage"], "hallway": ["hall way"], "lounge": ["lunge"], "dim": ["them"],
            "mute": ["mewt", "moot"], "pause": ["paws", "pose"], "next": ["necks"], "dining room": ["dinning room"]}


def _edit(text: str, spans: list[tuple[int, int, str]], s: int, e: int, rep: str):
    """Replace text[s:e] with rep, keeping spans aligned. Returns None if it cuts a span boundary."""
    delta = len(rep) - (e - s)
    new = []
    for a, b, t in spans:
        if b <= s:
            new.append((a, b, t))
        elif a >= e:
            new.append((a + delta, b + delta, t))
        elif a <= s and e <= b:
            if a == s and b == e and not rep:
                return None
            new.append((a, b + delta, t))
        else:
            return None
    return text[:s] + rep + text[e:], new


def _inside(spans, i: int) -> bool:
    return any(a < i < b for a, b, _ in spans)


def augment(ex: Example, kind: str, rng: random.Random, level: float = 1.0) -> Example:
    text, spans = ex.text, list(ex.spans)
    # ASR-like substitutions (spans adjust, incl. inside a span)
    if rng.random() < 0.12 * level:
        keys = [k for k in ASR_SUBS if re.search(rf"\b{re.escape(k)}\b", text)]
        if keys:
            k = rng.choice(keys)
            m = list(re.finditer(rf"\b{re.escape(k)}\b", text))
            mm = rng.choice(m)
            r = _edit(text, spans, mm.start(), mm.end(), rng.choice(ASR_SUBS[k]))
            if r and r[0].strip():
                text, spans = r
    # article dropping
    if rng.random() < 0.15 * level:
        for mm in reversed(list(re.finditer(r"\b(the|my|a|an) ", text))):
            if not _inside(spans, mm.start()) and not any(a == mm.start() for a, _, _ in spans) and rng.random() < 0.7:
                r = _edit(text, spans, mm.start(), mm.end(), "")
                if r and r[0].strip():
                    text, spans = r
    # filler inside
    if rng.random() < 0.08 * level:
        bounds = [m.start() for m in re.finditer(r" ", text) if not _inside(spans, m.start())]
        if bounds:
            i = rng.choice(bounds)
            text, spans = _edit(text, spans, i, i, " " + rng.choice(FILLERS))  # type: ignore[misc]
    # word merge/split noise: duplicate word (stutter)
    if rng.random() < 0.03 * level:
        m = re.match(r"^(\w+) ", text)
        if m and not spans or (m and all(a > m.end() for a, _, _ in spans)):
            text, spans = _edit(text, spans, 0, 0, m.group(1) + " ")  # type: ignore[misc]
    # wrappers
    if rng.random() < 0.3 * level:
        p = rng.choice(CMD_PREFIX if kind == "command" else Q_PREFIX)
        if rng.random() < 0.2:
            p += ","
        text, spans = _edit(text, spans, 0, 0, p + " ")  # type: ignore[misc]
    if rng.random() < 0.2 * level:
        sfx = rng.choice(SUFFIX if kind == "command" else Q_SUFFIX)
        sep = ", " if rng.random() < 0.2 else " "
        text, spans = _edit(text, spans, len(text), len(text), sep + sfx)  # type: ignore[misc]
    # punctuation / case
    r = rng.random()
    if r < 0.25:
        text += "?" if kind == "question" else rng.choice([".", "!", "."])
    elif r < 0.3:
        text += rng.choice(["...", " ?", "!!"])
    if rng.random() < 0.3:
        text = text[:1].upper() + text[1:]
    return Example(text, ex.intent, spans, ex.template, ex.source)


# --------------------------------------------------------------------------- generation
def sample_template(t, n: int, rng_seed: int, max_tries: int = 4) -> list[Example]:
    tid, intent, expr, rules, fill, meta = t
    seen: set[str] = set()
    out: list[Example] = []
    tries = 0
    while len(out) < n and tries < n * max_tries:
        tries += 1
        meta.clear()
        segs: list[tuple[str, str | None]] = []
        try:
            walk(expr, rules, fill, segs)
        except Skip:
            return []
        text, spans = assemble(segs)
        if not text:
            continue
        spans = fix_spans(text, spans)
        label = intent
        if intent == "HassSetVolumeRelative":
            d = meta.get("dir") or ("down" if re.search(r"\b(down|decrease|lower|quieter|reduce)\b", text) else "up")
            label = "VolumeUp" if d == "up" else "VolumeDown"
        if text in seen:
            continue
        seen.add(text)
        src = tid.split(":")[0]
        out.append(Example(text, label, spans, tid, src))
    return out


QUESTION_INTENTS = frozenset({"HassGetState", "HassClimateGetTemperature", "HassTimerStatus", "HassGetCurrentTime",
                              "HassGetCurrentDate", "HassGetWeather"})  # fmt: skip
"""Asked, not commanded: augmented with question prefixes and suffixes (unless their templates say otherwise)."""


@dataclass
class DataConfig:
    seed: int = 13
    per_intent: int = 2500  # target train+test examples per intent label
    ha_share: float = 0.4  # of an intent's examples, from HA templates when both sources exist
    ood_share: float = 0.3
    salad_share: float = 0.1  # of OOD
    test_template_frac: float = 0.12
    aug_level: float = 1.0
    aug_copies: float = 0.5  # extra augmented copies per example (expected)
    sample: int = 0  # if >0, keep only this many examples in total (tiny runs)
    corpus_copies: int = 3  # each written corpus sentence: itself and this many - 1 augmented variants


def generate(cfg: DataConfig) -> tuple[list[Example], list[Example], dict[str, Any]]:
    random.seed(cfg.seed)
    rng = random.Random(cfg.seed + 1)
    ha = ha_templates()
    own, kinds = own_templates()
    ood = ood_templates()
    by_intent: dict[str, list] = defaultdict(list)
    for t in ha + own:
        label = t[1]
        if label == "HassSetVolumeRelative":
            by_intent["VolumeUp"].append(t)
            by_intent["VolumeDown"].append(t)
        else:
            by_intent[label].append(t)
    # test templates: choose per intent, own and HA separately
    test_ids: set[str] = set()
    for label, temps in sorted(by_intent.items()):
        for src in ("own", "ha"):
            ids = sorted({t[0] for t in temps if t[0].startswith(src)})
            if len(ids) >= 6:
                k = max(1, round(len(ids) * cfg.test_template_frac))
                test_ids.update(rng.sample(ids, k))
    ood_groups = defaultdict(list)
    for t in ood:
        ood_groups[t[0].split(":")[1]].append(t[0])
    for g, ids in sorted(ood_groups.items()):
        if len(ids) >= 4:
            test_ids.update(rng.sample(sorted(ids), max(1, round(len(ids) * cfg.test_template_frac))))

    examples: list[Example] = []
    counts: dict[str, int] = {}
    for label in INTENT_LABELS:
        if label == NO_INTENT:
            continue
        temps = by_intent.get(label, [])
        if not temps:
            counts[label] = 0
            continue
        ha_t = [t for t in temps if t[0].startswith("ha")]
        own_t = [t for t in temps if t[0].startswith("own")]
        share = cfg.ha_share if ha_t and own_t else (1.0 if ha_t else 0.0)
        got: list[Example] = []
        for group, n_total in ((ha_t, int(cfg.per_intent * share)), (own_t, int(cfg.per_intent * (1 - share)))):
            if not group or n_total <= 0:
                continue
            per_t = max(2, -(-n_total // len(group)))
            pool: list[Example] = []
            for t in group:
                if label in ("VolumeUp", "VolumeDown") and t[1] == "HassSetVolumeRelative":
                    pool.extend(e for e in sample_template(t, per_t * 2, 0) if e.intent == label)
                else:
                    pool.extend(sample_template(t, per_t, 0))
            rng.shuffle(pool)
            got.extend(pool[:n_total])
        counts[label] = len(got)
        examples.extend(got)
    n_in = len(examples)
    n_ood = int(n_in * cfg.ood_share / (1 - cfg.ood_share))
    n_salad = int(n_ood * cfg.salad_share)
    per_t = max(2, -(-(n_ood - n_salad) // len(ood)))
    pool = []
    for t in ood:
        pool.extend(sample_template(t, per_t, 0))
    rng.shuffle(pool)
    examples.extend(pool[: n_ood - n_salad])
    for _ in range(n_salad):
        examples.append(word_salad())
    counts[NO_INTENT] = n_ood

    kinds_all = {**kinds, NO_INTENT: "question"}
    for lab in INTENT_LABELS:
        kinds_all.setdefault(lab, "question" if lab in QUESTION_INTENTS else "command")
    out: list[Example] = []
    for ex in examples:
        kind = kinds_all.get(ex.intent, "command")
        if ex.intent == NO_INTENT:
            kind = rng.choice(["command", "question"])
        out.append(augment(ex, kind, rng, cfg.aug_level * (0.6 if rng.random() < 0.5 else 1.0)))
        if rng.random() < cfg.aug_copies:
            out.append(augment(ex, kind, rng, cfg.aug_level * 1.5))
    # top up small classes (few distinct sentences) with more augmented variants
    have = Counter(e.intent for e in out)
    by_label: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_label[ex.intent].append(ex)
    for label, exs in by_label.items():
        want = int(cfg.per_intent * 0.7) if label != NO_INTENT else 0
        extra = 0
        while have[label] + extra < want and extra < 4 * len(exs):
            ex = rng.choice(exs)
            out.append(augment(ex, kinds_all.get(label, "command"), rng, cfg.aug_level * 2.0))
            extra += 1
    # the written corpus (corpus/train): every sentence, and augmented variants; training only
    from assistant.train import corpus

    written = corpus.examples(corpus.load("train"))
    written_out = list(written)
    for ex in written:
        for _ in range(cfg.corpus_copies - 1):
            written_out.append(augment(ex, "question" if ex.intent in QUESTION_INTENTS else "command", rng,
                                       cfg.aug_level))  # fmt: skip
    # dedupe by text (the written sentences first: their labels win over a template's)
    seen: dict[str, Example] = {}
    for ex in written_out:
        seen.setdefault(ex.text.lower().strip(" .?!"), ex)
    for ex in out:
        key = ex.text.lower().strip(" .?!")
        if key not in seen:
            seen[key] = ex
    out = list(seen.values())
    rng.shuffle(out)
    train = [e for e in out if e.template not in test_ids]
    test = [e for e in out if e.template in test_ids and e.source != "corpus"]
    # small classes (few distinct phrasings): repeat sentences so each label has a fair share of updates
    floor = int(cfg.per_intent * 0.4)
    by_l: dict[str, list[Example]] = defaultdict(list)
    for e in train:
        by_l[e.intent].append(e)
    for label, exs in sorted(by_l.items()):
        if len(exs) < floor:
            train.extend(rng.choice(exs) for _ in range(floor - len(exs)))
    rng.shuffle(train)
    if cfg.sample:
        train = train[: cfg.sample]
        test = test[: max(8, cfg.sample // 4)]
    info = {
        "seed": cfg.seed, "per_intent_target": cfg.per_intent, "ha_share": cfg.ha_share, "ood_share": cfg.ood_share,
        "salad_share_of_ood": cfg.salad_share, "test_template_frac": cfg.test_template_frac,
        "augmentation": {"level": cfg.aug_level, "extra_copies": cfg.aug_copies,
                         "ops": ["asr_substitutions", "article_dropping", "fillers", "stutter",
                                 "polite_prefixes", "suffixes", "punctuation", "capitalisation"]},
        "n_templates": {"home_assistant": len(ha), "own": len(own), "ood": len(ood)},
        "n_test_templates": len(test_ids), "n_train": len(train), "n_test": len(test),
        "corpus": {"sentences": len(written), "with_variants": len(written_out), "copies": cfg.corpus_copies,
                   "in_train": sum(e.source == "corpus" for e in train)},
        "counts_train": dict(sorted(Counter(e.intent for e in train).items())),
        "counts_test": dict(sorted(Counter(e.intent for e in test).items())),
        "ood_share_actual": round(sum(e.intent == NO_INTENT for e in train) / max(1, len(train)), 3),
    }
    return train, test, info


# --------------------------------------------------------------------------- encoding
def encode(examples: list[Example], tokenizer_path: str | Path, max_tokens: int = MAX_TOKENS):
    """-> dict of numpy arrays: input_ids, attention_mask, intent, tags (-100 on padding)."""
    import numpy as np
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.enable_truncation(max_length=max_tokens)
    tok.no_padding()
    tag_idx = {t: i for i, t in enumerate(TAG_LABELS)}
    int_idx = {t: i for i, t in enumerate(INTENT_LABELS)}
    n = len(examples)
    ids = np.zeros((n, max_tokens), dtype=np.int64)
    mask = np.zeros((n, max_tokens), dtype=np.int64)
    tags = np.full((n, max_tokens), -100, dtype=np.int64)
    intents = np.zeros((n,), dtype=np.int64)
    encs = tok.encode_batch([e.text for e in examples])
    for i, (ex, enc) in enumerate(zip(examples, encs)):
        L = len(enc.ids)
        ids[i, :L] = enc.ids
        mask[i, :L] = 1
        tags[i, :L] = 0
        intents[i] = int_idx[ex.intent]
        for s, e, t in ex.spans:
            first = True
            for j, ((a, b), sp) in enumerate(zip(enc.offsets, enc.special_tokens_mask)):
                if sp or b <= a:
                    continue
                if a < e and b > s:
                    tags[i, j] = tag_idx[("B-" if first else "I-") + t]
                    first = False
    return {"input_ids": ids, "attention_mask": mask, "intent": intents, "tags": tags}


PHRASE_SLOTS = ("name", "area", "floor", "item", "query")
"""The slot types whose spoken words are the phrases the embedding head learns (what people call things)."""


def phrases(train: list[Example], tokenizer_path: Path, seed: int, limit: int = 40_000) -> list[str]:
    """Short phrases for the embedding head, from the training data only: the words people said for devices,
    areas, list items and media (the spans), one to three running words of each written sentence, and every
    whole word of the vocabulary; shuffled, at most ``limit``."""
    from tokenizers import Tokenizer

    rng = random.Random(seed)
    out: set[str] = set()
    for ex in train:
        for s, e, t in ex.spans:
            if t in PHRASE_SLOTS:
                out.add(ex.text[s:e].lower().strip())
        if ex.source == "corpus":
            words = ex.text.lower().split()
            n = rng.randint(1, 3)
            i = rng.randint(0, max(0, len(words) - n))
            out.add(" ".join(words[i:i + n]))
    vocab = Tokenizer.from_file(str(tokenizer_path)).get_vocab()
    out.update(w for w in vocab if w.isalpha() and len(w) > 2)
    chosen = sorted(p for p in out if p)
    rng.shuffle(chosen)
    return chosen[:limit]


def write_dataset(out_dir: Path, train: list[Example], test: list[Example], info: dict[str, Any],
                  tokenizer_path: Path, seed: int = 13, phrases_limit: int = 40_000) -> None:
    import numpy as np

    out_dir.mkdir(parents=True, exist_ok=True)
    said = phrases(train, tokenizer_path, seed, phrases_limit)
    (out_dir / "phrases.txt").write_text("\n".join(said) + "\n", encoding="utf-8")
    encoded = encode([Example(p, NO_INTENT) for p in said], tokenizer_path, max_tokens=16)
    np.savez_compressed(out_dir / "phrases.npz", input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"])
    info["phrases"] = len(said)
    for name, exs in (("train", train), ("test", test)):
        with open(out_dir / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for e in exs:
                f.write(json.dumps(e.to_json(), ensure_ascii=False) + "\n")
        np.savez_compressed(out_dir / f"{name}.npz", **encode(exs, tokenizer_path))
    (out_dir / "data_info.json").write_text(json.dumps(info, indent=1), encoding="utf-8")


def read_jsonl(path: Path) -> list[Example]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out.append(Example(d["text"], d["intent"], [tuple(s) for s in d["spans"]], d["template"], d["source"]))
    return out
