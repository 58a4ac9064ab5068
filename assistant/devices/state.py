"""Live state: which topics each device reports on, and how a report becomes state attributes.

The attributes are the ones the understanding stage reads: ``state`` ("on", "off", "open",
"closed", "locked", "unlocked", a sensor's value, a person's "home"/"not_home", a weather condition),
``brightness`` (percent), ``position``, ``temperature`` (setpoint; a weather entity's temperature),
``current_temperature``, ``percentage``, ``volume``, ``fan_mode``, ``unit`` (the unit of ``state``, or of a
weather entity's ``temperature``). A binary sensor's ``state`` is "on"/"off" as in Home Assistant; what
that means (low battery, a leak, motion) comes from its device class.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..config import Device

# zigbee2mqtt: the key that holds a binary sensor's reading, per device class (true: "on").
_Z2M_BINARY_KEYS = {"battery": "battery_low", "moisture": "water_leak", "occupancy": "occupancy", "motion": "occupancy",
                    "presence": "presence", "smoke": "smoke", "gas": "gas", "carbon_monoxide": "carbon_monoxide",
                    "vibration": "vibration", "tamper": "tamper"}  # fmt: skip
_Z2M_STATES = {"ON": "on", "OFF": "off", "OPEN": "open", "CLOSE": "closed", "CLOSED": "closed", "OPENING": "opening",
               "CLOSING": "closing", "LOCK": "locked", "LOCKED": "locked", "UNLOCK": "unlocked",
               "UNLOCKED": "unlocked", "STOP": "stopped"}  # fmt: skip


def state_topics(device: Device) -> list[str]:
    if device.protocol == "zigbee2mqtt":
        return [str(device.topic)]
    if device.protocol == "tasmota":
        return [f"stat/{device.topic}/POWER", f"stat/{device.topic}/RESULT", f"tele/{device.topic}/STATE",
                f"tele/{device.topic}/SENSOR"]  # fmt: skip
    return [device.state_topic] if device.state_topic else []


def _number(value: Any) -> float | None:
    """A reported number, or None for anything else (text, NaN, infinities, values past any real reading)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and abs(number) < 1e6 else None


def _z2m(device: Device, data: dict[str, Any]) -> dict[str, Any]:
    if device.domain == "binary_sensor" and device.device_class in _Z2M_BINARY_KEYS:
        # its own key only: a lock's battery sensor shares the lock's topic, whose "state" is the lock's
        value = data.get(_Z2M_BINARY_KEYS[device.device_class])
        return {"state": "on" if value else "off"} if isinstance(value, bool) else {}
    out: dict[str, Any] = {}
    for key in ("state", "lock_state", "system_mode"):
        value = data.get(key)
        if isinstance(value, str):
            if key == "system_mode":
                out["state"] = value.lower()
            elif value.upper() in _Z2M_STATES:
                out["state"] = _Z2M_STATES[value.upper()]
            break
    if (b := _number(data.get("brightness"))) is not None:
        out["brightness"] = int(round(b * 100 / 254))
    if (p := _number(data.get("position"))) is not None:
        out["position"] = int(p)
        if device.domain == "cover" and "state" not in out:
            out["state"] = "closed" if p <= 0 else "open"
    for key in ("current_heating_setpoint", "occupied_heating_setpoint"):
        if (t := _number(data.get(key))) is not None:
            out["temperature"] = t
            break
    if (t := _number(data.get("local_temperature"))) is not None:
        out["current_temperature"] = t
    if device.domain == "climate" and isinstance(data.get("fan_mode"), str) and len(data["fan_mode"]) <= 32:
        out["fan_mode"] = data["fan_mode"].lower()
    if isinstance(data.get("contact"), bool):
        out["state"] = "closed" if data["contact"] else "open"
    if device.domain == "sensor":
        for key, unit in (("temperature", "°C"), ("humidity", "%"), ("illuminance_lux", "lx"), ("power", "W")):
            wanted = device.device_class in (None, key, key.split("_")[0])
            if wanted and (v := _number(data.get(key))) is not None:
                out["state"] = f"{v:g}"
                out["unit"] = unit
                break
    return out


def _tasmota(device: Device, topic: str, payload: str) -> dict[str, Any]:
    if topic.endswith("/POWER"):
        value = payload.strip().upper()
        return {"state": value.lower()} if value in ("ON", "OFF") else {}
    data = json.loads(payload)
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    power = data.get("POWER", data.get("POWER1"))
    if isinstance(power, str) and power.upper() in ("ON", "OFF"):
        out["state"] = power.lower()
    if (d := _number(data.get("Dimmer"))) is not None:
        out["brightness"] = int(d)
    shutter = data.get("Shutter1")
    if isinstance(shutter, dict) and (p := _number(shutter.get("Position"))) is not None:
        out["position"] = int(p)
        out["state"] = "closed" if p <= 0 else "open"
    if (f := _number(data.get("FanSpeed"))) is not None:
        out["percentage"] = int(round(f * 100 / 3))
    for sensor in data.values():
        if isinstance(sensor, dict) and device.domain == "sensor":
            for key, unit in (("Temperature", "°C"), ("Humidity", "%")):
                if (v := _number(sensor.get(key))) is not None:
                    out["state"], out["unit"] = f"{v:g}", unit
    return out


def _generic(device: Device, payload: str) -> dict[str, Any]:
    if device.state_key is None:
        text = payload.strip()
        return {"state": text.lower()} if text and len(text) <= 64 else {}
    data = json.loads(payload)
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    value = data.get(device.state_key)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        out["state"] = str(value).lower()
    for key in ("brightness", "position", "volume", "percentage", "temperature", "current_temperature"):
        if (v := _number(data.get(key))) is not None:
            out[key] = v if key.endswith("temperature") else int(v)
    for key in ("fan_mode", "unit", "temperature_unit"):  # Home Assistant's weather says temperature_unit
        value = data.get(key)
        if isinstance(value, str) and 0 < len(value) <= 32:
            out["unit" if key == "temperature_unit" else key] = value if key != "fan_mode" else value.lower()
    return out


def parse_state(device: Device, topic: str, payload: str) -> dict[str, Any]:
    """State attributes from one report; {} when it holds none. Raises ValueError on bad JSON."""
    if device.protocol == "zigbee2mqtt":
        data = json.loads(payload)
        return _z2m(device, data) if isinstance(data, dict) else {}
    if device.protocol == "tasmota":
        return _tasmota(device, topic, payload)
    return _generic(device, payload)
