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
from collections import OrderedDict
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
    RejectedCommand,
    Reply,
    Say,
    SpokenCommand,  # fmt: skip
    StateReport,
    TextCommand,
    TimerChanged,
    TimerFinished,
    wire_json,
)
from ..core.messages import Action, Parse
from ..devices import Registry
from ..mqtt import Credentials, MqttLink, Topics
from ..session import Session, Turn
from ..systemd import Notifier
from ..understanding import replies
from ..understanding.parser import Context, Understander
from .bus import Bus, Counters
from .delivery import Courier, Outcome
from .home import Changes, Home
from .router import Router

log = logging.getLogger(__name__)

DEVICES_EVERY_S = 2.0
"""Live state changes republish the device list at most this often."""
STATS_EVERY_S = 5.0
COMPLAINTS_PER_MINUTE = 60
DISCOVERY_EVERY_S = 0.5
"""Announcements are taken in together: the registry is rebuilt at most this often (and before a command)."""


class VoicePort(Protocol):
    """The voice front door, as the service sees it (``voice.microphone.VoiceFrontDoor``)."""

    def speak(self, text: str) -> None: ...

    def listen(self) -> None: ...


class RateLimiter:
    """Token buckets, refilled continuously: ``per_minute`` commands per source and ``total_per_minute``
    for all sources together. The source is whatever the sender wrote, so only the total bounds a
    sender who invents sources; the per-source buckets keep one chatty client from starving the others.
    At most ``MAX_SOURCES`` buckets are kept, the least recently used forgotten first."""

    MAX_SOURCES = 1000

    def __init__(self, per_minute: int, clock: Callable[[], float], total_per_minute: int | None = None) -> None:
        self.clock = clock
        self.per_source = (float(per_minute), per_minute / 60.0)
        total = total_per_minute or per_minute
        self.total = (float(total), total / 60.0)
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._all = (self.total[0], clock())

    @staticmethod
    def _refill(bucket: tuple[float, float], shape: tuple[float, float], now: float) -> float:
        tokens, last = bucket
        return min(shape[0], tokens + (now - last) * shape[1])

    def allow(self, source: str) -> bool:
        now = self.clock()
        mine = self._refill(self.buckets.pop(source, (self.per_source[0], now)), self.per_source, now)
        everyone = self._refill(self._all, self.total, now)
        ok = mine >= 1.0 and everyone >= 1.0
        self.buckets[source] = (mine - 1.0 if ok else mine, now)
        self._all = (everyone - 1.0 if ok else everyone, now)
        while len(self.buckets) > self.MAX_SOURCES:
            self.buckets.popitem(last=False)
        return ok


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
    announcers: list[Callable[[TimerFinished, str], None]] = field(default_factory=list)
    """Edges told of each timer that finishes and its spoken text, so the one that set it (a Wyoming
    satellite) can say so; called on the main thread, each must only hand it over, never block."""
    timer_watchers: list[Callable[[TimerChanged], None]] = field(default_factory=list)
    """Edges told of each timer a command starts, changes or cancels (before its reply), so the satellite
    that set it can show it; called on the main thread, each must only hand it over, never block."""
    registry_listeners: list[Callable[[Registry], None]] = field(default_factory=list)
    """Told of each new registry (devices discovered or gone, a reload): the speech recognisers, whose
    sentence space holds the home's names. Called on the main thread; each only swaps what it holds."""

    def __post_init__(self) -> None:
        self.topics = Topics.of(self.config.mqtt, self.config.site.id)
        self.counters = Counters()
        self.bus = Bus(self.config.daemon.queue_size, self.counters)
        self.home = Home(self.config, self.topics, self.counters)
        self.session = Session(self.understander, self.config, self.clock)
        self.limiter = RateLimiter(self.config.mqtt.commands_per_minute, self.clock,
                                   self.config.mqtt.commands_per_minute_total)  # fmt: skip
        self.complaints = RateLimiter(COMPLAINTS_PER_MINUTE, self.clock)
        """Replies to rate-limited and malformed commands: bounded too, so a flood is not echoed back."""
        self.router = Router(self.topics, self.config.mqtt, self.counters, self.bus.put, lambda: self.home.state_routes,
                             self.clock)  # fmt: skip
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._last_stats = 0.0
        self._devices_dirty = False
        self._last_devices = 0.0
        self._last_watchdog = 0.0
        self._started: dict[int, float] = {}
        self._answers: dict[int, Callable[[Parse | None, Reply], None]] = {}
        self._discovery_since = 0.0
        self.last_reply: Reply | None = None
        self.link = MqttLink(
            self.config.mqtt,
            self.config.mqtt.client_id or f"assistant-{self.config.site.id}",
            self.topics.status,
            subscriptions=self.home.subscriptions,
            on_message=self.router.route,
            on_connection=lambda up: self.bus.put(ConnectionChanged(up)),
            on_acknowledged=self.bus.nudge,
            credentials=self.credentials,
            probe_topic=self.topics.probe,
        )
        self.courier = Courier(self.link, self.clock, self.config.mqtt.delivery_timeout_s, self._delivered)

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
                due = self.courier.next_due_s()
                event = self.bus.get(timeout_s=0.2 if due is None else min(0.2, due + 0.001))
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
            try:
                self.courier.abandon()  # replies for commands still on their way: what is known now
            finally:
                self.link.stop(timeout_s=0.5)
        log.info("stopped")
        return 0

    def stop(self) -> None:
        self._stop.set()

    def reload(self) -> None:
        """As SIGHUP: re-read the config file at the next turn of the loop."""
        self._reload.set()

    def handle(self, event: InEvent) -> None:
        if isinstance(event, (TextCommand, SpokenCommand)) and self.home.stale:
            self._rebuild()  # a command always sees every announcement that came before it
        if isinstance(event, TextCommand):
            if not self.limiter.allow(event.source):
                self.counters.count("rate_limited", f"source {event.source!r}")
                self._complain(Reply(replies.RATE_LIMITED, False, "rate_limited", event.request_id, event.source))
                return
            self.converse(event.text, event.source, event.area, event.request_id, event.received_s)
        elif isinstance(event, SpokenCommand):
            self.converse(event.text, event.source, event.area, None, event.received_s)
        elif isinstance(event, AskedCommand):
            self.answer(event)
        elif isinstance(event, StateReport):
            if self.home.report(event):
                self._devices_dirty = True
        elif isinstance(event, DiscoveryMessage):
            if self.home.discover(event) and not self._discovery_since:
                self._discovery_since = self.clock()
        elif isinstance(event, ConnectionChanged):
            self.notifier.status("connected to the broker" if event.up else "broker connection lost; reconnecting")
            if event.up:
                self._publish_devices()
                self._publish_stats()
        elif isinstance(event, Say):
            if self.voice is None:
                self.counters.count("unavailable", f"{self.topics.say}: no speech out in this service")
            else:
                self.voice.speak(event.text)
        elif isinstance(event, RejectedCommand):
            self._complain(Reply(replies.unreadable(event.detail), False, "rejected"))
        elif isinstance(event, Listen):
            if self.voice is None:
                self.counters.count("unavailable", f"{self.topics.listen}: no microphone in this service")
            else:
                self.voice.listen()

    # -- the conversation --------------------------------------------------------------------------

    def converse(self, text: str, source: str, area: str | None, request_id: object,
                 received_s: float | None = None) -> Turn | None:  # fmt: skip
        """One command through the session and out. ``received_s`` (this service's clock): when it arrived;
        one older than ``mqtt.delivery_timeout_s`` by now is answered "too late" and not understood at all.
        The reply goes out when the device messages' fate is known (``carry_out``)."""
        if received_s is not None and self.clock() - received_s > self.config.mqtt.delivery_timeout_s:
            self.counters.count("too_late", f"a command from {source!r} waited {self.clock() - received_s:.1f} s")
            self._send_reply(Reply(replies.too_late(), False, "too_late", request_id, source))
            log.info("command from %s: %r -> too_late", source, text[:120])
            return None
        turn = self.session.handle(text, self.registry, source=source, area=area, request_id=request_id)
        self.carry_out(turn, received_s)
        return turn

    def answer(self, event: AskedCommand) -> None:
        """A command whose asker waits (Wyoming): carried out like any other, the answer given once the
        device messages' fate is known; or (``act`` False) only understood."""
        if not event.act:
            parse = self.understander.parse(event.text, self.registry, Context(area=event.area))
            ok = parse.outcome in ("done", "answer")
            event.answer(parse, Reply(parse.reply, ok, parse.outcome, None, event.source))
            return
        turn = self.session.handle(event.text, self.registry, source=event.source, area=event.area)
        self.carry_out(turn, event.received_s, event.answer)

    def carry_out(self, turn: Turn, received_s: float | None = None,
                  answer: Callable[[Parse | None, Reply], None] | None = None) -> None:  # fmt: skip
        """Send the turn's device messages (never blocking: ``Courier``); the intent result and the true
        reply follow when each message's fate is known (``_delivered``), and go to ``answer`` too. The turn's
        timer changes go to ``timer_watchers`` first, so a satellite hears of its timer before the reply."""
        for change in turn.timers:
            for watch in self.timer_watchers:
                watch(change)
        self._started[id(turn)] = time.perf_counter()
        if answer is not None:
            self._answers[id(turn)] = answer
        self.courier.carry(turn, received_s)

    def _delivered(self, turn: Turn, outcome: Outcome) -> None:
        if turn.parse is not None:
            result = IntentResult(turn.parse, turn.request_id, outcome.done, outcome.failed, outcome.publish_ms)
            self.link.publish(self.topics.intent, result.payload(), qos=self._own_qos())
        if outcome.failed:
            def names(actions: tuple[Action, ...]) -> list[str]:
                return [self._name(a.device) for a in actions]

            text = replies.delivery_report(names(outcome.done), names(outcome.not_sent), names(outcome.refused),
                                           names(outcome.unknown))  # fmt: skip
            kind = "not_delivered" if outcome.not_sent else "refused" if outcome.refused else "unconfirmed"
            reply = Reply(text, False, kind, turn.request_id, turn.source)
        else:
            reply = Reply(turn.reply, turn.success, turn.outcome, turn.request_id, turn.source)
        self._send_reply(reply)
        answer = self._answers.pop(id(turn), None)
        if answer is not None:
            answer(turn.parse, reply)
        started = self._started.pop(id(turn), None)
        spent = f" ({(time.perf_counter() - started) * 1000:.0f} ms)" if started is not None else ""
        text = turn.parse.text[:120] if turn.parse is not None else ""
        log.info("command from %s: %r -> %s%s", turn.source, text, reply.outcome, spent)

    def _complain(self, reply: Reply) -> None:
        if self.complaints.allow("all"):
            self._send_reply(reply)

    def _name(self, device_id: str) -> str:
        try:
            return self.registry.device(device_id).name
        except KeyError:  # gone with a reload while its message was on the way
            return device_id

    def _send_reply(self, reply: Reply) -> None:
        self.last_reply = reply
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
        self.courier.advance()
        if self.home.stale and now - self._discovery_since >= DISCOVERY_EVERY_S:
            self._rebuild()  # one rebuild per burst of announcements
        self.courier.keep_alive(max(1.0, self.config.mqtt.keepalive_s / 2))
        for finished in self.session.due():
            self.timer_finished(finished)
        if self._reload.is_set():
            self._reload.clear()
            self._do_reload()
        if (self.notifier.watchdog_s and self.config.daemon.watchdog and now - self._last_watchdog >= self.notifier.watchdog_s / 3
                and self.link.working(within_s=self.config.mqtt.keepalive_s + 5.0)):  # fmt: skip
            # pinged only while this loop turns and the link really works: a deaf service gets restarted
            self._last_watchdog = now
            self.notifier.watchdog()
        if self._devices_dirty and now - self._last_devices >= DEVICES_EVERY_S:
            self._publish_devices()
        if self.counters.dirty and now - self._last_stats >= STATS_EVERY_S:
            self._publish_stats()

    def timer_finished(self, finished: TimerFinished) -> None:
        self.link.publish(self.topics.timer, finished.payload(), qos=1)
        reply = Reply(replies.timer_done(finished.label), True, "timer_finished", None, finished.source)
        self._send_reply(reply)
        for announce in self.announcers:
            announce(finished, reply.text)

    def _rebuild(self) -> None:
        self._discovery_since = 0.0
        self._registry_changed(self.home.rebuild())

    def _registry_changed(self, changes: Changes) -> None:
        self.link.unsubscribe(changes.removed)
        self.link.subscribe(changes.added)
        self._publish_devices()
        for listener in self.registry_listeners:  # the home's sentences get its new names
            listener(self.registry)

    def _publish_stats(self) -> None:
        """The retained drop counters: at start, on every connect (a broker restart may have lost them), then
        at most every STATS_EVERY_S while they change."""
        self._last_stats = self.clock()
        self.link.publish(self.topics.stats, wire_json(self.counters.snapshot()), qos=0, retain=True)

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
