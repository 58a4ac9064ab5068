"""Never the wrong physical action, on a real mosquitto with the shipped config: the attacks and faults
that were reproduced against the service, each a regression test."""

from __future__ import annotations

import json
import time

from .test_daemon import PREFIX, broker, daemon, device_messages, observer, send  # noqa: F401 (fixtures)

LOCK_TOPIC = "zigbee2mqtt/front_door_lock/set"


def eventually(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def discover(observer, topic: str, payload: dict) -> None:  # noqa: F811 (the observer fixture)
    observer.publish(topic, json.dumps(payload), retain=True)


def test_discovery_cannot_redirect_a_light_to_the_lock(daemon, observer):  # noqa: F811
    discover(observer, "homeassistant/light/porch/config", {
        "name": "Porch", "uniq_id": "porch", "cmd_t": LOCK_TOPIC, "pl_on": '{"state":"UNLOCK"}',
        "dev": {"name": "Porch", "sa": "Living Room"}})  # fmt: skip
    discover(observer, "homeassistant/switch/permit/config", {
        "name": "Living Room Helper", "uniq_id": "permit", "cmd_t": "zigbee2mqtt/bridge/request/permit_join",
        "dev": {"sa": "Living Room"}})  # fmt: skip
    discover(observer, "homeassistant/switch/inject/config", {
        "name": "Living Room Injector", "uniq_id": "inject", "cmd_t": "homeassistant/switch/x/config",
        "dev": {"sa": "Living Room"}})  # fmt: skip
    discover(observer, "homeassistant/light/echo/config", {
        "name": "Living Room Echo", "uniq_id": "echo", "cmd_t": f"{PREFIX}/command", "pl_on": "yes",
        "dev": {"sa": "Living Room"}})  # fmt: skip
    eventually(lambda: daemon.counters["discovery_refused"] >= 4)  # announcements are taken in together
    ids = {d.id for d in daemon.registry.devices}
    assert not ids & {"light.porch", "switch.permit", "switch.inject", "light.echo"}
    mark = observer.mark()
    send(observer, "turn on the lights in the living room", "l1")
    send(observer, "unlock the front door", "l2")  # asks; nobody but this source may answer
    time.sleep(0.5)
    topics = [t for t, _ in device_messages(observer, mark, daemon)]
    assert LOCK_TOPIC not in topics
    assert not any(t.startswith(("zigbee2mqtt/bridge/", "homeassistant/")) for t in topics)
    assert not [t for t, _, _ in observer.since(mark) if t == f"{PREFIX}/command"][2:]  # only the two sent here


def test_a_wildcard_state_topic_does_not_make_commands_run_twice(daemon, observer):  # noqa: F811
    discover(observer, "homeassistant/sensor/everything/config", {"name": "Everything", "uniq_id": "all", "stat_t": "#"})
    time.sleep(0.5)
    assert "sensor.all" not in {d.id for d in daemon.registry.devices}
    mark = observer.mark()
    send(observer, "turn on the hallway light", "w1")
    time.sleep(0.3)
    messages = [m for m in device_messages(observer, mark, daemon) if m[0] == "zigbee2mqtt/hallway_light/set"]
    assert len(messages) == 1


def test_a_retained_command_is_never_run(broker, config, understander):  # noqa: F811
    from .mqtt_helpers import Observer
    from .test_daemon import running, with_broker

    setter = Observer(broker.port)
    setter.publish(f"{PREFIX}/command", "turn on the hallway light", retain=True)
    try:
        with running(with_broker(config, broker.port), understander) as daemon:
            assert daemon.link.wait_connected(10)
            setter.wait_for(f"{PREFIX}/status", lambda p: p == b"online")
            time.sleep(0.5)
            assert daemon.counters["retained_command"] == 1
            assert "zigbee2mqtt/hallway_light/set" not in [t for t, _, _ in setter.messages]
    finally:
        setter.publish(f"{PREFIX}/command", b"", retain=True)
        setter.close()


def test_a_poison_state_message_neither_crashes_nor_silences_it(daemon, observer):  # noqa: F811
    observer.publish("home/tv/state", json.dumps({"state": "\ud800"}, ensure_ascii=True), retain=True)
    observer.publish("zigbee2mqtt/bedroom_trv", json.dumps({"current_heating_setpoint": 1e308, "local_temperature": 17}))
    mark = observer.mark()
    observer.wait_for(f"{PREFIX}/devices", start=mark, timeout=10)
    reply = send(observer, "turn on the hallway light", "p1")
    assert reply["success"] is True
    assert daemon.counters["errors"] == 0
    assert daemon.registry.state("climate.bedroom_trv").get("temperature") != 1e308


def test_open_never_locks_a_lock(understander, registry):
    parse = understander.parse("open the front door", registry)
    sent = [(a.topic, a.payload) for a in parse.actions]
    assert (LOCK_TOPIC, '{"state":"LOCK"}') not in sent
