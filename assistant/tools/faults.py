"""`assistant bench --faults`: the faults and attacks of issue 9 against the real service on a real
mosquitto (loopback, a broker of its own per case, the given config), one row each:
actions expected, actions seen, late actions (after the command's deadline), wrong actions (any
message to a device the command did not name), and whether the reply told the truth.

The goal: zero wrong, zero late, every reply true. Stalls are a real SIGSTOP of the broker.
"""

from __future__ import annotations

import json
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from ..config import Config
from ..core.events import InEvent, SpokenCommand, TextCommand
from ..mqtt.client import close_client, new_client
from ..service.daemon import Daemon
from ..understanding.parser import Understander
from .broker import Mosquitto


@dataclass
class Row:
    case: str
    expected: int
    seen: int = 0
    late: int = 0
    wrong: int = 0
    truthful: bool = False
    note: str = ""


@dataclass
class Watcher:
    """Every message on the broker, with the time it arrived (monotonic)."""

    port: int
    messages: list[tuple[float, str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.client = new_client(protocol="3.1.1")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe("#", 1)
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        time.sleep(0.3)

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((time.monotonic(), message.topic, bytes(message.payload)))

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def since(self, start: float, topics: set[str] | None = None) -> list[tuple[float, str, bytes]]:
        with self.lock:
            return [m for m in self.messages if m[0] >= start and (topics is None or m[1] in topics)]

    def close(self) -> None:
        close_client(self.client)


class Rig:
    """A broker, the service on it (in a thread) and a watcher."""

    def __init__(self, config: Config, understander: Understander, broker_extra: str = "",
                 **mqtt: object) -> None:  # fmt: skip
        self.broker = Mosquitto(Path(tempfile.mkdtemp(prefix="assistant-faults-")), extra=broker_extra).start()
        settings = config.mqtt.model_copy(update={"host": "127.0.0.1", "port": self.broker.port, "tls": None,
                                                  "reconnect_min_s": 0.5, "reconnect_max_s": 2, **mqtt})  # fmt: skip
        self.config = config.model_copy(update={"mqtt": settings})
        self.daemon = Daemon(self.config, understander)
        self.thread = threading.Thread(target=self.daemon.run, kwargs={"install_signals": False}, daemon=True)
        self.thread.start()
        if not self.daemon.link.wait_connected(10):
            raise RuntimeError("the service did not connect")
        self.watcher = Watcher(self.broker.port)

    def device_messages(self, start: float) -> list[tuple[float, str, bytes]]:
        """Everything but the assistant's own topics and discovery: what would move something."""
        own = (f"{self.config.mqtt.prefix}/", f"{self.config.mqtt.discovery_prefix}/")
        return [m for m in self.watcher.since(start) if not m[1].startswith(own)]

    def reply_after(self, previous: object, timeout: float = 10.0):  # noqa: ANN201
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.daemon.last_reply is not None and self.daemon.last_reply is not previous:
                return self.daemon.last_reply
            time.sleep(0.02)
        return None

    def ask(self, event_at: Callable[[float], InEvent], during: Callable[[], None] = lambda: None) -> tuple[Any, float]:
        """Submit the event made for now (its arrival time), after ``during()``; (the reply, now)."""
        before, start = self.daemon.last_reply, time.monotonic()
        during()
        self.daemon.submit(event_at(start))
        return self.reply_after(before), start

    def ask_stalled(self, text: str = "") -> tuple[Any, float]:
        """``text`` (default SENTENCE) heard while the broker is stopped; it is resumed once the reply is in."""
        try:
            return self.ask(lambda at: SpokenCommand(text or SENTENCE, received_s=at), during=self.stall)
        finally:
            self.resume()
            self.daemon.link.wait_connected(15)

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stall(self) -> None:
        assert self.broker.process is not None
        self.broker.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.broker.process is not None
        self.broker.process.send_signal(signal.SIGCONT)

    def close(self) -> float:
        """Stop the service; seconds it took."""
        started = time.monotonic()
        self.daemon.stop()
        self.thread.join(10)
        spent = time.monotonic() - started
        self.resume()
        self.watcher.close()
        self.broker.stop()
        return spent


def _expected_topics(daemon: Daemon, text: str) -> set[str]:
    from ..understanding.context import Context

    return {a.topic for a in daemon.understander.parse(text, daemon.registry, Context()).actions}


SENTENCE = "turn off the lights in the kitchen"


def _score(rig: Rig, row: Row, text: str, start: float, truthful: Callable[[Any, int], bool], reply: Any,
           settle_s: float = 1.5, deadline: float | None = None) -> Row:  # fmt: skip
    """Count what reached devices since ``start``: late is after ``deadline`` (default: the command's
    delivery deadline), wrong is any topic the sentence does not name."""
    time.sleep(settle_s)
    deadline = start + rig.config.mqtt.delivery_timeout_s if deadline is None else deadline
    expected = _expected_topics(rig.daemon, text)
    seen = rig.device_messages(start)
    row.seen = len(seen)
    row.late = sum(1 for at, _, _ in seen if at > deadline)
    row.wrong = sum(1 for _, topic, _ in seen if topic not in expected)
    row.truthful = truthful(reply, row.seen)
    if reply is not None:
        row.note = f"{getattr(reply, 'outcome', '?')}: {getattr(reply, 'text', '')[:70]}"
    return row


def _done(count: int) -> Callable[[Any, int], bool]:
    return lambda r, n: r is not None and r.success and n == count


def _nothing_and(outcome: str) -> Callable[[Any, int], bool]:
    return lambda r, n: r is not None and r.outcome == outcome and n == 0


def _text(text: str, request_id: str) -> Callable[[float], InEvent]:
    return lambda at: TextCommand(text, request_id, received_s=at)


def case_normal(config: Config, understander: Understander) -> Row:
    with Rig(config, understander) as rig:
        reply, start = rig.ask(_text(SENTENCE, "n"))
        return _score(rig, Row("healthy broker", 2), SENTENCE, start, _done(2), reply, 0.5)


def case_stall_quiet(config: Config, understander: Understander) -> Row:
    with Rig(config, understander) as rig:
        time.sleep(0.8)  # a quiet link: the broker must answer a probe before anything is written
        reply, start = rig.ask_stalled()
        return _score(rig, Row("broker stalled 20 s (SIGSTOP), quiet link", 0), SENTENCE, start,
                      _nothing_and("not_delivered"), reply, 2.0)  # fmt: skip


def case_stall_written(config: Config, understander: Understander) -> Row:
    with Rig(config, understander) as rig:
        rig.watcher.publish(rig.daemon.topics.command, "what time is it")  # the broker was just heard
        time.sleep(0.1)
        reply, start = rig.ask_stalled()
        # written before the stall was known: may happen late, and the reply must say it may have happened
        return _score(rig, Row("broker stalled right after a command was written", 2), SENTENCE, start,
                      lambda r, n: r is not None and (r.outcome == "unconfirmed" or (r.success and n == 2)), reply,
                      2.0)  # fmt: skip


def case_two_stalls_then_normal(config: Config, understander: Understander) -> Row:
    with Rig(config, understander) as rig:
        for _ in range(2):
            time.sleep(0.8)
            rig.ask_stalled()
        time.sleep(0.5)
        before, start = rig.daemon.last_reply, time.monotonic()  # over MQTT: the way in works again too
        rig.watcher.publish(rig.daemon.topics.command, json.dumps({"text": SENTENCE, "id": "after"}))
        reply = rig.reply_after(before)
        return _score(rig, Row("after two stalls, a normal command", 2), SENTENCE, start, _done(2), reply, 0.5)


def case_acl(config: Config, understander: Understander) -> Row:
    acl = Path(tempfile.mkdtemp(prefix="assistant-acl-")) / "acl"
    acl.write_text("topic readwrite #\ntopic deny zigbee2mqtt/front_door_lock/set\n")
    with Rig(config, understander, f"allow_anonymous true\nacl_file {acl}\n", protocol="5") as rig:
        text = "lock the front door"
        reply, start = rig.ask(_text(text, "acl"))
        return _score(rig, Row("broker refuses the publish (ACL, MQTT 5)", 0), text, start,
                      _nothing_and("refused"), reply, 0.5)  # fmt: skip


def case_too_old(config: Config, understander: Understander) -> Row:
    with Rig(config, understander) as rig:
        reply, start = rig.ask(lambda at: TextCommand(SENTENCE, "old", received_s=at - 10))
        return _score(rig, Row("command 10 s old when its turn came", 0), SENTENCE, start, _nothing_and("too_late"),
                      reply, 0.5, deadline=start)  # fmt: skip


def case_redirect(config: Config, understander: Understander) -> Row:
    text = "turn on the lights in the kitchen"
    with Rig(config, understander) as rig:
        rig.watcher.publish("homeassistant/light/porch/config", json.dumps({
            "name": "Porch", "uniq_id": "porch", "cmd_t": "zigbee2mqtt/front_door_lock/set",
            "pl_on": '{"state":"UNLOCK"}', "dev": {"name": "Porch", "sa": "Kitchen"}}), retain=True)  # fmt: skip
        time.sleep(0.8)
        reply, start = rig.ask(_text(text, "redirect"))
        rig.watcher.publish("homeassistant/light/porch/config", b"", retain=True)
        return _score(rig, Row("discovery redirects a light to the lock", 2), text, start, _done(2), reply, 0.5)


def case_restart(config: Config, understander: Understander) -> Row:
    with Rig(config, understander) as rig:
        time.sleep(0.8)

        def kill() -> None:
            assert rig.broker.process is not None
            rig.broker.process.kill()
            rig.broker.process.wait(5)

        reply, start = rig.ask(lambda at: SpokenCommand(SENTENCE, received_s=at), during=kill)
        rig.broker.start()  # the same port, 3 s later
        rig.daemon.link.wait_connected(15)
        rig.watcher = Watcher(rig.broker.port)
        return _score(rig, Row("broker killed, back after ~3 s", 0), SENTENCE, start, _nothing_and("not_delivered"),
                      reply, 2.0)  # fmt: skip


CASES = [case_normal, case_stall_quiet, case_stall_written, case_two_stalls_then_normal, case_acl, case_too_old,
         case_redirect, case_restart]  # fmt: skip


def shutdown_during_stall(config: Config, understander: Understander) -> float:
    rig = Rig(config, understander)
    time.sleep(0.8)
    rig.stall()
    rig.daemon.submit(SpokenCommand(SENTENCE, received_s=time.monotonic()))
    time.sleep(0.3)
    return rig.close()


def run_faults(config: Config, understander: Understander) -> int:
    rows = []
    for case in CASES:
        try:
            rows.append(case(config, understander))
        except Exception as exc:  # noqa: BLE001 - a case that breaks is a row that says so
            rows.append(Row(case.__name__, -1, note=f"error: {exc}"))
        print(f"  ran {rows[-1].case}", flush=True)
    stop_s = [shutdown_during_stall(config, understander) for _ in range(3)]
    print(f"\n{'case':<50} {'expected':>8} {'seen':>5} {'late':>5} {'wrong':>6} {'truthful':>9}  reply")
    for r in rows:
        print(f"{r.case:<50} {r.expected:>8} {r.seen:>5} {r.late:>5} {r.wrong:>6} {'yes' if r.truthful else 'NO':>9}  {r.note}")
    print(f"\nstop (SIGTERM path) during a stall: {', '.join(f'{s:.2f}' for s in stop_s)} s (promise: under 2 s)")
    bad = sum(r.late + r.wrong for r in rows) + sum(not r.truthful for r in rows)
    print(f"total: {sum(r.late for r in rows)} late, {sum(r.wrong for r in rows)} wrong, "
          f"{sum(not r.truthful for r in rows)} untrue replies")  # fmt: skip
    return 0 if bad == 0 else 1
