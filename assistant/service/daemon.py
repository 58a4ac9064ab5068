"""`assistant run`: the long-running service. It only moves events between the edges and the session.

Threads: paho's network thread routes each message to a typed event on the bounded bus (``Router``);
the microphone thread, when there is one, puts spoken commands on the same bus. The main thread takes
one event at a time: commands go to the session (``Session``), whose turn it carries out (device
messages, intent result, reply); state reports and discovery go to the home (``Home``). Between events
it runs the timers, the watchdog, reloads and the retained device list and stats.
Every event is handled inside one guard: a bad one is counted and logged, never fatal.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..config import Config, load_config
from ..core.events import (
    AskedCommand,
    ConnectionChanged,
    DiscoveryMessage,
    InEvent,
    IntentResult,
    Listen,
    Reply,
    Say,
    SpokenCommand,  # fmt: skip
    StateReport,
    TextCommand,
    TimerFinished,
    wire_json,
)
from ..core.messages import Action
from ..mqtt import Credentials, MqttLink, Topics
from ..session import Session, Turn
from ..systemd import Notifier
from ..understanding import replies
from ..understanding.parser import Context, Understander
from .bus import Bus, Counters
from .home import Home
from .router import Router

log = logging.getLogger(__name__)

DEVICES_EVERY_S = 2.0
"""Live state changes republish the device list at most this often."""
STATS_EVERY_S = 5.0


class VoicePort(Protocol):
    """The voice front door, as the service sees it (``voice.microphone.VoiceFrontDoor``)."""

    def speak(self, text: str) -> None: ...

    def listen(self) -> None: ...


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
class Daemon:
    config: Config
    understander: Understander
    config_path: Path | None = None
    credentials: Credentials = field(default_factory=Credentials)
    notifier: Notifier = field(default_factory=Notifier)
    clock: Callable[[], float] = time.monotonic
    load_understander: Callable[[Config, Path], Understander] | None = None
    voice: VoicePort | None = None
    """Speaks replies and ``say`` texts, opens listening; None: text only (``say``/``listen`` counted as unavailable)."""

    def __post_init__(self) -> None:
        self.topics = Topics.of(self.config.mqtt, self.config.site.id)
        self.counters = Counters()
        self.bus = Bus(self.config.daemon.queue_size, self.counters)
        self.home = Home(self.config, self.topics, self.counters)
        self.session = Session(self.understander, self.config, self.clock)
        self.limiter = RateLimiter(self.config.mqtt.commands_per_minute, self.clock)
        self.router = Router(self.topics, self.config.mqtt, self.counters, self.bus.put, lambda: self.home.state_routes)
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._last_stats = 0.0
        self._devices_dirty = False
        self._last_devices = 0.0
        self._last_watchdog = 0.0
        self.link = MqttLink(
            self.config.mqtt,
            self.config.mqtt.client_id or f"assistant-{self.config.site.id}",
            self.topics.status,
            subscriptions=self.home.subscriptions,
            on_message=self.router.route,
            on_connection=lambda up: self.bus.put(ConnectionChanged(up)),
            credentials=self.credentials,
        )

    @property
    def registry(self):  # noqa: ANN201 - the home's current registry
        return self.home.registry

    def submit(self, event: InEvent) -> None:
        """Hand an event to the main loop from any thread (the microphone, a test)."""
        self.bus.put(event)

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
                event = self.bus.get(timeout_s=0.2)
                if event is not None:
                    try:
                        self.handle(event)
                    except Exception:  # one bad message must not stop the service
                        self.counters.count("errors", f"error while handling {type(event).__name__}")
                        log.exception("error while handling a %s event", type(event).__name__)
                try:
                    self._tick()
                except Exception:
                    self.counters.count("errors", "error between events")
                    log.exception("error between events")
        finally:
            self.notifier.stopping()
            self.link.stop(timeout_s=1.0)
        log.info("stopped")
        return 0

    def stop(self) -> None:
        self._stop.set()

    def reload(self) -> None:
        """As SIGHUP: re-read the config file at the next turn of the loop."""
        self._reload.set()

    def handle(self, event: InEvent) -> None:
        if isinstance(event, TextCommand):
            if not self.limiter.allow(event.source):
                self.counters.count("rate_limited", f"source {event.source!r}")
                return
            self.converse(event.text, event.source, event.area, event.request_id)
        elif isinstance(event, SpokenCommand):
            self.converse(event.text, event.source, event.area, None)
        elif isinstance(event, AskedCommand):
            self.answer(event)
        elif isinstance(event, StateReport):
            if self.home.report(event):
                self._devices_dirty = True
        elif isinstance(event, DiscoveryMessage):
            added = self.home.discover(event)
            if added is not None:
                self._registry_changed(added)
        elif isinstance(event, ConnectionChanged):
            self.notifier.status("connected to the broker" if event.up else "broker connection lost; reconnecting")
            if event.up:
                self._publish_devices()
        elif isinstance(event, Say):
            if self.voice is None:
                self.counters.count("unavailable", f"{self.topics.say}: no speech out in this service")
            else:
                self.voice.speak(event.text)
        elif isinstance(event, Listen):
            if self.voice is None:
                self.counters.count("unavailable", f"{self.topics.listen}: no microphone in this service")
            else:
                self.voice.listen()

    # -- the conversation --------------------------------------------------------------------------

    def converse(self, text: str, source: str, area: str | None, request_id: object) -> Turn:
        started = time.perf_counter()
        turn = self.session.handle(text, self.registry, source=source, area=area, request_id=request_id)
        reply = self.carry_out(turn)
        log.info("command from %s: %r -> %s (%.0f ms)", source, text[:120], reply.outcome,
                 (time.perf_counter() - started) * 1000)  # fmt: skip
        return turn

    def answer(self, event: AskedCommand) -> None:
        """A command whose asker waits (Wyoming): carried out like any other, or (``act`` False) only understood."""
        if not event.act:
            parse = self.understander.parse(event.text, self.registry, Context(area=event.area))
            ok = parse.outcome in ("done", "answer")
            event.answer(parse, Reply(parse.reply, ok, parse.outcome, None, event.source))
            return
        turn = self.session.handle(event.text, self.registry, source=event.source, area=event.area)
        event.answer(turn.parse, self.carry_out(turn))

    def carry_out(self, turn: Turn) -> Reply:
        """Send the turn's device messages now or never, then publish the intent result and the true reply."""
        sent: list[Action] = []
        failed: list[Action] = []
        started = time.perf_counter()
        for action in turn.actions:
            (sent if self.link.publish_device(action) else failed).append(action)
        publish_ms = (time.perf_counter() - started) * 1000
        if turn.parse is not None:
            result = IntentResult(turn.parse, turn.request_id, tuple(sent), tuple(failed), publish_ms)
            self.link.publish(self.topics.intent, result.payload(), qos=self._own_qos())
        if failed:
            names = [self.registry.device(a.device).name for a in failed]
            reply = Reply(replies.not_delivered(names), False, "not_delivered", turn.request_id, turn.source)
        else:
            reply = Reply(turn.reply, turn.success, turn.outcome, turn.request_id, turn.source)
        self._send_reply(reply)
        return reply

    def _send_reply(self, reply: Reply) -> None:
        self.link.publish(self.topics.reply, reply.payload(), qos=self._own_qos())
        if self.voice is not None and reply.source == "voice" and reply.text:
            self.voice.speak(reply.text)

    def _own_qos(self) -> int:
        """QoS of intent and reply messages: 1 while the broker is away (paho keeps them until it is back),
        0 while connected, so the broker sends no acknowledgements that could hold the next command back
        (a broker without TCP_NODELAY holds a small write behind an unacknowledged one: ~40 ms)."""
        return 0 if self.link.connected else 1

    # -- between events ----------------------------------------------------------------------------

    def _tick(self) -> None:
        now = self.clock()
        for finished in self.session.due():
            self.timer_finished(finished)
        if self._reload.is_set():
            self._reload.clear()
            self._do_reload()
        if self.notifier.watchdog_s and self.config.daemon.watchdog and now - self._last_watchdog >= self.notifier.watchdog_s / 3:
            self._last_watchdog = now
            self.notifier.watchdog()
        if self._devices_dirty and now - self._last_devices >= DEVICES_EVERY_S:
            self._publish_devices()
        if self.counters.dirty and now - self._last_stats >= STATS_EVERY_S:
            self._last_stats = now
            self.link.publish(self.topics.stats, wire_json(self.counters.snapshot()), qos=0, retain=True)

    def timer_finished(self, finished: TimerFinished) -> None:
        self.link.publish(self.topics.timer, finished.payload(), qos=1)
        self._send_reply(Reply(replies.timer_done(finished.label), True, "timer_finished", None, finished.source))

    def _registry_changed(self, added: list[str]) -> None:
        if added and self.link.connected:
            self.link.client.subscribe([(t, 1) for t in added])
        self._publish_devices()

    def _publish_devices(self) -> None:
        self._devices_dirty = False
        self._last_devices = self.clock()
        self.link.publish(self.topics.devices, wire_json(self.home.device_rows()), qos=1, retain=True)

    def _do_reload(self) -> None:
        """Re-read the config; on any failure to build the new one, the running config stays."""
        if self.config_path is None:
            return
        try:
            config, base = load_config(self.config_path)
            if config.mqtt != self.config.mqtt:
                log.warning("mqtt settings changed: they take effect on restart")
                config = config.model_copy(update={"mqtt": self.config.mqtt})
            understander = self.understander
            if config.understanding.model != self.config.understanding.model and self.load_understander:
                understander = self.load_understander(config, base)
        except Exception as exc:  # a missing model, a bad file: keep what runs
            log.error("reload failed, keeping the running config: %s", exc)
            self.notifier.status(f"reload failed: {exc}")
            return
        understander.settings = config.understanding
        understander.confirm = config.confirm
        self.understander = understander
        self.session.configure(understander, config)
        self.config = config
        self._registry_changed(self.home.reconfigure(config))
        log.info("reloaded %s: %d devices", self.config_path, len(self.registry.devices))
        self.notifier.status(f"reloaded; {len(self.registry.devices)} devices")
