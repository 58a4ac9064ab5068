"""Device discovery: Home Assistant MQTT discovery messages and Zigbee2MQTT's ``bridge/devices``
become registry devices, so a home with Zigbee2MQTT or Tasmota needs no hand-written list.
config.yaml wins over anything discovered (see Registry.with_devices).

The input is whatever anyone on the broker published: these functions never raise on it. A message
they cannot read, or whose names are not clean text (``trust.text_problem``), gives no device.
What a readable device may then do (its topics, its payloads) is decided by ``trust.TopicGuard.vet``,
which every discovered device goes through before it is used."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError

from ..config import CommandTemplate, Device
from .trust import text_problem

log = logging.getLogger(__name__)

# Home Assistant's abbreviations for discovery payload keys (the ones this reads).
_ABBREVIATIONS = {
    "cmd_t": "command_topic", "stat_t": "state_topic", "pl_on": "payload_on", "pl_off": "payload_off",
    "bri_cmd_t": "brightness_command_topic", "set_pos_t": "set_position_topic", "pl_open": "payload_open",
    "pl_cls": "payload_close", "pl_stop": "payload_stop", "pl_lock": "payload_lock", "pl_unlk": "payload_unlock",
    "temp_cmd_t": "temperature_command_topic", "pct_cmd_t": "percentage_command_topic",
    "mode_cmd_t": "mode_command_topic", "val_tpl": "value_template", "uniq_id": "unique_id", "dev": "device",
    "dev_cla": "device_class", "sa": "suggested_area", "ids": "identifiers", "schema": "schema",
}  # fmt: skip
_DOMAINS = {"light", "switch", "fan", "cover", "lock", "climate", "valve", "sensor", "binary_sensor", "scene",
            "button", "lawn_mower", "alarm_control_panel"}
_VALUE_JSON = re.compile(r"^\{\{\s*value_json\.(\w+)\s*\}\}$")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "device"


class _Unusable(Exception):
    """A discovery message this module cannot turn into a device (never leaves the module)."""


def _expand(payload: dict[str, Any]) -> dict[str, Any]:
    """Abbreviated keys spelt out, and a ``~`` at the start or end of a ``*_topic`` replaced by the
    base (once, as Home Assistant does). One level only: nested objects are expanded by the caller."""
    base = payload.get("~")
    out: dict[str, Any] = {}
    for key, value in payload.items():
        key = _ABBREVIATIONS.get(key, key)
        if isinstance(value, str) and isinstance(base, str) and isinstance(key, str) and key.endswith("_topic"):
            if value.startswith("~"):
                value = base + value[1:]
            elif value.endswith("~"):
                value = value[:-1] + base
        out[key] = value
    return out


def _escape(payload: str) -> str:
    return payload.replace("{", "{{").replace("}", "}}")


def _clean(value: Any, what: str) -> str:
    """``value`` as a name the registry can hold, or _Unusable."""
    problem = text_problem(value)
    if problem is not None:
        raise _Unusable(f"its {what} is {problem}")
    return str(value).strip()


def from_ha_discovery(topic: str, payload: Any, prefix: str = "homeassistant") -> Device | None:
    """One ``<prefix>/<component>/[<node_id>/]<object_id>/config`` message -> a generic device, or None."""
    parts = topic.split("/")
    if len(parts) not in (4, 5) or parts[0] != prefix or parts[-1] != "config" or not isinstance(payload, dict):
        return None
    component = parts[1]
    if component not in _DOMAINS:
        return None
    try:
        return _ha_device(component, parts, _expand(payload))
    except _Unusable as exc:
        log.info("ignoring discovery message on %.120r: %s", topic, exc)
    except ValidationError as exc:
        log.info("ignoring discovery message on %.120r: %.200s", topic, exc.errors()[0]["msg"])
    return None


def _ha_device(component: str, parts: list[str], data: dict[str, Any]) -> Device | None:
    device_info: dict[str, Any] = _expand(data["device"]) if isinstance(data.get("device"), dict) else {}
    name = data.get("name") or device_info.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    commands: dict[str, CommandTemplate] = {}

    def add(action: str, topic_key: str, payload_text: str) -> None:
        target = data.get(topic_key)
        if isinstance(target, str) and target:  # a topic is literal: braces are not template fields
            commands[action] = CommandTemplate(topic=_escape(target), payload=payload_text)

    def text(key: str, default: str) -> str:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _Unusable(f"its {key} is a {type(value).__name__}, not a payload")
        return _escape(str(value))

    if component in ("light", "switch", "fan", "scene"):
        if data.get("schema") == "json" and component == "light":
            add("turn_on", "command_topic", '{{"state": "ON"}}')
            add("turn_off", "command_topic", '{{"state": "OFF"}}')
            add("set_brightness", "command_topic", '{{"state": "ON", "brightness": {brightness_255}}}')
        else:
            add("activate" if component == "scene" else "turn_on", "command_topic", text("payload_on", "ON"))
            if component != "scene":
                add("turn_off", "command_topic", text("payload_off", "OFF"))
            add("set_brightness", "brightness_command_topic", "{brightness_255}")
            add("set_percentage", "percentage_command_topic", "{percentage}")
    elif component in ("cover", "valve"):
        add("open", "command_topic", text("payload_open", "OPEN"))
        add("close", "command_topic", text("payload_close", "CLOSE"))
        if component == "cover":
            add("stop", "command_topic", text("payload_stop", "STOP"))
        add("set_position", "set_position_topic", "{position}")
    elif component == "lock":
        add("lock", "command_topic", text("payload_lock", "LOCK"))
        add("unlock", "command_topic", text("payload_unlock", "UNLOCK"))
    elif component == "button":
        add("press", "command_topic", text("payload_press", "PRESS"))
    elif component == "lawn_mower":  # HA's MQTT lawn mower: one topic per command, the command's name as payload
        add("start", "start_mowing_command_topic", "start_mowing")
        add("dock", "dock_command_topic", "dock")
        add("pause", "pause_command_topic", "pause")
    elif component == "alarm_control_panel":
        add("arm_away", "command_topic", text("payload_arm_away", "ARM_AWAY"))
        add("disarm", "command_topic", text("payload_disarm", "DISARM"))
    elif component == "climate":
        add("set_temperature", "temperature_command_topic", "{temperature}")
        add("turn_on", "mode_command_topic", "heat")
        add("turn_off", "mode_command_topic", "off")
    state_topic = data.get("state_topic") if isinstance(data.get("state_topic"), str) else None
    template = data.get("value_template")
    match = _VALUE_JSON.match(template.strip()) if isinstance(template, str) else None
    unique = data.get("unique_id")
    unique = unique if isinstance(unique, (str, int)) and not isinstance(unique, bool) and str(unique) else parts[-2]
    area = device_info.get("suggested_area")
    device_class = data.get("device_class")
    return Device(
        id=f"{component}.{slug(_clean(str(unique), 'unique id'))}",
        name=_clean(name, "name"),
        area=_clean(area, "area") if isinstance(area, str) else None,
        domain=component,  # type: ignore[arg-type]
        device_class=_clean(device_class, "device class") if isinstance(device_class, str) else None,
        protocol="generic",
        commands=commands,
        state_topic=state_topic,
        state_key=match.group(1) if match else None,
    )


_Z2M_KINDS = ("light", "switch", "cover", "lock", "climate", "fan")


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _strings(entries: list[dict[str, Any]], key: str) -> set[str]:
    return {v for e in entries if isinstance(v := e.get(key), str)}


def from_zigbee2mqtt(devices: Any, base: str = "zigbee2mqtt") -> list[Device]:
    """Zigbee2MQTT's retained ``<base>/bridge/devices`` list -> zigbee2mqtt devices (unreadable entries skipped)."""
    out = []
    for entry in _dicts(devices):
        if entry.get("type") == "Coordinator":
            continue
        name = entry.get("friendly_name")
        definition = entry.get("definition")
        if not isinstance(name, str) or not isinstance(definition, dict):
            continue
        if (problem := text_problem(name)) is not None:
            log.info("ignoring zigbee2mqtt device %.60r: its friendly name is %s", name, problem)
            continue
        exposes = _dicts(definition.get("exposes"))
        kinds = _strings(exposes, "type")
        domain = next((k for k in _Z2M_KINDS if k in kinds), None)
        device_class = None
        features: list[str] | None = None
        if domain is None:
            names = _strings(exposes, "name")
            if "contact" in names:
                domain, device_class = "binary_sensor", "door"
            elif "temperature" in names:
                domain, device_class = "sensor", "temperature"
            elif "humidity" in names:
                domain, device_class = "sensor", "humidity"
            else:
                continue
        if domain == "light":
            light = next(e for e in exposes if e.get("type") == "light")
            feature_names = _strings(_dicts(light.get("features")), "name")
            features = [f for f, keys in (("brightness", {"brightness"}), ("color", {"color_xy", "color_hs"}),
                                          ("color_temp", {"color_temp"})) if feature_names & keys]  # fmt: skip
        try:
            out.append(Device(
                id=f"{domain}.{slug(name)}",
                name=re.sub(r"[_/]+", " ", name).strip(),
                domain=domain,  # type: ignore[arg-type]
                device_class=device_class,
                protocol="zigbee2mqtt",
                topic=f"{base}/{name}",
                features=features,  # type: ignore[arg-type]
            ))  # fmt: skip
        except ValidationError as exc:
            log.info("ignoring zigbee2mqtt device %.60r: %.200s", name, exc.errors()[0]["msg"])
    return out
