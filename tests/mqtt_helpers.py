"""A real mosquitto on a free loopback port, and an observer client, for the daemon's tests."""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as paho

from assistant.mqtt.client import close_client, new_client
from assistant.tools.broker import Mosquitto

Broker = Mosquitto
"""The one broker launcher, shared with the benchmarks."""


class Observer:
    """Subscribes to everything and keeps what arrives, in order."""

    def __init__(self, port: int, topics: tuple[str, ...] = ("#",), **tls: object) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Condition()
        self.client = new_client(protocol="3.1.1")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in topics])
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        deadline = time.monotonic() + 5
        while not self.client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((message.topic, message.payload, message.retain))
            self.lock.notify_all()

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def wait_for(self, topic: str, predicate=lambda payload: True, timeout: float = 10.0, start: int = 0) -> bytes:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for t, payload, _ in self.messages[start:]:
                    if t == topic and predicate(payload):
                        return payload
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [t for t, _, _ in self.messages[-20:]]
                    raise TimeoutError(f"nothing on {topic}; last topics: {seen}")
                self.lock.wait(left)

    def reply(self, request_id: object, timeout: float = 10.0) -> dict:
        payload = self.wait_for("assistant/default/reply",
                                lambda p: json.loads(p).get("id") == request_id, timeout)  # fmt: skip
        return json.loads(payload)

    def mark(self) -> int:
        with self.lock:
            return len(self.messages)

    def since(self, mark: int) -> list[tuple[str, bytes, bool]]:
        with self.lock:
            return list(self.messages[mark:])

    def close(self) -> None:
        close_client(self.client)
