"""The domains added for the evaluation home (person, weather, lawn_mower, button, input_boolean; alarm panels
that arm and disarm): config rules, the messages each action becomes, and how their reports become state.
Pure unit tests on the real config.yaml and inline devices."""

from __future__ import annotations

import json

import pytest

from assistant.config import ACTION_FIELDS, Device, parse_config
from assistant.devices import command_for
from assistant.devices.state import parse_state
from assistant.devices.trust import TopicGuard
from assistant.errors import ConfigError, UnsupportedAction

from .conftest import small_config


def device(**fields) -> Device:
    return Device.model_validate(fields)


def test_the_evaluation_home_is_in_config_yaml(registry):
    wanted = {
        "switch.kettle": ("Kettle", [], "Kitchen", None),
        "climate.office_ac": ("Office Air Conditioner", ["AC", "air con"], "Office", None),
        "light.guest_bedroom_1": ("Guest Bedroom 1 Light", [], "Guest Bedroom", None),
        "light.guest_bedroom_2": ("Guest Bedroom 2 Light", [], "Guest Bedroom", None),
        "media_player.bedroom_speaker": ("Bedroom Speaker", [], "Bedroom", None),
        "lawn_mower.mower": ("Lawn Mower", ["mower", "robot mower"], "Garden", None),
        "alarm_control_panel.house_alarm": ("House Alarm", ["alarm", "security system"], "Hallway", None),
        "button.restart_router": ("Restart Router", ["router"], "Office", None),
        "input_boolean.guest_mode": ("Guest Mode", [], None, None),
        "person.anna": ("Anna", [], None, None),
        "person.ben": ("Ben", [], None, None),
        "weather.home": ("Forecast", ["weather"], None, None),
        "binary_sensor.front_door_battery": ("Front Door Lock Battery", [], "Hallway", "battery"),
        "binary_sensor.hallway_motion": ("Hallway Motion", [], "Hallway", "occupancy"),
        "binary_sensor.washer_leak": ("Washing Machine Leak Sensor", ["leak sensor"], "Kitchen", "moisture"),
        "script.good_night": ("Good Night", [], None, None),
        "scene.good_morning": ("Good Morning", [], None, None),
    }  # fmt: skip
    for device_id, (name, aliases, area, device_class) in wanted.items():
        found = registry.device(device_id)
        assert (found.name, found.aliases, found.area, found.device_class) == (name, aliases, area, device_class)
    assert {a.name for a in registry.areas} == {"Living Room", "Kitchen", "Dining Room", "Bedroom", "Office",
                                                "Kids Room", "Hallway", "Garden", "Bathroom", "Garage", "Guest Bedroom"}
    assert registry.device("climate.office_ac").fan_modes == ["auto", "low", "medium", "high"]
    assert registry.state("weather.home") == {"state": "rainy", "temperature": 7, "unit": "°C"}
    assert registry.state("person.anna")["state"] == "home" and registry.state("person.ben")["state"] == "not_home"


def test_persons_and_weather_only_report_state():
    with pytest.raises(ConfigError, match="only reports state"):
        small_config("  - {id: person.x, name: X, domain: person, protocol: generic, state_topic: p/x,"
                     " commands: {turn_on: {topic: p/x/set}}}\n")  # fmt: skip
    with pytest.raises(ConfigError, match="only reports state"):
        small_config("  - {id: weather.x, name: X, domain: weather, protocol: zigbee2mqtt, topic: z/x}\n")
    small_config("  - {id: person.x, name: X, domain: person, protocol: generic, state_topic: p/x}\n")


def test_fan_modes_and_segments_belong_to_their_domains():
    with pytest.raises(ConfigError, match="fan_modes"):
        small_config("  - {id: light.x, name: X, domain: light, protocol: tasmota, topic: x, fan_modes: [low]}\n")
    with pytest.raises(ConfigError, match="segments"):
        small_config("  - {id: light.x, name: X, domain: light, protocol: tasmota, topic: x, segments: {Kitchen: '1'}}\n")
    with pytest.raises(ConfigError, match=r"inline.yaml:\d+: devices\[0\]\.segments\.Attic: unknown area 'Attic'"):
        small_config("  - id: vacuum.v\n    name: V\n    domain: vacuum\n    protocol: generic\n"
                     "    commands: {start: {topic: v/start}}\n    segments: {Attic: '1'}\n")  # fmt: skip
    with pytest.raises(ConfigError, match="list the map segment of each area"):
        small_config("  - id: vacuum.v\n    name: V\n    domain: vacuum\n    protocol: generic\n"
                     "    commands: {clean_area: {topic: v/clean, payload: '{segment}'}}\n")  # fmt: skip
    # a robot that takes room names needs no segments
    small_config("  - id: vacuum.v\n    name: V\n    domain: vacuum\n    protocol: generic\n"
                 "    commands: {clean_area: {topic: v/clean, payload: '{area_id}'}}\n")  # fmt: skip


def test_unknown_domains_are_still_refused():
    with pytest.raises(ConfigError, match="Input should be"):
        parse_config("devices:\n  - {id: robot.x, name: X, domain: robot, protocol: tasmota, topic: x}\n", "bad.yaml")


def test_generic_actions_of_the_new_domains(registry):
    def sent(device_id, action, params=None):
        a = command_for(registry.device(device_id), action, params)
        return a.topic, a.payload

    assert sent("alarm_control_panel.house_alarm", "arm_away") == ("alarmo/command", "ARM_AWAY")
    assert sent("alarm_control_panel.house_alarm", "disarm") == ("alarmo/command", "DISARM")
    assert sent("button.restart_router", "press") == ("home/router/restart", "PRESS")
    assert sent("lawn_mower.mower", "start") == ("home/mower/cmd", "start_mowing")
    assert sent("lawn_mower.mower", "dock") == ("home/mower/cmd", "dock")
    assert sent("input_boolean.guest_mode", "turn_on") == ("home/helpers/guest_mode/set", "ON")
    assert sent("climate.office_ac", "set_fan_mode", {"fan_mode": "low"}) == ("home/office_ac/fan_mode/set", "low")
    topic, payload = sent("media_player.bedroom_speaker", "play_media", {"query": 'the "best" of jazz', "media_class": ""})
    assert topic == "home/bedroom_speaker/play"
    assert json.loads(payload) == {"query": 'the "best" of jazz', "media_class": ""}
    topic, payload = sent("vacuum.robot", "clean_area", {"area": "Kitchen", "area_id": "kitchen", "segment": "2"})
    assert topic == "valetudo/robot/MapSegmentationCapability/clean/set"
    assert json.loads(payload) == {"segment_ids": ["2"], "iterations": 1, "customOrder": True}
    assert sent("todo.shopping_list", "complete_item", {"item": "milk"}) == ("home/lists/shopping/complete", "milk")
    assert sent("todo.chores", "remove_item", {"item": "dishes"}) == ("home/lists/chores/remove", "dishes")
    with pytest.raises(UnsupportedAction):
        sent("media_player.living_room_tv", "play_media", {"query": "jazz", "media_class": ""})  # the TV cannot search
    with pytest.raises(UnsupportedAction):
        sent("button.restart_router", "turn_off")


def test_zigbee2mqtt_climate_fan_mode_and_what_has_no_zigbee2mqtt_form():
    trv = device(id="climate.ac", name="AC", domain="climate", protocol="zigbee2mqtt", topic="zigbee2mqtt/ac")
    assert command_for(trv, "set_fan_mode", {"fan_mode": "high"}).payload == '{"fan_mode":"high"}'
    alarm = device(id="alarm_control_panel.a", name="A", domain="alarm_control_panel", protocol="zigbee2mqtt",
                   topic="zigbee2mqtt/a")  # fmt: skip
    with pytest.raises(UnsupportedAction):
        command_for(alarm, "disarm")
    plug = device(id="switch.p", name="P", domain="switch", protocol="tasmota", topic="p")
    with pytest.raises(UnsupportedAction):
        command_for(plug, "set_fan_mode", {"fan_mode": "low"})


def test_binary_sensor_reports_by_class(registry):
    battery = registry.device("binary_sensor.front_door_battery")
    lock = registry.device("lock.front_door")
    report = '{"lock_state": "locked", "state": "LOCK", "battery_low": true, "battery": 9}'
    assert battery.topic == lock.topic  # the lock reports its battery on its own topic
    assert parse_state(battery, battery.topic, report) == {"state": "on"}  # low
    assert parse_state(lock, lock.topic, report) == {"state": "locked"}  # the lock's state is not the battery's
    assert parse_state(battery, battery.topic, '{"lock_state": "unlocked"}') == {}
    leak = registry.device("binary_sensor.washer_leak")
    assert parse_state(leak, str(leak.topic), '{"water_leak": false, "battery": 100}') == {"state": "off"}
    motion = registry.device("binary_sensor.hallway_motion")
    assert parse_state(motion, str(motion.topic), '{"occupancy": true, "illuminance": 30}') == {"state": "on"}


def test_climate_fan_mode_and_weather_and_person_reports(registry):
    trv = device(id="climate.ac", name="AC", domain="climate", protocol="zigbee2mqtt", topic="zigbee2mqtt/ac")
    assert parse_state(trv, "zigbee2mqtt/ac", '{"system_mode": "cool", "fan_mode": "LOW"}') == {
        "state": "cool", "fan_mode": "low"}
    ac = registry.device("climate.office_ac")
    assert parse_state(ac, "home/office_ac/state", '{"state": "cool", "temperature": 21, "fan_mode": "High"}') == {
        "state": "cool", "temperature": 21, "fan_mode": "high"}
    weather = registry.device("weather.home")
    assert parse_state(weather, "home/weather/state",
                       '{"state": "sunny", "temperature": 18.5, "temperature_unit": "°F"}') == {
        "state": "sunny", "temperature": 18.5, "unit": "°F"}  # fmt: skip
    anna = registry.device("person.anna")
    assert parse_state(anna, "home/presence/anna", "not_home") == {"state": "not_home"}


def test_discovered_generic_devices_with_the_new_actions_are_vetted(config):
    guard = TopicGuard.from_config(config)
    every = {action: {"topic": f"porch/{action}", "payload": " ".join(f"{{{f}}}" for f in fields) or "x"}
             for action, fields in ACTION_FIELDS.items() if action not in ("arm_away", "disarm", "lock", "unlock")}
    gadget = device(id="vacuum.porch", name="Porch", domain="vacuum", protocol="generic", commands=every,
                    segments={"Kitchen": "1"})  # fmt: skip
    assert guard.vet(gadget, "homeassistant/vacuum/porch/config").reason is None  # every field renders
    disguised = device(id="button.porch", name="Porch", domain="button", protocol="generic",
                       commands={"press": {"topic": "porch/press", "payload": "DISARM"}})  # fmt: skip
    assert "disguise" in str(guard.vet(disguised, "homeassistant/button/porch/config").reason)
    alarm = device(id="alarm_control_panel.porch", name="Porch", domain="alarm_control_panel", protocol="generic",
                   commands={"disarm": {"topic": "porch/alarm", "payload": "DISARM"}})  # fmt: skip
    kept = guard.vet(alarm, "homeassistant/alarm_control_panel/porch/config").device
    assert kept is not None and kept.confirm is True
