"""The MQTT edge: a connection to the broker that keeps itself up, and the rules for publishing.

- Retained ``<prefix>/<site>/status``: ``online`` on every connect, ``offline`` as the last will.
- Subscriptions are made in the connect handler, so they come back after every reconnect.
- One paho client per connection. A connection that is lost, stalled or refused is thrown away with
  everything paho still holds for it, and the next attempt (exponential back-off up to
  ``reconnect_max_s``) starts a fresh client: a device command written before an outage is never
  resent after it. Every failed attempt is logged at WARNING with the address and the next retry.
- Device commands are written only on a connection that is known to work (something came back from
  the broker within ``FRESH_S``, else a probe is answered first: ``probe()``), and each one's fate is
  a ``Delivery`` the caller reads: acknowledged, refused by the broker (an MQTT 5 PUBACK reason code:
  an ACL, a quota), or still open. Bytes already written cannot be recalled, so a command that is
  written and never acknowledged is "unknown" to the caller, never "not sent". Nothing here blocks
  the caller: it publishes and reads the deliveries as the acknowledgements arrive (``settle``).

Threads: the supervisor thread connects and reconnects; paho's thread (one per connection) runs the
callbacks, which only record what happened and hand messages over. ``Delivery`` objects are read and
written on the caller's thread only (the acknowledgements reach it through a queue).
"""

from __future__ import annotations

import logging
import queue
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import paho.mqtt.client as paho

from ..config import Mqtt
from ..core.messages import Action
from .client import close_client, new_client
from .credentials import Credentials

log = logging.getLogger(__name__)

FRESH_S = 0.5
"""Something heard from the broker this recently: the connection works, device commands go at once."""
CONNACK_TIMEOUT_S = 5.0
"""A broker that takes the TCP connection but does not answer CONNECT in this time is given up on."""
BACKLOG = 200
"""Own-topic messages (replies, device list, stats) kept while disconnected, the oldest dropped first."""

State = Literal["pending", "acknowledged", "refused", "not_sent"]


@dataclass(eq=False)
class Delivery:
    """One message's fate: ``not_sent`` (never written: no connection), ``pending`` (written, no answer
    yet), ``acknowledged`` or ``refused`` (the broker's reason in ``reason``)."""

    action: Action | None
    state: State
    generation: int = 0
    mid: int = -1
    reason: str = ""
    written_at: float = field(default_factory=time.monotonic)
    orphaned: bool = False
    """Written on a connection that has gone since: no answer will ever come (its fate is unknown)."""

    @property
    def open(self) -> bool:
        return self.state == "pending" and not self.orphaned


class MqttLink:
    """A connection to the broker that keeps itself up. Callbacks run on paho's network thread:
    they only hand work over (``on_message`` must queue it), never block."""

    def __init__(
        self,
        config: Mqtt,
        client_id: str,
        status_topic: str,
        *,
        subscriptions: Callable[[], Iterable[str]],
        on_message: Callable[[str, bytes, bool], None],  # (topic, payload, retained), on paho's thread
        on_connection: Callable[[bool], None] = lambda up: None,
        on_acknowledged: Callable[[], None] = lambda: None,
        credentials: Credentials | None = None,
        probe_topic: str | None = None,
    ) -> None:
        """``on_acknowledged``: called on paho's thread when a delivery may have settled (to wake the
        caller). ``probe_topic``: where probes go (nobody needs to listen); default ``<status>/probe``."""
        self.config = config
        self.client_id = client_id
        self.status_topic = status_topic
        self.probe_topic = probe_topic or f"{status_topic.rsplit('/', 1)[0]}/probe"
        self._subscriptions = subscriptions
        self._on_message = on_message
        self._on_connection = on_connection
        self._on_acknowledged = on_acknowledged
        self._credentials = credentials
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()  # the supervisor: connection lost, reset asked, or stop
        self._lock = threading.Lock()  # client, generation, backlog
        self._client: paho.Client | None = None
        self._generation = 0
        self._backlog: deque[tuple[str, bytes | str, int, bool]] = deque(maxlen=BACKLOG)
        self._acks: queue.SimpleQueue[tuple[int, int, str | None]] = queue.SimpleQueue()
        self._pending: dict[tuple[int, int], Delivery] = {}  # caller's thread only
        self._lost: dict[int, str] = {}  # generation -> why its connection ended (paho's thread writes)
        self._reset = False
        self._last_heard = 0.0
        self._supervisor: threading.Thread | None = None
        self._beat = time.monotonic()
        self.attempts = 0
        """Connection attempts so far (the first included)."""
        self.backlog_dropped = 0

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; a broker that is down is retried with back-off."""
        self._supervisor = threading.Thread(target=self._supervise, name="mqtt-link", daemon=True)
        self._supervisor.start()

    def stop(self, timeout_s: float = 0.5) -> None:
        """``offline`` (waited for at most ``timeout_s``), then the connection closed; quick even with a
        broker that has stopped answering."""
        with self._lock:
            client = self._client if self._connected.is_set() else None
        if client is not None:
            info = client.publish(self.status_topic, "offline", qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=timeout_s)
            except (RuntimeError, ValueError):
                pass
        self._stop.set()
        self._wake.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=2.0)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def working(self, within_s: float) -> bool:
        """The supervisor is alive and has looked at the connection within ``within_s`` (it does every
        0.25 s), and a connection, if there is one, has been heard from lately (``probe()`` keeps an
        idle one talking): what the systemd watchdog is pinged on."""
        if self._supervisor is None or not self._supervisor.is_alive() or time.monotonic() - self._beat > within_s:
            return False
        return not self.connected or self.heard_within(within_s)

    def reset(self, why: str) -> None:
        """Throw the connection away and start a fresh one (a broker that stopped answering)."""
        if self.connected:
            log.warning("dropping the broker connection: %s", why)
        with self._lock:
            self._reset = True
        self._wake.set()

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False) -> None:
        """Own topics (replies, events, status): while disconnected they wait (at most ``BACKLOG``,
        the oldest dropped first) and go out on the next connect."""
        with self._lock:
            client = self._client if self._connected.is_set() else None
            if client is None:
                if len(self._backlog) == self._backlog.maxlen:
                    self.backlog_dropped += 1
                self._backlog.append((topic, payload, qos, retain))
                return
        client.publish(topic, payload, qos=qos, retain=retain)

    def fresh(self) -> bool:
        """Connected, and the broker answered something within ``FRESH_S``."""
        return self.connected and self.heard_within(FRESH_S)

    def heard_within(self, seconds: float) -> bool:
        return time.monotonic() - self._last_heard <= seconds

    def probe(self) -> Delivery:
        """A QoS 1 message to the probe topic: its acknowledgement shows the broker is answering now."""
        return self._write(None, self.probe_topic, b"", 1, False)

    def send(self, action: Action) -> Delivery:
        """Write a device command now, or not at all (``not_sent`` when there is no connection)."""
        return self._write(action, action.topic, action.payload, action.qos, action.retain)

    def _write(self, action: Action | None, topic: str, payload: str | bytes, qos: int, retain: bool) -> Delivery:
        with self._lock:
            client, generation = (self._client, self._generation) if self._connected.is_set() else (None, 0)
        if client is None:
            return Delivery(action, "not_sent")
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            return Delivery(action, "not_sent", generation, reason=paho.error_string(info.rc))
        delivery = Delivery(action, "pending" if qos else "acknowledged", generation, info.mid)
        if qos:
            self._pending[(generation, info.mid)] = delivery
        return delivery

    def settle(self) -> None:
        """Apply the acknowledgements that came in (caller's thread). A delivery still pending on a
        connection that has gone stays pending: the caller's deadline decides it was "unknown"."""
        while True:
            try:
                generation, mid, failure = self._acks.get_nowait()
            except queue.Empty:
                break
            delivery = self._pending.pop((generation, mid), None)
            if delivery is not None:
                delivery.state = "refused" if failure else "acknowledged"
                delivery.reason = failure or ""
        with self._lock:
            current = self._generation if self._connected.is_set() else -1
        for key in [k for k in self._pending if k[0] != current]:
            self._pending.pop(key).orphaned = True  # its connection is gone: nothing will ever answer it

    def forget(self, delivery: Delivery) -> None:
        """The caller stopped waiting for it."""
        self._pending.pop((delivery.generation, delivery.mid), None)

    def subscribe(self, topics: Iterable[str]) -> None:
        """More subscriptions now (they are made again at every connect from ``subscriptions``)."""
        self._call(lambda c, t: c.subscribe([(x, 1) for x in t]), sorted(set(topics)))

    def unsubscribe(self, topics: Iterable[str]) -> None:
        self._call(lambda c, t: c.unsubscribe(t), sorted(set(topics)))

    def _call(self, do: Callable[[paho.Client, list[str]], object], topics: list[str]) -> None:
        with self._lock:
            client = self._client if self._connected.is_set() else None
        if client is not None and topics:
            do(client, topics)

    # -- the supervisor thread -----------------------------------------------------------------

    def _supervise(self) -> None:
        delay = self.config.reconnect_min_s
        where = f"{self.config.host}:{self.config.port}"
        while not self._stop.is_set():
            self._beat = time.monotonic()
            self.attempts += 1
            with self._lock:
                self._generation += 1
                generation = self._generation
                self._reset = False
            client = self._new_client(generation)
            up_since = None
            try:
                client.connect(self.config.host, self.config.port, keepalive=self.config.keepalive_s)
            except (OSError, ValueError) as exc:  # refused, unreachable, unknown host, TLS failure
                why = f"cannot reach the broker at {where}: {exc}"
            else:
                self._wake.clear()
                client.loop_start()
                asked = time.monotonic()
                why = ""
                reset = False
                while not self._stop.is_set():
                    self._beat = time.monotonic()
                    if self._wake.wait(0.25):
                        self._wake.clear()
                    with self._lock:
                        reset = self._reset
                    if self._connected.is_set() and up_since is None:
                        up_since = time.monotonic()
                    if reset:
                        why = "connection dropped (stalled broker)"
                        break
                    if self._lost.get(generation):
                        why = f"lost the connection to the broker at {where}: {self._lost.pop(generation)}"
                        break
                    if up_since is None and time.monotonic() - asked > CONNACK_TIMEOUT_S:
                        why = f"the broker at {where} took the connection but never answered CONNECT"
                        break
                self._drop(client, generation, abort=reset)
            if self._stop.is_set():
                break
            if up_since is not None and time.monotonic() - up_since > self.config.reconnect_max_s:
                delay = self.config.reconnect_min_s  # it held for a while: start the back-off again
            log.warning("%s; next try in %.1f s", why, delay)
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, self.config.reconnect_max_s)

    def _new_client(self, generation: int) -> paho.Client:
        client = new_client(self.config, self._credentials, self.client_id, reconnect=False)
        client.suppress_exceptions = True  # a fault in a callback is logged by paho, never ends its thread
        client.connect_timeout = CONNACK_TIMEOUT_S
        client.will_set(self.status_topic, "offline", qos=1, retain=True)
        client.on_connect = lambda c, u, f, reason, p: self._handle_connect(c, generation, reason)
        client.on_disconnect = lambda c, u, f, reason, p: self._handle_disconnect(generation, reason)
        client.on_message = self._handle_message
        client.on_publish = lambda c, u, mid, reason, p: self._handle_publish(generation, mid, reason)
        return client

    def _drop(self, client: paho.Client, generation: int, abort: bool = False) -> None:
        """``abort``: the broker stalled. The connection is reset (RST, no goodbye), so what was written
        and not yet read by the broker is thrown away with it, not acted on when the broker wakes."""
        with self._lock:
            was = self._connected.is_set() and self._client is client
            self._connected.clear()
            self._client = None
        sock = client.socket()
        if abort and sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # type: ignore[attr-defined]
                sock.close()  # type: ignore[attr-defined]
            except OSError:
                pass
        close_client(client, goodbye=not abort)
        if was and not self._stop.is_set():
            self._on_connection(False)

    # -- paho callbacks (its network thread) ----------------------------------------------------

    def _handle_connect(self, client: paho.Client, generation: int, reason: object) -> None:
        if getattr(reason, "is_failure", False):
            self._lost[generation] = f"the broker refused the connection: {reason}"
            self._wake.set()
            return
        topics = sorted(set(self._subscriptions()))
        try:
            if topics:
                client.subscribe([(t, 1) for t in topics])
        except (ValueError, TypeError):  # a topic paho will not take: the others still, never a reconnect loop
            for topic in topics:
                try:
                    client.subscribe(topic, 1)
                except (ValueError, TypeError) as exc:
                    log.error("not subscribing to %r: %s", topic[:200], exc)
        client.publish(self.status_topic, "online", qos=1, retain=True)
        self._last_heard = time.monotonic()
        with self._lock:
            self._client = client
            backlog = list(self._backlog)
            self._backlog.clear()
            self._connected.set()
        for topic, payload, qos, retain in backlog:
            client.publish(topic, payload, qos=qos, retain=retain)
        log.info("connected to %s:%d (%d subscriptions)", self.config.host, self.config.port, len(topics))
        self._on_connection(True)

    def _handle_disconnect(self, generation: int, reason: object) -> None:
        self._lost[generation] = str(reason)
        self._wake.set()

    def _handle_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        self._last_heard = time.monotonic()
        try:
            topic = message.topic
        except UnicodeDecodeError:  # a topic that is not UTF-8 names nothing of ours
            log.warning("dropped a message whose topic is not UTF-8")
            return
        self._on_message(topic, bytes(message.payload), bool(message.retain))

    def _handle_publish(self, generation: int, mid: int, reason: object) -> None:
        self._last_heard = time.monotonic()
        failure = str(reason) if getattr(reason, "is_failure", False) else None
        self._acks.put((generation, mid, failure))
        self._on_acknowledged()
