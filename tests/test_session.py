"""The conversation core without a broker: the session (one conversation per source, one clock) with the
real model, and the router from topics to typed events."""

from __future__ import annotations

import json

import pytest

from assistant.core.events import (
    BadMessage,
    DiscoveryMessage,
    Listen,
    RejectedCommand,
    Say,
    StateReport,
    TextCommand,
    wire_json,
)
from assistant.mqtt import Topics
from assistant.service.bus import Counters
from assistant.service.router import Router
from assistant.session import Session
from assistant.understanding.context import Context


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def session(understander, config, clock) -> Session:
    return Session(understander, config, clock)


UNLOCK = [("zigbee2mqtt/front_door_lock/set", '{"state":"UNLOCK"}')]


def sent(turn) -> list[tuple[str, str]]:
    return [(a.topic, a.payload) for a in turn.actions]


def test_a_confirmation_belongs_to_the_source_that_asked(session, registry):
    asked = session.handle("unlock the front door", registry, source="A")
    assert asked.outcome == "confirm" and asked.actions == ()
    other = session.handle("yes", registry, source="B")
    assert other.actions == () and other.outcome != "done"
    done = session.handle("yes", registry, source="A")
    assert done.outcome == "done" and sent(done) == UNLOCK
    assert done.reply == "Unlocked the Front Door."
    again = session.handle("yes", registry, source="A")  # the question was answered once
    assert again.actions == ()


@pytest.mark.parametrize("text", ["ok turn on the kitchen light", "sure, what time is it",
                                  "correct the thermostat to 21 degrees"])  # fmt: skip
def test_only_a_plain_yes_confirms_anything_else_is_itself(session, registry, text):
    session.handle("unlock the front door", registry, source="A")
    turn = session.handle(text, registry, source="A")
    assert ("zigbee2mqtt/front_door_lock/set", '{"state":"UNLOCK"}') not in sent(turn)
    assert turn.outcome != "confirm" or "front door" not in turn.reply.lower()
    later = session.handle("yes", registry, source="A")  # the question was dropped
    assert later.actions == ()


def test_a_plain_no_cancels(session, registry):
    session.handle("open the garage door", registry, source="A")
    turn = session.handle("no", registry, source="A")
    assert turn.outcome == "cancelled" and turn.actions == () and turn.parse is None
    assert session.handle("yes", registry, source="A").actions == ()


def test_a_confirmation_expires(session, registry, clock, config):
    session.handle("unlock the front door", registry, source="A")
    clock.now += config.confirm.window_s + 1
    assert session.handle("yes", registry, source="A").actions == ()


def test_follow_ups_are_per_source(session, registry):
    session.handle("turn on the desk lamp", registry, source="A")
    session.handle("turn on the living room lamp", registry, source="B")
    a = session.handle("turn it off", registry, source="A")
    assert sent(a) == [("zigbee2mqtt/office_desk_lamp/set", '{"state":"OFF"}')]
    fresh = session.handle("turn it off", registry, source="C")
    assert ("zigbee2mqtt/office_desk_lamp/set", '{"state":"OFF"}') not in sent(fresh)


def test_follow_ups_end_with_the_window(session, registry, clock, config):
    session.handle("turn on the desk lamp", registry, source="A")
    clock.now += config.daemon.follow_up_s + 1
    late = session.handle("turn it off", registry, source="A")
    assert ("zigbee2mqtt/office_desk_lamp/set", '{"state":"OFF"}') not in sent(late)


def test_timers_answer_with_the_truth_and_finish_for_their_source(session, registry, clock):
    assert session.handle("how much time is left on my timer", registry, source="A").reply == "No timers are running."
    assert session.handle("set a timer for 10 minutes", registry, source="A").reply == "Timer set for 10 minutes."
    assert session.handle("cancel the timer", registry, source="B").reply == "There's no timer running."
    status = session.handle("how much time is left on my timer", registry, source="A").reply
    assert "10 minutes left on the 10-minute timer" in status
    clock.now += 599
    assert session.due() == []
    clock.now += 2
    finished = session.due()
    assert [(f.source, f.duration_s, f.label) for f in finished] == [("A", 600.0, "10-minute timer")]
    assert session.handle("cancel the timer", registry, source="A").reply == "There's no timer running."


def test_a_turn_lists_what_it_did_to_its_sources_timers(session, registry, clock):
    """``Turn.timers``: started, paused and resumed (updated), lengthened, cancelled; for the source whose
    timer it is; nothing for a question or for a command on another source's timers."""

    def changes(text: str, source: str = "A") -> list[tuple]:
        turn = session.handle(text, registry, source=source)
        return [(c.change, c.timer_id, c.duration_s, round(c.remaining_s), c.active, c.source) for c in turn.timers]

    assert changes("set a timer for 10 minutes") == [("started", 1, 600.0, 600, True, "A")]
    clock.now += 60
    assert changes("how much time is left on my timer") == []
    assert changes("pause the timer", source="B") == []  # B has no timer
    assert changes("pause the timer") == [("updated", 1, 600.0, 540, False, "A")]
    clock.now += 100  # paused: nothing runs down
    assert changes("resume the timer") == [("updated", 1, 600.0, 540, True, "A")]
    assert changes("add five minutes to the timer") == [("updated", 1, 900.0, 840, True, "A")]
    assert changes("cancel the timer") == [("cancelled", 1, 900.0, 840, True, "A")]
    assert changes("cancel the timer") == []


def test_parse_and_session_agree_on_a_first_command(session, understander, registry):
    for text in ["turn on the living room lamp", "dim the kitchen lights to 30 percent", "what time is it"]:
        parse = understander.parse(text, registry, Context())
        turn = session.handle(text, registry, source=text)
        assert turn.actions == parse.actions and turn.parse is not None and turn.parse.intent == parse.intent


# -- the router: topics to typed events --------------------------------------------------------


@pytest.fixture
def router(config):
    counters = Counters()
    got: list = []
    topics = Topics.of(config.mqtt, config.site.id)
    return Router(topics, config.mqtt, counters, got.append, lambda: {"zigbee2mqtt/hallway_light"}), counters, topics


def test_router_makes_typed_events(router):
    r, counters, topics = router
    assert r.event_for(topics.command, b"turn on the light") == TextCommand("turn on the light")
    command = r.event_for(topics.command, json.dumps({"text": "hi", "id": 7, "source": "phone",
                                                      "context": {"area": "Kitchen"}}).encode())  # fmt: skip
    assert command == TextCommand("hi", 7, "Kitchen", "phone")
    assert r.event_for(topics.say, b"hello") == Say("hello")
    assert r.event_for(topics.listen, b"") == Listen()
    assert r.event_for("zigbee2mqtt/hallway_light", b"{}") == StateReport("zigbee2mqtt/hallway_light", b"{}")
    assert isinstance(r.event_for("homeassistant/light/x/config", b"{}"), DiscoveryMessage)
    assert r.event_for("voice", b"turn on the light") is None  # no made-up topics


def test_router_drops_retained_and_malformed_commands_and_counts_them(router):
    r, counters, topics = router
    assert r.event_for(topics.command, b"unlock the front door", retained=True) is None
    assert counters["retained_command"] == 1
    for payload, reason in [(b"\xff\xfe", "invalid_utf8"), (b'{"text": "a", "text": "b"}', "invalid_json"),
                            (b'{"text": "a", "id": NaN}', "invalid_json"), (b'{"txt": "a"}', "unknown_fields"),
                            (b"[" * 100_000, None)]:  # fmt: skip
        event = r.event_for(topics.command, payload)  # not run, but answered: the sender is not left waiting
        assert isinstance(event, RejectedCommand) and (reason is None or event.reason == reason)
        if reason:
            assert counters[reason] >= 1
    with pytest.raises(BadMessage):
        TextCommand.from_payload(b'{"text": 1}')


def test_wire_json_is_strict_and_never_raises():
    assert json.loads(wire_json({"a": float("nan"), "b": [float("inf")]})) == {"a": None, "b": [None]}
    assert wire_json({"state": "\ud800"}).decode("utf-8")  # a lone surrogate becomes U+FFFD, not an error
