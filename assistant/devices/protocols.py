"""How an action on a device becomes one MQTT message, per protocol.

zigbee2mqtt: ``<topic>/set`` with a JSON payload (``{"state":"ON","brightness":127}``).
tasmota:     ``cmnd/<topic>/<Command>`` with a plain payload (``POWER`` ``ON``, ``Dimmer`` ``30``).
generic:     the user's topic and payload templates, one per action, ``{field}`` substituted.

Alarm panels, buttons, lawn mowers, input booleans, media search and room cleaning have no
zigbee2mqtt or Tasmota form: they are generic devices (Alarmo, Home Assistant's MQTT entities, Valetudo).
Persons and weather only report state (config refuses commands for them).
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from typing import Any

from ..config import ACTION_FIELDS, Device, template_fields
from ..core.messages import Action
from ..errors import UnsupportedAction

Params = Mapping[str, Any]


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _fan_mode(percentage: int) -> str:
    if percentage <= 0:
        return "off"
    return "low" if percentage <= 33 else "medium" if percentage <= 66 else "high"


def _z2m_payload(device: Device, action: str, p: Params) -> dict[str, Any]:
    domain = device.domain
    simple: dict[tuple[str, str], dict[str, Any]] = {
        ("cover", "open"): {"state": "OPEN"},
        ("cover", "close"): {"state": "CLOSE"},
        ("cover", "stop"): {"state": "STOP"},
        ("lock", "lock"): {"state": "LOCK"},
        ("lock", "unlock"): {"state": "UNLOCK"},
        ("valve", "open"): {"state": "ON"},
        ("valve", "close"): {"state": "OFF"},
        ("climate", "turn_on"): {"system_mode": "heat"},
        ("climate", "turn_off"): {"system_mode": "off"},
        ("fan", "turn_on"): {"fan_mode": "on"},
        ("fan", "turn_off"): {"fan_mode": "off"},
    }
    if (domain, action) in simple:
        return simple[(domain, action)]
    if domain in ("light", "switch") and action in ("turn_on", "turn_off"):
        return {"state": "ON" if action == "turn_on" else "OFF"}
    if domain == "light" and action == "set_brightness":
        if p["brightness"] <= 0:
            return {"state": "OFF"}
        return {"state": "ON", "brightness": p["brightness_255"]}
    if domain == "light" and action == "step_brightness":
        return {"brightness_step": p["step_255"]}
    if domain == "light" and action == "set_color":
        return {"state": "ON", "color": {"r": p["r"], "g": p["g"], "b": p["b"]}}
    if domain == "light" and action == "set_color_temp":
        return {"state": "ON", "color_temp": p["mireds"]}
    if domain == "cover" and action == "set_position":
        return {"position": p["position"]}
    if domain == "climate" and action == "set_temperature":
        return {"current_heating_setpoint": p["temperature"]}
    if domain == "fan" and action == "set_percentage":
        return {"fan_mode": _fan_mode(p["percentage"])}
    if domain == "climate" and action == "set_fan_mode":
        return {"fan_mode": p["fan_mode"]}
    raise UnsupportedAction(f"{device.name} ({domain}, zigbee2mqtt) cannot {action.replace('_', ' ')}")


def _zigbee2mqtt(device: Device, action: str, p: Params) -> tuple[str, str]:
    return f"{device.topic}/set", _json(_z2m_payload(device, action, p))


def _tasmota(device: Device, action: str, p: Params) -> tuple[str, str]:
    domain = device.domain
    command: tuple[str, str] | None = None
    if domain == "cover":
        command = {
            "open": ("ShutterOpen", ""),
            "close": ("ShutterClose", ""),
            "stop": ("ShutterStop", ""),
            "set_position": ("ShutterPosition", str(p.get("position", ""))),
        }.get(action)
    elif action in ("turn_on", "turn_off", "open", "close") and domain in ("light", "switch", "fan", "valve"):
        command = ("POWER", "ON" if action in ("turn_on", "open") else "OFF")
    elif domain == "light" and action == "set_brightness":
        command = ("Dimmer", str(p["brightness"]))
    elif domain == "light" and action == "step_brightness":
        command = ("Dimmer", "+" if p["step"] > 0 else "-")
    elif domain == "light" and action == "set_color":
        command = ("Color", f"{p['r']},{p['g']},{p['b']}")
    elif domain == "light" and action == "set_color_temp":
        command = ("CT", str(min(500, max(153, p["mireds"]))))
    elif domain == "fan" and action == "set_percentage":
        command = ("FanSpeed", str(round(p["percentage"] * 3 / 100)))
    if command is None:
        raise UnsupportedAction(f"{device.name} ({domain}, tasmota) cannot {action.replace('_', ' ')}")
    return f"cmnd/{device.topic}/{command[0]}", command[1]


def _generic(device: Device, action: str, p: Params) -> tuple[str, str]:
    template = device.commands.get(action)
    if template is None:
        raise UnsupportedAction(f"{device.name} has no command for {action.replace('_', ' ')}")
    fields = {name: p[name] for name in ACTION_FIELDS[action]}
    for name, value in fields.items():
        if isinstance(value, str) and name in template_fields(template.topic) and (
                not value or set(value) & set("/#+\0") or len(value) > 100):  # fmt: skip
            raise UnsupportedAction(f"{device.name}: {value[:40]!r} cannot be part of a topic")
    payload = template.payload
    literal = next(iter(string.Formatter().parse(payload)), ("",))[0].lstrip()  # "{{" reads as "{"
    if literal.startswith(("{", "[")):  # a JSON template: string values escaped to stay JSON
        fields_json = {k: json.dumps(v)[1:-1] if isinstance(v, str) else v for k, v in fields.items()}
        return template.topic.format(**fields), payload.format(**fields_json)
    return template.topic.format(**fields), payload.format(**fields)


_PROTOCOLS: dict[str, Callable[[Device, str, Params], tuple[str, str]]] = {
    "zigbee2mqtt": _zigbee2mqtt,
    "tasmota": _tasmota,
    "generic": _generic,
}


def command_for(device: Device, action: str, params: Params | None = None) -> Action:
    """The MQTT message that performs ``action`` on ``device``. Raises UnsupportedAction."""
    if action not in ACTION_FIELDS:
        raise UnsupportedAction(f"unknown action {action!r}")
    params = params or {}
    missing = [f for f in ACTION_FIELDS[action] if f not in params]
    if missing:
        raise UnsupportedAction(f"{action} needs {', '.join(missing)}")
    topic, payload = _PROTOCOLS[device.protocol](device, action, params)
    qos, retain = 1, False
    if device.protocol == "generic":
        qos, retain = device.commands[action].qos, device.commands[action].retain
    return Action(device=device.id, topic=topic, payload=payload, qos=qos, retain=retain)
