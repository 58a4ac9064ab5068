"""Never the opposite action: the direction spoken must agree with the direction sent.

For locks, covers (blinds, curtains, garage doors, gates), valves and alarm panels, every action has a direction:
*opening* (open, unlock, disarm) or *closing* (close, lock, arm). The words of the sentence are read for the
direction they say, after the device's own names are taken out ("the front door lock" says nothing). When the
words say only the opposite of what the model planned, the command is not sent and the reply asks. The same for
a turn or switch that says neither on nor off, whatever the device ("turn the hallway light"), and for a lock,
cover, valve or alarm whose sentence says no direction at all. This rule runs
after the model, on its final plan, so no model error can get past it. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..config import Device

DOMAINS = frozenset({"lock", "cover", "valve", "alarm_control_panel"})

_OPENING = re.compile(r"\b(open|opens|opening|unlock|unlocks|unlocking|unlatch|unbolt|raise|lift|disarm|disarmed|"
                      r"deactivate|let\s+\w+\s+in|up)\b", re.I)  # fmt: skip
_CLOSING = re.compile(r"\b(close|closes|closing|shut|shuts|lock|locks|locking|bolt|lower|secure|arm|armed|activate|"
                      r"down)\b", re.I)  # fmt: skip


def direction(intent: str | None, device: Device, slots: dict[str, object] | None = None) -> str | None:
    """'opening', 'closing' or None (no direction) for what an intent does to a device."""
    if device.domain not in DOMAINS:
        return None
    if intent == "HassTurnOn":  # HA's convention: on = open a cover/valve, lock a lock, arm an alarm
        return "closing" if device.domain in ("lock", "alarm_control_panel") else "opening"
    if intent == "HassTurnOff":
        return "opening" if device.domain in ("lock", "alarm_control_panel") else "closing"
    if intent == "HassSetPosition" and slots is not None and isinstance(slots.get("position"), (int, float)):
        position = slots["position"]
        return "closing" if position == 0 else "opening" if position == 100 else None  # type: ignore[comparison-overlap]
    return None


def _without_names(text: str, devices: Iterable[Device]) -> str:
    """The words left once the devices' names and aliases are taken out ("the front door lock" says nothing)."""
    for name in sorted({n for d in devices for n in (d.name, *d.aliases)}, key=len, reverse=True):
        text = re.sub(r"\b" + re.escape(name) + r"\b", " ", text, flags=re.I)
    return text


def spoken(text: str, devices: Iterable[Device]) -> set[str]:
    """The directions the words say, once the devices' names and aliases are taken out."""
    text = _without_names(text, devices)
    said = set()
    if _OPENING.search(text):
        said.add("opening")
    if _CLOSING.search(text):
        said.add("closing")
    return said


def disagreeing(intent: str | None, devices: Iterable[Device], text: str,
                slots: dict[str, object] | None = None) -> list[Device]:  # fmt: skip
    """The devices whose planned direction the words contradict (said the opposite, and not this one)."""
    devices = list(devices)
    said = spoken(text, devices)
    wrong = []
    for device in devices:
        planned = direction(intent, device, slots)
        if planned is not None and said and planned not in said:
            wrong.append(device)
    return wrong


TURN = re.compile(r"\b(turn|turns|switch|switches|flip|flips|put|puts)\b", re.I)
"""The verbs that need an on or off ("put the light on"); complete.py waits for it after them."""
ON_OR_OFF = re.compile(r"\b(on+|of+|out|up|down|to|into)\b", re.I)
"""What a turn or switch says it does ("of" and "onn" are the same typed or misheard)."""


def undirected(intent: str | None, devices: Iterable[Device], text: str) -> list[Device]:
    """The devices a turn on or off was planned for when the words say neither on nor off (none otherwise):
    "turn the hallway light" (cut short, or "on" lost to the recogniser) is not acted on with a guessed
    direction."""
    devices = list(devices)
    if intent not in ("HassTurnOn", "HassTurnOff") or not devices:
        return []
    text = _without_names(text, devices)
    return devices if TURN.search(text) and not ON_OR_OFF.search(text) else []


_ON_OR_OFF_SAID = re.compile(r"\b(on+|of+|start|stop)\b", re.I)
"""On or off said, as a direction for a lock, cover, valve or alarm (not ``ON_OR_OFF``: its "to" and "into"
are in many a misheard sentence, and "up" and "down" are read by ``spoken``)."""
_WATERING_SAID = re.compile(r"\b(water|watering)\b", re.I)
"""A valve's on ("water the lawn"), and no lock's, cover's or alarm's."""


def unspoken(intent: str | None, devices: Iterable[Device], text: str,
             slots: dict[str, object] | None = None) -> list[Device]:  # fmt: skip
    """The locks, covers, valves and alarms an action was planned for when the words say no direction at all,
    not even on or off ("Door, night modes are impossible", recognised in a noisy kitchen from "call my mother
    tomorrow", would lock the front door): the direction would be the model's guess. A position said ("the
    blinds to 100%") is a direction."""
    if intent not in ("HassTurnOn", "HassTurnOff"):
        return []
    devices = [d for d in devices if direction(intent, d, slots) is not None]
    rest = _without_names(text, devices)
    if not devices or spoken(text, devices) or _ON_OR_OFF_SAID.search(rest):
        return []
    return [d for d in devices if d.domain != "valve"] if _WATERING_SAID.search(rest) else devices


_CHANGE = re.compile(
    r"\b(bright\w*|dim\w*|dark\w*|light(?:er|en)|gloomy|glare|glaring|blinding|see|up|down|increase\w*|decrease\w*|"
    r"rais\w*|lower\w*|warm\w*|cool\w*|hot\w*|cold\w*|heat\w*|chill\w*|freez\w*|sweat\w*|stuffy|boiling|"
    r"loud\w*|quiet\w*|soft\w*|volume|hear|noise|noisy|deaf|ears?|more|less|boost|reduce|crank|bump|notch|"
    r"higher|high|low|much|intense|strong\w*|weak\w*|mellow|harsh|turn\s+\w+\s+(?:up|down)|by\s+\S+)\b",
    re.I,
)


def says_a_change(text: str, devices: Iterable[Device]) -> bool:
    """Whether the words ask for a relative change (brighter, warmer, louder, "too dark"...), once the devices'
    names are taken out: a name is not a verb ("Pernoff the kitchen ceiling light")."""
    return bool(_CHANGE.search(_without_names(text, devices)))
