"""The new intents through the whole parser (slots, the intent's slot filter, the confirmation policy, the output),
on a model whose prediction the test chooses: these run before the retrained model exists."""

from __future__ import annotations

import json

from assistant.config import Understanding
from assistant.understanding.context import Context, Previous

from .test_confidence_rule import FixedModel


def understand(text, registry, label, context=None, **slots):
    from assistant.understanding.parser import Understander

    model = FixedModel(label, 0.99, **slots)
    return Understander(model, Understanding()).parse(text, registry, Context(area=context))  # type: ignore[arg-type]


def test_disarming_waits_for_a_yes(registry):
    result = understand("disarm the alarm", registry, "HassTurnOff", name="alarm")
    assert result.outcome == "confirm" and result.actions == ()
    assert [(a.topic, a.payload) for a in result.pending_actions] == [("alarmo/command", "DISARM")]
    assert result.reply.startswith("Are you sure you want to") and "the House Alarm" in result.reply
    armed = understand("arm the alarm", registry, "HassTurnOn", name="alarm")
    assert armed.outcome == "done" and [a.payload for a in armed.actions] == ["ARM_AWAY"]


def test_the_words_said_win_over_the_direction_the_model_chose_for_an_alarm(registry):
    # the direction rule runs after the plan, on the whole sentence (understanding/polarity.py)
    for label, text in (("HassTurnOn", "disarm the alarm"), ("HassTurnOff", "arm the house alarm")):
        result = understand(text, registry, label, name="alarm")
        assert result.actions == () and result.pending_actions == () and result.outcome == "unsure"
        assert result.reply == "Sorry, I'm not sure: should I arm or disarm the House Alarm?"


def test_new_slots_reach_the_output(registry):
    played = understand("play the album abbey road on the bedroom speaker", registry, "HassMediaSearchAndPlay",
                        media_class="album", query="abbey road", name="bedroom speaker")  # fmt: skip
    assert (played.slots["query"], played.slots["media_class"]) == ("abbey road", "album")
    assert json.loads(played.actions[0].payload) == {"query": "abbey road", "media_class": "album"}
    fan = understand("put the ac fan on high", registry, "HassClimateSetFanMode", name="ac", fan_mode="on high")
    assert fan.slots["fan_mode"] == "high" and [a.payload for a in fan.actions] == ["high"]
    said = understand("broadcast dinner is ready", registry, "HassBroadcast", message="dinner is ready")
    assert said.slots == {"message": "dinner is ready"} and said.actions == () and said.outcome == "unsupported"
    assert set(said.as_dict()) >= {"text", "intent", "confidence", "slots", "targets", "actions", "reply", "outcome",
                                   "timings_ms"}  # fmt: skip


def test_a_command_with_new_slots_is_a_previous_command_on_the_wire(registry):
    fan = understand("set the ac fan to low", registry, "HassClimateSetFanMode", name="ac", fan_mode="low")
    previous = Previous.of(fan)
    assert previous is not None
    assert Previous.from_json(json.loads(json.dumps(previous.as_dict()))) == previous


def test_questions_through_the_parser(registry):
    assert understand("who is home", registry, "HassGetState").reply == "Anna is home."
    assert understand("is ben home", registry, "HassGetState", name="ben home").reply == "No, Ben is away."
    humidity = understand("what is the humidity in the bathroom", registry, "HassClimateGetTemperature", area="bathroom")
    assert humidity.reply == "The Bathroom Humidity is 64%." and humidity.targets == ("sensor.bathroom_humidity",)
    outside = understand("what's the temperature outside", registry, "HassGetWeather")
    assert outside.reply == "The Outside Temperature is 7.5 °C." and outside.outcome == "answer"


def test_vacuum_room_and_valve_position_through_the_parser(registry):
    cleaned = understand("vacuum the kitchen", registry, "HassVacuumCleanArea", area="kitchen")
    assert cleaned.targets == ("vacuum.robot",) and json.loads(cleaned.actions[0].payload)["segment_ids"] == ["2"]
    started = understand("start the vacuum in the dining room", registry, "HassVacuumStart", area="dining room")
    assert json.loads(started.actions[0].payload)["segment_ids"] == ["3"]  # no vacuum there: clean it
    valve = understand("set the irrigation valve to 50%", registry, "HassFanSetSpeed", name="irrigation valve",
                       percentage="50%")  # fmt: skip
    assert valve.targets == ("valve.garden_sprinkler",) and valve.slots.get("position") == 50
    assert valve.actions == () and valve.outcome == "unsupported"  # this zigbee2mqtt valve has no position command
