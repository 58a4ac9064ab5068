"""The trust boundary for devices discovered over MQTT: what an announcement from the broker may make
the assistant publish, subscribe to and do without asking.

Anyone who can publish a retained Home Assistant discovery message (or Zigbee2MQTT's ``bridge/devices``)
can announce a "light" whose "on" payload unlocks the front door, or whose command topic is the
assistant's own command input. ``TopicGuard.vet`` decides, per discovered device, before it reaches the
registry or a subscription:

- every topic it would publish to or subscribe to is a valid, concrete MQTT topic (``topic_problem``);
- no command topic is one the assistant must never publish to for a stranger: a configured device's
  command or state topics, the assistant's own ``<prefix>/#``, ``$SYS/#``, the discovery prefix and the
  Zigbee2MQTT bridge (matched with MQTT semantics, not string prefixes);
- no state topic lies in the reserved ones (own, ``$SYS``, discovery, bridge), so a subscription can
  never overlap the assistant's own and deliver a command twice;
- its payloads do not do more than it claims to be: a "light" whose payload unlocks, disarms or opens
  is a disguise and is refused; a lock, an alarm panel, or a cover/valve of class garage/gate/door is
  kept with ``confirm=True``;
- it matches ``discovery.allow`` (empty: everything), and ``admit`` keeps at most ``discovery.max_devices``.

Everything here is pure (no I/O, no clock) and safe to call from any thread; a guard is immutable.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ..config import ACTION_FIELDS, Config, Device, template_fields
from ..errors import UnsupportedAction
from .protocols import command_for
from .state import state_topics

MAX_TOPIC_BYTES = 256
"""Longest topic taken from the outside, in UTF-8 bytes (MQTT allows 65,535; no real device needs more)."""
MAX_TEXT_CHARS = 200
"""Longest name, alias, area, device class or id taken from the outside, in characters."""

# Words that make a payload sensitive, by what they do. A token counts when it is one of the words
# (case-insensitive; tokens split at non-letters and at camelCase humps: "ARM_AWAY", "armAway", "{"state":"UNLOCK"}"),
# or, for the unambiguous verbs, when it starts with one ("unlockdoor", "disarmed").
_SENSITIVE_WORDS: dict[str, frozenset[str]] = {
    "unlocks or locks": frozenset({"lock", "locked", "locking", "unlock", "unlocked", "unlocking", "unlatch",
                                   "unlatched", "unbolt", "unbolted"}),
    "arms or disarms": frozenset({"arm", "armed", "arming", "disarm", "disarmed", "disarming", "armaway",
                                  "armhome", "armnight", "armvacation", "armcustombypass"}),
    "opens": frozenset({"open", "opened", "opening"}),
}  # fmt: skip
_SENSITIVE_PREFIXES: dict[str, tuple[str, ...]] = {
    "unlocks or locks": ("unlock", "unlatch"),
    "arms or disarms": ("disarm",),
}
# What a device of each domain may legitimately do; any other sensitive payload is a disguise.
# A lock may "open" (Home Assistant's lock `payload_open` unlatches the door); it asks first anyway.
_ALLOWED_KINDS: dict[str, frozenset[str]] = {
    "lock": frozenset({"unlocks or locks", "opens"}),
    "alarm_control_panel": frozenset({"arms or disarms"}),
    "cover": frozenset({"opens"}),
    "valve": frozenset({"opens"}),
}
# Discovered devices of these domains, or covers/valves of these classes, always ask before acting,
# whatever the confirm section says (it may only add to them).
_CONFIRM_DOMAINS = frozenset({"lock", "alarm_control_panel"})
_CONFIRM_CLASSES = frozenset({"garage", "gate", "door"})
_OPENABLE = ("cover", "valve")
_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# Neutral values for every template field, to render the messages a device would send.
_PROBE = {"brightness": 50, "brightness_255": 127, "step": 10, "step_255": 25, "color": "white", "r": 255,
          "g": 255, "b": 255, "hex": "#ffffff", "kelvin": 4000, "mireds": 250, "position": 50, "temperature": 21.0,
          "unit": "C", "percentage": 50, "volume": 50, "volume_level": 0.5, "item": "milk", "fan_mode": "auto",
          "query": "music", "media_class": "music", "area": "Kitchen", "area_id": "kitchen",
          "segment": "1"}  # fmt: skip


def _bad_character(text: str) -> str | None:
    """The first control character or Unicode non-character in ``text`` (MQTT 3.1.1 / 5 section 1.5.4)."""
    for ch in text:
        code = ord(ch)
        if unicodedata.category(ch) == "Cc" or 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
            return f"U+{code:04X}"
    return None


def topic_problem(topic: str) -> str | None:
    """Why ``topic``, taken from the outside, cannot be published or subscribed to; None when it can.

    Refused: not a string, empty, not encodable as UTF-8 (a lone surrogate), longer than MAX_TOPIC_BYTES,
    a control character (NUL included) or non-character, an MQTT wildcard (``+``, ``#``), a leading ``$``.
    """
    if not isinstance(topic, str):
        return f"the topic is a {type(topic).__name__}, not text"
    if not topic:
        return "the topic is empty"
    try:
        size = len(topic.encode("utf-8"))
    except UnicodeEncodeError:
        return "the topic is not valid UTF-8 (a lone surrogate)"
    if size > MAX_TOPIC_BYTES:
        return f"the topic is {size} bytes long (at most {MAX_TOPIC_BYTES})"
    if (bad := _bad_character(topic)) is not None:
        return f"the topic holds the control character {bad}"
    if "+" in topic or "#" in topic:
        return "the topic holds an MQTT wildcard (+ or #)"
    if topic.startswith("$"):
        return "the topic starts with $ (the broker's own topics)"
    return None


def text_problem(text: object, limit: int = MAX_TEXT_CHARS) -> str | None:
    """Why a name (alias, area, ...) taken from the outside cannot be used; None when it can.

    Refused: not a string, blank, longer than ``limit`` characters, not encodable as UTF-8, control characters.
    """
    if not isinstance(text, str):
        return f"a {type(text).__name__}, not text"
    if not text.strip():
        return "blank"
    if len(text) > limit:
        return f"{len(text)} characters long (at most {limit})"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "not valid UTF-8 (a lone surrogate)"
    if (bad := _bad_character(text)) is not None:
        return f"holds the control character {bad}"
    return None


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT matching: does the subscription ``topic_filter`` receive messages published on ``topic``?

    ``+`` is one level, a final ``#`` is the level before it and everything under it (``a/#`` matches
    ``a`` and ``a/b/c``, not ``ab``); wildcards at the first level never match topics starting with ``$``.
    """
    levels, parts = topic_filter.split("/"), topic.split("/")
    if topic.startswith("$") and levels[0] in ("+", "#"):
        return False
    for i, level in enumerate(levels):
        if level == "#":
            return True
        if i >= len(parts) or (level != "+" and level != parts[i]):
            return False
    return len(levels) == len(parts)


def _template_filter(template: str) -> str:
    """A configured generic topic template as a filter: a level holding a ``{field}`` becomes ``+``."""
    return "/".join("+" if template_fields(level) else level.format() for level in template.split("/"))


def _device_filters(device: Device) -> list[str]:
    """Every topic a configured device is commanded on or reports on, as filters (see protocols.py, state.py)."""
    if device.protocol == "zigbee2mqtt":  # <topic>/set, <topic>/get, <topic>/set/<attribute>, the state on <topic>
        filters = [f"{device.topic}/#"]
    elif device.protocol == "tasmota":  # cmnd/<topic>/<Command>, stat/<topic>/..., tele/<topic>/...
        filters = [f"{kind}/{device.topic}/#" for kind in ("cmnd", "stat", "tele")]
    else:
        filters = [_template_filter(c.topic) for c in device.commands.values()]
    return filters + [t for t in state_topics(device) if not any(topic_matches(f, t) for f in filters)]


def _sensitive_kinds(payload: str) -> set[str]:
    tokens = {t.lower() for t in _TOKEN.findall(payload)}
    kinds = {kind for kind, words in _SENSITIVE_WORDS.items() if tokens & words}
    for kind, prefixes in _SENSITIVE_PREFIXES.items():
        if any(t.startswith(prefixes) for t in tokens):
            kinds.add(kind)
    return kinds


@dataclass(frozen=True)
class Verdict:
    """What to do with one discovered device."""

    device: Device | None
    """The device to use (``confirm`` may have been set), or None when it is refused."""
    reason: str | None = None
    """Why it is refused; None when it is taken in."""


@dataclass(frozen=True)
class TopicGuard:
    """Decides which discovered devices are taken in. Build it with ``from_config``; rebuild it on a reload."""

    devices: tuple[tuple[str, str], ...]
    """(filter, owner): configured devices' command and state topics; no discovered device commands them."""
    reserved: tuple[tuple[str, str], ...]
    """(filter, owner): topics no discovered device commands or subscribes to (own, $SYS, discovery, bridge)."""
    allow: tuple[str, ...] = ()
    """discovery.allow, case-folded; empty: everything is allowed."""
    max_devices: int = 500
    """discovery.max_devices: ``admit`` keeps at most this many."""
    max_payload_bytes: int = 4096
    """mqtt.max_payload_bytes: a discovered payload larger than this would only ever be dropped."""
    confirm_domains: frozenset[str] = _CONFIRM_DOMAINS
    confirm_classes: frozenset[str] = _CONFIRM_CLASSES

    @classmethod
    def from_config(cls, config: Config) -> TopicGuard:
        mqtt = config.mqtt
        reserved = (
            (f"{mqtt.prefix}/#", "the assistant's own topics"),
            ("$SYS/#", "the broker's own topics"),
            (f"{mqtt.discovery_prefix}/#", "the discovery prefix"),
            (f"{mqtt.zigbee2mqtt_base}/bridge/#", "the Zigbee2MQTT bridge"),
        )
        devices = [(f, f"configured device {d.id}") for d in config.devices for f in _device_filters(d)]
        if any(d.protocol == "tasmota" for d in config.devices):  # Tasmota's default group topic reaches them all
            devices.append(("cmnd/tasmotas/#", "the Tasmota group topic"))
        return cls(
            devices=tuple(dict.fromkeys(devices)),
            reserved=reserved,
            allow=tuple(p.casefold() for p in config.discovery.allow),
            max_devices=config.discovery.max_devices,
            max_payload_bytes=mqtt.max_payload_bytes,
            confirm_domains=_CONFIRM_DOMAINS | set(config.confirm.domains),
            confirm_classes=_CONFIRM_CLASSES | set(config.confirm.device_classes),
        )

    def owner(self, topic: str) -> str | None:
        """Whose topic a discovered device must not publish to (e.g. "configured device lock.front_door"), or None."""
        return next((who for f, who in self.reserved + self.devices if topic_matches(f, topic)), None)

    def allowed(self, device: Device, discovery_topic: str) -> bool:
        """Whether discovery.allow lets ``device`` in: a pattern matches its id, name, discovery topic or
        (zigbee2mqtt) base topic. An empty allow list lets everything in."""
        if not self.allow:
            return True
        values = [device.id, device.name, discovery_topic] + ([device.topic] if device.topic else [])
        return any(fnmatch.fnmatchcase(v.casefold(), p) for v in values for p in self.allow)

    def vet(self, device: Device, discovery_topic: str) -> Verdict:
        """A discovered ``device`` (announced on ``discovery_topic``) as it may be used, or why it may not."""
        reason = self._problem(device, discovery_topic)
        if reason is not None:
            return Verdict(None, f"{device.id[:80]}: {reason}")
        sensitive = device.domain in self.confirm_domains or (
            device.domain in _OPENABLE and device.device_class in self.confirm_classes
        )
        if sensitive and device.confirm is not True:
            # confirm=True asks before every action, both directions: the discovered payloads are not
            # trusted to do what the action's name says (a "lock" payload may unlock).
            device = device.model_copy(update={"confirm": True})
        return Verdict(device)

    def admit(self, candidates: Iterable[tuple[Device, str]]) -> tuple[list[Device], list[str]]:
        """Vet (device, discovery topic) pairs in order: the devices taken in (at most max_devices, the first
        ones: a later flood cannot push out earlier devices) and one line per device refused."""
        kept: list[Device] = []
        refused: list[str] = []
        for device, discovery_topic in candidates:
            verdict = self.vet(device, discovery_topic)
            if verdict.device is None:
                refused.append(f"{verdict.reason} (from {discovery_topic!r})")
            elif len(kept) >= self.max_devices:
                refused.append(f"{device.id[:80]}: more than discovery.max_devices ({self.max_devices}) devices")
            else:
                kept.append(verdict.device)
        return kept, refused

    def _problem(self, device: Device, discovery_topic: str) -> str | None:
        if not self.allowed(device, discovery_topic):
            return "not matched by discovery.allow"
        texts = [("id", device.id), ("name", device.name), *(("alias", a) for a in device.aliases)]
        texts += [(label, value) for label, value in (("area", device.area), ("device class", device.device_class))
                  if value is not None]  # fmt: skip
        for label, value in texts:
            if (problem := text_problem(value)) is not None:
                return f"its {label} is {problem}"
        topics = [device.topic] if device.topic is not None else []
        for action, template in device.commands.items():
            if template_fields(template.topic):
                return f"the {action} topic {template.topic[:60]!r} holds a template field"
            topics.append(template.topic.format())
        for topic in topics + state_topics(device):
            if (problem := topic_problem(topic)) is not None:
                return f"{problem}: {topic[:60]!r}"
        for topic in state_topics(device):
            if (who := next((w for f, w in self.reserved if topic_matches(f, topic)), None)) is not None:
                return f"its state topic {topic!r} is one of {who}"
        return self._command_problem(device)

    def _command_problem(self, device: Device) -> str | None:
        allowed_kinds = _ALLOWED_KINDS.get(device.domain, frozenset())
        for action in ACTION_FIELDS:
            try:
                message = command_for(device, action, _PROBE)
            except UnsupportedAction:
                continue
            except (KeyError, IndexError, ValueError) as exc:
                return f"its {action} command cannot be rendered ({type(exc).__name__})"
            if (problem := topic_problem(message.topic)) is not None:
                return f"{problem}: {message.topic[:60]!r}"
            if (who := self.owner(message.topic)) is not None:
                return f"{action} would publish to {message.topic!r}, a topic of {who}"
            try:
                size = len(message.payload.encode("utf-8"))
            except UnicodeEncodeError:
                return f"the {action} payload is not valid UTF-8 (a lone surrogate)"
            if size > self.max_payload_bytes:
                return f"the {action} payload is {size} bytes long (at most {self.max_payload_bytes})"
            disguised = sorted(_sensitive_kinds(message.payload) - allowed_kinds)
            if disguised:
                return (f"claims to be a {device.domain} but its {action} payload {disguised[0]}"
                        f" ({message.payload[:60]!r}): a disguise")  # fmt: skip
        return None
