"""The home as the service knows it: the configured devices, the discovered ones and their live state.

Pure bookkeeping on the main thread: it takes state reports and discovery messages, rebuilds the
registry, and says which state topics to subscribe to; the daemon does the I/O.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from ..config import Config
from ..core.events import DiscoveryMessage, StateReport
from ..devices import Registry
from ..devices.discovery import from_ha_discovery, from_zigbee2mqtt
from ..devices.state import parse_state, state_topics
from ..devices.trust import TopicGuard
from ..mqtt.topics import Topics
from .bus import Counters

MAX_ANNOUNCEMENTS_FACTOR = 2
"""Announcements kept, as a multiple of ``discovery.max_devices`` (refused ones count too): a flood of
distinct discovery topics cannot grow memory without bound."""


class Changes(NamedTuple):
    """State topics to subscribe to and to drop after a rebuild."""

    added: list[str]
    removed: list[str]


class Home:
    def __init__(self, config: Config, topics: Topics, counters: Counters) -> None:
        self.config = config
        self.topics = topics
        self.counters = counters
        self.live_state: dict[str, dict[str, Any]] = {}
        self.discovered: dict[str, Any] = {}
        self.z2m_devices: list[Any] = []
        self.state_routes: dict[str, list[str]] = {}
        """State topic -> the devices reporting on it. Replaced whole on each rebuild (read from paho's thread)."""
        self.guard = TopicGuard.from_config(config)
        self._refused: set[str] = set()
        self.stale = False
        """Discovery changed since the registry was built."""
        self.rebuild()

    def reconfigure(self, config: Config) -> Changes:
        self.config = config
        self.guard = TopicGuard.from_config(config)
        return self.rebuild()

    def rebuild(self) -> Changes:
        """The registry again from config, discovery and live state; which state topics came and went."""
        self.stale = False
        candidates = [(d, topic) for topic, d in self.discovered.items() if d is not None]
        z2m_topic = self.topics.zigbee2mqtt_devices
        candidates += [(d, z2m_topic) for d in from_zigbee2mqtt(self.z2m_devices, self.config.mqtt.zigbee2mqtt_base)]
        discovered, refused = self.guard.admit(candidates)  # the trust boundary: assistant.devices.trust
        for reason in refused:
            if reason not in self._refused:
                self.counters.count("discovery_refused", reason)
        self._refused = set(refused)
        self.registry = Registry.from_config(self.config).with_devices(discovered).with_state(self.live_state)
        routes: dict[str, list[str]] = {}
        for device in self.registry.devices:
            for topic in state_topics(device):
                routes.setdefault(topic, []).append(device.id)
        changes = Changes(sorted(set(routes) - set(self.state_routes)), sorted(set(self.state_routes) - set(routes)))
        self.state_routes = routes
        return changes

    def subscriptions(self) -> list[str]:
        topics = self.topics
        subscriptions = [*topics.inputs, *self.state_routes]
        if self.config.mqtt.discovery:
            subscriptions += topics.discovery
        return subscriptions

    def device_rows(self) -> list[dict[str, Any]]:
        """What ``<prefix>/<site>/devices`` holds."""
        configured = {d.id for d in self.config.devices}
        return [{"id": d.id, "name": d.name, "area": d.area, "domain": d.domain, "device_class": d.device_class,
                 "protocol": d.protocol, "source": "config" if d.id in configured else "discovery",
                 "state": dict(self.registry.state(d.id))} for d in self.registry.devices]  # fmt: skip

    def report(self, event: StateReport) -> bool:
        """Take a state report; True when some device's state changed."""
        try:
            text = event.payload.decode("utf-8")
        except UnicodeDecodeError:
            self.counters.count("invalid_utf8", f"state on {event.topic}")
            return False
        updates = {}
        for device_id in self.state_routes.get(event.topic, []):
            try:
                attrs = parse_state(self.registry.device(device_id), event.topic, text)
            except (ValueError, RecursionError):
                self.counters.count("invalid_json", f"state on {event.topic}")
                return False
            if attrs:
                self.live_state.setdefault(device_id, {}).update(attrs)
                updates[device_id] = attrs
        if updates:
            self.registry = self.registry.with_state(updates)
        return bool(updates)

    def discover(self, event: DiscoveryMessage) -> bool:
        """Take a discovery message; True when it changed something. The registry is not rebuilt here:
        ``stale`` is set, and the service rebuilds once per burst (and always before a command)."""
        topic = event.topic
        if topic not in self.discovered and len(self.discovered) >= MAX_ANNOUNCEMENTS_FACTOR * max(
                1, self.config.discovery.max_devices):  # fmt: skip
            self.counters.count("discovery_overflow", f"{len(self.discovered)} announcements kept; {topic} ignored")
            return False
        try:
            data = json.loads(event.payload.decode("utf-8")) if event.payload else None
        except (UnicodeDecodeError, ValueError, RecursionError):
            self.counters.count("invalid_json", f"discovery on {topic}")
            return False
        if topic == self.topics.zigbee2mqtt_devices:
            self.z2m_devices = data if isinstance(data, list) else []
        elif data is None:
            if self.discovered.pop(topic, None) is None:
                return False
        else:
            device = from_ha_discovery(topic, data, self.config.mqtt.discovery_prefix)
            if device is None:
                self.counters.count("bad_discovery", topic)
                return False
            if self.discovered.get(topic) == device:
                return False  # the same announcement again (a retained one at every connect)
            self.discovered[topic] = device
        self.stale = True
        return True
