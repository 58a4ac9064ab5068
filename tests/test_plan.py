"""The intent handlers without the model: the spans and slots a parse would give, the real config.yaml and its
Registry, the messages and replies that come out. Every answer is read from the registry's live state."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from assistant.understanding.plan import INTENTS, Outcome, Request
from assistant.understanding.resolve import Resolver

from .conftest import small_config


def plan(registry, config, intent, text, spans=None, slots=None, area="Living Room", label=None) -> Outcome:
    """What parse would plan for ``text`` heard as ``intent`` with these spans (name/area/floor) and value slots."""
    spans = dict(spans or {})
    request = Request(text, label or intent, {**spans, **(slots or {})}, spans, registry, Resolver(registry),
                      config.understanding, area, datetime(2026, 3, 14, 9, 30),
                      [[spans["name"]]] if "name" in spans else [])  # fmt: skip
    return INTENTS[intent].handle(request, INTENTS[intent])


def sent(outcome: Outcome) -> list[tuple[str, str]]:
    return [(a.topic, a.payload) for a in outcome.actions]


def ids(outcome: Outcome) -> list[str]:
    return sorted(d.id for d in outcome.targets)


# -- turning on and off: buttons, alarms, input booleans, lawn mowers ------------------------------------


def test_turning_on_a_button_presses_it(registry, config):
    outcome = plan(registry, config, "HassTurnOn", "press the restart router button", {"name": "restart router"})
    assert sent(outcome) == [("home/router/restart", "PRESS")]
    assert outcome.reply == "Pressed the Restart Router."
    off = plan(registry, config, "HassTurnOff", "turn off the router", {"name": "router"})
    assert off.actions == [] and off.kind == "unsupported"  # nothing to turn off: never a made-up message


def test_the_alarm_arms_away_and_disarms(registry, config):
    armed = plan(registry, config, "HassTurnOn", "arm the alarm", {"name": "alarm"})
    assert sent(armed) == [("alarmo/command", "ARM_AWAY")] and armed.reply == "Armed the House Alarm."
    disarmed = plan(registry, config, "HassTurnOff", "turn off the security system", {"name": "security system"})
    assert sent(disarmed) == [("alarmo/command", "DISARM")]  # parse holds it back and asks first (test_parse)


def test_input_boolean_and_lawn_mower(registry, config):
    assert sent(plan(registry, config, "HassTurnOn", "turn on guest mode", {"name": "guest mode"})) == [
        ("home/helpers/guest_mode/set", "ON")]
    assert sent(plan(registry, config, "HassTurnOff", "turn off guest mode", {"name": "guest mode"})) == [
        ("home/helpers/guest_mode/set", "OFF")]
    start = plan(registry, config, "HassLawnMowerStartMowing", "start mowing the lawn")
    assert sent(start) == [("home/mower/cmd", "start_mowing")] and start.reply == "Started the Lawn Mower."
    dock = plan(registry, config, "HassLawnMowerDock", "send the robot mower home", {"name": "robot mower"})
    assert sent(dock) == [("home/mower/cmd", "dock")] and dock.reply == "Sent the Lawn Mower back to its dock."


def test_people_and_weather_are_never_switched(registry, config):
    outcome = plan(registry, config, "HassTurnOn", "turn on anna", {"name": "anna"})
    assert outcome.actions == [] and outcome.kind in ("unsupported", "no_target")


# -- questions: people, binary sensors by class, sensor values with their unit ------------------------------


def test_where_is_a_person(registry, config):
    assert plan(registry, config, "HassGetState", "where is anna", {"name": "anna"}).reply == "Anna is home."
    assert plan(registry, config, "HassGetState", "where's Ben", {"name": "Ben"}).reply == "Ben is away."
    assert plan(registry, config, "HassGetState", "is ben home", {"name": "ben"}, {"state": "home"}).reply == \
        "No, Ben is away."
    assert plan(registry, config, "HassGetState", "is anna at home", {"name": "anna"}, {"state": "home"}).reply == \
        "Yes, Anna is home."


def test_who_is_home_from_live_state(registry, config):
    outcome = plan(registry, config, "HassGetState", "who is home")
    assert outcome.reply == "Anna is home." and outcome.kind == "answer" and outcome.actions == []
    assert ids(outcome) == ["person.anna", "person.ben"]
    both = registry.with_state({"person.ben": {"state": "home"}})
    assert plan(both, config, "HassGetState", "who's home", slots={"state": "home"}).reply == "Anna and Ben are home."
    nobody = both.with_state({"person.anna": {"state": "not_home"}, "person.ben": {"state": "work"}})
    assert plan(nobody, config, "HassGetState", "who is home").reply == "Nobody is home."
    assert plan(nobody, config, "HassGetState", "where is ben", {"name": "ben"}).reply == "Ben is at work."
    assert plan(registry, config, "HassGetState", "is anyone home", slots={"state": "home"}).reply == \
        "Yes, Anna is home."
    assert plan(registry, config, "HassGetState", "is everybody home", slots={"state": "home"}).reply == \
        "No, Ben is away."


@pytest.mark.parametrize(("text", "spans", "slots", "reply"), [
    ("is the front door lock battery low", {"name": "front door lock battery"}, {"state": "low"},
     "No, the Front Door Lock Battery is normal."),
    ("is there a leak under the washing machine", {"name": "leak sensor"}, {}, "The Washing Machine Leak Sensor is dry."),
    ("is there motion in the hallway", {"area": "hallway"}, {}, "The Hallway Motion is clear."),
    ("is the back door open", {"name": "back door"}, {"state": "open"}, "No, the Back Door is closed."),
    ("is the alarm armed", {"name": "alarm"}, {"state": "armed"}, "No, the House Alarm is disarmed."),
])  # fmt: skip
def test_binary_sensors_answer_in_the_words_of_their_class(registry, config, text, spans, slots, reply):
    outcome = plan(registry, config, "HassGetState", text, spans, slots)
    assert (outcome.reply, outcome.kind, outcome.actions) == (reply, "answer", [])


def test_binary_sensor_answers_follow_live_state(registry, config):
    live = registry.with_state({"binary_sensor.front_door_battery": {"state": "on"},
                                "binary_sensor.washer_leak": {"state": "on"},
                                "binary_sensor.hallway_motion": {"state": "on"},
                                "alarm_control_panel.house_alarm": {"state": "armed_away"}})  # fmt: skip
    assert plan(live, config, "HassGetState", "is the front door lock battery low",
                {"name": "front door lock battery"}, {"state": "low"}).reply == "Yes, the Front Door Lock Battery is low."  # fmt: skip
    assert plan(live, config, "HassGetState", "is the leak sensor wet", {"name": "leak sensor"}, {"state": "wet"}).reply == \
        "Yes, the Washing Machine Leak Sensor is wet."
    assert plan(live, config, "HassGetState", "any motion in the hallway", {"area": "hallway"}).reply == \
        "The Hallway Motion is detected."
    assert plan(live, config, "HassGetState", "is the alarm armed", {"name": "alarm"}, {"state": "armed"}).reply == \
        "Yes, the House Alarm is armed (away)."


def test_more_binary_sensor_classes():
    config = small_config(
        "  - {id: binary_sensor.router, name: Router Online, area: Office, domain: binary_sensor,"
        " device_class: connectivity, protocol: zigbee2mqtt, topic: z/r, state: {state: 'off'}}\n"
        "  - {id: binary_sensor.firmware, name: Hub Firmware, area: Office, domain: binary_sensor,"
        " device_class: update, protocol: zigbee2mqtt, topic: z/f, state: {state: 'on'}}\n")  # fmt: skip
    from assistant.devices import Registry

    registry = Registry.from_config(config)
    assert plan(registry, config, "HassGetState", "is the router online", {"name": "router online"}).reply == \
        "The Router Online is disconnected."
    assert plan(registry, config, "HassGetState", "is the hub firmware up to date", {"name": "hub firmware"}).reply == \
        "The Hub Firmware has an update available."


def test_sensor_values_with_their_own_unit(registry, config):
    humidity = plan(registry, config, "HassGetState", "what is the humidity in the bathroom", {"area": "bathroom"})
    assert humidity.reply == "The Bathroom Humidity is 64%." and ids(humidity) == ["sensor.bathroom_humidity"]
    named = plan(registry, config, "HassGetState", "what's the bathroom humidity", {"name": "bathroom humidity"})
    assert named.reply == "The Bathroom Humidity is 64%."
    live = registry.with_state({"sensor.garden_temperature": {"state": "45.5", "unit": "°F"}})
    assert plan(live, config, "HassGetState", "what's the outdoor temperature", {"name": "outdoor temperature"}).reply == \
        "The Outside Temperature is 45.5 °F."


# -- temperature, humidity, weather ------------------------------------------------------------------------


@pytest.mark.parametrize("spans", [{}, {"area": "outside"}, {"name": "outside"}])
def test_temperature_outside_comes_from_the_outside_sensor(registry, config, spans):
    outcome = plan(registry, config, "HassClimateGetTemperature", "what's the temperature outside", spans)
    assert outcome.reply == "The Outside Temperature is 7.5 °C."
    assert ids(outcome) == ["sensor.garden_temperature"] and outcome.kind == "answer"


def test_temperature_in_an_area_without_a_thermostat_comes_from_its_sensor(registry, config):
    outcome = plan(registry, config, "HassClimateGetTemperature", "how cold is it in the garden", {"area": "garden"})
    assert outcome.reply == "The Outside Temperature is 7.5 °C."


def test_temperature_where_there_is_a_thermostat_comes_from_it(registry, config):
    here = plan(registry, config, "HassClimateGetTemperature", "what's the temperature in here")
    assert here.reply == "It's 19.5 °C in the Living Room." and ids(here) == ["climate.living_room_thermostat"]
    office = plan(registry, config, "HassClimateGetTemperature", "how warm is it in the office", {"area": "office"})
    assert office.reply == "It's 24 °C in the Office."
    live = registry.with_state({"climate.office_ac": {"current_temperature": 25.25}})
    assert plan(live, config, "HassClimateGetTemperature", "how warm is the office", {"area": "office"}).reply == \
        "It's 25.2 °C in the Office."


def test_humidity_heard_as_a_temperature_question_answers_from_the_humidity_sensor(registry, config):
    for spans in ({"area": "bathroom"}, {"name": "humidity", "area": "bathroom"}):
        outcome = plan(registry, config, "HassClimateGetTemperature", "what is the humidity in the bathroom", spans)
        assert outcome.reply == "The Bathroom Humidity is 64%." and outcome.kind == "answer"
    nowhere = plan(registry, config, "HassClimateGetTemperature", "how humid is the kitchen", {"area": "kitchen"})
    assert nowhere.actions == [] and "humiditys" not in nowhere.reply and nowhere.kind == "no_target"


def test_weather_from_the_weather_entity(registry, config):
    outcome = plan(registry, config, "HassGetWeather", "what's the weather like")
    assert (outcome.reply, ids(outcome), outcome.kind) == ("It's 7 °C and rainy.", ["weather.home"], "answer")
    live = registry.with_state({"weather.home": {"state": "partlycloudy", "temperature": 64.4, "unit": "°F"}})
    assert plan(live, config, "HassGetWeather", "how's the weather").reply == "It's 64.4 °F and partly cloudy."
    assert plan(registry, config, "HassGetWeather", "what's the forecast", {"name": "forecast"}).reply == \
        "It's 7 °C and rainy."
    assert plan(registry, config, "HassGetWeather", "what's the weather in the garden", {"area": "garden"}).reply == \
        "It's 7 °C and rainy."
    later = plan(registry, config, "HassGetWeather", "will it be sunny this afternoon")
    assert later.reply == "I only know the weather now. It's 7 °C and rainy."  # never a forecast it does not have
    elsewhere = plan(registry, config, "HassGetWeather", "what's the weather in paris", {"area": "paris"})
    assert elsewhere.reply == "Sorry, I only know the weather here, not in paris." and elsewhere.targets == []


def test_weather_without_a_weather_entity_says_so():
    from assistant.devices import Registry

    config = small_config("  - {id: light.a, name: A, domain: light, protocol: tasmota, topic: a}\n")
    outcome = plan(Registry.from_config(config), config, "HassGetWeather", "what's the weather", area="Kitchen")
    assert outcome.reply == "Sorry, no weather source is set up."
    silent = small_config("  - {id: weather.home, name: Forecast, domain: weather, protocol: generic, state_topic: w}\n")
    outcome = plan(Registry.from_config(silent), silent, "HassGetWeather", "what's the weather", area="Kitchen")
    assert outcome.reply == "Sorry, the Forecast has not reported the weather yet."  # never a guess


# -- climate fan modes, media search, vacuum rooms, lists, broadcast, respond ---------------------------------


def test_climate_fan_mode(registry, config):
    outcome = plan(registry, config, "HassClimateSetFanMode", "set the ac fan to low", {"name": "ac"}, {"fan_mode": "low"})
    assert sent(outcome) == [("home/office_ac/fan_mode/set", "low")]
    assert outcome.reply == "Set the fan of the Office Air Conditioner to low."
    by_area = plan(registry, config, "HassClimateSetFanMode", "fan on auto in the office", {"area": "office"},
                   {"fan_mode": "auto"})  # fmt: skip
    assert sent(by_area) == [("home/office_ac/fan_mode/set", "auto")]
    refused = plan(registry, config, "HassClimateSetFanMode", "put the air con on turbo", {"name": "air con"},
                   {"fan_mode": "turbo"})  # fmt: skip
    assert refused.actions == [] and refused.kind == "unsupported"
    assert refused.reply == ("Sorry, the Office Air Conditioner has no turbo fan mode "
                             "(it has auto, low, medium and high).")  # fmt: skip
    assert plan(registry, config, "HassClimateSetFanMode", "change the fan mode", {"name": "ac"}).actions == []


def test_media_search_and_play(registry, config):
    outcome = plan(registry, config, "HassMediaSearchAndPlay", "play the album abbey road on the bedroom speaker",
                   {"name": "bedroom speaker"}, {"query": "abbey road", "media_class": "album"})  # fmt: skip
    assert [(t, json.loads(p)) for t, p in sent(outcome)] == [
        ("home/bedroom_speaker/play", {"query": "abbey road", "media_class": "album"})]
    assert outcome.reply == "Playing abbey road on the Bedroom Speaker."
    kitchen = plan(registry, config, "HassMediaSearchAndPlay", "play some jazz in the kitchen", {"area": "kitchen"},
                   {"query": "jazz"})  # fmt: skip
    assert ids(kitchen) == ["media_player.kitchen_speaker"]


def test_media_search_on_a_player_that_cannot_search_is_refused_truthfully(registry, config):
    outcome = plan(registry, config, "HassMediaSearchAndPlay", "play jazz on the telly", {"name": "telly"},
                   {"query": "jazz"})  # fmt: skip
    assert outcome.actions == [] and outcome.kind == "unsupported"
    assert outcome.reply == "Sorry, the TV can't search for something to play."
    assert plan(registry, config, "HassMediaSearchAndPlay", "play", {"name": "kitchen speaker"}).kind == "unsupported"


def test_vacuum_cleans_one_room_by_its_map_segment(registry, config):
    outcome = plan(registry, config, "HassVacuumCleanArea", "vacuum the kitchen", {"area": "kitchen"}, area="Office")
    assert [(t, json.loads(p)) for t, p in sent(outcome)] == [(
        "valetudo/robot/MapSegmentationCapability/clean/set", {"segment_ids": ["2"], "iterations": 1, "customOrder": True})]
    assert outcome.reply == "Cleaning the Kitchen with the Robot Vacuum." and ids(outcome) == ["vacuum.robot"]
    hall = plan(registry, config, "HassVacuumCleanArea", "get the hoover to do the hall", {"name": "hoover", "area": "hall"})
    assert json.loads(hall.actions[0].payload)["segment_ids"] == ["4"]


def test_vacuum_asked_for_a_room_it_has_no_map_of_says_so(registry, config):
    outcome = plan(registry, config, "HassVacuumCleanArea", "clean the bathroom", {"area": "bathroom"})
    assert outcome.actions == [] and outcome.kind == "unsupported"
    assert outcome.reply == "Sorry, the Robot Vacuum has no map segment for the Bathroom."
    unknown = plan(registry, config, "HassVacuumCleanArea", "clean the attic", {"area": "attic"})
    assert unknown.actions == [] and unknown.reply == "Sorry, I don't know an area called attic."


def test_vacuum_without_a_room_command_says_so():
    from assistant.devices import Registry

    config = small_config("  - {id: vacuum.v, name: Robot, area: Kitchen, domain: vacuum, protocol: generic,"
                          " commands: {start: {topic: v/start}}}\n")  # fmt: skip
    outcome = plan(Registry.from_config(config), config, "HassVacuumCleanArea", "clean the study", {"area": "study"})
    assert outcome.actions == [] and outcome.kind == "unsupported"
    assert outcome.reply == "Sorry, the Robot can't clean a single room: it has no clean_area command."
    by_name = small_config("  - {id: vacuum.v, name: Robot, area: Kitchen, domain: vacuum, protocol: generic,"
                           " commands: {clean_area: {topic: 'v/clean/{area_id}', payload: '{area}'}}}\n")  # fmt: skip
    done = plan(Registry.from_config(by_name), by_name, "HassVacuumCleanArea", "clean the study", {"area": "study"})
    assert sent(done) == [("v/clean/office", "Office")]


@pytest.mark.parametrize(("intent", "text", "spans", "topic", "reply"), [
    ("HassListCompleteItem", "check off milk on the shopping list", {"name": "shopping list"},
     "home/lists/shopping/complete", "Checked off milk on the Shopping List."),
    ("HassShoppingListCompleteItem", "I got the milk", {}, "home/lists/shopping/complete",
     "Checked off milk on the Shopping List."),
    ("HassListRemoveItem", "take milk off my chores list", {"name": "chores list"}, "home/lists/chores/remove",
     "Removed milk from the Chores."),
    ("HassListRemoveItem", "remove milk from the list", {}, "home/lists/shopping/remove",
     "Removed milk from the Shopping List."),
])  # fmt: skip
def test_list_items_completed_and_removed(registry, config, intent, text, spans, topic, reply):
    outcome = plan(registry, config, intent, text, spans, {"item": "milk"})
    assert (sent(outcome), outcome.reply) == ([(topic, "milk")], reply)
    assert plan(registry, config, intent, text, spans).actions == []  # no item heard: nothing sent


def test_broadcast_is_answered_truthfully_and_sends_nothing(registry, config):
    outcome = plan(registry, config, "HassBroadcast", "tell everyone dinner is ready", slots={"message": "dinner is ready"})
    assert outcome.actions == [] and outcome.targets == []
    assert outcome.reply == "Sorry, I can't broadcast messages yet."
    assert outcome.kind == "unsupported"  # not handled: Home Assistant, over Wyoming, may broadcast it itself


@pytest.mark.parametrize(("text", "reply"), [("thank you", "You're welcome."), ("hello there", "Hello."), ("ok", "OK.")])
def test_respond(registry, config, text, reply):
    outcome = plan(registry, config, "HassRespond", text)
    assert (outcome.reply, outcome.kind, outcome.actions) == (reply, "answer", [])


# -- a percentage for a valve is its position ------------------------------------------------------------------


def test_a_valve_percentage_heard_as_fan_speed_sets_its_position():
    from assistant.devices import Registry

    config = small_config(
        "  - {id: valve.irrigation, name: Irrigation Valve, area: Kitchen, domain: valve, protocol: generic,"
        " commands: {set_position: {topic: irrigation/set, payload: '{position}'}}}\n"
        "  - {id: fan.ceiling, name: Ceiling Fan, area: Kitchen, domain: fan, protocol: tasmota, topic: fan}\n")  # fmt: skip
    registry = Registry.from_config(config)
    for intent, slot in (("HassSetPosition", "position"), ("HassFanSetSpeed", "percentage")):
        outcome = plan(registry, config, intent, "set the irrigation valve to 50%", {"name": "irrigation valve"},
                       {slot: 50}, area="Kitchen")  # fmt: skip
        assert sent(outcome) == [("irrigation/set", "50")], intent
        assert outcome.reply == "Set the Irrigation Valve to 50%."
    fan = plan(registry, config, "HassFanSetSpeed", "set the ceiling fan to 66%", {"name": "ceiling fan"},
               {"percentage": 66}, area="Kitchen")  # fmt: skip
    assert sent(fan) == [("cmnd/fan/FanSpeed", "2")]
