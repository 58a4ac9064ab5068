"""The service on a real mosquitto: commands in, device messages out, state, discovery, faults."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager

import pytest

from assistant.config import Config
from assistant.core.events import TextCommand
from assistant.service.daemon import Daemon
from assistant.understanding.parser import Context

from .mqtt_helpers import Broker, Observer

PREFIX = "assistant/default"
OWN_TOPICS = {f"{PREFIX}/{t}" for t in ("status", "intent", "reply", "timer", "devices", "stats", "probe")}


def with_broker(config: Config, port: int, **mqtt: object) -> Config:
    settings = config.mqtt.model_copy(update={"host": "127.0.0.1", "port": port, "reconnect_min_s": 1,
                                              "reconnect_max_s": 2, **mqtt})  # fmt: skip
    return config.model_copy(update={"mqtt": settings})


@contextmanager
def running(config: Config, understander, **kwargs):
    daemon = Daemon(config, understander, **kwargs)
    ready = threading.Event()
    thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False, "ready": ready.set})
    thread.start()
    try:
        assert ready.wait(10)
        yield daemon
    finally:
        daemon.stop()
        thread.join(5)
        assert not thread.is_alive()


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def observer(broker):
    o = Observer(broker.port)
    yield o
    o.close()


@pytest.fixture
def daemon(broker, observer, config, understander):
    with running(with_broker(config, broker.port), understander) as d:
        assert d.link.wait_connected(10)
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online")
        yield d


def send(observer: Observer, text: str, request_id: object, **extra: object) -> dict:
    observer.publish(f"{PREFIX}/command", json.dumps({"text": text, "id": request_id, **extra}))
    return observer.reply(request_id)


def device_messages(observer: Observer, mark: int, daemon: Daemon) -> list[tuple[str, bytes]]:
    own = OWN_TOPICS | {f"{PREFIX}/command"}
    return [(t, p) for t, p, _ in observer.since(mark) if t not in own]


def test_commands_publish_exactly_what_parse_says(daemon, observer, understander, registry):
    sentences = ["turn on the living room lamp", "dim the kitchen lights to 30 percent", "make the bedside lamp purple",
                 "switch off the coffee machine", "set the bedroom fan to high", "pause the telly"]  # fmt: skip
    for i, text in enumerate(sentences):
        expected = understander.parse(text, daemon.registry, Context())
        assert expected.actions, text
        mark = observer.mark()
        reply = send(observer, text, i)
        assert reply["success"] is True
        assert reply["text"] == expected.reply
        got = device_messages(observer, mark, daemon)
        assert got == [(a.topic, a.payload.encode()) for a in expected.actions]
        intent = json.loads(observer.wait_for(f"{PREFIX}/intent", lambda p: json.loads(p).get("id") == i))
        assert intent["intent"] == expected.intent
        assert intent["sent"] == [a.as_dict() for a in expected.actions]


def test_plain_text_command_and_availability(daemon, observer):
    mark = observer.mark()
    observer.publish(f"{PREFIX}/command", "turn on the hallway light")
    observer.wait_for("zigbee2mqtt/hallway_light/set", lambda p: p == b'{"state":"ON"}', start=mark)
    status = [(p, r) for t, p, r in observer.messages if t == f"{PREFIX}/status"]
    assert status[-1] == (b"online", False) or status[-1][0] == b"online"


def test_state_answers_come_from_published_state(daemon, observer):
    observer.publish("stat/garage_door/RESULT", json.dumps({"Shutter1": {"Position": 100}}))
    observer.publish("zigbee2mqtt/bedroom_trv", json.dumps({"current_heating_setpoint": 19, "local_temperature": 17.5}))
    time.sleep(0.3)
    assert send(observer, "is the garage door open", "g")["text"] == "Yes, the Garage Door is open."
    reply = send(observer, "what's the temperature in the bedroom", "t")
    assert "17.5 °C" in reply["text"]
    # relative changes start from the live setpoint: 19 + 1
    mark = observer.mark()
    send(observer, "make it warmer in the bedroom", "w")
    assert ("zigbee2mqtt/bedroom_trv/set", b'{"current_heating_setpoint":20.0}') in device_messages(observer, mark, daemon)


def test_discovery_adds_devices(daemon, observer):
    observer.publish("homeassistant/light/pantry/strip/config", json.dumps({
        "~": "tasmota/pantry", "name": "Pantry Strip", "uniq_id": "pantry_strip", "cmd_t": "~/cmnd/POWER",
        "stat_t": "~/stat/POWER", "dev": {"name": "Pantry", "sa": "Kitchen"}}), retain=True)
    observer.publish("zigbee2mqtt/bridge/devices", json.dumps([
        {"type": "Coordinator", "friendly_name": "Coordinator"},
        {"type": "Router", "friendly_name": "porch lantern", "definition": {"exposes": [
            {"type": "light", "features": [{"name": "state"}, {"name": "brightness"}]}]}},
    ]), retain=True)
    observer.wait_for(f"{PREFIX}/devices", lambda p: b"light.porch_lantern" in p and b"light.pantry_strip" in p)
    mark = observer.mark()
    assert send(observer, "turn on the pantry strip", "p")["success"]
    assert ("tasmota/pantry/cmnd/POWER", b"ON") in device_messages(observer, mark, daemon)
    mark = observer.mark()
    assert send(observer, "set the porch lantern to 50 percent", "l")["success"]
    assert ("zigbee2mqtt/porch lantern/set", b'{"state":"ON","brightness":127}') in device_messages(observer, mark, daemon)


def test_sensitive_action_waits_for_yes(daemon, observer):
    mark = observer.mark()
    reply = send(observer, "unlock the front door", "u1")
    assert reply["text"] == "Are you sure you want to unlock the Front Door?"
    time.sleep(0.3)
    assert device_messages(observer, mark, daemon) == []
    assert send(observer, "yes", "u2")["text"] == "Unlocked the Front Door."
    assert device_messages(observer, mark, daemon) == [("zigbee2mqtt/front_door_lock/set", b'{"state":"UNLOCK"}')]
    mark = observer.mark()
    send(observer, "open the garage door", "g1")
    assert send(observer, "no", "g2")["text"] == "OK, I won't."
    time.sleep(0.3)
    assert device_messages(observer, mark, daemon) == []


def test_follow_up_refers_to_the_last_device(daemon, observer):
    send(observer, "turn on the desk lamp", "f1")
    mark = observer.mark()
    send(observer, "now turn it off", "f2")
    assert device_messages(observer, mark, daemon) == [("zigbee2mqtt/office_desk_lamp/set", b'{"state":"OFF"}')]


def test_timers_run_and_finish(daemon, observer):
    assert send(observer, "set a timer for 2 seconds", "t1")["text"] == "Timer set for 2 seconds."
    assert "left on the 2-second timer" in send(observer, "how much time is left on my timer", "t2")["text"]
    event = json.loads(observer.wait_for(f"{PREFIX}/timer", timeout=6))
    assert event["event"] == "finished" and event["duration_s"] == 2
    observer.wait_for(f"{PREFIX}/reply", lambda p: json.loads(p)["outcome"] == "timer_finished")


def test_only_registry_and_own_topics_are_published(daemon, observer, registry):
    mark = observer.mark()
    for i, text in enumerate(["turn off all the lights", "open the blinds halfway", "start the vacuum",
                              "add eggs to the shopping list", "turn the tv volume up"]):  # fmt: skip
        send(observer, text, f"o{i}")
    device_topics = set()
    for device in daemon.registry.devices:
        device_topics.add(f"{device.topic}/set")
        device_topics.update(c.topic for c in device.commands.values())
        if device.protocol == "tasmota":
            device_topics.update(f"cmnd/{device.topic}/{c}" for c in ("POWER", "Dimmer", "ShutterPosition", "FanSpeed"))
    published = {t for t, _ in device_messages(observer, mark, daemon)}
    assert published, "the commands published nothing"
    assert published <= device_topics


def restart_between_attempts(broker, daemon) -> None:
    """Start ``broker`` again just after one of the daemon's reconnect attempts was refused, so that the next
    one is ``reconnect_min_s`` away and an observer started now subscribes before the daemon is back (what it
    publishes at once on reconnecting would otherwise race the observer's subscription)."""
    tried = daemon.link.attempts
    deadline = time.monotonic() + 10
    while daemon.link.attempts == tried and time.monotonic() < deadline:
        time.sleep(0.02)
    assert daemon.link.attempts > tried, "the daemon made no reconnect attempt"
    time.sleep(0.1)  # the attempt refused
    assert not daemon.link.connected
    broker.start()


def test_broker_outage_no_late_actions(tmp_path, config, understander):
    # the broker logs every PUBLISH it receives: a late action sent at the reconnect, before the observer below
    # has subscribed again, is seen there too
    broker = Broker(tmp_path, extra="allow_anonymous true\nlog_type all\n").start()
    try:
        with running(with_broker(config, broker.port, delivery_timeout_s=1, reconnect_min_s=3, reconnect_max_s=3),
                     understander) as daemon:  # fmt: skip
            assert daemon.link.wait_connected(10)
            broker.stop()
            time.sleep(0.5)
            assert not daemon.link.connected
            daemon.submit(TextCommand("turn on the garden lights", "late"))
            time.sleep(2.5)  # well past the delivery timeout
            restart_between_attempts(broker, daemon)
            observer = Observer(broker.port)
            try:
                assert daemon.link.wait_connected(15)
                observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online", timeout=10)
                # the failed command's reply arrives once connected; its device message never does
                reply = observer.reply("late")
                assert reply["success"] is False and reply["outcome"] == "not_delivered"
                mark = observer.mark()
                observer.publish(f"{PREFIX}/command", json.dumps({"text": "turn on the hallway light", "id": "after"}))
                observer.reply("after")
                topics = [t for t, _, _ in observer.messages]
                assert "zigbee2mqtt/garden_lights/set" not in topics
                assert ("zigbee2mqtt/hallway_light/set", b'{"state":"ON"}') in [(t, p) for t, p, _ in observer.since(mark)]
                received = (tmp_path / "mosquitto.log").read_text(errors="replace")
                assert "'zigbee2mqtt/hallway_light/set'" in received  # the log does show device messages
                assert "'zigbee2mqtt/garden_lights/set'" not in received
            finally:
                observer.close()
    finally:
        broker.stop()


def test_timer_survives_a_broker_outage(tmp_path, config, understander):
    broker = Broker(tmp_path).start()
    try:
        with running(with_broker(config, broker.port, reconnect_min_s=3, reconnect_max_s=3), understander) as daemon:
            assert daemon.link.wait_connected(10)
            daemon.submit(TextCommand("set a timer for 2 seconds"))
            time.sleep(0.5)
            broker.stop()
            time.sleep(3)  # the timer ends while the broker is down
            restart_between_attempts(broker, daemon)
            observer = Observer(broker.port, topics=(f"{PREFIX}/#",))
            try:
                event = json.loads(observer.wait_for(f"{PREFIX}/timer", timeout=15))
                assert event["event"] == "finished"
            finally:
                observer.close()
    finally:
        broker.stop()


# -- hostile input ---------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                            max_leaves=10)  # fmt: skip
_invalid_utf8 = st.binary(min_size=1, max_size=200).filter(lambda b: _not_utf8(b))
_bad_json = st.text(max_size=100).map(lambda t: "{" + t).filter(lambda t: not _is_json(t)).map(
    lambda t: t.encode("utf-8", "surrogatepass"))
_unknown_fields = st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda k: k not in ("text", "id", "context", "source")),
                                  _json_values, min_size=1, max_size=4).map(
    lambda d: json.dumps({"text": "turn on the hallway light", **d}).encode())  # fmt: skip
_wrong_types = st.fixed_dictionaries({"text": _json_values.filter(lambda v: not isinstance(v, str))}).map(
    lambda d: json.dumps(d).encode())
_oversize = st.integers(5000, 300_000).map(lambda n: b"turn on the hallway light " + b"x" * n)
hostile_commands = st.one_of(_invalid_utf8, _bad_json, _unknown_fields, _wrong_types, _oversize)
hostile_state = st.one_of(st.binary(max_size=300), _json_values.map(lambda v: json.dumps(v).encode()))


def _not_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(hostile_commands, min_size=1, max_size=5), states=st.lists(hostile_state, max_size=3))
def test_hostile_payloads_never_act_or_crash(daemon, observer, commands, states):
    before = sum(daemon.counters.values())
    mark = observer.mark()
    for payload in commands:
        observer.publish(f"{PREFIX}/command", payload)
    for payload in states:
        observer.publish("zigbee2mqtt/kitchen_ceiling", payload)
        observer.publish("stat/coffee_machine/RESULT", payload)
    # a valid command afterwards is answered: the service is alive and in order
    request_id = f"alive-{mark}"
    # (a source of its own: the hostile examples together exceed one source's rate limit)
    observer.publish(f"{PREFIX}/command", json.dumps({"text": "what time is it", "id": request_id, "source": request_id}))
    assert observer.reply(request_id)["success"] is True
    own = OWN_TOPICS | {f"{PREFIX}/command", "zigbee2mqtt/kitchen_ceiling", "stat/coffee_machine/RESULT"}
    acted = [t for t, _, _ in observer.since(mark) if t not in own]
    assert acted == []
    assert sum(daemon.counters.values()) - before >= len(commands)
    assert daemon.counters["errors"] == 0


def test_flood_is_rate_limited(broker, observer, config, understander):
    limited = with_broker(config, broker.port, commands_per_minute=5)
    with running(limited, understander) as daemon:
        assert daemon.link.wait_connected(10)
        # "online" follows the subscriptions in the connect handler: the broker has them once it is seen
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online")
        for i in range(20):
            observer.publish(f"{PREFIX}/command", json.dumps({"text": "what time is it", "id": i, "source": "kitchen"}))
        observer.publish(f"{PREFIX}/command", json.dumps({"text": "what time is it", "id": "other", "source": "hall"}))
        assert observer.reply("other")["success"]
        time.sleep(0.5)
        replies = [json.loads(p) for t, p, _ in observer.messages if t == f"{PREFIX}/reply"]
        answered = {r.get("id") for r in replies if r["outcome"] != "rate_limited"} - {"other"}
        assert len(answered) == 5
        assert daemon.counters["rate_limited"] == 15
        refused = {r.get("id") for r in replies if r["outcome"] == "rate_limited"}
        assert len(refused) == 15 and not refused & answered  # told, not left waiting


def test_invented_sources_do_not_escape_the_total_limit(broker, observer, config, understander):
    limited = with_broker(config, broker.port, commands_per_minute=5, commands_per_minute_total=10)
    with running(limited, understander) as daemon:
        assert daemon.link.wait_connected(10)
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online")
        for i in range(60):
            observer.publish(f"{PREFIX}/command", json.dumps({"text": "what time is it", "id": i, "source": f"s{i}"}))
        observer.publish(f"{PREFIX}/command", b"{not json")
        observer.wait_for(f"{PREFIX}/reply", lambda p: json.loads(p)["outcome"] == "rejected")
        replies = [json.loads(p) for t, p, _ in observer.messages if t == f"{PREFIX}/reply"]
        assert len([r for r in replies if r["success"]]) == 10
        assert daemon.counters["rate_limited"] == 50


def test_devices_command_lists_the_running_registry(daemon, observer, broker, config, capsys):
    from assistant.tools.listing import fetch_devices, print_devices

    def hallway_on(payload: bytes) -> bool:
        return any(r["id"] == "light.hallway" and r["state"].get("state") == "on" for r in json.loads(payload))

    observer.publish("zigbee2mqtt/hallway_light", json.dumps({"state": "ON", "brightness": 254}))
    observer.wait_for(f"{PREFIX}/devices", hallway_on)  # live state republishes the list (at most every 2 s)
    settings = with_broker(config, broker.port)
    listing = fetch_devices(settings)
    assert listing.status == "online" and listing.stale_note is None
    rows = {row["id"]: row for row in listing.rows}
    assert rows.keys() == {d.id for d in daemon.registry.devices}
    assert rows["light.hallway"]["source"] == "config"
    assert rows["light.hallway"]["state"]["state"] == "on"
    assert print_devices(settings, as_json=False) == 0
    out = capsys.readouterr().out
    assert out.startswith("id ") and "light.living_room_lamp" in out and "offline" not in out


def test_devices_command_says_when_the_list_is_the_last_one_of_a_stopped_service(broker, config, understander,
                                                                                  capsys):  # fmt: skip
    from assistant.tools.listing import fetch_devices, print_devices

    settings = with_broker(config, broker.port)
    with running(settings, understander) as daemon:
        assert daemon.link.wait_connected(10)
        assert fetch_devices(settings).status == "online"
    listing = fetch_devices(settings)  # the service has stopped: its list is still retained
    assert listing.status == "offline" and listing.rows
    assert print_devices(settings, as_json=False) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "(service offline; last known list: states may be out of date)"
    assert "light.living_room_lamp" in out
    assert print_devices(settings, as_json=True) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == listing.rows
    assert captured.err == "note: service offline; last known list: states may be out of date\n"


def test_devices_command_without_a_status_says_it_is_unknown(broker, observer, config, capsys):
    from assistant.tools.listing import print_devices

    rows = [{"id": "light.x", "name": "X", "area": None, "protocol": "zigbee2mqtt", "source": "config", "state": {}}]
    observer.publish(f"{PREFIX}/devices", json.dumps(rows), retain=True)
    assert print_devices(with_broker(config, broker.port), as_json=False) == 0
    assert capsys.readouterr().out.splitlines()[0] == "(service status unknown; last known list: states may be out of date)"


def test_stats_are_retained_from_the_start_even_when_the_broker_comes_up_late(tmp_path, config, understander):
    """No drops yet, and the broker down when the service starts: the retained stats (all zero) are there
    as soon as it connects, not only after the first dropped message (issue 13; the link's backlog of own
    messages carries the first stats over to the connection)."""
    broker = Broker(tmp_path)  # its port, not started yet
    try:
        with running(with_broker(config, broker.port), understander) as daemon:
            time.sleep(0.6)  # a few turns of the main loop while the broker is down
            assert not daemon.link.connected
            broker.start()
            assert daemon.link.wait_connected(15)
            observer = Observer(broker.port, topics=(f"{PREFIX}/stats",))
            try:
                stats = json.loads(observer.wait_for(f"{PREFIX}/stats", timeout=10))
            finally:
                observer.close()
    finally:
        broker.stop()
    assert stats == {} and daemon.counters.values() == []


def test_stats_are_retained_again_after_a_broker_restart_that_lost_them(tmp_path, config, understander):
    """A broker without persistence forgets retained messages when it restarts: the device list is
    published again on the reconnect, and so must the stats be, drops or not."""
    broker = Broker(tmp_path).start()
    try:
        with running(with_broker(config, broker.port), understander) as daemon:
            assert daemon.link.wait_connected(10)
            first = Observer(broker.port, topics=(f"{PREFIX}/stats",))
            try:
                first.wait_for(f"{PREFIX}/stats", timeout=10)
            finally:
                first.close()
            broker.stop()  # persistence false: the retained stats are gone with it
            time.sleep(0.5)
            assert not daemon.link.connected
            broker.start()
            assert daemon.link.wait_connected(15)
            time.sleep(0.5)
            later = Observer(broker.port, topics=(f"{PREFIX}/devices", f"{PREFIX}/stats"))
            try:
                later.wait_for(f"{PREFIX}/devices", timeout=10)  # republished on the reconnect
                stats = json.loads(later.wait_for(f"{PREFIX}/stats", timeout=10))
            finally:
                later.close()
    finally:
        broker.stop()
    assert stats == {}
