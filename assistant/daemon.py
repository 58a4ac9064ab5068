"""`assistant run`: the long-running service on MQTT.

Threads: paho's network thread only hands messages to a bounded queue (oldest dropped, counted);
the main thread takes them one at a time, understands commands, publishes device messages,
keeps live state, runs timers, pings the systemd watchdog and handles SIGHUP/SIGTERM.
Every message is handled inside one guard: a bad one is counted and logged, never fatal.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .config import Config, load_config
from .devices import Registry
from .devices.discovery import from_ha_discovery, from_zigbee2mqtt
from .devices.state import parse_state, state_topics
from .errors import ConfigError
from .messages import Action, Parse
from .mqtt import Credentials, MqttLink
from .queues import put_drop_oldest
from .systemd import Notifier
from .timers import Timer, Timers, duration_words
from .understanding.parser import Context, Previous, Understander

log = logging.getLogger(__name__)

_YES = re.compile(r"^\W*(yes|yeah|yep|sure|ok(ay)?|do it|go ahead|confirm(ed)?|please do|absolutely|correct)\b", re.I)
_NO = re.compile(r"^\W*(no|nope|don'?t|cancel|stop|never ?mind|forget it)\b", re.I)
_COMMAND_FIELDS = {"text", "id", "context", "source"}
DEVICES_EVERY_S = 2.0
"""Live state changes republish the device list at most this often."""
TIMER_INTENTS = {"HassStartTimer", "HassCancelTimer", "HassCancelAllTimers", "HassPauseTimer", "HassUnpauseTimer",
                 "HassTimerStatus", "HassIncreaseTimer", "HassDecreaseTimer"}  # fmt: skip


class Topics:
    """The daemon's own topics, all under <prefix>/<site>/."""

    def __init__(self, prefix: str, site: str) -> None:
        base = f"{prefix.rstrip('/')}/{site}"
        self.status = f"{base}/status"
        self.command = f"{base}/command"
        self.intent = f"{base}/intent"
        self.reply = f"{base}/reply"
        self.say = f"{base}/say"
        self.listen = f"{base}/listen"
        self.timer = f"{base}/timer"
        self.devices = f"{base}/devices"
        self.stats = f"{base}/stats"


class RateLimiter:
    """A token bucket per source: ``per_minute`` commands, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}

    def allow(self, source: str) -> bool:
        now = self.clock()
        tokens, last = self.buckets.get(source, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if len(self.buckets) > 1000 and source not in self.buckets:  # bound memory under a flood of sources
            self.buckets.clear()
        if tokens < 1.0:
            self.buckets[source] = (tokens, now)
            return False
        self.buckets[source] = (tokens - 1.0, now)
        return True


@dataclass
class Pending:
    actions: tuple[Action, ...]
    parse: Parse
    request_id: Any
    expires: float


@dataclass
class Command:
    text: str
    request_id: Any = None
    area: str | None = None
    source: str = "mqtt"


class BadMessage(Exception):
    """A message that is dropped and counted under ``reason``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def decode_command(payload: bytes) -> Command:
    """A command payload: plain UTF-8 text, or JSON {"text", "id", "context": {"area"}, "source"}."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadMessage("invalid_utf8", "command is not UTF-8") from None
    stripped = text.strip()
    if not stripped.startswith("{"):
        return Command(stripped)
    try:
        data = json.loads(stripped)
    except ValueError:
        raise BadMessage("invalid_json", "command looks like JSON but is not") from None
    if not isinstance(data, dict):
        raise BadMessage("invalid_json", "command JSON must be an object")
    unknown = set(data) - _COMMAND_FIELDS
    if unknown:
        raise BadMessage("unknown_fields", f"unknown fields {sorted(unknown)[:5]}")
    if not isinstance(data.get("text"), str):
        raise BadMessage("bad_fields", "`text` must be a string")
    request_id = data.get("id")
    if isinstance(request_id, bool) or (request_id is not None and not isinstance(request_id, (str, int, float))):
        raise BadMessage("bad_fields", "`id` must be a string or a number")
    context = data.get("context") or {}
    if not isinstance(context, dict) or not isinstance(context.get("area", ""), str) or set(context) - {"area"}:
        raise BadMessage("bad_fields", "`context` may only hold `area` (a string)")
    source = data.get("source", "mqtt")
    if not isinstance(source, str) or len(source) > 64:
        raise BadMessage("bad_fields", "`source` must be a short string")
    return Command(data["text"], request_id, context.get("area"), source)


@dataclass
class Daemon:
    config: Config
    understander: Understander
    config_path: Path | None = None
    credentials: Credentials = field(default_factory=Credentials)
    notifier: Notifier = field(default_factory=Notifier)
    clock: Callable[[], float] = time.monotonic
    load_understander: Callable[[Config, Path], Understander] | None = None
    speak: Callable[[str], None] | None = None
    """Speaks a text without blocking (the voice brick); None: `say` is counted as unavailable."""
    listen: Callable[[], None] | None = None
    """Opens listening without the wake word (the voice brick); None: `listen` is counted as unavailable."""

    def __post_init__(self) -> None:
        self.topics = Topics(self.config.mqtt.prefix, self.config.site.id)
        self.counters: Counter[str] = Counter()
        self._last_reply = ""
        self.events: queue.Queue[tuple[str, Any, Any]] = queue.Queue(maxsize=self.config.daemon.queue_size)
        self.timers = Timers()
        self.limiter = RateLimiter(self.config.mqtt.commands_per_minute, self.clock)
        self.pending: Pending | None = None
        self.previous: tuple[Previous, float] | None = None
        self.live_state: dict[str, dict[str, Any]] = {}
        self.discovered: dict[str, Any] = {}
        self.z2m_devices: list[Any] = []
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._stats_dirty = False
        self._last_stats = 0.0
        self._devices_dirty = False
        self._last_devices = 0.0
        self._last_watchdog = 0.0
        self._build_registry()
        self.link = MqttLink(
            self.config.mqtt,
            self.config.mqtt.client_id or f"assistant-{self.config.site.id}",
            self.topics.status,
            subscriptions=self.subscriptions,
            on_message=self._enqueue_message,
            on_connection=lambda up: self._enqueue("connection", up, None),
            credentials=self.credentials,
        )

    # -- registry --------------------------------------------------------------------------------

    def _build_registry(self) -> None:
        registry = Registry.from_config(self.config)
        discovered = [d for d in self.discovered.values() if d is not None]
        discovered += from_zigbee2mqtt(self.z2m_devices, self.config.mqtt.zigbee2mqtt_base)
        self.registry = registry.with_devices(discovered).with_state(self.live_state)
        self.state_routes: dict[str, list[str]] = {}
        for device in self.registry.devices:
            for topic in state_topics(device):
                self.state_routes.setdefault(topic, []).append(device.id)

    def subscriptions(self) -> list[str]:
        topics = [self.topics.command, self.topics.say, self.topics.listen, *self.state_routes]
        if self.config.mqtt.discovery:
            prefix = self.config.mqtt.discovery_prefix
            topics += [f"{prefix}/+/+/config", f"{prefix}/+/+/+/config",
                       f"{self.config.mqtt.zigbee2mqtt_base}/bridge/devices"]  # fmt: skip
        return topics

    def _registry_changed(self) -> None:
        before = set(self.state_routes)
        self._build_registry()
        added = sorted(set(self.state_routes) - before)
        if added and self.link.connected:
            self.link.client.subscribe([(t, 1) for t in added])
        self._publish_devices()

    def _publish_devices(self) -> None:
        self._devices_dirty = False
        self._last_devices = self.clock()
        configured = {d.id for d in self.config.devices}
        rows = [{"id": d.id, "name": d.name, "area": d.area, "domain": d.domain, "device_class": d.device_class,
                 "protocol": d.protocol, "source": "config" if d.id in configured else "discovery",
                 "state": dict(self.registry.state(d.id))} for d in self.registry.devices]  # fmt: skip
        self.link.publish(self.topics.devices, json.dumps(rows, ensure_ascii=False), qos=1, retain=True)

    # -- the paho thread's side ------------------------------------------------------------------

    def _enqueue_message(self, topic: str, payload: bytes) -> None:
        limit = self.config.mqtt.max_payload_bytes if topic == self.topics.command else self.config.mqtt.max_state_bytes
        if len(payload) > limit:
            self._count("oversize", f"{len(payload)} bytes on {topic}")
            return
        self._enqueue("message", topic, payload)

    def _enqueue(self, kind: str, a: Any, b: Any) -> None:
        for _ in range(put_drop_oldest(self.events, (kind, a, b))):
            self._count("queue_overflow", "dropped the oldest waiting message")

    def _count(self, reason: str, detail: str) -> None:
        self.counters[reason] += 1
        self._stats_dirty = True
        if self.counters[reason] <= 10 or self.counters[reason] % 100 == 0:
            log.warning("dropped message (%s, %d so far): %s", reason, self.counters[reason], detail)

    # -- main loop ---------------------------------------------------------------------------------

    def run(self, *, install_signals: bool = True, ready: Callable[[], None] | None = None) -> int:
        if install_signals:
            signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
            signal.signal(signal.SIGINT, lambda *_: self._stop.set())
            signal.signal(signal.SIGHUP, lambda *_: self._reload.set())
        self.link.start()
        self.notifier.ready(f"running; broker {self.config.mqtt.host}:{self.config.mqtt.port} (connecting)")
        log.info("ready; site %s, %d devices", self.config.site.id, len(self.registry.devices))
        if ready:
            ready()
        try:
            while not self._stop.is_set():
                try:
                    kind, a, b = self.events.get(timeout=0.2)
                except queue.Empty:
                    kind = ""
                if kind:
                    try:
                        self._handle(kind, a, b)
                    except Exception:  # one bad message must not stop the service
                        self.counters["errors"] += 1
                        log.exception("error while handling a %s event", kind)
                self._tick()
        finally:
            self.notifier.stopping()
            self.link.stop(timeout_s=1.0)
        log.info("stopped")
        return 0

    def stop(self) -> None:
        self._stop.set()

    def _tick(self) -> None:
        now = self.clock()
        for timer in self.timers.due(now):
            event = {"event": "finished", "id": timer.id, "duration_s": timer.duration_s, "name": timer.name}
            self.link.publish(self.topics.timer, json.dumps(event), qos=1)
            self._reply(f"Your {timer.label()} is done.", True, "timer_finished", None)
        if self.pending and now > self.pending.expires:
            self.pending = None
        if self._reload.is_set():
            self._reload.clear()
            self._do_reload()
        if self.notifier.watchdog_s and self.config.daemon.watchdog and now - self._last_watchdog >= self.notifier.watchdog_s / 3:
            self._last_watchdog = now
            self.notifier.watchdog()
        if self._devices_dirty and now - self._last_devices >= DEVICES_EVERY_S:
            self._publish_devices()
        if self._stats_dirty and now - self._last_stats >= 5:
            self._last_stats = now
            self._stats_dirty = False
            self.link.publish(self.topics.stats, json.dumps(dict(self.counters)), qos=0, retain=True)

    def _do_reload(self) -> None:
        if self.config_path is None:
            return
        try:
            config, base = load_config(self.config_path)
        except ConfigError as exc:
            log.error("reload failed, keeping the running config: %s", exc)
            self.notifier.status(f"reload failed: {exc}")
            return
        if config.mqtt != self.config.mqtt:
            log.warning("mqtt settings changed: they take effect on restart")
            config = config.model_copy(update={"mqtt": self.config.mqtt})
        if config.understanding.model != self.config.understanding.model and self.load_understander:
            self.understander = self.load_understander(config, base)
        else:
            self.understander.settings = config.understanding
        self.understander.confirm = config.confirm
        self.config = config
        self._registry_changed()
        log.info("reloaded %s: %d devices", self.config_path, len(self.registry.devices))
        self.notifier.status(f"reloaded; {len(self.registry.devices)} devices")

    def _handle(self, kind: str, a: Any, b: Any) -> None:
        if kind == "connection":
            self.notifier.status("connected to the broker" if a else "broker connection lost; reconnecting")
            if a:
                self._publish_devices()
            return
        topic, payload = a, b
        if topic == self.topics.command:
            try:
                command = decode_command(payload)
            except BadMessage as exc:
                self._count(exc.reason, str(exc))
                return
            if not self.limiter.allow(command.source):
                self._count("rate_limited", f"source {command.source!r}")
                return
            self.handle_command(command)
        elif topic == self.topics.say and self.speak is not None:
            self.speak(payload.decode("utf-8", errors="replace")[:1000])
        elif topic == self.topics.listen and self.listen is not None:
            self.listen()
        elif topic == "voice":  # a spoken command from the microphone thread (voice_daemon)
            self._last_reply = ""
            self.handle_command(Command(payload, source="voice"))
            if self.speak is not None and self._last_reply:
                self.speak(self._last_reply)
        elif topic in (self.topics.say, self.topics.listen):
            self._count("unavailable", f"{topic}: speech is not part of this build yet")
        elif topic in self.state_routes:
            self._handle_state(topic, payload)
        elif self.config.mqtt.discovery:
            self._handle_discovery(topic, payload)

    def _handle_state(self, topic: str, payload: bytes) -> None:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            self._count("invalid_utf8", f"state on {topic}")
            return
        updates = {}
        for device_id in self.state_routes[topic]:
            try:
                attrs = parse_state(self.registry.device(device_id), topic, text)
            except ValueError:
                self._count("invalid_json", f"state on {topic}")
                return
            if attrs:
                self.live_state.setdefault(device_id, {}).update(attrs)
                updates[device_id] = attrs
        if updates:
            self.registry = self.registry.with_state(updates)
            self._devices_dirty = True

    def _handle_discovery(self, topic: str, payload: bytes) -> None:
        try:
            data = json.loads(payload.decode("utf-8")) if payload else None
        except (UnicodeDecodeError, ValueError):
            self._count("invalid_json", f"discovery on {topic}")
            return
        if topic == f"{self.config.mqtt.zigbee2mqtt_base}/bridge/devices":
            self.z2m_devices = data if isinstance(data, list) else []
        elif data is None:
            if self.discovered.pop(topic, None) is None:
                return
        else:
            device = from_ha_discovery(topic, data, self.config.mqtt.discovery_prefix)
            if device is None:
                self._count("bad_discovery", topic)
                return
            self.discovered[topic] = device
        self._registry_changed()

    # -- commands ----------------------------------------------------------------------------------

    def handle_command(self, command: Command) -> None:
        now = self.clock()
        if self.pending and now <= self.pending.expires:
            pending, self.pending = self.pending, None
            if _YES.search(command.text):
                done = replace(pending.parse, actions=pending.actions, reply=pending.parse.pending_reply, outcome="done")
                self._carry_out(done, done.actions, command.request_id)
                return
            if _NO.search(command.text):
                self._reply("OK, I won't.", True, "cancelled", command.request_id)
                return
        previous = self.previous[0] if self.previous and now - self.previous[1] <= self.config.daemon.follow_up_s else None
        context = Context(area=command.area, previous=previous)
        parse = self.understander.parse(command.text, self.registry, context)
        if parse.outcome == "confirm":
            self.pending = Pending(parse.pending_actions, parse, command.request_id, now + self.config.confirm.window_s)
            self._publish_intent(parse, command.request_id, [], [])
            self._reply(parse.reply, True, "confirm", command.request_id)
            return
        if parse.intent in TIMER_INTENTS:
            parse = self._timer(parse, now)
        self._carry_out(parse, parse.actions, command.request_id)
        if parse.intent and parse.outcome in ("done", "answer"):
            self.previous = (Previous.of(parse), now)  # type: ignore[assignment]

    def _carry_out(self, parse: Parse, actions: tuple[Action, ...], request_id: Any) -> None:
        sent: list[Action] = []
        failed: list[Action] = []
        started = time.perf_counter()
        for action in actions:
            (sent if self.link.publish_device(action) else failed).append(action)
        publish_ms = (time.perf_counter() - started) * 1000
        self._publish_intent(parse, request_id, sent, failed, publish_ms)
        if failed:
            names = ", ".join(sorted({self.registry.device(a.device).name for a in failed}))
            self._reply(f"Sorry, I couldn't reach {names}: the broker is not available.", False, "not_delivered",
                        request_id)  # fmt: skip
            return
        success = parse.outcome in ("done", "answer")
        self._reply(parse.reply, success, parse.outcome, request_id)

    def _publish_intent(self, parse: Parse, request_id: Any, sent: list[Action], failed: list[Action],
                        publish_ms: float = 0.0) -> None:  # fmt: skip
        message = parse.as_dict(request_id)
        message["sent"] = [a.as_dict() for a in sent]
        message["failed"] = [a.as_dict() for a in failed]
        message["timings_ms"] = {**parse.timings_ms, "publish": round(publish_ms, 3)}
        self.link.publish(self.topics.intent, json.dumps(message, ensure_ascii=False), qos=self._own_qos())

    def _reply(self, text: str, success: bool, outcome: str, request_id: Any) -> None:
        message: dict[str, Any] = {"text": text, "success": success, "outcome": outcome}
        self._last_reply = text
        if request_id is not None:
            message["id"] = request_id
        self.link.publish(self.topics.reply, json.dumps(message, ensure_ascii=False), qos=self._own_qos())

    def _own_qos(self) -> int:
        """QoS of intent and reply messages: 1 while the broker is away (paho keeps them until it is back),
        0 while connected, so the broker sends no acknowledgements that could hold the next command back
        (a broker without TCP_NODELAY holds a small write behind an unacknowledged one: ~40 ms)."""
        return 0 if self.link.connected else 1

    def _timer(self, parse: Parse, now: float) -> Parse:
        duration = parse.slots.get("duration_s")
        intent = parse.intent
        timers = self.timers
        timer: Timer | None
        if intent == "HassStartTimer":
            if not duration:
                return replace(parse, reply="For how long?", outcome="unsupported")
            timer = timers.start(float(duration), now)
            reply = f"Timer set for {duration_words(timer.duration_s)}."
        elif intent == "HassCancelTimer":
            timer = timers.cancel(float(duration) if duration else None)
            reply = f"Cancelled the {timer.label()}." if timer else "There's no timer running."
        elif intent == "HassCancelAllTimers":
            n = timers.cancel_all()
            reply = f"Cancelled {n} timer{'s' if n != 1 else ''}." if n else "There's no timer running."
        elif intent == "HassPauseTimer":
            timer = timers.pause(now)
            reply = f"Paused the {timer.label()}." if timer else "There's no running timer to pause."
        elif intent == "HassUnpauseTimer":
            timer = timers.resume(now)
            reply = f"Resumed the {timer.label()}." if timer else "There's no paused timer."
        elif intent == "HassTimerStatus":
            reply = timers.status(now)
        else:
            if not duration:
                return replace(parse, reply="By how much?", outcome="unsupported")
            sign = 1 if intent == "HassIncreaseTimer" else -1
            timer = timers.adjust(sign * float(duration), now)
            verb = "Added" if sign > 0 else "Took"
            where = "to" if sign > 0 else "off"
            reply = f"{verb} {duration_words(duration)} {where} the timer." if timer else "There's no timer running."
        return replace(parse, reply=reply)


def run_daemon(config_path: Path, config: Config, base: Path, load: Callable[[Config, Path], Understander]) -> int:
    notifier = Notifier()
    notifier.status("loading the language model")
    understander = load(config, base)
    daemon = Daemon(config, understander, config_path=config_path, credentials=Credentials.from_environment(),
                    notifier=notifier, load_understander=load)  # fmt: skip
    microphone = None
    if config.audio.input is not None:  # the voice brick: optional, text-only without a microphone
        from .voice_daemon import attach_voice

        microphone = attach_voice(daemon, config)
    try:
        return daemon.run()
    finally:
        if microphone is not None:
            microphone.stop()
