"""Device discovery: Home Assistant MQTT discovery messages and Zigbee2MQTT's ``bridge/devices``
become registry devices, so a home with Zigbee2MQTT or Tasmota needs no hand-written list.
config.yaml wins over anything discovered (see Registry.with_devices)."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError

from ..config import CommandTemplate, Device

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
_DOMAINS = {"light", "switch", "fan", "cover", "lock", "climate", "valve", "sensor", "binary_sensor", "scene"}
_VALUE_JSON = re.compile(r"^\{\{\s*value_json\.(\w+)\s*\}\}$")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "device"


def _expand(payload: dict[str, Any]) -> dict[str, Any]:
    base = payload.get("~")
    out: dict[str, Any] = {}
    for key, value in payload.items():
        key = _ABBREVIATIONS.get(key, key)
        if isinstance(value, dict):
            value = _expand(value)
        if isinstance(value, str) and base is not None and key.endswith("_topic"):
            value = value.replace("~", base) if value.startswith("~") or value.endswith("~") else value
        out[key] = value
    return out


def _escape(payload: str) -> str:
    return payload.replace("{", "{{").replace("}", "}}")


def from_ha_discovery(topic: str, payload: Any, prefix: str = "homeassistant") -> Device | None:
    """One ``<prefix>/<component>/[<node_id>/]<object_id>/config`` message -> a generic device."""
    parts = topic.split("/")
    if len(parts) not in (4, 5) or parts[0] != prefix or parts[-1] != "config" or not isinstance(payload, dict):
        return None
    component = parts[1]
    if component not in _DOMAINS:
        return None
    data = _expand(payload)
    device_info: dict[str, Any] = data["device"] if isinstance(data.get("device"), dict) else {}
    name = data.get("name") or device_info.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    commands: dict[str, CommandTemplate] = {}

    def add(action: str, topic_key: str, payload_text: str) -> None:
        target = data.get(topic_key)
        if isinstance(target, str) and target:
            commands[action] = CommandTemplate(topic=target, payload=payload_text)

    def text(key: str, default: str) -> str:
        value = data.get(key, default)
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
    elif component == "climate":
        add("set_temperature", "temperature_command_topic", "{temperature}")
        add("turn_on", "mode_command_topic", "heat")
        add("turn_off", "mode_command_topic", "off")
    state_topic = data.get("state_topic") if isinstance(data.get("state_topic"), str) else None
    template = data.get("value_template")
    match = _VALUE_JSON.match(template.strip()) if isinstance(template, str) else None
    unique = data.get("unique_id") or parts[-2]
    area = device_info.get("suggested_area")
    try:
        return Device(
            id=f"{component}.{slug(str(unique))}",
            name=name.strip(),
            area=area if isinstance(area, str) else None,
            domain=component,  # type: ignore[arg-type]
            device_class=data.get("device_class") if isinstance(data.get("device_class"), str) else None,
            protocol="generic",
            commands=commands,
            state_topic=state_topic,
            state_key=match.group(1) if match else None,
        )
    except ValidationError as exc:
        log.info("ignoring discovery message on %s: %s", topic, exc.errors()[0]["msg"])
        return None


_Z2M_KINDS = ("light", "switch", "cover", "lock", "climate", "fan")


def from_zigbee2mqtt(devices: Any, base: str = "zigbee2mqtt") -> list[Device]:
    """Zigbee2MQTT's retained ``<base>/bridge/devices`` list -> zigbee2mqtt devices."""
    if not isinstance(devices, list):
        return []
    out = []
    for entry in devices:
        if not isinstance(entry, dict) or entry.get("type") == "Coordinator":
            continue
        name = entry.get("friendly_name")
        definition = entry.get("definition")
        if not isinstance(name, str) or not isinstance(definition, dict):
            continue
        exposes = [e for e in definition.get("exposes") or [] if isinstance(e, dict)]
        kinds = [e.get("type") for e in exposes]
        domain = next((k for k in _Z2M_KINDS if k in kinds), None)
        device_class = None
        features: list[str] | None = None
        if domain is None:
            names = {e.get("name") for e in exposes}
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
            feature_names = {f.get("name") for f in light.get("features") or [] if isinstance(f, dict)}
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
            log.info("ignoring zigbee2mqtt device %r: %s", name, exc.errors()[0]["msg"])
    return out
