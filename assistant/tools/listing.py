"""`assistant devices`: the registry as the running service publishes it (retained
``<prefix>/<site>/devices``), read from the broker."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as paho

from ..config import Config
from ..errors import AssistantError
from ..mqtt import Credentials, Topics, new_client


def fetch_devices(config: Config, timeout_s: float = 5.0) -> list[dict]:
    topic = Topics.of(config.mqtt, config.site.id).devices
    got: list[bytes] = []
    done = threading.Event()
    client = new_client(config.mqtt, Credentials.from_environment(), protocol="3.1.1")
    client.on_connect = lambda c, *_: c.subscribe(topic, 1)

    def on_message(c: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        got.append(bytes(message.payload))
        done.set()

    client.on_message = on_message
    try:
        client.connect(config.mqtt.host, config.mqtt.port, keepalive=10)
    except OSError as exc:
        raise AssistantError(f"cannot reach the broker at {config.mqtt.host}:{config.mqtt.port}: {exc}") from None
    client.loop_start()
    try:
        if not done.wait(timeout_s):
            raise AssistantError(f"nothing on {topic}: is `assistant run` running for site {config.site.id!r}?")
    finally:
        client.disconnect()
        client.loop_stop()
    try:
        rows = json.loads(got[0])
    except ValueError:
        raise AssistantError(f"{topic} does not hold a device list") from None
    if not isinstance(rows, list):
        raise AssistantError(f"{topic} does not hold a device list")
    return rows


def print_devices(config: Config, as_json: bool) -> int:
    rows = fetch_devices(config)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{'id':<36}{'name':<28}{'area':<14}{'protocol':<13}{'source':<11}state")
    for row in rows:
        state = row.get("state") or {}
        print(f"{row.get('id', ''):<36}{row.get('name', ''):<28}{row.get('area') or '-':<14}"
              f"{row.get('protocol', ''):<13}{row.get('source', ''):<11}{state.get('state', '')}")  # fmt: skip
    return 0
