"""Plan: an intent and its slots -> the devices it targets, the messages to send and the reply.

One table, ``INTENTS``, maps each intent to the domains it acts on and its handler; each handler
resolves targets (``resolve``), builds the MQTT messages through the device protocols and takes its
words from ``replies``. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..config import Device, Understanding
from ..core.messages import Action
from ..devices import Registry, command_for
from ..errors import UnsupportedAction
from . import schema
from .replies import NOT_UNDERSTOOD, degrees, names_of, opposite_question, pct, sentence, the, timer_reply
from .resolve import Resolution, Resolver


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
            refused.append(f"{the(device.name)} cannot do that")
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
               "vacuum": "start"}  # fmt: skip
_OFF_ACTIONS = {"cover": "close", "valve": "close", "lock": "unlock", "vacuum": "return_to_base"}
_ON_VERBS = {"open": "Opened", "lock": "Locked", "activate": "Activated", "start": "Started", "turn_on": "Turned on"}
_OFF_VERBS = {"close": "Closed", "unlock": "Unlocked", "return_to_base": "Sent home", "turn_off": "Turned off"}


_OPENING = re.compile(r"\b(open|opening|unlock|unlatch|raise|lift|disarm)\b", re.I)
_CLOSING = re.compile(r"\b(close|closing|shut|lock|locking|lower|arm)\b", re.I)


def _contradicts(device: Device, action: str, text: str) -> bool:
    """The verb spoken says the opposite of ``action`` for a lock, cover or valve ("open the front door"
    for a lock the model would lock). The device's own names are taken out first ("the door lock")."""
    if device.domain not in ("lock", "cover", "valve"):
        return False
    for name in sorted((device.name, *device.aliases), key=len, reverse=True):
        text = re.sub(re.escape(name), " ", text, flags=re.I)
    opening, closing = bool(_OPENING.search(text)), bool(_CLOSING.search(text))
    if action in ("lock", "close"):
        return opening and not closing
    if action in ("unlock", "open"):
        return closing and not opening
    return False


def _turn(on: bool) -> Handler:
    table, verbs = (_ON_ACTIONS, _ON_VERBS) if on else (_OFF_ACTIONS, _OFF_VERBS)
    default = "turn_on" if on else "turn_off"

    def handle(req: Request, spec: IntentSpec) -> Outcome:
        contradicted: list[Device] = []

        def action_for(device: Device) -> tuple[str, dict[str, Any]] | None:
            if device.domain in ("sensor", "binary_sensor") or (not on and device.domain == "scene"):
                return None
            action = table.get(device.domain, default)
            if _contradicts(device, action, req.text):  # never the opposite of what was said
                contradicted.append(device)
                return None
            return action, {}

        def reply(devices: list[Device]) -> str:
            verb = verbs[table.get(devices[0].domain, default)]
            return f"{verb} {names_of(devices)}."

        outcome = _act(req, spec, action_for, reply)
        if contradicted and not outcome.actions:
            return Outcome(opposite_question(contradicted), "unsure", targets=contradicted)
        return outcome

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
        return Outcome(f"{'Yes' if yes else 'No'}, {the(device.name)} is {text}.", "answer", targets=devices)
    if asked:
        matching = [d for d, text in known if text == asked]
        if not matching:
            return Outcome(f"No, none of them is {asked}.", "answer", targets=devices)
        if len(matching) == len(devices):
            return Outcome(f"Yes, all of them are {asked}.", "answer", targets=devices)
        return Outcome(f"Yes, {names_of(matching)} {'is' if len(matching) == 1 else 'are'} {asked}.", "answer",
                       targets=devices)  # fmt: skip
    parts = [f"{the(d.name)} is {text}" for d, text in known]
    return Outcome(sentence(parts), "answer", targets=devices)


def _climate_get(req: Request, spec: IntentSpec) -> Outcome:
    resolution = req.resolve(spec)
    if resolution.problem:
        return Outcome(resolution.reply, resolution.problem)
    parts = []
    for device in resolution.devices:
        current = req.registry.state(device.id).get("current_temperature")
        if current is None:
            parts.append(f"I don't know the temperature of {the(device.name)} yet")
        else:
            where = f"in the {device.area}" if device.area else f"at {the(device.name)}"
            parts.append(f"it's {degrees(float(current), req.settings.temperature_unit)} {where}")
    return Outcome(sentence(parts, " and "), "answer", targets=resolution.devices)


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


def is_shopping_list(device: Device) -> bool:
    return any("shopping" in n.lower() for n in (device.name, *device.aliases))


def _answer(make: Callable[[Request], str]) -> Handler:
    def handle(req: Request, spec: IntentSpec) -> Outcome:
        return Outcome(make(req), "answer")

    return handle


def _not_yet(req: Request, spec: IntentSpec) -> Outcome:
    return Outcome("Sorry, I can't do that yet.", "unsupported")


def _timer_reply(req: Request) -> str:
    """What ``parse`` can say without seeing the running timers; the session answers with the truth."""
    return timer_reply(req.label, duration_s=req.slots.get("duration_s"))


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
    "HassSetPosition": IntentSpec(F({"cover", "valve"}), F({"cover"}), _set_percent("position", "set_position", "position"), F({"position"})),
    "HassClimateSetTemperature": IntentSpec(F({"climate"}), F({"climate"}), _climate_set,
                                              F({"temperature", "temperature_unit", "temperature_step"})),
    "HassClimateGetTemperature": IntentSpec(F({"climate"}), F({"climate"}), _climate_get),
    "HassFanSetSpeed": IntentSpec(F({"fan"}), F({"fan"}), _set_percent("percentage", "set_percentage", "speed"), F({"percentage"})),
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
    # New in the schema; their handlers come next. Until then the truth: nothing is done.
    **{name: IntentSpec(NONE, NONE, _not_yet) for name in (
        "HassBroadcast", "HassClimateSetFanMode", "HassLawnMowerDock", "HassLawnMowerStartMowing",
        "HassListCompleteItem", "HassListRemoveItem", "HassMediaSearchAndPlay", "HassRespond",
        "HassShoppingListCompleteItem", "HassVacuumCleanArea")},
}  # fmt: skip

if set(INTENTS) != set(schema.HA_INTENTS):  # a schema change must come with its handler
    raise RuntimeError(f"intents without handlers: {set(schema.HA_INTENTS) ^ set(INTENTS)}")


