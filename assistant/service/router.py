"""From topics to events, at the edge: what arrives on MQTT becomes a typed event on the bus, or is
counted and dropped. Runs on paho's network thread, so it only decodes small things and never blocks."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection

from ..config import Mqtt
from ..core.events import (
    BadMessage,
    DiscoveryMessage,
    InEvent,
    Listen,
    RejectedCommand,
    Say,
    StateReport,
    TextCommand,
)
from ..mqtt.topics import Topics
from .bus import Counters


class Router:
    def __init__(self, topics: Topics, settings: Mqtt, counters: Counters, put: Callable[[InEvent], None],
                 state_topics: Callable[[], Collection[str]], clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        """``state_topics``: the device state topics subscribed now (they change with the registry).
        ``clock``: the service's; commands are stamped with it as they arrive (their age is checked)."""
        self.topics = topics
        self.settings = settings
        self.counters = counters
        self.put = put
        self.state_topics = state_topics
        self.clock = clock

    def route(self, topic: str, payload: bytes, retained: bool = False) -> None:
        event = self.event_for(topic, payload, retained)
        if event is not None:
            self.put(event)

    def event_for(self, topic: str, payload: bytes, retained: bool = False) -> InEvent | None:
        """The event a message means, or None (counted when it is dropped for a reason)."""
        topics = self.topics
        if topic in topics.inputs:
            if len(payload) > self.settings.max_payload_bytes:
                self.counters.count("oversize", f"{len(payload)} bytes on {topic}")
                return RejectedCommand("oversize", f"over {self.settings.max_payload_bytes} bytes") if topic == topics.command else None
            if retained:  # a command stored on the broker would run at every connect
                self.counters.count("retained_command", f"retained message on {topic}")
                return None
            if topic == topics.command:
                try:
                    return dataclasses.replace(TextCommand.from_payload(payload), received_s=self.clock())
                except BadMessage as exc:
                    self.counters.count(exc.reason, str(exc))
                    return RejectedCommand(exc.reason, str(exc))
            return Say.from_payload(payload) if topic == topics.say else Listen()
        if len(payload) > self.settings.max_state_bytes:
            self.counters.count("oversize", f"{len(payload)} bytes on {topic}")
            return None
        if topic in self.state_topics():
            return StateReport(topic, payload)
        if self.settings.discovery and topics.is_discovery(topic):
            return DiscoveryMessage(topic, payload)
        return None
