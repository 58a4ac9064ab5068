"""`assistant demo`: the whole thing on a machine with no broker. An embedded amqtt broker (MQTT 3.1.1,
pure Python) on a free loopback port, the service connected to it, a handful of commands sent over
MQTT, and every device message and reply printed as it arrives."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho

from ..config import Config
from ..errors import AssistantError
from ..mqtt import new_client
from ..service.daemon import Daemon
from .broker import EmbeddedBroker, free_port

DEMO_COMMANDS = [
    "turn on the living room lamp",
    "dim the kitchen lights to 30 percent",
    "make the bedside lamp purple",
    "is the garage door open?",
    "open the garage door",
    "yes",
    "set a timer for ten minutes",
    "how long is left on the timer",
    "turn the heating up a bit",
    "book a table for two tonight",
]


def run_demo(config: Config, base: Path, load: Callable[[Config, Path], object], texts: list[str]) -> int:
    logging.getLogger("amqtt").setLevel(logging.ERROR)
    logging.getLogger("transitions").setLevel(logging.ERROR)
    port = free_port()
    broker = EmbeddedBroker(port)
    broker.start()
    print(f"embedded MQTT broker (amqtt) on 127.0.0.1:{port}")
    mqtt = config.mqtt.model_copy(update={"host": "127.0.0.1", "port": port, "protocol": "3.1.1", "tls": None})
    config = config.model_copy(update={"mqtt": mqtt})
    daemon = Daemon(config, load(config, base))  # type: ignore[arg-type]
    ready = threading.Event()
    thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False, "ready": ready.set}, daemon=True)
    thread.start()
    ready.wait(10)
    if not daemon.link.wait_connected(10):
        raise AssistantError("the service did not connect to the embedded broker")
    print(f"assistant service connected ({len(daemon.registry.devices)} devices)\n")

    topics = daemon.topics
    got_reply = threading.Event()

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        payload = message.payload.decode("utf-8", errors="replace")
        if message.topic == topics.reply:
            data = json.loads(payload)
            print(f"  reply:  {data['text']}  (success={data['success']})")
            got_reply.set()
        elif message.topic.startswith(("cmnd/", "zigbee2mqtt/", "home/", "valetudo/")):
            print(f"  device: {message.topic}  {payload}")

    watcher = new_client(protocol="3.1.1")
    watcher.on_message = on_message
    watcher.connect("127.0.0.1", port)
    watcher.subscribe("#", 1)
    watcher.loop_start()
    time.sleep(0.3)
    try:
        for text in texts or DEMO_COMMANDS:
            got_reply.clear()
            print(f"> {text}")
            watcher.publish(topics.command, text, qos=1)
            if not got_reply.wait(10):
                print("  (no reply)")
            time.sleep(0.1)
    finally:
        watcher.loop_stop()
        watcher.disconnect()
        daemon.stop()
        thread.join(timeout=5)
        broker.stop()
    return 0
