"""The MQTT edge: one paho-mqtt 2.x client, its connection life and the rules for publishing.

- Retained ``<prefix>/<site>/status``: ``online`` on every connect, ``offline`` as the last will.
- Subscriptions are made in the connect handler, so they come back after every reconnect.
- Reconnects back off exponentially up to ``reconnect_max_s`` (paho's own reconnect loop).
- Device commands are QoS 1 and have a deadline: not connected means not sent, and a command still
  unacknowledged when the connection drops is purged before paho would resend it on reconnect,
  so "turn on the light" never fires minutes late.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

import paho.mqtt.client as paho

from ..config import Mqtt
from ..core.messages import Action
from .client import new_client
from .credentials import Credentials

log = logging.getLogger(__name__)


class MqttLink:
    """A connection to the broker that keeps itself up. Callbacks run on paho's network thread:
    they must only hand work over (the daemon queues it), never block."""

    def __init__(
        self,
        config: Mqtt,
        client_id: str,
        status_topic: str,
        *,
        subscriptions: Callable[[], Iterable[str]],
        on_message: Callable[[str, bytes, bool], None],  # (topic, payload, retained), on paho's thread
        on_connection: Callable[[bool], None] = lambda up: None,
        credentials: Credentials | None = None,
    ) -> None:
        self.config = config
        self.status_topic = status_topic
        self._subscriptions = subscriptions
        self._on_message = on_message
        self._on_connection = on_connection
        self._connected = threading.Event()
        self._deadlines: dict[int, float] = {}
        self._deadline_lock = threading.Lock()
        self._stopping = False
        client = new_client(config, credentials, client_id)
        client.will_set(status_topic, "offline", qos=1, retain=True)
        client.reconnect_delay_set(min_delay=max(1, round(config.reconnect_min_s)),
                                   max_delay=max(1, round(config.reconnect_max_s)))  # fmt: skip
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_publish = self._handle_publish
        self.client = client

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; a broker that is down is retried with back-off."""
        self.client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive_s)
        self.client.loop_start()

    def stop(self, timeout_s: float = 1.0) -> None:
        self._stopping = True
        if self.connected:
            info = self.client.publish(self.status_topic, "offline", qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=timeout_s)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False) -> None:
        """Own topics (replies, events, status): queued by paho while disconnected, sent on reconnect."""
        self.client.publish(topic, payload, qos=qos, retain=retain)

    def publish_device(self, action: Action, timeout_s: float | None = None) -> bool:
        """Send a device command now or never. True once the broker acknowledged it in time."""
        timeout_s = self.config.delivery_timeout_s if timeout_s is None else timeout_s
        if not self.connected:
            return False
        deadline = time.monotonic() + timeout_s
        with self._deadline_lock:
            info = self.client.publish(action.topic, action.payload, qos=action.qos, retain=action.retain)
            if info.rc != paho.MQTT_ERR_SUCCESS and info.rc != paho.MQTT_ERR_NO_CONN:
                return False
            self._deadlines[info.mid] = deadline
        if action.qos == 0:
            return info.rc == paho.MQTT_ERR_SUCCESS
        try:
            info.wait_for_publish(timeout=max(0.0, deadline - time.monotonic()))
        except (RuntimeError, ValueError):
            return False
        if info.is_published():
            return True
        self._purge_expired()
        return False

    # -- paho callbacks (network thread) --------------------------------------------------------

    def _handle_connect(self, client: paho.Client, userdata: object, flags: object, reason: object,
                        properties: object) -> None:  # fmt: skip
        if getattr(reason, "is_failure", False):
            log.warning("broker refused the connection: %s", reason)
            return
        self._purge_expired()
        topics = sorted(set(self._subscriptions()))
        if topics:
            client.subscribe([(t, 1) for t in topics])
        client.publish(self.status_topic, "online", qos=1, retain=True)
        self._connected.set()
        log.info("connected to %s:%d (%d subscriptions)", self.config.host, self.config.port, len(topics))
        self._on_connection(True)

    def _handle_disconnect(self, client: paho.Client, userdata: object, flags: object, reason: object,
                           properties: object) -> None:  # fmt: skip
        was = self._connected.is_set()
        self._connected.clear()
        if was and not self._stopping:
            log.warning("disconnected from the broker (%s); reconnecting", reason)
            self._on_connection(False)

    def _handle_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:  # a topic that is not UTF-8 names nothing of ours
            log.warning("dropped a message whose topic is not UTF-8")
            return
        self._on_message(topic, bytes(message.payload), bool(message.retain))

    def _handle_publish(self, client: paho.Client, userdata: object, mid: int, reason: object,
                        properties: object) -> None:  # fmt: skip
        with self._deadline_lock:
            self._deadlines.pop(mid, None)

    def _purge_expired(self) -> None:
        """Drop device commands past their deadline from paho's outgoing queue, before the resend that
        paho does right after a reconnect (it runs after the connect handler). paho has no public API
        for this, so this reaches into its queue under its own lock."""
        now = time.monotonic()
        with self._deadline_lock:
            expired = [mid for mid, deadline in self._deadlines.items() if deadline <= now]
            if not expired:
                return
            out = getattr(self.client, "_out_messages", None)
            lock = getattr(self.client, "_out_message_mutex", None)
            if out is None or lock is None:
                return
            with lock:
                for mid in expired:
                    if out.pop(mid, None) is not None:
                        log.warning("dropped a device command not delivered in time (mid %d)", mid)
                    self._deadlines.pop(mid, None)
