"""parse(text, context, registry) -> Parse: the pure core of the assistant.

One table, INTENTS, maps each intent to the domains it acts on and its handler; each handler
resolves targets, builds the MQTT messages through the device protocols and writes the reply.
No I/O happens here: the same text, context and registry always give the same Parse.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..config import Confirm, Device, Understanding
from ..devices import Registry, command_for
from ..errors import UnsupportedAction
from ..messages import Action, Parse
from ..timers import duration_words
from . import normalize, schema
from .model import NluModel, Prediction, Span
from .resolve import Resolution, Resolver, match_area

MAX_TEXT_CHARS = 400
"""Longer input is not a spoken command: rejected without running the model."""

REPLY_NOT_UNDERSTOOD = "Sorry, I didn't understand that."
REPLY_NOT_SURE = "Sorry, I'm not sure what you meant."


@dataclass(frozen=True)
class Context:
    """Where and when a request is made."""

    area: str | None = None
    """The area the request comes from; None means the site's area."""
    now: datetime | None = None
    """The time to answer time and date questions with; None means the clock now."""
    previous: Previous | None = None
    """The last command, within the follow-up window: "turn it off", "and the bedroom too"."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Context:
        """From a JSON object; raises ValueError on a malformed one."""
        if not data:
            return cls()
        area = data.get("area")
        now = data.get("now")
        if area is not None and not isinstance(area, str):
            raise ValueError("context.area must be a string")
        if now is not None and not isinstance(now, str):
            raise ValueError("context.now must be an ISO 8601 string")
        previous = data.get("previous")
        return cls(
            area=area,
            now=datetime.fromisoformat(now) if now else None,
            previous=Previous.from_json(previous) if previous is not None else None,
        )


@dataclass(frozen=True)
class Previous:
    intent: str
    targets: tuple[str, ...]
    slots: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Any) -> Previous:
        if not isinstance(data, dict) or not isinstance(data.get("intent"), str):
            raise ValueError("context.previous must be an object with `intent`")
        targets = data.get("targets") or []
        slots = data.get("slots") or {}
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise ValueError("context.previous.targets must be a list of device ids")
        if not isinstance(slots, dict):
            raise ValueError("context.previous.slots must be an object")
        return cls(data["intent"], tuple(targets), slots)

    @classmethod
    def of(cls, parse: Parse) -> Previous | None:
        return cls(parse.intent, parse.targets, dict(parse.slots)) if parse.intent else None

    def as_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "targets": list(self.targets), "slots": dict(self.slots)}


_ON_OFF_RE = re.compile(r"\b(turn|switch|shut|put|flip)\s+(?:it|them|that|those|this|these)\s+(?:back\s+)?(on|off)\b", re.I)
_PRONOUN_RE = re.compile(r"\b(it|them|that|those|this|these)\b", re.I)
_FOLLOW_UP_RE = re.compile(r"^(and|also|same|now|then)\b|\b(too|as well|also)[.!?]*$", re.I)
_STEP_LABELS = {("HassLightSet", "brightness_step"): ("LightBrighter", "LightDimmer"),
                ("HassClimateSetTemperature", "temperature_step"): ("ClimateWarmer", "ClimateCooler"),
                ("HassSetVolumeRelative", "volume_step"): ("VolumeUp", "VolumeDown")}  # fmt: skip
_DEVICE_SLOTS = ("name", "area", "floor")


def _label_of(previous: Previous) -> str:
    """The model label that repeats a previous command."""
    for (intent, slot), (up, down) in _STEP_LABELS.items():
        if previous.intent == intent and isinstance(previous.slots.get(slot), (int, float)):
            return up if previous.slots[slot] > 0 else down
    return previous.intent


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
            devices = [d for d in devices if d.domain in spec.domains]
            if devices:
                return Resolution(devices=devices)
        results = [
            self.resolver.resolve(
                self.text,
                name=variants,
                area=self.spans.get("area"),
                floor=self.spans.get("floor"),
                domains=set(spec.domains),
                default_domains=set(spec.default_domains),
                context_area=self.context_area,
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


# ----------------------------------------------------------------------------------------------
# Replies


def _the(name: str) -> str:
    return name if name.lower().startswith("the ") else f"the {name}"


def names_of(devices: list[Device]) -> str:
    names = [_the(d.name) for d in devices]
    if len(names) == 1:
        return names[0]
    if len(names) <= 3:
        return ", ".join(names[:-1]) + " and " + names[-1]
    areas = {d.area for d in devices}
    kind = {"light": "lights", "cover": "covers", "fan": "fans", "switch": "switches"}.get(devices[0].domain, "devices")
    where = f" in the {areas.pop()}" if len(areas) == 1 and None not in areas else ""
    return f"{len(names)} {kind}{where}"


def _pct(value: float) -> str:
    return f"{int(round(value))}%"


def _degrees(value: float, unit: str) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text} °{unit}"


# ----------------------------------------------------------------------------------------------
# Acting on devices


def _act(
    req: Request,
    spec: IntentSpec,
    action_for: Callable[[Device], tuple[str, dict[str, Any]] | None],
    reply: Callable[[list[Device]], str],
) -> Outcome:
    """Resolve targets, build one message per target, and reply about the ones that worked."""
    resolution = req.resolve(spec)
    if resolution.problem:
        return Outcome(resolution.reply, resolution.problem)
    actions: list[Action] = []
    done: list[Device] = []
    refused: list[str] = []
    for device in resolution.devices:
        planned = action_for(device)
        if planned is None:
            refused.append(f"{_the(device.name)} cannot do that")
            continue
        try:
            actions.append(command_for(device, planned[0], planned[1]))
            done.append(device)
        except UnsupportedAction as exc:
            refused.append(str(exc))
    if not actions:
        return Outcome(f"Sorry, {refused[0]}." if refused else REPLY_NOT_UNDERSTOOD, "unsupported",
                       targets=resolution.devices)  # fmt: skip
    return Outcome(reply(done), "done", targets=done, actions=actions)


_ON_ACTIONS = {"cover": "open", "valve": "open", "lock": "lock", "scene": "activate", "script": "activate",
               "vacuum": "start"}  # fmt: skip
_OFF_ACTIONS = {"cover": "close", "valve": "close", "lock": "unlock", "vacuum": "return_to_base"}
_ON_VERBS = {"open": "Opened", "lock": "Locked", "activate": "Activated", "start": "Started", "turn_on": "Turned on"}
_OFF_VERBS = {"close": "Closed", "unlock": "Unlocked", "return_to_base": "Sent home", "turn_off": "Turned off"}


def _turn(on: bool) -> Handler:
    table, verbs = (_ON_ACTIONS, _ON_VERBS) if on else (_OFF_ACTIONS, _OFF_VERBS)
    default = "turn_on" if on else "turn_off"

    def handle(req: Request, spec: IntentSpec) -> Outcome:
        def action_for(device: Device) -> tuple[str, dict[str, Any]] | None:
            if device.domain in ("sensor", "binary_sensor") or (not on and device.domain == "scene"):
                return None
            return table.get(device.domain, default), {}

        def reply(devices: list[Device]) -> str:
            verb = verbs[table.get(devices[0].domain, default)]
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

        def action_for(device: Device) -> tuple[str, dict[str, Any]] | None:
            if not supports(device, "brightness"):
                return None
            state = req.registry.state(device.id)
            if "brightness" in state or state.get("state") == "off":
                current = 0 if state.get("state") == "off" else int(state.get("brightness", 100))
                value = max(0, min(100, current + step))
                return "set_brightness", {"brightness": value, "brightness_255": round(value * 254 / 100)}
            return "step_brightness", {"step": step, "step_255": round(step * 254 / 100)}

        verb = "Brightened" if step > 0 else "Dimmed"
        return _act(req, spec, action_for, lambda ds: f"{verb} {names_of(ds)}.")
    if "brightness" in slots:
        value = slots["brightness"]
        params = {"brightness": value, "brightness_255": round(value * 254 / 100)}
        return _act(req, spec, lambda d: ("set_brightness", params) if supports(d, "brightness") else None,
                    lambda ds: f"Set {names_of(ds)} to {_pct(value)} brightness.")  # fmt: skip
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


def _set_position(req: Request, spec: IntentSpec) -> Outcome:
    position = req.slots.get("position")
    if position is None:
        return Outcome("Sorry, what position?", "unsupported")
    return _act(req, spec, lambda d: ("set_position", {"position": position}),
                lambda ds: f"Set {names_of(ds)} to {_pct(position)}.")  # fmt: skip


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
                lambda ds: f"Set {names_of(ds)} to {_degrees(value, unit)}.")  # fmt: skip


def _fan_speed(req: Request, spec: IntentSpec) -> Outcome:
    value = req.slots.get("percentage")
    if value is None:
        return Outcome("Sorry, what speed?", "unsupported")
    return _act(req, spec, lambda d: ("set_percentage", {"percentage": value}),
                lambda ds: f"Set {names_of(ds)} to {_pct(value)}.")  # fmt: skip


def _simple(action: str, verb: str) -> Handler:
    def handle(req: Request, spec: IntentSpec) -> Outcome:
        return _act(req, spec, lambda d: (action, {}), lambda ds: verb.format(names_of(ds)))

    return handle


def _set_volume(req: Request, spec: IntentSpec) -> Outcome:
    value = req.slots.get("volume_level")
    if value is None:
        return Outcome("Sorry, what volume?", "unsupported")
    params = {"volume": value, "volume_level": value / 100}
    return _act(req, spec, lambda d: ("set_volume", params), lambda ds: f"Set the volume of {names_of(ds)} to {_pct(value)}.")


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
    value = state.get("state")
    if value is None:
        return None
    unit = state.get("unit")
    if device.domain == "sensor" and unit:
        return f"{value}{'' if unit == '%' else ' '}{unit}"
    return str(value)


def _get_state(req: Request, spec: IntentSpec) -> Outcome:
    resolution = req.resolve(spec)
    if resolution.problem:
        return Outcome(resolution.reply, resolution.problem)
    devices = resolution.devices
    known = [(d, _state_text(d, req.registry.state(d.id))) for d in devices]
    asked = req.slots.get("state")
    if any(text is None for _, text in known):
        unknown = [d for d, text in known if text is None]
        return Outcome(f"Sorry, I don't know the state of {names_of(unknown)} yet.", "answer", targets=devices)
    if asked and len(devices) == 1:
        device, text = known[0]
        yes = text == asked
        return Outcome(f"{'Yes' if yes else 'No'}, {_the(device.name)} is {text}.", "answer", targets=devices)
    if asked:
        matching = [d for d, text in known if text == asked]
        if not matching:
            return Outcome(f"No, none of them is {asked}.", "answer", targets=devices)
        if len(matching) == len(devices):
            return Outcome(f"Yes, all of them are {asked}.", "answer", targets=devices)
        return Outcome(f"Yes, {names_of(matching)} {'is' if len(matching) == 1 else 'are'} {asked}.", "answer",
                       targets=devices)  # fmt: skip
    parts = [f"{_the(d.name)} is {text}" for d, text in known]
    sentence = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return Outcome(sentence[0].upper() + sentence[1:] + ".", "answer", targets=devices)


def _climate_get(req: Request, spec: IntentSpec) -> Outcome:
    resolution = req.resolve(spec)
    if resolution.problem:
        return Outcome(resolution.reply, resolution.problem)
    parts = []
    for device in resolution.devices:
        current = req.registry.state(device.id).get("current_temperature")
        if current is None:
            parts.append(f"I don't know the temperature of {_the(device.name)} yet")
        else:
            where = f"in the {device.area}" if device.area else f"at {_the(device.name)}"
            parts.append(f"it's {_degrees(float(current), req.settings.temperature_unit)} {where}")
    sentence = " and ".join(parts)
    return Outcome(sentence[0].upper() + sentence[1:] + ".", "answer", targets=resolution.devices)


def _list_add(shopping: bool) -> Handler:
    def handle(req: Request, spec: IntentSpec) -> Outcome:
        item = req.slots.get("item")
        if not item:
            return Outcome("Sorry, what should I add?", "unsupported")
        spoken = req.spans.get("name")
        if shopping or not spoken:
            req.names = [["shopping list", "shopping"]]
        else:
            bare = re.sub(r"\s+list$", "", spoken.strip(), flags=re.I) or spoken
            req.names = [[spoken, bare]]
        return _act(req, spec, lambda d: ("add_item", {"item": item}),
                    lambda ds: f"Added {item} to {names_of(ds)}.")  # fmt: skip

    return handle


def _is_shopping_list(device: Device) -> bool:
    return any("shopping" in n.lower() for n in (device.name, *device.aliases))


def _answer(make: Callable[[Request], str]) -> Handler:
    def handle(req: Request, spec: IntentSpec) -> Outcome:
        return Outcome(make(req), "answer")

    return handle


def _timer_reply(req: Request) -> str:
    duration = req.slots.get("duration_s")
    return {
        "HassStartTimer": f"Timer set for {duration_words(duration)}." if duration else "For how long?",
        "HassCancelTimer": "Timer cancelled.",
        "HassCancelAllTimers": "All timers cancelled.",
        "HassPauseTimer": "Timer paused.",
        "HassUnpauseTimer": "Timer resumed.",
        "HassTimerStatus": "No timers are running.",
        "HassIncreaseTimer": f"Added {duration_words(duration)} to the timer." if duration else "Added time to the timer.",
        "HassDecreaseTimer": f"Took {duration_words(duration)} off the timer." if duration else "Took time off the timer.",
    }[req.label]


def _time(req: Request) -> str:
    return req.now.strftime("It's %-I:%M %p.")


def _date(req: Request) -> str:
    return req.now.strftime("Today is %A, %B %-d, %Y.")


ANY = frozenset({"light", "switch", "fan", "cover", "lock", "climate", "media_player", "vacuum", "valve", "sensor",
                 "binary_sensor", "scene", "script", "humidifier"})  # fmt: skip
CONTROLLABLE = ANY - {"sensor", "binary_sensor"}
NONE: frozenset[str] = frozenset()
F = frozenset

INTENTS: dict[str, IntentSpec] = {
    "HassTurnOn": IntentSpec(CONTROLLABLE, F({"light"}), _turn(True)),
    "HassTurnOff": IntentSpec(CONTROLLABLE - {"scene", "script"}, F({"light"}), _turn(False)),
    "HassLightSet": IntentSpec(F({"light"}), F({"light"}), _light_set,
                                 F({"brightness", "brightness_step", "color", "rgb", "color_temp"})),
    "HassGetState": IntentSpec(ANY, F({"light"}), _get_state, F({"state"})),
    "HassSetPosition": IntentSpec(F({"cover", "valve"}), F({"cover"}), _set_position, F({"position"})),
    "HassClimateSetTemperature": IntentSpec(F({"climate"}), F({"climate"}), _climate_set,
                                              F({"temperature", "temperature_unit", "temperature_step"})),
    "HassClimateGetTemperature": IntentSpec(F({"climate"}), F({"climate"}), _climate_get),
    "HassFanSetSpeed": IntentSpec(F({"fan"}), F({"fan"}), _fan_speed, F({"percentage"})),
    "HassVacuumStart": IntentSpec(F({"vacuum"}), F({"vacuum"}), _simple("start", "Started {}.")),
    "HassVacuumReturnToBase": IntentSpec(F({"vacuum"}), F({"vacuum"}), _simple("return_to_base", "Sent {} home.")),
    "HassMediaPause": IntentSpec(F({"media_player"}), F({"media_player"}), _simple("pause", "Paused {}.")),
    "HassMediaUnpause": IntentSpec(F({"media_player"}), F({"media_player"}), _simple("play", "Resumed {}.")),
    "HassMediaNext": IntentSpec(F({"media_player"}), F({"media_player"}), _simple("next", "Skipped to the next track on {}.")),
    "HassMediaPrevious": IntentSpec(F({"media_player"}), F({"media_player"}),
                                    _simple("previous", "Went back to the previous track on {}.")),
    "HassSetVolume": IntentSpec(F({"media_player"}), F({"media_player"}), _set_volume, F({"volume_level"})),
    "HassSetVolumeRelative": IntentSpec(F({"media_player"}), F({"media_player"}), _volume_relative,
                                          F({"volume_step"})),
    "HassMediaPlayerMute": IntentSpec(F({"media_player"}), F({"media_player"}), _simple("mute", "Muted {}.")),
    "HassMediaPlayerUnmute": IntentSpec(F({"media_player"}), F({"media_player"}), _simple("unmute", "Unmuted {}.")),
    **{name: IntentSpec(NONE, NONE, _answer(_timer_reply), F({"duration_s"})) for name in (
        "HassStartTimer", "HassCancelTimer", "HassCancelAllTimers", "HassPauseTimer", "HassUnpauseTimer",
        "HassTimerStatus", "HassIncreaseTimer", "HassDecreaseTimer")},
    "HassGetCurrentTime": IntentSpec(NONE, NONE, _answer(_time)),
    "HassGetCurrentDate": IntentSpec(NONE, NONE, _answer(_date)),
    "HassGetWeather": IntentSpec(NONE, NONE, _answer(lambda r: "Sorry, no weather source is set up.")),
    "HassListAddItem": IntentSpec(F({"todo"}), F({"todo"}), _list_add(False), F({"item"})),
    "HassShoppingListAddItem": IntentSpec(F({"todo"}), F({"todo"}), _list_add(True), F({"item"})),
    "HassNevermind": IntentSpec(NONE, NONE, _answer(lambda r: "OK.")),
}  # fmt: skip

if set(INTENTS) != set(schema.HA_INTENTS):  # a schema change must come with its handler
    raise RuntimeError(f"intents without handlers: {set(schema.HA_INTENTS) ^ set(INTENTS)}")


# ----------------------------------------------------------------------------------------------
# Slots


def _normalise_slots(prediction: Prediction, label: str, text: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Normalised slot values, and the first span's words per slot."""
    spans: dict[str, str] = {}
    for span in prediction.spans:
        spans.setdefault(span.slot, span.text.strip(" .,!?;:"))
    slots: dict[str, Any] = {}
    intent = schema.public_intent(label)
    for key in ("name", "area", "floor"):
        if spans.get(key):
            slots[key] = spans[key]
    if "brightness" in spans and (value := normalize.percent(spans["brightness"])) is not None:
        slots["brightness"] = value
    if "color" in spans:
        if (color := normalize.color(spans["color"])) is not None:
            slots["color"], slots["rgb"] = color[0], list(color[1])
        elif (kelvin := normalize.color_temp_kelvin(spans["color"])) is not None:
            slots["color_temp"] = kelvin
    if "color_temp" in spans and (kelvin := normalize.color_temp_kelvin(spans["color_temp"])) is not None:
        slots["color_temp"] = kelvin
    if "position" in spans and (value := normalize.percent(spans["position"])) is not None:
        slots["position"] = value
    if "volume" in spans and (value := normalize.percent(spans["volume"])) is not None:
        slots["volume_level"] = value
    if "percentage" in spans and (value := normalize.fan_percentage(spans["percentage"])) is not None:
        slots["percentage"] = value
    if "temperature" in spans and (temp := normalize.temperature(spans["temperature"])) is not None:
        value_t = temp[0]
        slots["temperature"] = int(value_t) if value_t == int(value_t) else value_t
        if temp[1]:
            slots["temperature_unit"] = temp[1]
    if "step" in spans and label in schema.INTERNAL_INTENTS:
        step_slot = schema.INTERNAL_INTENTS[label][1]
        number = normalize.first_number(spans["step"])
        if number is not None:
            slots[step_slot] = int(number) if number == int(number) else number
    if "duration" in spans and (seconds := normalize.duration_seconds(spans["duration"])) is not None:
        slots["duration_s"] = seconds
    if "item" in spans and (item := normalize.item_text(spans["item"])):
        slots["item"] = item
    if "state" in spans and (state := normalize.state_word(spans["state"])):
        slots["state"] = state
    if intent == "HassFanSetSpeed" and "percentage" not in slots:
        for key in ("brightness", "volume_level", "position"):
            if key in slots:
                slots["percentage"] = slots.pop(key)
    _fill_missing(slots, label, intent, text)
    return slots, spans


_ABSOLUTE_FOR_STEP = {"brightness_step": "brightness", "temperature_step": "temperature", "volume_step": "volume_level"}
_STEP_RE = re.compile(r"\bby\s+(\S+(?:\s+\S+)?)|((?:a couple of|a few|\S+)(?:\s+and\s+a\s+half)?)\s+"
                      r"(?:degrees?|percent|%|points?)\b", re.I)  # fmt: skip


def _step_size(text: str) -> float | None:
    if re.search(r"\bhalf an? degree\b", text, re.I):
        return 0.5
    for match in _STEP_RE.finditer(text):
        number = normalize.first_number(match.group(1) or match.group(2))
        if number is not None and number > 0:
            return number
    return None


def _fill_missing(slots: dict[str, Any], label: str, intent: str | None, text: str) -> None:
    """Values the tagger missed, read from the whole sentence when the intent needs them."""
    if label in schema.INTERNAL_INTENTS:
        step_slot = schema.INTERNAL_INTENTS[label][1]
        absolute = _ABSOLUTE_FOR_STEP[step_slot]
        if step_slot not in slots and absolute in slots:  # "turn it down 40 percent": the size of the step
            value = slots.pop(absolute)
            slots[step_slot] = value
            slots.pop("temperature_unit", None)
        elif step_slot not in slots and (size := _step_size(text)) is not None:
            slots[step_slot] = int(size) if size == int(size) else size
        slots.pop(absolute, None)
    elif intent == "HassSetPosition" and "position" not in slots:
        if (value := normalize.percent(text)) is not None:
            slots["position"] = value
    elif intent in ("HassStartTimer", "HassIncreaseTimer", "HassDecreaseTimer") and "duration_s" not in slots:
        if (seconds := normalize.duration_seconds(text)) is not None:
            slots["duration_s"] = seconds
    elif intent == "HassFanSetSpeed" and "percentage" not in slots:
        if (value := normalize.fan_percentage(text)) is not None:
            slots["percentage"] = value
    elif intent == "HassSetVolume" and "volume_level" not in slots:
        if (value := normalize.percent(text)) is not None:
            slots["volume_level"] = value


def _join_split_names(prediction: Prediction, text: str) -> Prediction:
    """Name spans with only a space between them are one name the tagger broke ("living room | lamb")."""
    spans: list[Span] = []
    for span in prediction.spans:
        last = spans[-1] if spans else None
        if last and last.slot == span.slot == "name" and not text[last.end : span.start].strip():
            spans[-1] = Span("name", text[last.start : span.end], last.start, span.end)
        else:
            spans.append(span)
    return replace(prediction, spans=tuple(spans)) if len(spans) < len(prediction.spans) else prediction


def _name_variants(text: str, span: Any) -> list[str]:
    """A name span, and the span with the one or two words after it and the word before it: the tagger
    sometimes stops early ("the desk | lamp")."""
    base = span.text.strip(" .,!?;:")
    after = [w.strip(" .,!?;:") for w in text[span.end:].split()[:2]]
    before = [w.strip(" .,!?;:") for w in text[:span.start].split()[-1:]]
    variants = [base]
    if after and after[0]:
        variants.append(f"{base} {after[0]}")
        if len(after) > 1 and after[1]:
            variants.append(f"{base} {after[0]} {after[1]}")
    if before and before[0]:
        variants.append(f"{before[0]} {base}")
    return variants


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return " ".join(_CONTROL_RE.sub(" ", text).split())


class Understander:
    """Turns sentences into Parse results with one loaded model."""

    def __init__(self, model: NluModel, settings: Understanding, confirm: Confirm | None = None) -> None:
        self.model = model
        self.settings = settings
        self.confirm = confirm or Confirm()

    def parse(self, text: str, registry: Registry, context: Context | None = None) -> Parse:
        started = time.perf_counter()
        context = context or Context()
        timings: dict[str, float] = {}
        cleaned = clean_text(text) if isinstance(text, str) else ""
        if not cleaned or len(cleaned) > MAX_TEXT_CHARS or not re.search(r"[^\W\d_]", cleaned):
            timings["total"] = _ms(started)
            return Parse(text=cleaned[:MAX_TEXT_CHARS], intent=None, confidence=0.0, reply=REPLY_NOT_UNDERSTOOD,
                         outcome="rejected", timings_ms=timings)  # fmt: skip
        prediction = _join_split_names(self.model.predict(cleaned), cleaned)
        timings["model"] = _ms(started)
        intent = schema.public_intent(prediction.label)
        label = prediction.label
        previous = context.previous
        follow_up = previous is not None and bool(_FOLLOW_UP_RE.search(cleaned)) and (
            any(s.slot in _DEVICE_SLOTS for s in prediction.spans) or match_area(registry, cleaned) is not None)
        from_context = follow_up  # the intent comes from the last command, not from the model's confidence
        if follow_up and previous is not None:  # "and the bedroom too": the last command, somewhere else
            label = _label_of(previous)
            intent = previous.intent
        elif previous is not None and previous.targets and (on_off := _ON_OFF_RE.search(cleaned)) \
                and intent in (None, "HassCancelTimer", "HassPauseTimer", "HassUnpauseTimer"):
            # "turn it off" right after a device command means that device, not a timer
            label = intent = "HassTurnOn" if on_off.group(2).lower() == "on" else "HassTurnOff"
            from_context = True
        elif intent is None or prediction.confidence < self.settings.min_confidence:
            timings["total"] = _ms(started)
            return Parse(text=cleaned, intent=None, confidence=prediction.confidence, reply=REPLY_NOT_UNDERSTOOD,
                         outcome="rejected", timings_ms=timings)  # fmt: skip
        slots, spans = _normalise_slots(prediction, label, cleaned)
        if follow_up and previous is not None:
            slots = {**{k: v for k, v in previous.slots.items() if k not in _DEVICE_SLOTS}, **slots}
            if not any(k in spans for k in _DEVICE_SLOTS) and (area := match_area(registry, cleaned)):
                spans["area"] = slots["area"] = area
        keep = INTENTS[intent].slots | set(_DEVICE_SLOTS)
        slots = {k: v for k, v in slots.items() if k in keep}
        context_area = registry.context_area(context.area)
        names = [_name_variants(cleaned, s) for s in prediction.spans if s.slot == "name"]
        request = Request(cleaned, label, slots, spans, registry, Resolver(registry), self.settings,
                          context_area, context.now or datetime.now(), names)  # fmt: skip
        spoken_device = any(k in spans for k in _DEVICE_SLOTS)
        if previous is not None and not spoken_device and _PRONOUN_RE.search(cleaned):
            request.previous_targets = previous.targets
        outcome = INTENTS[intent].handle(request, INTENTS[intent])
        if outcome.actions and not from_context and prediction.confidence < self.settings.min_confidence_to_act:
            # sure enough to say what it heard, not to act on it ("Ok, Raspy" heard as "dim the lights")
            timings["total"] = _ms(started)
            return Parse(text=cleaned, intent=intent, confidence=prediction.confidence, slots=slots,
                         reply=REPLY_NOT_SURE, outcome="unsure", timings_ms=timings)  # fmt: skip
        if intent == "HassListAddItem" and len(outcome.targets) == 1 and _is_shopping_list(outcome.targets[0]):
            intent = "HassShoppingListAddItem"  # HA's own intent for "add X to my shopping list"
        actions = tuple(outcome.actions)
        pending: tuple[Action, ...] = ()
        question = self._confirmation(intent, outcome, registry)
        pending_reply = ""
        if question:
            pending, actions = actions, ()
            pending_reply = outcome.reply
            outcome.kind, outcome.reply = "confirm", question
        timings["total"] = _ms(started)
        return Parse(
            text=cleaned,
            intent=intent,
            confidence=prediction.confidence,
            slots=slots,
            targets=tuple(sorted(d.id for d in outcome.targets)),
            actions=actions,
            reply=outcome.reply,
            outcome=outcome.kind,
            timings_ms=timings,
            pending_actions=pending,
            pending_reply=pending_reply,
        )

    def _confirmation(self, intent: str, outcome: Outcome, registry: Registry) -> str | None:
        """The question to ask before a sensitive action (unlocking, opening a garage door), or None."""
        if not outcome.actions:
            return None
        sensitive = []
        for action in outcome.actions:
            device = registry.device(action.device)
            if device.confirm is not None:
                risky = device.confirm
            elif device.domain in self.confirm.domains:
                risky = intent == "HassTurnOff"  # unlocking, disarming
            else:
                risky = device.device_class in self.confirm.device_classes and intent in ("HassTurnOn", "HassSetPosition")
            if risky:
                sensitive.append(device)
        if not sensitive:
            return None
        verb = {"HassTurnOff": "unlock" if sensitive[0].domain == "lock" else "turn off",
                "HassTurnOn": "open" if sensitive[0].domain == "cover" else "turn on"}.get(intent, "change")  # fmt: skip
        return f"Are you sure you want to {verb} {names_of(sensitive)}?"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
