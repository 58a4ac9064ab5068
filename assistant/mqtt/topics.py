"""Every topic the assistant uses, derived in one place from ``mqtt.prefix``, ``site.id`` and the
discovery settings."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Mqtt


@dataclass(frozen=True)
class Topics:
    """The service's own topics, all under ``<prefix>/<site>/``, and the discovery topics it reads."""

    status: str
    command: str
    intent: str
    reply: str
    say: str
    listen: str
    timer: str
    devices: str
    stats: str
    probe: str
    """Probes of the connection (QoS 1, empty; nobody needs to listen): ``mqtt.link``."""
    discovery_prefix: str
    zigbee2mqtt_devices: str

    @classmethod
    def of(cls, mqtt: Mqtt, site: str) -> Topics:
        base = f"{mqtt.prefix.rstrip('/')}/{site}"
        own = {name: f"{base}/{name}" for name in
               ("status", "command", "intent", "reply", "say", "listen", "timer", "devices", "stats", "probe")}  # fmt: skip
        return cls(**own, discovery_prefix=mqtt.discovery_prefix,
                   zigbee2mqtt_devices=f"{mqtt.zigbee2mqtt_base}/bridge/devices")  # fmt: skip

    @property
    def inputs(self) -> tuple[str, str, str]:
        """The topics commands are taken from: nothing the assistant publishes may land here."""
        return (self.command, self.say, self.listen)

    @property
    def discovery(self) -> tuple[str, str, str]:
        """Subscriptions for Home Assistant discovery and Zigbee2MQTT's device list."""
        return (f"{self.discovery_prefix}/+/+/config", f"{self.discovery_prefix}/+/+/+/config", self.zigbee2mqtt_devices)

    def is_discovery(self, topic: str) -> bool:
        parts = topic.split("/")
        return topic == self.zigbee2mqtt_devices or (
            len(parts) in (4, 5) and parts[0] == self.discovery_prefix and parts[-1] == "config")
