"""Plan: an intent and its slots -> the devices it targets, the messages to send and the reply.

One table, ``INTENTS``, maps each intent to the domains it acts on and its handler; each handler
resolves targets (``resolve``), builds the MQTT messages through the device protocols and takes its
words from ``replies``. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..config import Device, Understanding
from ..core.messages import Action
from ..devices import Registry, command_for
from ..errors import UnsupportedAction
from . import schema
from .replies import (
    NOT_SURE,
    NOT_UNDERSTOOD,
    already,
    called,
    degrees,
    is_phrase,
    listed,
    measure,
    names_of,
    pct,
    people_home,
    sentence,
    state_words,
    timer_reply,
    weather_report,
)
from .resolve import DOMAIN_WORDS, Resolution, Resolver, Scope, kind_words, match_area, match_floor, normalise


@dataclass
class Outcome:
    reply: str
    kind: str = "done"
    targets: list[Device] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


@dataclass
class Request:
    text: str
    label: str
    slots: dict[str, Any]
    spans: dict[str, str]
    registry: Registry
    resolver: Resolver
    settings: Understanding
    context_area: str | None
    now: datetime

    names: list[list[str]] = field(default_factory=list)
    """Every name span, each with variants that take in the next words ("desk" -> "desk lamp")."""
    previous_targets: tuple[str, ...] = ()
    """Set when the sentence says "it"/"them" about the last command's devices."""

    def resolve(self, spec: IntentSpec) -> Resolution:
        if self.previous_targets:
            known = {d.id for d in self.registry.devices}
            devices = [self.registry.device(i) for i in self.previous_targets if i in known]
            fitting = [d for d in devices if d.domain in spec.domains]
            if fitting:
                return Resolution(devices=fitting)
            if devices:  # "stop the mower and send it back": "it" is the mower, never the vacuum that fits the verb
                return Resolution(problem="unsupported", reply=f"Sorry, {names_of(devices)} can't do that.")
        results = [
            self.resolver.resolve(
                self.text,
                name=variants,
                area=self.spans.get("area"),
                floor=self.spans.get("floor"),
                domains=set(spec.domains),
                default_domains=set(spec.default_domains),
                context_area=self.context_area,
                prefer=spec.prefer,
            )
            for variants in (self.names or [[]])
        ]
        # Several names: all must resolve (one that names nothing here stops the command), and when some
        # resolve by name, a stray word that only led to "the lights of this room" is left out.
        for resolution in results:
            if resolution.problem:
                return resolution
        named = [r for r in results if not r.generic] or results
        if any(r.exact for r in named):  # beside a name said exactly, a near miss is a stray word ("eating")
            named = [r for r in named if r.exact]
        merged = named[0]
        for resolution in named[1:]:
            merged.devices += [d for d in resolution.devices if d not in merged.devices]
        if merged.guessed and not spec.guess and not merged.problem:
            return Resolution(scope=merged.scope, problem="unsure", reply=NOT_SURE)
        return merged


Handler = Callable[[Request, "IntentSpec"], Outcome]


@dataclass(frozen=True)
class IntentSpec:
    domains: frozenset[str]
    """Domains the intent can target; empty for intents that target no device."""
    default_domains: frozenset[str]
    """Domains meant when the sentence names no kind of device."""
    handle: Handler
    slots: frozenset[str] = frozenset()
    """The value slots the intent takes (besides name, area and floor); others heard are dropped."""
    prefer: tuple[str, ...] = ("playing",)
    """Among several devices of the kind meant, none in the request's area, the one in these states
    ("pause the music": the player that is playing) before asking which."""
    guess: bool = True
    """Whether the default kind in the request's area may be acted on when the words name nothing ("brighter":
    this room's lights); not for turning on or off, where a misheard sentence would switch this room's lights."""



# ----------------------------------------------------------------------------------------------
# Acting on devices


Planned = tuple[str, dict[str, Any]] | str | None
"""(action, params); or why the device cannot ("the TV can't search for media"); or None (it cannot do that)."""


def _act(
    req: Request,
    spec: IntentSpec,
    action_for: Callable[[Device], Planned],
    reply: Callable[[list[Device]], str],
    resolution: Resolution | None = None,
) -> Outcome:
    """Resolve targets (unless given), build one message per target, and reply about the ones that worked."""
    resolution = resolution or req.resolve(spec)
    if resolution.problem:
        return Outcome(resolution.reply, resolution.problem)
    actions: list[Action] = []
    done: list[Device] = []
    refused: list[str] = []
    for device in resolution.devices:
        planned = action_for(device)
        if planned is None or isinstance(planned, str):
            refused.append(planned or f"{called(device)} cannot do that")
            continue
        try:
            actions.append(command_for(device, planned[0], planned[1]))
            done.append(device)
        except UnsupportedAction as exc:
            refused.append(str(exc))
    if not actions:
        return Outcome(f"Sorry, {refused[0]}." if refused else NOT_UNDERSTOOD, "unsupported",
                       targets=resolution.devices)  # fmt: skip
    return Outcome(reply(done), "done", targets=done, actions=actions)


_ON_ACTIONS = {"cover": "open", "valve": "open", "lock": "lock", "scene": "activate", "script": "activate",
               "vacuum": "start", "lawn_mower": "start", "alarm_control_panel": "arm_away", "button": "press"}  # fmt: skip
_OFF_ACTIONS = {"cover": "close", "valve": "close", "lock": "unlock", "vacuum": "return_to_base", "lawn_mower": "dock",
                "alarm_control_panel": "disarm"}  # fmt: skip
_ON_VERBS = {"open": "Opened", "lock": "Locked", "activate": "Activated", "start": "Started", "turn_on": "Turned on",
             "arm_away": "Armed", "press": "Pressed"}  # fmt: skip
_OFF_VERBS = {"close": "Closed", "unlock": "Unlocked", "return_to_base": "Sent home", "turn_off": "Turned off",
              "dock": "Docked", "disarm": "Disarmed"}  # fmt: skip
_NEVER_OFF = ("scene", "script", "button")
"""Nothing to turn off: a scene, a script or a button only happens."""


def _turn(on: bool) -> Handler:
    table, verbs = (_ON_ACTIONS, _ON_VERBS) if on else (_OFF_ACTIONS, _OFF_VERBS)
    default = "turn_on" if on else "turn_off"

    def handle(req: Request, spec: IntentSpec) -> Outcome:
        # the direction spoken is checked against every action afterwards, for the whole sentence (polarity.py)
        def action_for(device: Device) -> tuple[str, dict[str, Any]] | None:
            if device.domain in READ_ONLY or (not on and device.domain in _NEVER_OFF):
                return None
            return table.get(device.domain, default), {}

        def reply(devices: list[Device]) -> str:
            verb = verbs[table.get(devices[0].domain, default)]
            if len({table.get(d.domain, default) for d in devices}) > 1:  # "turn off the garden": lights and a mower
                verb = "Turned on" if on else "Turned off"
            return f"{verb} {names_of(devices)}."

        return _act(req, spec, action_for, reply)

    return handle


def _light_set(req: Request, spec: IntentSpec) -> Outcome:
    slots = req.slots
    step_info = schema.INTERNAL_INTENTS.get(req.label)

    def supports(device: Device, feature: str) -> bool:
        return device.features is None or feature in device.features

    if step_info:
        step = abs(int(slots.get("brightness_step") or req.settings.brightness_step)) * step_info[2]
        slots["brightness_step"] = step
        resolution = req.resolve(spec)
        if resolution.problem:
            return Outcome(resolution.reply, resolution.problem)
        levels: dict[str, int] = {}  # known brightness, %, by device id; 0 for a light that is off
        for device in resolution.devices:
            state = req.registry.state(device.id)
            if state.get("state") == "off" or "brightness" in state:
                levels[device.id] = 0 if state.get("state") == "off" else int(state["brightness"])
        # A light already where the step would take it ("too bright" and it is off) is told about, sent nothing.
        limit = 0 if step < 0 else 100
        unchanged = [d for d in resolution.devices if levels.get(d.id) == limit]
        note = already(unchanged, "off" if step < 0 else "at full brightness") if unchanged else ""
        acting = [d for d in resolution.devices if d not in unchanged]
        if not acting:
            return Outcome(note, "answer", targets=unchanged)

        def action_for(device: Device) -> tuple[str, dict[str, Any]] | None:
            if not supports(device, "brightness"):
                return None
            if device.id in levels:
                value = max(0, min(100, levels[device.id] + step))
                return "set_brightness", {"brightness": value, "brightness_255": round(value * 254 / 100)}
            return "step_brightness", {"step": step, "step_255": round(step * 254 / 100)}

        def reply(devices: list[Device]) -> str:
            turned_on = [d for d in devices if levels.get(d.id) == 0]
            turned_off = [d for d in devices if levels.get(d.id, 100) + step <= 0]
            changed = [d for d in devices if d not in turned_on and d not in turned_off]
            parts = [f"{'Brightened' if step > 0 else 'Dimmed'} {names_of(changed)}." if changed else "",
                     f"Turned on {names_of(turned_on)} at {pct(min(100, step))} brightness." if turned_on else "",
                     f"Turned off {names_of(turned_off)}." if turned_off else ""]  # fmt: skip
            return " ".join(p for p in parts if p)

        outcome = _act(req, spec, action_for, reply, replace(resolution, devices=acting))
        if note and outcome.kind == "done":  # still a target: "turn them on" next means all of them
            outcome.reply = f"{outcome.reply} {note}"
            outcome.targets += unchanged
        return outcome
    if "brightness" in slots:
        value = slots["brightness"]
        params = {"brightness": value, "brightness_255": round(value * 254 / 100)}
        return _act(req, spec, lambda d: ("set_brightness", params) if supports(d, "brightness") else None,
                    lambda ds: f"Set {names_of(ds)} to {pct(value)} brightness.")  # fmt: skip
    if "color" in slots:
        r, g, b = slots["rgb"]
        params = {"color": slots["color"], "r": r, "g": g, "b": b, "hex": f"#{r:02x}{g:02x}{b:02x}"}
        return _act(req, spec, lambda d: ("set_color", params) if supports(d, "color") else None,
                    lambda ds: f"Set {names_of(ds)} to {slots['color']}.")  # fmt: skip
    if "color_temp" in slots:
        kelvin = slots["color_temp"]
        params = {"kelvin": kelvin, "mireds": round(1_000_000 / kelvin)}
        return _act(req, spec, lambda d: ("set_color_temp", params) if supports(d, "color_temp") else None,
                    lambda ds: f"Set {names_of(ds)} to {kelvin} K.")  # fmt: skip
    return Outcome("Sorry, what should I set the lights to?", "unsupported")


def _set_percent(slot: str, action: str, what: str) -> Handler:
    """A percentage slot sent as ``action`` with the same field name ("Set the Blinds to 50%.")."""

    def handle(req: Request, spec: IntentSpec) -> Outcome:
        value = req.slots.get(slot)
        if value is None:
            return Outcome(f"Sorry, what {what}?", "unsupported")
        return _act(req, spec, lambda d: (action, {slot: value}), lambda ds: f"Set {names_of(ds)} to {pct(value)}.")

    return handle


_set_position = _set_percent("position", "set_position", "position")
_set_speed = _set_percent("percentage", "set_percentage", "speed")
POSITIONED = frozenset({"cover", "valve"})


def _fan_speed(req: Request, spec: IntentSpec) -> Outcome:
    """A fan's speed; but a percentage for a valve or cover is its position ("set the irrigation valve to 50%"),
    never a fan's speed."""
    said = " ".join(variants[0] for variants in req.names if variants) or req.text
    kinds = kind_words(said)[0]
    if not kinds & {"fan"}:
        by_name = req.resolve(replace(spec, domains=POSITIONED, default_domains=POSITIONED))
        if kinds & POSITIONED or (by_name.devices and not by_name.generic):
            if "percentage" in req.slots:
                req.slots["position"] = req.slots.pop("percentage")
            return _set_position(req, replace(spec, domains=POSITIONED, default_domains=POSITIONED))
    return _set_speed(req, spec)


def _climate_set(req: Request, spec: IntentSpec) -> Outcome:
    slots = req.slots
    unit = slots.get("temperature_unit") or req.settings.temperature_unit
    step_info = schema.INTERNAL_INTENTS.get(req.label)
    if step_info:
        step = abs(float(slots.get("temperature_step") or req.settings.temperature_step)) * step_info[2]
        slots["temperature_step"] = int(step) if step == int(step) else step

        def action_for(device: Device) -> tuple[str, dict[str, Any]] | None:
            current = req.registry.state(device.id).get("temperature")
            if current is None:
                return None
            return "set_temperature", {"temperature": float(current) + step, "unit": unit}

        verb = "Raised" if step > 0 else "Lowered"
        outcome = _act(req, spec, action_for, lambda ds: f"{verb} the temperature of {names_of(ds)}.")
        if outcome.kind == "unsupported":
            outcome.reply = "Sorry, I don't know the current setting, so I can't change it by a step."
        return outcome
    if "temperature" not in slots:
        return Outcome("Sorry, what temperature?", "unsupported")
    value = slots["temperature"]
    return _act(req, spec, lambda d: ("set_temperature", {"temperature": value, "unit": unit}),
                lambda ds: f"Set {names_of(ds)} to {degrees(value, unit)}.")  # fmt: skip


def _simple(action: str, verb: str) -> Handler:
    def handle(req: Request, spec: IntentSpec) -> Outcome:
        return _act(req, spec, lambda d: (action, {}), lambda ds: verb.format(names_of(ds)))

    return handle


def _set_volume(req: Request, spec: IntentSpec) -> Outcome:
    value = req.slots.get("volume_level")
    if value is None:
        return Outcome("Sorry, what volume?", "unsupported")
    params = {"volume": value, "volume_level": value / 100}
    return _act(req, spec, lambda d: ("set_volume", params), lambda ds: f"Set the volume of {names_of(ds)} to {pct(value)}.")


def _volume_relative(req: Request, spec: IntentSpec) -> Outcome:
    sign = schema.INTERNAL_INTENTS.get(req.label, ("", "", 1))[2]
    step = abs(int(req.slots.get("volume_step") or req.settings.volume_step)) * sign
    req.slots["volume_step"] = step

    def action_for(device: Device) -> tuple[str, dict[str, Any]]:
        current = req.registry.state(device.id).get("volume")
        if current is None:
            return ("volume_up" if step > 0 else "volume_down"), {}
        value = max(0, min(100, int(current) + step))
        return "set_volume", {"volume": value, "volume_level": value / 100}

    return _act(req, spec, action_for, lambda ds: f"Turned the volume {'up' if step > 0 else 'down'} on {names_of(ds)}.")


def _state_text(device: Device, state: Mapping[str, Any]) -> str | None:
    """The device's state in words, from the registry's live state and in the device's own unit."""
    value = state.get("state")
    if value is None:
        return None
    if device.domain == "sensor":
        return measure(value, state.get("unit"))
    return state_words(device.domain, device.device_class, str(value))


def _is_state(raw: str, words: str, asked: str) -> bool:
    return asked in (raw, words) or (asked == "armed" and raw.startswith("armed"))


_WHO_RE = re.compile(r"\bwho\b", re.I)
_EVERYONE_RE = re.compile(r"\b(everyone|everybody|all)\b", re.I)
_ANYONE_RE = re.compile(r"\b(anyone|anybody|someone|somebody|people)\b", re.I)


def _people(req: Request, people: list[Device], asked: str | None) -> Outcome | None:
    """ "who is home", "is anyone home", "is everyone home"; None for questions about named people."""
    state = {p.id: str(req.registry.state(p.id).get("state", "")) for p in people}
    home = [p for p in people if state[p.id] == "home"]
    away = [p for p in people if state[p.id] and state[p.id] != "home"]
    unknown = [p for p in people if not state[p.id]]
    not_known = f" I don't know where {names_of(unknown)} {'is' if len(unknown) == 1 else 'are'}." if unknown else ""
    if _WHO_RE.search(req.text):
        return Outcome(people_home(home) + not_known, "answer", targets=people)
    if asked not in ("home", "away"):
        return None
    wanted = home if asked == "home" else away
    if _EVERYONE_RE.search(req.text):
        others = away if asked == "home" else home
        if len(wanted) == len(people):
            answer = f"Yes, everyone is {asked}."
        elif others:
            answer = f"No, {names_of(others)} {'is' if len(others) == 1 else 'are'} {'away' if asked == 'home' else 'home'}."
            answer += not_known
        else:
            answer = not_known.strip()
        return Outcome(answer, "answer", targets=people)
    if _ANYONE_RE.search(req.text):
        if not wanted:
            return Outcome(f"No, nobody is {asked}.{not_known}", "answer", targets=people)
        return Outcome(f"Yes, {names_of(wanted)} {'is' if len(wanted) == 1 else 'are'} {asked}.", "answer",
                       targets=people)  # fmt: skip
    return None


def _get_state(req: Request, spec: IntentSpec) -> Outcome:
    resolution = req.resolve(spec)
    if resolution.problem:
        return Outcome(resolution.reply, resolution.problem)
    devices = resolution.devices
    asked = req.slots.get("state")
    if all(d.domain == "person" for d in devices) and (about_people := _people(req, devices, asked)):
        return about_people
    known = [(d, str(req.registry.state(d.id).get("state")), _state_text(d, req.registry.state(d.id))) for d in devices]
    if any(words is None for _, _, words in known):
        unknown = [d for d, _, words in known if words is None]
        return Outcome(f"Sorry, I don't know the state of {names_of(unknown)} yet.", "answer", targets=devices)
    said = [(d, raw, str(words)) for d, raw, words in known]
    if asked and len(devices) == 1:
        device, raw, words = said[0]
        yes = _is_state(raw, words, asked)
        return Outcome(f"{'Yes' if yes else 'No'}, {is_phrase(device, words)}.", "answer", targets=devices)
    if asked:
        matching = [d for d, raw, words in said if _is_state(raw, words, asked)]
        if not matching:
            return Outcome(f"No, none of them is {asked}.", "answer", targets=devices)
        if len(matching) == len(devices):
            return Outcome(f"Yes, all of them are {asked}.", "answer", targets=devices)
        return Outcome(f"Yes, {names_of(matching)} {'is' if len(matching) == 1 else 'are'} {asked}.", "answer",
                       targets=devices)  # fmt: skip
    return Outcome(sentence([is_phrase(d, words) for d, _, words in said]), "answer", targets=devices)


# ----------------------------------------------------------------------------------------------
# Temperature, humidity and weather: from a thermostat, a sensor or a weather entity


_HUMIDITY_RE = re.compile(r"\bhumid(ity)?\b", re.I)
_TEMPERATURE_RE = re.compile(r"\b(temperature|degrees|warm|cold|hot)\b", re.I)
_NOT_PLACE_WORDS = frozenset({"what", "whats", "how", "is", "it", "the", "temperature", "humidity", "sensor", "in",
                              "at", "of", "degrees", "warm", "cold", "hot", "humid", "there", "here", "now", "right",
                              "current", "currently", "tell", "me", "please", "like"})  # fmt: skip


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in normalise(text).split() if w not in _NOT_PLACE_WORDS and w not in DOMAIN_WORDS}


def _readings(req: Request, kind: str, by_words_only: bool = False) -> list[Device]:
    """Sensors of ``kind`` ("temperature", "humidity") the sentence points at: those with a word of their own
    name said ("outside" for the Outside Temperature), else (unless ``by_words_only``) those in the area or
    floor said, or in the request's own area."""
    sensors = [d for d in req.registry.devices if d.domain == "sensor" and (
        d.device_class == kind or (d.device_class is None and kind in normalise(d.name)))]  # fmt: skip
    said = _words(req.text)
    scored = [(len(said & set().union(*(_words(n) for n in (d.name, *d.aliases)))), d) for d in sensors]
    best = max((score for score, _ in scored), default=0)
    if best:
        return [d for score, d in scored if score == best]
    if by_words_only:
        return []
    scope = req.resolver.scope(req.text, req.spans.get("area"), req.spans.get("floor"), req.context_area)
    return req.registry.in_areas(sensors, scope.areas)


def _reading_answer(req: Request, sensors: list[Device]) -> Outcome:
    parts = []
    for device in sensors:
        state = req.registry.state(device.id)
        if state.get("state") is None:
            parts.append(f"I don't know {called(device)} yet")
        else:
            parts.append(is_phrase(device, measure(state["state"], state.get("unit"))))
    return Outcome(sentence(parts), "answer", targets=sensors)


def _climate_get(req: Request, spec: IntentSpec) -> Outcome:
    """A thermostat's current temperature; a sensor's when the words name one ("outside") or no thermostat
    fits; humidity always from a sensor."""
    if _HUMIDITY_RE.search(req.text):  # no climate intent asks for humidity: "what's the humidity in the bathroom"
        sensors = _readings(req, "humidity")
        if sensors:
            return _reading_answer(req, sensors)
        return Outcome("Sorry, I don't know of a humidity sensor there.", "no_target")
    resolution = req.resolve(spec)
    if resolution.problem or resolution.generic:
        sensors = _readings(req, "temperature", by_words_only=not resolution.problem)
        if sensors:
            return _reading_answer(req, sensors)
    if resolution.problem:
        return Outcome(resolution.reply, resolution.problem)
    parts = []
    for device in resolution.devices:
        state = req.registry.state(device.id)
        current = state.get("current_temperature")
        if current is None:
            parts.append(f"I don't know the temperature of {called(device)} yet")
        else:
            unit = str(state.get("unit") or req.settings.temperature_unit)
            where = f"in the {device.area}" if device.area else f"at {called(device)}"
            parts.append(f"it's {degrees(float(current), unit)} {where}")
    return Outcome(sentence(parts, " and "), "answer", targets=resolution.devices)


NO_WEATHER = "Sorry, no weather source is set up."
_HERE_WORDS = frozenset({"outside", "out", "out there", "here", "home", "at home", "today", "now", "tonight", "tomorrow",
                         "the weather", "weather", "forecast", "the forecast"})  # fmt: skip
_LATER_RE = re.compile(r"\b(tomorrow|tonight|later|this (morning|afternoon|evening|weekend)|next|going to|gonna|"
                       r"will it|will there)\b", re.I)


def _weather(req: Request, spec: IntentSpec) -> Outcome:
    """From the home's weather entity, as it last reported; never a guess."""
    if not any(d.domain in spec.domains for d in req.registry.devices):
        return Outcome(NO_WEATHER, "answer")
    if _TEMPERATURE_RE.search(req.text) and (sensors := _readings(req, "temperature", by_words_only=True)):
        return _reading_answer(req, sensors)  # "the temperature outside": the home's own thermometer there
    place = req.spans.get("area") or req.spans.get("floor")
    if not place and (name := req.spans.get("name")) and normalise(name) not in _HERE_WORDS \
            and not req.resolver.by_name(name, set(spec.domains), Scope(), None).devices:  # fmt: skip
        place = name  # "the weather in paris", the town taken for a name: no weather entity is called that
    if place and match_area(req.registry, place) is None and match_floor(req.registry, place) is None:
        return Outcome(f"Sorry, I only know the weather here, not in {place}.", "unsupported")
    resolution = req.resolve(spec)
    if resolution.problem:
        return Outcome(resolution.reply, resolution.problem)
    parts = []
    for device in resolution.devices:
        state = req.registry.state(device.id)
        condition = state_words(device.domain, None, str(state["state"])) if state.get("state") else None
        temperature = state.get("temperature")
        unit = str(state.get("unit") or f"°{req.settings.temperature_unit}")
        said = measure(temperature, unit) if temperature is not None else None
        if condition is None and said is None:
            parts.append(f"Sorry, {called(device)} has not reported the weather yet.")
        else:
            report = weather_report(condition, said)
            parts.append(report if len(resolution.devices) == 1 else f"{called(device).capitalize()}: {report}")
    if _LATER_RE.search(req.text) and not parts[0].startswith("Sorry"):  # a weather entity's state is now, not later
        parts.insert(0, "I only know the weather now.")
    return Outcome(" ".join(parts), "answer", targets=resolution.devices)


# ----------------------------------------------------------------------------------------------
# Lists, climate fan modes, media, vacuums


def _list(action: str, shopping: bool) -> Handler:
    """add_item, complete_item or remove_item on the list named (the shopping list when none is)."""
    asking, done, preposition = {"add_item": ("add", "Added", "to"), "complete_item": ("check off", "Checked off", "on"),
                                 "remove_item": ("remove", "Removed", "from")}[action]  # fmt: skip

    def handle(req: Request, spec: IntentSpec) -> Outcome:
        item = req.slots.get("item")
        if not item:
            return Outcome(f"Sorry, what should I {asking}?", "unsupported")
        spoken = req.spans.get("name")
        if shopping or not spoken:
            req.names = [["shopping list", "shopping"]]
        else:
            bare = re.sub(r"\s+list$", "", spoken.strip(), flags=re.I) or spoken
            req.names = [[spoken, bare]]
        return _act(req, spec, lambda d: (action, {"item": item}),
                    lambda ds: f"{done} {item} {preposition} {names_of(ds)}.")  # fmt: skip

    return handle


def is_shopping_list(device: Device) -> bool:
    return any("shopping" in n.lower() for n in (device.name, *device.aliases))


def _fan_mode(req: Request, spec: IntentSpec) -> Outcome:
    mode = req.slots.get("fan_mode")
    if not mode:
        return Outcome("Sorry, which fan mode?", "unsupported")
    resolution = req.resolve(spec)
    if resolution.generic and not resolution.problem:  # "set the fan to auto": the ones that have fan modes
        resolution.devices = [d for d in resolution.devices if d.fan_modes] or resolution.devices

    def action_for(device: Device) -> Planned:
        if device.fan_modes is not None and mode not in device.fan_modes:
            return f"{called(device)} has no {mode} fan mode (it has {listed(device.fan_modes) or 'none'})"
        return "set_fan_mode", {"fan_mode": mode}

    return _act(req, spec, action_for, lambda ds: f"Set the fan of {names_of(ds)} to {mode}.", resolution)


def _search_and_play(req: Request, spec: IntentSpec) -> Outcome:
    query = req.slots.get("query")
    if not query:
        return Outcome("Sorry, what should I play?", "unsupported")
    media_class = req.slots.get("media_class") or ""

    def action_for(device: Device) -> Planned:
        if device.protocol == "generic" and "play_media" not in device.commands:
            return f"{called(device)} can't search for something to play"
        return "play_media", {"query": query, "media_class": media_class}

    return _act(req, spec, action_for, lambda ds: f"Playing {query} on {names_of(ds)}.")


def _clean_area(req: Request, spec: IntentSpec) -> Outcome:
    """A vacuum sent to clean one room: its ``clean_area`` command, with the room's map segment."""
    spoken = req.spans.get("area") or req.spans.get("floor")
    area = match_area(req.registry, spoken) if spoken else match_area(req.registry, req.text)
    if area is None and spoken and match_floor(req.registry, spoken):
        return Outcome("Sorry, which room? A vacuum is sent to one room at a time.", "unsupported")
    if area is None:
        return Outcome(f"Sorry, I don't know an area called {spoken}." if spoken else "Sorry, which room should I clean?",
                       "no_target" if spoken else "unsupported")  # fmt: skip
    # the room is where to clean, not where the vacuum is: the vacuum is found by its name, or is the home's
    found = replace(req, spans={k: v for k, v in req.spans.items() if k not in ("area", "floor")},
                    context_area=None, text=re.sub(re.escape(spoken or area), " ", req.text, flags=re.I))  # fmt: skip
    resolution = found.resolve(spec)
    if resolution.problem == "ambiguous":  # several vacuums: those that know the room
        vacuums = [d for d in req.registry.devices if d.domain == "vacuum"]
        knowing = [d for d in vacuums if area.casefold() in {a.casefold() for a in d.segments}]
        if len(knowing) == 1:
            resolution = Resolution(devices=knowing)
    area_id = re.sub(r"[^a-z0-9]+", "_", area.lower()).strip("_")

    def action_for(device: Device) -> Planned:
        if device.protocol != "generic" or "clean_area" not in device.commands:
            return f"{called(device)} can't clean a single room: it has no clean_area command"
        segments = {a.casefold(): s for a, s in device.segments.items()}
        if device.segments and area.casefold() not in segments:
            return f"{called(device)} has no map segment for the {area}"
        return "clean_area", {"area": area, "area_id": area_id, "segment": segments.get(area.casefold(), "")}

    return _act(req, spec, action_for, lambda ds: f"Cleaning the {area} with {names_of(ds)}.", resolution)


def _vacuum_start(req: Request, spec: IntentSpec) -> Outcome:
    """Start cleaning; "start the vacuum in the kitchen", when no vacuum is in the kitchen, is cleaning the kitchen."""
    outcome = _simple("start", "Started {}.")(req, spec)
    if outcome.kind == "no_target" and (req.spans.get("area") or req.spans.get("floor")):
        return _clean_area(req, spec)
    return outcome


# ----------------------------------------------------------------------------------------------
# Answers with no device


def _broadcast(req: Request, spec: IntentSpec) -> Outcome:
    """No speaker takes announcements yet: the truth, and nothing sent (Home Assistant may fall back to its own)."""
    return Outcome("Sorry, I can't broadcast messages yet.", "unsupported")


_THANKS_RE = re.compile(r"\b(thanks|thank|cheers)\b", re.I)
_HELLO_RE = re.compile(r"\b(hello|hi|hey|morning|evening|afternoon)\b", re.I)


def _respond(req: Request) -> str:
    if _THANKS_RE.search(req.text):
        return "You're welcome."
    if _HELLO_RE.search(req.text):
        return "Hello."
    return "OK."


def _answer(make: Callable[[Request], str]) -> Handler:
    def handle(req: Request, spec: IntentSpec) -> Outcome:
        return Outcome(make(req), "answer")

    return handle


def _timer_reply(req: Request) -> str:
    """What ``parse`` can say without seeing the running timers; the session answers with the truth."""
    return timer_reply(req.label, duration_s=req.slots.get("duration_s"))


def _time(req: Request) -> str:
    return req.now.strftime("It's %-I:%M %p.")


def _date(req: Request) -> str:
    return req.now.strftime("Today is %A, %B %-d, %Y.")


READ_ONLY = frozenset({"sensor", "binary_sensor", "person", "weather"})
"""Domains that are only asked about."""
ANY = frozenset({"light", "switch", "fan", "cover", "lock", "climate", "media_player", "vacuum", "valve", "sensor",
                 "binary_sensor", "scene", "script", "humidifier", "alarm_control_panel", "lawn_mower",
                 "input_boolean", "person", "weather"})  # fmt: skip
"""Domains whose state can be asked about (a button has none; a list's items are not known here)."""
CONTROLLABLE = (ANY - READ_ONLY) | {"button"}
NONE: frozenset[str] = frozenset()
F = frozenset
MEDIA = F({"media_player"})

INTENTS: dict[str, IntentSpec] = {
    "HassTurnOn": IntentSpec(CONTROLLABLE, F({"light"}), _turn(True), guess=False),
    "HassTurnOff": IntentSpec(CONTROLLABLE - set(_NEVER_OFF), F({"light"}), _turn(False), guess=False),
    "HassLightSet": IntentSpec(F({"light"}), F({"light"}), _light_set,
                                 F({"brightness", "brightness_step", "color", "rgb", "color_temp"})),
    "HassGetState": IntentSpec(ANY, F({"light"}), _get_state, F({"state"})),
    "HassSetPosition": IntentSpec(POSITIONED, F({"cover"}), _set_position, F({"position"})),
    "HassClimateSetTemperature": IntentSpec(F({"climate"}), F({"climate"}), _climate_set,
                                              F({"temperature", "temperature_unit", "temperature_step"})),
    "HassClimateGetTemperature": IntentSpec(F({"climate"}), F({"climate"}), _climate_get),
    "HassClimateSetFanMode": IntentSpec(F({"climate"}), F({"climate"}), _fan_mode, F({"fan_mode"})),
    "HassFanSetSpeed": IntentSpec(F({"fan"}), F({"fan"}), _fan_speed, F({"percentage"})),
    "HassVacuumStart": IntentSpec(F({"vacuum"}), F({"vacuum"}), _vacuum_start),
    "HassVacuumReturnToBase": IntentSpec(F({"vacuum"}), F({"vacuum"}), _simple("return_to_base", "Sent {} home.")),
    "HassVacuumCleanArea": IntentSpec(F({"vacuum"}), F({"vacuum"}), _clean_area),
    "HassLawnMowerStartMowing": IntentSpec(F({"lawn_mower"}), F({"lawn_mower"}), _simple("start", "Started {}.")),
    "HassLawnMowerDock": IntentSpec(F({"lawn_mower"}), F({"lawn_mower"}), _simple("dock", "Sent {} back to its dock.")),
    "HassMediaPause": IntentSpec(MEDIA, MEDIA, _simple("pause", "Paused {}.")),
    "HassMediaUnpause": IntentSpec(MEDIA, MEDIA, _simple("play", "Resumed {}."), prefer=("paused",)),
    "HassMediaNext": IntentSpec(MEDIA, MEDIA, _simple("next", "Skipped to the next track on {}.")),
    "HassMediaPrevious": IntentSpec(MEDIA, MEDIA, _simple("previous", "Went back to the previous track on {}.")),
    "HassMediaSearchAndPlay": IntentSpec(MEDIA, MEDIA, _search_and_play, F({"query", "media_class"}), prefer=()),
    "HassSetVolume": IntentSpec(MEDIA, MEDIA, _set_volume, F({"volume_level"})),
    "HassSetVolumeRelative": IntentSpec(MEDIA, MEDIA, _volume_relative, F({"volume_step"})),
    "HassMediaPlayerMute": IntentSpec(MEDIA, MEDIA, _simple("mute", "Muted {}.")),
    "HassMediaPlayerUnmute": IntentSpec(MEDIA, MEDIA, _simple("unmute", "Unmuted {}.")),
    **{name: IntentSpec(NONE, NONE, _answer(_timer_reply), F({"duration_s"})) for name in (
        "HassStartTimer", "HassCancelTimer", "HassCancelAllTimers", "HassPauseTimer", "HassUnpauseTimer",
        "HassTimerStatus", "HassIncreaseTimer", "HassDecreaseTimer")},
    "HassGetCurrentTime": IntentSpec(NONE, NONE, _answer(_time)),
    "HassGetCurrentDate": IntentSpec(NONE, NONE, _answer(_date)),
    "HassGetWeather": IntentSpec(F({"weather"}), F({"weather"}), _weather),
    "HassListAddItem": IntentSpec(F({"todo"}), F({"todo"}), _list("add_item", False), F({"item"})),
    "HassShoppingListAddItem": IntentSpec(F({"todo"}), F({"todo"}), _list("add_item", True), F({"item"})),
    "HassListCompleteItem": IntentSpec(F({"todo"}), F({"todo"}), _list("complete_item", False), F({"item"})),
    "HassShoppingListCompleteItem": IntentSpec(F({"todo"}), F({"todo"}), _list("complete_item", True), F({"item"})),
    "HassListRemoveItem": IntentSpec(F({"todo"}), F({"todo"}), _list("remove_item", False), F({"item"})),
    "HassBroadcast": IntentSpec(NONE, NONE, _broadcast, F({"message"})),
    "HassRespond": IntentSpec(NONE, NONE, _answer(_respond)),
    "HassNevermind": IntentSpec(NONE, NONE, _answer(lambda r: "OK.")),
}  # fmt: skip

if set(INTENTS) != set(schema.HA_INTENTS):  # a schema change must come with its handler
    raise RuntimeError(f"intents without handlers: {set(schema.HA_INTENTS) ^ set(INTENTS)}")


