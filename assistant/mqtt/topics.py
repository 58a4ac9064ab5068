"""Every topic the assistant uses, derived in one place from ``mqtt.prefix``, ``site.id`` and the
discovery settings."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Mqtt


@dataclass(frozen=True)
class Topics:
    """The service's own topics, all under ``<prefix>/<site>/``, and the discovery topics it reads."""

    base: str
    discovery_prefix: str = "homeassistant"
    zigbee2mqtt_base: str = "zigbee2mqtt"

    @classmethod
    def of(cls, mqtt: Mqtt, site: str) -> Topics:
        return cls(f"{mqtt.prefix.rstrip('/')}/{site}", mqtt.discovery_prefix, mqtt.zigbee2mqtt_base)

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def command(self) -> str:
        return f"{self.base}/command"

    @property
    def intent(self) -> str:
        return f"{self.base}/intent"

    @property
    def reply(self) -> str:
        return f"{self.base}/reply"

    @property
    def say(self) -> str:
        return f"{self.base}/say"

    @property
    def listen(self) -> str:
        return f"{self.base}/listen"

    @property
    def timer(self) -> str:
        return f"{self.base}/timer"

    @property
    def devices(self) -> str:
        return f"{self.base}/devices"

    @property
    def stats(self) -> str:
        return f"{self.base}/stats"

    @property
    def inputs(self) -> tuple[str, ...]:
        """The topics commands are taken from: nothing the assistant publishes may land here."""
        return (self.command, self.say, self.listen)

    @property
    def zigbee2mqtt_devices(self) -> str:
        return f"{self.zigbee2mqtt_base}/bridge/devices"

    @property
    def discovery(self) -> tuple[str, ...]:
        """Subscriptions for Home Assistant discovery and Zigbee2MQTT's device list."""
        return (f"{self.discovery_prefix}/+/+/config", f"{self.discovery_prefix}/+/+/+/config", self.zigbee2mqtt_devices)

    def is_discovery(self, topic: str) -> bool:
        parts = topic.split("/")
        return topic == self.zigbee2mqtt_devices or (
            len(parts) in (4, 5) and parts[0] == self.discovery_prefix and parts[-1] == "config")
