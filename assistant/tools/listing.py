"""`assistant devices`: the registry as the service publishes it (retained ``<prefix>/<site>/devices``),
read from the broker, with the service's retained ``status`` beside it: a list read while the service is
offline is the last one it published, and says so."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass

import paho.mqtt.client as paho

from ..config import Config
from ..errors import AssistantError
from ..mqtt import Credentials, Topics, new_client
from ..mqtt.client import close_client

STATUS_GRACE_S = 0.5
"""How long to wait for the retained status once the device list is in (the broker sends both at once)."""


@dataclass(frozen=True)
class Listing:
    rows: list[dict]
    """The device list as published: one object per device."""
    status: str | None
    """The service's retained status: ``online``, ``offline`` (its last will, or a clean stop), None if absent."""

    @property
    def stale_note(self) -> str | None:
        """What to tell the reader when this is not the running service's list; None when it is."""
        if self.status == "online":
            return None
        state = "offline" if self.status == "offline" else "status unknown"
        return f"service {state}; last known list: states may be out of date"


def fetch_devices(config: Config, timeout_s: float = 5.0) -> Listing:
    topics = Topics.of(config.mqtt, config.site.id)
    got: dict[str, bytes] = {}
    lock = threading.Lock()
    listed, status_seen = threading.Event(), threading.Event()
    client = new_client(config.mqtt, Credentials.from_environment(), protocol="3.1.1")
    client.on_connect = lambda c, *_: c.subscribe([(topics.status, 1), (topics.devices, 1)])

    def on_message(c: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with lock:
            got.setdefault(message.topic, bytes(message.payload))
        (listed if message.topic == topics.devices else status_seen).set()

    client.on_message = on_message
    try:
        client.connect(config.mqtt.host, config.mqtt.port, keepalive=10)
    except OSError as exc:
        raise AssistantError(f"cannot reach the broker at {config.mqtt.host}:{config.mqtt.port}: {exc}") from None
    client.loop_start()
    try:
        if not listed.wait(timeout_s):
            raise AssistantError(f"nothing on {topics.devices}: is `assistant run` running for site"
                                 f" {config.site.id!r}?")  # fmt: skip
        status_seen.wait(STATUS_GRACE_S)  # retained messages come in the order subscribed: at once, or never
    finally:
        close_client(client)
    with lock:
        payload, status = got[topics.devices], got.get(topics.status)
    try:
        rows = json.loads(payload)
    except ValueError:
        raise AssistantError(f"{topics.devices} does not hold a device list") from None
    if not isinstance(rows, list):
        raise AssistantError(f"{topics.devices} does not hold a device list")
    return Listing(rows, status.decode("utf-8", errors="replace") if status is not None else None)


def print_devices(config: Config, as_json: bool) -> int:
    listing = fetch_devices(config)
    note = listing.stale_note
    if as_json:  # stdout stays the JSON alone
        if note:
            print(f"note: {note}", file=sys.stderr)
        print(json.dumps(listing.rows, ensure_ascii=False, indent=2))
        return 0
    if note:
        print(f"({note})")
    print(f"{'id':<36}{'name':<28}{'area':<14}{'protocol':<13}{'source':<11}state")
    for row in listing.rows:
        state = row.get("state") or {}
        print(f"{row.get('id', ''):<36}{row.get('name', ''):<28}{row.get('area') or '-':<14}"
              f"{row.get('protocol', ''):<13}{row.get('source', ''):<11}{state.get('state', '')}")  # fmt: skip
    return 0
