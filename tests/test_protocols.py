from __future__ import annotations

import json

import pytest

from assistant.devices import command_for
from assistant.errors import UnsupportedAction


def test_zigbee2mqtt_payloads(registry):
    lamp = registry.device("light.kitchen_ceiling")
    a = command_for(lamp, "set_brightness", {"brightness": 30, "brightness_255": 76})
    assert (a.topic, a.payload, a.qos, a.retain) == ("zigbee2mqtt/kitchen_ceiling/set", '{"state":"ON","brightness":76}', 1, False)
    assert json.loads(command_for(lamp, "set_color", {"color": "red", "r": 255, "g": 0, "b": 0, "hex": "#ff0000"}).payload) == {
        "state": "ON", "color": {"r": 255, "g": 0, "b": 0}}
    assert command_for(lamp, "set_color_temp", {"kelvin": 2700, "mireds": 370}).payload == '{"state":"ON","color_temp":370}'
    assert command_for(lamp, "set_brightness", {"brightness": 0, "brightness_255": 0}).payload == '{"state":"OFF"}'
    lock = registry.device("lock.front_door")
    assert command_for(lock, "unlock").payload == '{"state":"UNLOCK"}'
    blinds = registry.device("cover.living_room_blinds")
    assert command_for(blinds, "set_position", {"position": 40}).payload == '{"position":40}'
    trv = registry.device("climate.bedroom_radiator")
    assert command_for(trv, "set_temperature", {"temperature": 21.5, "unit": "C"}).payload == '{"current_heating_setpoint":21.5}'


def test_tasmota_payloads(registry):
    plug = registry.device("switch.coffee_machine")
    assert (command_for(plug, "turn_on").topic, command_for(plug, "turn_on").payload) == ("cmnd/coffee_machine/POWER", "ON")
    mirror = registry.device("light.bathroom_mirror")
    a = command_for(mirror, "set_brightness", {"brightness": 45, "brightness_255": 114})
    assert (a.topic, a.payload) == ("cmnd/bathroom_mirror/Dimmer", "45")
    garage = registry.device("cover.garage_door")
    assert command_for(garage, "open").topic == "cmnd/garage_door/ShutterOpen"
    fan = registry.device("fan.bedroom_fan")
    a = command_for(fan, "set_percentage", {"percentage": 66})
    assert (a.topic, a.payload) == ("cmnd/bedroom_fan/FanSpeed", "2")


def test_generic_templates(registry):
    tv = registry.device("media_player.living_room_tv")
    a = command_for(tv, "set_volume", {"volume": 35, "volume_level": 0.35})
    assert (a.topic, a.payload) == ("home/tv/volume/set", '{"volume": 35}')
    with pytest.raises(UnsupportedAction):
        command_for(tv, "set_color", {"color": "red", "r": 1, "g": 2, "b": 3, "hex": "#010203"})


def test_unsupported_combinations_raise(registry):
    with pytest.raises(UnsupportedAction):
        command_for(registry.device("switch.coffee_machine"), "set_brightness", {"brightness": 5, "brightness_255": 13})
    with pytest.raises(UnsupportedAction):
        command_for(registry.device("sensor.bathroom_humidity"), "turn_on")
    with pytest.raises(UnsupportedAction):
        command_for(registry.device("light.kitchen_ceiling"), "set_brightness", {})


def test_generic_json_templates_escape_what_people_say_and_topics_refuse_wildcards():
    import json as _json

    from assistant.config import Device

    todo = Device.model_validate({"id": "todo.notes", "name": "Notes", "domain": "todo", "protocol": "generic",
                                  "commands": {"add_item": {"topic": "home/notes/add", "payload": '{{"item": "{item}"}}'}}})  # fmt: skip
    said = 'a "quoted" thing \\ and a newline\n'
    action = command_for(todo, "add_item", {"item": said})
    assert _json.loads(action.payload) == {"item": said}
    plain = Device.model_validate({"id": "todo.plain", "name": "Plain", "domain": "todo", "protocol": "generic",
                                   "commands": {"add_item": {"topic": "home/plain/add", "payload": "{item}"}}})  # fmt: skip
    assert command_for(plain, "add_item", {"item": 'say "hi"'}).payload == 'say "hi"'  # not JSON: as said
    by_topic = Device.model_validate({"id": "todo.topics", "name": "Topics", "domain": "todo", "protocol": "generic",
                                      "commands": {"add_item": {"topic": "home/lists/{item}", "payload": "1"}}})  # fmt: skip
    assert command_for(by_topic, "add_item", {"item": "milk"}).topic == "home/lists/milk"
    for hostile in ("#", "a/b", "x+y", "nul\0"):
        with pytest.raises(UnsupportedAction):
            command_for(by_topic, "add_item", {"item": hostile})
