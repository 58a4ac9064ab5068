"""A real mosquitto on a free loopback port, and an observer client, for the daemon's tests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Broker:
    """mosquitto with a config of the test's making; ``restart`` keeps the port."""

    workdir: Path
    extra: str = ""
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self) -> Broker:
        conf = self.workdir / "mosquitto.conf"
        listener = self.extra or "allow_anonymous true\n"
        # as root, mosquitto would drop to its own user, which cannot read the test's files
        user = "user root\n" if os.geteuid() == 0 else ""
        conf.write_text(f"listener {self.port} 127.0.0.1\npersistence false\n{user}{listener}")
        log = self.workdir / "mosquitto.log"
        with log.open("ab") as sink:
            self.process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=sink)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: {log.read_text(errors='replace')}")
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()


class Observer:
    """Subscribes to everything and keeps what arrives, in order."""

    def __init__(self, port: int, topics: tuple[str, ...] = ("#",), **tls: object) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Condition()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
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
        self.client.loop_stop()
        self.client.disconnect()
