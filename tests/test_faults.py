"""Stalls, refusals and late commands on a real mosquitto: every reply tells the truth, no command is
acted on late, and the service comes back by itself (issue 9, items 7, 8, 11 and 13)."""

from __future__ import annotations

import signal
import time

from assistant.core.events import SpokenCommand, TextCommand

from .mqtt_helpers import Broker, Observer
from .test_daemon import PREFIX, broker, daemon, device_messages, observer, running, send, with_broker  # noqa: F401

SENTENCE = "turn off the lights in the kitchen"
KITCHEN = {"zigbee2mqtt/kitchen_ceiling/set", "zigbee2mqtt/kitchen_counter/set"}


def wait_reply(daemon, previous, timeout: float = 10.0):  # noqa: F811
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.last_reply is not None and daemon.last_reply is not previous:
            return daemon.last_reply
        time.sleep(0.05)
    raise AssertionError("no reply")


def stalled(broker):  # noqa: F811
    broker.process.send_signal(signal.SIGSTOP)


def resumed(broker):  # noqa: F811
    broker.process.send_signal(signal.SIGCONT)


def spoken_during_stall(daemon, broker):  # noqa: F811
    """SENTENCE heard while the broker is stopped; the reply it got (the broker resumed after it)."""
    before = daemon.last_reply
    stalled(broker)
    try:
        daemon.submit(SpokenCommand(SENTENCE, received_s=time.monotonic()))
        return wait_reply(daemon, before)
    finally:
        resumed(broker)


def test_kitchen_sentence_names_two_lights(daemon, understander):  # noqa: F811
    from assistant.understanding.context import Context

    parse = understander.parse(SENTENCE, daemon.registry, Context())
    assert {a.topic for a in parse.actions} == KITCHEN


def test_a_stalled_broker_never_gets_a_command_late_and_the_service_comes_back(daemon, observer, broker):  # noqa: F811
    for stall in range(2):  # twice: nothing stays stuck after a stall (paho's queue is never touched)
        time.sleep(0.8)  # a quiet link: the broker must answer a probe before anything is written
        mark = observer.mark()
        reply = spoken_during_stall(daemon, broker)
        assert reply.outcome == "not_delivered" and reply.success is False, reply
        assert "couldn't reach" in reply.text and "nothing was sent" in reply.text
        assert daemon.link.wait_connected(20)
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online", start=mark, timeout=20)
        time.sleep(0.5)
        assert not [t for t, _ in device_messages(observer, mark, daemon) if t in KITCHEN], f"late action after stall {stall}"
        answer = send(observer, "turn on the hallway light", f"after-{stall}")
        assert answer["success"] is True and answer["outcome"] == "done", answer


def test_a_command_written_just_before_a_stall_is_reported_as_unconfirmed(daemon, observer, broker):  # noqa: F811
    send(observer, "turn on the hallway light", "warm")  # the broker was just heard: the next command goes at once
    reply = spoken_during_stall(daemon, broker)
    assert reply.outcome == "unconfirmed" and reply.success is False, reply
    assert "may or may not have happened" in reply.text


def test_a_command_that_waited_too_long_is_answered_and_not_acted_on(daemon, observer):  # noqa: F811
    mark = observer.mark()
    daemon.submit(TextCommand("turn on the hallway light", "old", received_s=time.monotonic() - 10))
    reply = observer.reply("old")
    assert reply["outcome"] == "too_late" and reply["success"] is False
    assert not device_messages(observer, mark, daemon)
    assert daemon.counters["too_late"] == 1


def test_a_publish_the_broker_refuses_is_not_reported_done(tmp_path, config, understander):
    acl = tmp_path / "acl"
    acl.write_text("topic readwrite #\ntopic deny zigbee2mqtt/hallway_light/set\n")
    refusing = Broker(tmp_path, extra=f"allow_anonymous true\nacl_file {acl}\n").start()
    observer = Observer(refusing.port)  # noqa: F811
    try:
        with running(with_broker(config, refusing.port, protocol="5"), understander) as service:
            assert service.link.wait_connected(10)
            observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online")
            reply = send(observer, "turn on the hallway light", "acl")
            assert reply["outcome"] == "refused" and reply["success"] is False, reply
            assert "refused" in reply["text"] and "Hallway Light" in reply["text"]
            allowed = send(observer, "turn on the living room lamp", "ok")
            assert allowed["success"] is True
    finally:
        observer.close()
        refusing.stop()


def test_stopping_during_a_stall_answers_what_is_known_and_does_not_hang(broker, observer, config, understander):  # noqa: F811
    with running(with_broker(config, broker.port), understander) as service:
        assert service.link.wait_connected(10)
        time.sleep(0.8)
        stalled(broker)
        service.submit(SpokenCommand(SENTENCE, received_s=time.monotonic()))
        time.sleep(0.3)
        assert service.courier.errands  # waiting for the broker's answer to a probe
        # leaving `running` stops it (joined with a bound) while the broker is still stopped
    resumed(broker)
    assert service.last_reply is not None and service.last_reply.outcome == "not_delivered"


def test_a_discovery_flood_is_taken_in_together_and_commands_see_every_announcement(daemon, observer):  # noqa: F811
    import json

    mark = observer.mark()
    for i in range(200):
        observer.publish(f"homeassistant/light/flood{i}/config", json.dumps({
            "name": f"Flood {i}", "uniq_id": f"flood{i}", "cmd_t": f"flood/{i}/set", "stat_t": f"flood/{i}/state",
            "dev": {"sa": "Garden"}}), retain=True)  # fmt: skip
    observer.publish("homeassistant/light/porch/config", json.dumps({
        "name": "Porch Light", "uniq_id": "porch_light", "cmd_t": "porch/light/set", "dev": {"sa": "Garden"}}), retain=True)  # fmt: skip
    reply = send(observer, "turn on the porch light", "porch")  # right after: it must already know the porch light
    assert reply["success"] is True, reply
    assert ("porch/light/set", b"ON") in device_messages(observer, mark, daemon)
    time.sleep(1.0)
    assert len(daemon.registry.devices) >= 201
    rebuilds = [t for t, _, _ in observer.since(mark) if t == f"{PREFIX}/devices"]
    assert 1 <= len(rebuilds) <= 10, f"{len(rebuilds)} device lists for 201 announcements"
    for i in range(200):
        observer.publish(f"homeassistant/light/flood{i}/config", b"", retain=True)
    observer.publish("homeassistant/light/porch/config", b"", retain=True)
