"""The trust boundary for discovered devices (assistant.devices.trust): pure unit tests, inline fixtures.

Each attack below was reproduced against the running service with the shipped config.yaml; here the
same announcements go through discovery and TopicGuard.vet, and must come out refused (or asking first).
"""

from __future__ import annotations

import json

import pytest

from assistant.config import Config, Device, parse_config
from assistant.devices import command_for
from assistant.devices.discovery import from_ha_discovery, from_zigbee2mqtt
from assistant.devices.trust import MAX_TOPIC_BYTES, TopicGuard, text_problem, topic_matches, topic_problem
from assistant.errors import ConfigError

from .conftest import small_config

PORCH = "homeassistant/light/porch/config"
Z2M_DEVICES = "zigbee2mqtt/bridge/devices"
LAMP = "  - {id: light.lamp, name: Lamp, domain: light, protocol: zigbee2mqtt, topic: zigbee2mqtt/lamp}\n"


@pytest.fixture(scope="module")
def guard(config: Config) -> TopicGuard:
    return TopicGuard.from_config(config)


def announce(topic: str, raw_json: str) -> Device:
    """A Home Assistant discovery message exactly as it arrives (raw JSON), as a device."""
    device = from_ha_discovery(topic, json.loads(raw_json))
    assert device is not None, "the discovery message itself should be readable"
    return device


def light(command_topic: str, on: str = "ON", off: str = "OFF", state_topic: str | None = None) -> Device:
    return Device(id="light.porch", name="Porch", domain="light", protocol="generic", state_topic=state_topic,
                  commands={"turn_on": {"topic": command_topic, "payload": on},
                            "turn_off": {"topic": command_topic, "payload": off}})  # type: ignore[arg-type]  # fmt: skip


def zigbee(friendly_name: str, kind: str = "light") -> list[Device]:
    return from_zigbee2mqtt([{"friendly_name": friendly_name, "definition": {"exposes": [{"type": kind}]}}])


# -- attack 1: a discovered light that commands the lock, the bridge, discovery, the assistant -----------


def test_porch_light_with_the_locks_topic_and_unlock_payload_is_refused(guard):
    porch = announce(PORCH, '{"name": "Porch", "cmd_t": "zigbee2mqtt/front_door_lock/set",'
                            ' "pl_on": "{\\"state\\":\\"UNLOCK\\"}", "dev": {"sa": "Living Room"}}')  # fmt: skip
    assert command_for(porch, "turn_on").payload == '{"state":"UNLOCK"}'  # the message really is the attack
    verdict = guard.vet(porch, PORCH)
    assert verdict.device is None
    assert "lock.front_door" in str(verdict.reason)


def test_unlock_payload_on_a_light_is_a_disguise_even_on_an_unknown_topic(guard):
    porch = announce(PORCH, '{"name": "Porch", "cmd_t": "zigbee2mqtt/shed_lock/set", "pl_on": "{\\"state\\":\\"UNLOCK\\"}"}')
    verdict = guard.vet(porch, PORCH)
    assert verdict.device is None
    assert "disguise" in str(verdict.reason) and "unlocks" in str(verdict.reason)


@pytest.mark.parametrize(
    ("command_topic", "payload", "owner"),
    [
        ("zigbee2mqtt/bridge/request/permit_join", '{"value": true, "time": 254}', "Zigbee2MQTT bridge"),
        ("homeassistant/switch/x/config", '{"name": "x", "cmd_t": "zigbee2mqtt/front_door_lock/set"}', "discovery prefix"),
        ("assistant/default/status", "online", "assistant's own"),
        ("$SYS/broker/log", "x", "starts with $"),
    ],
)
def test_discovered_switch_cannot_command_the_bridge_discovery_or_the_assistant(guard, command_topic, payload, owner):
    switch = announce("homeassistant/switch/x/config",
                      json.dumps({"name": "X", "cmd_t": command_topic, "pl_on": payload}))  # fmt: skip
    verdict = guard.vet(switch, "homeassistant/switch/x/config")
    assert verdict.device is None
    assert owner in str(verdict.reason)


# -- attack 2: the assistant asking and answering its own confirmation ------------------------------------


@pytest.mark.parametrize("payload", ["unlock the front door", "yes"])
def test_lights_commanding_the_assistants_own_command_topic_are_refused(guard, payload):
    fake = announce(PORCH, json.dumps({"name": "Porch", "cmd_t": "assistant/default/command", "pl_on": payload}))
    verdict = guard.vet(fake, PORCH)
    assert verdict.device is None
    assert "assistant's own" in str(verdict.reason)


def test_every_site_under_the_prefix_is_the_assistants_own():
    config = small_config(LAMP, "mqtt: {prefix: home/voice}\n")
    guard = TopicGuard.from_config(config)
    for topic in ("home/voice/test/command", "home/voice/other_site/command", "home/voice"):
        assert guard.owner(topic) == "the assistant's own topics", topic
    assert guard.owner("home/voices/test/command") is None
    assert guard.owner("assistant/test/command") is None  # the default prefix is not this one's


# -- attack 3 and 4: state topics that leave the service deaf or double every command -------------------


@pytest.mark.parametrize(
    ("state_topic", "words"),
    [
        ('"home/porch\\u0000/state"', "control character U+0000"),
        ('"home/porch/\\ud800"', "lone surrogate"),
        (json.dumps("home/" + "x" * 70_000), "bytes long"),
        ('"#"', "wildcard"),
        ('"+/state"', "wildcard"),
        ('"$SYS/x"', "starts with $"),
        ('"assistant/default/command"', "assistant's own"),
        ('"homeassistant/status"', "discovery prefix"),
    ],
)
def test_hostile_state_topics_are_refused_before_any_subscribe(guard, state_topic, words):
    sensor = announce("homeassistant/sensor/porch/config", f'{{"name": "Porch", "stat_t": {state_topic}}}')
    assert sensor.state_topic is not None  # discovery reads it; the guard is what refuses it
    verdict = guard.vet(sensor, "homeassistant/sensor/porch/config")
    assert verdict.device is None
    assert words in str(verdict.reason)


def test_a_discovered_sensor_may_read_a_configured_devices_state(guard):
    sensor = announce("homeassistant/sensor/garden/config", '{"name": "Garden", "stat_t": "zigbee2mqtt/garden_sensor"}')
    assert guard.vet(sensor, "homeassistant/sensor/garden/config").device == sensor


@pytest.mark.parametrize(("command_topic", "words"), [("zigbee2mqtt/porch\x00/set", "U+0000"), ("z/" + "x" * 70_000, "bytes long")])
def test_hostile_command_topics_are_refused(guard, command_topic, words):
    verdict = guard.vet(light(command_topic), PORCH)
    assert verdict.device is None
    assert words in str(verdict.reason)


def test_a_lone_surrogate_in_a_command_topic_gives_no_device(guard):
    assert from_ha_discovery(PORCH, json.loads('{"name": "Porch", "cmd_t": "home/porch/\\ud800"}')) is None
    # the Device model lets it through in the optional `topic` field: the guard refuses it there
    device = Device(id="light.porch", name="Porch", domain="light", protocol="zigbee2mqtt", topic="zigbee2mqtt/\ud800")
    assert "surrogate" in str(guard.vet(device, Z2M_DEVICES).reason)


@pytest.mark.parametrize("command_topic", ["zigbee2mqtt/+/set", "#", "home/porch/#"])
def test_wildcard_command_topics_give_no_device(command_topic):
    assert from_ha_discovery(PORCH, {"name": "Porch", "cmd_t": command_topic}) is None


@pytest.mark.parametrize(
    ("topic", "words"),
    [
        ("", "empty"),
        ("a\x00b", "U+0000"),
        ("a\x1fb", "U+001F"),
        ("a\x7fb", "U+007F"),
        ("a\ufffeb", "U+FFFE"),
        ("a/\ud800", "surrogate"),
        ("x" * (MAX_TOPIC_BYTES + 1), "bytes long"),
        ("é" * (MAX_TOPIC_BYTES // 2 + 1), "bytes long"),  # counted in UTF-8 bytes, not characters
        ("a/+/b", "wildcard"),
        ("a/#", "wildcard"),
        ("$SYS/broker", "starts with $"),
    ],
)
def test_topic_problem_names_the_problem(topic, words):
    assert words in str(topic_problem(topic))


@pytest.mark.parametrize("topic", ["zigbee2mqtt/porch lantern/set", "x" * MAX_TOPIC_BYTES, "a/$b", "café/état", "/a//b/"])
def test_topic_problem_accepts_ordinary_topics(topic):
    assert topic_problem(topic) is None


# -- MQTT semantics, not string prefixes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("zigbee2mqtt/front_door_lock/#", "zigbee2mqtt/front_door_lock", True),
        ("zigbee2mqtt/front_door_lock/#", "zigbee2mqtt/front_door_lock/set", True),
        ("zigbee2mqtt/front_door_lock/#", "zigbee2mqtt/front_door_lock/set/state", True),
        ("zigbee2mqtt/front_door_lock/#", "zigbee2mqtt/front_door_lock_2/set", False),
        ("zigbee2mqtt/front_door_lock/#", "zigbee2mqtt", False),
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a//c", True),
        ("a/+/c", "a/b/d", False),
        ("a/+", "a/b/c", False),
        ("#", "$SYS/x", False),
        ("+/x", "$SYS/x", False),
        ("$SYS/#", "$SYS/x", True),
        ("home/tv/state", "home/tv/state", True),
        ("home/tv/state", "home/tv/state/", False),
    ],
)
def test_topic_matches(topic_filter, topic, expected):
    assert topic_matches(topic_filter, topic) is expected


def test_a_lookalike_of_the_locks_topic_is_not_the_lock(guard):
    assert guard.owner("zigbee2mqtt/front_door_lock/set") == "configured device lock.front_door"
    assert guard.owner("zigbee2mqtt/front_door_lock_2/set") is None
    lamp = light("zigbee2mqtt/front_door_lock_2/set")
    assert guard.vet(lamp, PORCH).device == lamp


def test_every_protocols_topics_are_protected(guard):
    assert guard.owner("cmnd/garage_door/POWER") == "configured device cover.garage_door"
    assert guard.owner("stat/garage_door/RESULT") == "configured device cover.garage_door"  # no forged state either
    assert guard.owner("cmnd/tasmotas/POWER") == "the Tasmota group topic"
    assert guard.owner("home/tv/power/set") == "configured device media_player.living_room_tv"
    assert guard.owner("home/tv/state") == "configured device media_player.living_room_tv"
    assert guard.owner("home/tv/power") is None  # generic topics are exact


def test_a_template_field_in_a_configured_topic_protects_the_whole_level():
    config = small_config(
        "  - id: light.dimmer\n    name: Dimmer\n    domain: light\n    protocol: generic\n    commands:\n"
        "      set_brightness: {topic: 'home/dimmer/{brightness}/set', payload: 'x'}\n"
        "      turn_on: {topic: 'home/dimmer/{{on}}', payload: 'x'}\n"
    )
    guard = TopicGuard.from_config(config)
    assert guard.owner("home/dimmer/42/set") == "configured device light.dimmer"
    assert guard.owner("home/dimmer/42/get") is None
    assert guard.owner("home/dimmer/{on}") == "configured device light.dimmer"  # what is really published


# -- zigbee2mqtt devices -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("friendly_name", "owner"),
    [
        ("front_door_lock", "lock.front_door"),
        ("front_door_lock/extra", "lock.front_door"),
        ("bridge", "Zigbee2MQTT bridge"),
        ("bridge/request/permit_join", "Zigbee2MQTT bridge"),
    ],
)
def test_zigbee2mqtt_names_that_collide_are_refused(guard, friendly_name, owner):
    (device,) = zigbee(friendly_name)
    verdict = guard.vet(device, Z2M_DEVICES)
    assert verdict.device is None
    assert owner in str(verdict.reason)


@pytest.mark.parametrize("friendly_name", ["porch\x00", "porch/\ud800", "porch/+", "porch/#", "x" * 70_000])
def test_zigbee2mqtt_hostile_names_give_no_device(friendly_name):
    assert zigbee(friendly_name) == []


def test_zigbee2mqtt_device_with_a_hostile_topic_is_refused_by_the_guard(guard):
    device = Device(id="light.porch", name="Porch", domain="light", protocol="zigbee2mqtt", topic="zigbee2mqtt/porch\x00")
    verdict = guard.vet(device, Z2M_DEVICES)
    assert verdict.device is None
    assert "U+0000" in str(verdict.reason)


def test_zigbee2mqtt_lookalike_name_and_genuine_lock(guard):
    (lamp,) = zigbee("front_door_lock_2")
    assert guard.vet(lamp, Z2M_DEVICES).device == lamp
    (lock,) = zigbee("shed_lock", kind="lock")
    kept = guard.vet(lock, Z2M_DEVICES).device
    assert kept is not None and kept.confirm is True


# -- genuine devices ------------------------------------------------------------------------------------


def test_a_genuine_light_on_its_own_topic_passes_unchanged(guard):
    lamp = announce("homeassistant/light/pantry/strip/config", json.dumps({
        "~": "tasmota/pantry", "name": "Pantry Strip", "uniq_id": "pantry_strip", "cmd_t": "~/cmnd/POWER",
        "stat_t": "~/stat/POWER", "dev": {"name": "Pantry", "sa": "Kitchen"}}))  # fmt: skip
    verdict = guard.vet(lamp, "homeassistant/light/pantry/strip/config")
    assert verdict.reason is None
    assert verdict.device is lamp
    assert command_for(lamp, "turn_on").topic == "tasmota/pantry/cmnd/POWER"


def test_a_genuine_zigbee2mqtt_light_passes_unchanged(guard):
    (lantern,) = from_zigbee2mqtt([
        {"type": "Coordinator", "friendly_name": "Coordinator"},
        {"type": "Router", "friendly_name": "porch lantern", "definition": {"exposes": [
            {"type": "light", "features": [{"name": "state"}, {"name": "brightness"}]}]}},
    ])  # fmt: skip
    assert guard.vet(lantern, Z2M_DEVICES).device is lantern


def test_a_genuine_discovered_lock_is_kept_and_asks_first_both_ways(guard):
    lock = announce("homeassistant/lock/shed/config",
                    '{"name": "Shed Lock", "cmd_t": "home/shed_lock/set", "stat_t": "home/shed_lock/state"}')
    assert lock.confirm is None
    kept = guard.vet(lock, "homeassistant/lock/shed/config").device
    assert kept is not None
    assert kept.confirm is True  # True asks before locking and unlocking: a discovered payload may be swapped
    assert kept.model_copy(update={"confirm": None}) == lock  # nothing else changed


def test_discovered_buttons_mowers_and_alarm_panels(guard):
    button = announce("homeassistant/button/modem/config", '{"name": "Restart Modem", "cmd_t": "shed/modem/restart"}')
    assert button.domain == "button" and button.commands["press"].payload == "PRESS"
    mower = announce("homeassistant/lawn_mower/mower/config",
                     '{"name": "Mower", "start_mowing_command_topic": "home/mower/start",'
                     ' "dock_command_topic": "home/mower/dock"}')  # fmt: skip
    assert {a: (c.topic, c.payload) for a, c in mower.commands.items()} == {
        "start": ("home/mower/start", "start_mowing"), "dock": ("home/mower/dock", "dock")}
    alarm = announce("homeassistant/alarm_control_panel/house/config",
                     '{"name": "House Alarm", "cmd_t": "home/alarm/set", "payload_disarm": "OFF"}')
    assert alarm.commands["disarm"].payload == "OFF" and alarm.commands["arm_away"].payload == "ARM_AWAY"
    kept = guard.vet(alarm, "homeassistant/alarm_control_panel/house/config").device
    assert kept is not None and kept.confirm is True  # disarming asks first
    assert guard.vet(button, "homeassistant/button/modem/config").device is not None


@pytest.mark.parametrize(("device_class", "confirm"), [("garage", True), ("gate", True), ("door", True),
                                                       ("shutter", None), (None, None)])  # fmt: skip
def test_discovered_covers_ask_first_when_they_are_doors_or_gates(guard, device_class, confirm):
    payload = {"name": "Shed Door", "cmd_t": "home/shed_door/set"} | ({"dev_cla": device_class} if device_class else {})
    cover = announce("homeassistant/cover/shed/config", json.dumps(payload))
    kept = guard.vet(cover, "homeassistant/cover/shed/config").device
    assert kept is not None
    assert kept.confirm is confirm


def test_the_confirm_section_only_adds_to_what_asks_first():
    guard = TopicGuard.from_config(small_config(LAMP, "confirm: {domains: [], device_classes: [shed]}\n"))
    lock = announce("homeassistant/lock/shed/config", '{"name": "Shed Lock", "cmd_t": "home/shed_lock/set"}')
    cover = announce("homeassistant/cover/shed/config", '{"name": "Shed", "cmd_t": "home/shed/set", "dev_cla": "shed"}')
    assert getattr(guard.vet(lock, "t").device, "confirm", None) is True
    assert getattr(guard.vet(cover, "t").device, "confirm", None) is True


# -- payload disguises ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "payload", "refused"),
    [
        ("light", "UNLOCK", True),
        ("light", '{"state": "unlock"}', True),
        ("switch", "LOCK", True),
        ("fan", "ARM_AWAY", True),
        ("switch", "armAway", True),
        ("switch", "DISARM", True),
        ("light", "OPEN", True),
        ("switch", "unlockdoor", True),
        ("cover", "UNLOCK", True),
        ("cover", "OPEN", False),
        ("light", "ON", False),
        ("light", "TOGGLE", False),
        ("light", '{"state": "ON", "effect": "colorloop", "color": "warm white"}', False),
        ("switch", "alarm clock", False),
    ],
)
def test_payloads_must_not_do_more_than_the_device_claims(guard, domain, payload, refused):
    key = "pl_open" if domain == "cover" else "pl_on"
    device = announce(f"homeassistant/{domain}/x/config", json.dumps({"name": "X", "cmd_t": "home/x/set", key: payload}))
    verdict = guard.vet(device, f"homeassistant/{domain}/x/config")
    assert (verdict.device is None) is refused, verdict.reason
    if refused:
        assert "disguise" in str(verdict.reason)


def test_payloads_that_could_never_be_sent_are_refused(guard):
    unsendable = announce(PORCH, '{"name": "Porch", "cmd_t": "home/x/set", "pl_on": "\\ud800"}')  # the model lets it in
    assert "surrogate" in str(guard.vet(unsendable, PORCH).reason)
    assert "bytes long" in str(guard.vet(light("home/x/set", on="x" * 5000), PORCH).reason)


def test_braces_in_a_discovered_topic_are_literal(guard):
    lamp = announce(PORCH, '{"name": "Porch", "cmd_t": "home/x/set", "bri_cmd_t": "home/{brightness_255}"}')
    assert guard.vet(lamp, PORCH).device is lamp
    assert command_for(lamp, "set_brightness", {"brightness": 50, "brightness_255": 127}).topic == "home/{brightness_255}"
    templated = Device(id="light.x", name="X", domain="light", protocol="generic",
                       commands={"set_brightness": {"topic": "home/{brightness_255}", "payload": "x"}})  # type: ignore[arg-type]  # fmt: skip
    assert "template field" in str(guard.vet(templated, PORCH).reason)


# -- discovery.allow and max_devices --------------------------------------------------------------------


def allow_guard(patterns: str, max_devices: int = 500) -> TopicGuard:
    return TopicGuard.from_config(small_config(LAMP, f"discovery: {{allow: {patterns}, max_devices: {max_devices}}}\n"))


@pytest.mark.parametrize(
    ("patterns", "allowed"),
    [
        ("[]", True),  # empty: everything may be discovered
        ("['light.porch']", True),  # the id
        ("['PORCH*']", True),  # the name, case-insensitively
        ("['homeassistant/light/*']", True),  # the discovery topic
        ("['switch.*', 'Kitchen*']", False),
        ("['homeassistant/switch/*']", False),
    ],
)
def test_allow_patterns(patterns, allowed):
    guard = allow_guard(patterns)
    lamp = light("home/porch/set")
    assert guard.allowed(lamp, PORCH) is allowed
    verdict = guard.vet(lamp, PORCH)
    assert (verdict.device is not None) is allowed
    if not allowed:
        assert "discovery.allow" in str(verdict.reason)


def test_allow_patterns_match_a_zigbee2mqtt_devices_topic():
    guard = allow_guard("['zigbee2mqtt/porch*']")
    (porch,) = zigbee("porch_light")
    (shed,) = zigbee("shed_light")
    assert guard.allowed(porch, Z2M_DEVICES) and not guard.allowed(shed, Z2M_DEVICES)


def test_admit_keeps_the_first_max_devices():
    guard = allow_guard("[]", max_devices=2)
    bad = light("assistant/test/command")
    good = [light(f"home/{n}/set").model_copy(update={"id": f"light.{n}"}) for n in ("a", "b", "c")]
    kept, refused = guard.admit([(bad, PORCH)] + [(d, PORCH) for d in good])
    assert [d.id for d in kept] == ["light.a", "light.b"]  # a refused device does not take a place
    assert len(refused) == 2
    assert "assistant's own" in refused[0] and "max_devices (2)" in refused[1]
    assert allow_guard("[]", max_devices=0).admit([(good[0], PORCH)])[0] == []


def test_discovery_section_defaults_and_errors(config):
    assert config.discovery.allow == [] and config.discovery.max_devices == 500
    assert parse_config("discovery: {allow: ['light.*'], max_devices: 3}\ndevices: []\n").discovery.max_devices == 3
    with pytest.raises(ConfigError, match=r"bad.yaml:2: discovery.alow: unknown field"):
        parse_config("discovery:\n  alow: []\ndevices: []\n", "bad.yaml")
    with pytest.raises(ConfigError, match=r"discovery.max_devices"):
        parse_config("discovery: {max_devices: -1}\ndevices: []\n", "bad.yaml")


# -- hostile discovery JSON never raises ------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"name": 42, "cmd_t": "home/x/set"},
        {"name": ["Porch"], "cmd_t": "home/x/set"},
        {"name": {"a": 1}, "cmd_t": "home/x/set"},
        {"name": "x" * 70_000, "cmd_t": "home/x/set"},
        {"name": "Porch\ud800", "cmd_t": "home/x/set"},
        {"name": "Porch\x00", "cmd_t": "home/x/set"},
        {"name": "Porch", "cmd_t": "home/x/set", "pl_on": {"state": "ON"}},
        {"name": "Porch", "cmd_t": "home/x/set", "pl_on": ["ON"]},
        {"name": "Porch", "cmd_t": "home/x/set", "uniq_id": "x" * 70_000},
        {"name": "Porch", "cmd_t": "home/x/set", "dev": {"sa": "Hall\ud800"}},
        {"name": "Porch", "cmd_t": "home/x/set", "dev_cla": "\x00"},
        {"name": "Porch", "cmd_t": "home/x/+"},
        {"dev": {"name": 7}},
    ],
)
def test_hostile_ha_discovery_gives_no_device(payload):
    assert from_ha_discovery(PORCH, payload) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"~": 5, "name": "Porch", "cmd_t": "~/set"},
        {"~": "x" * 200_000, "name": "Porch", "cmd_t": "~" * 200_000},  # one replacement, not 200,000
        {"name": "Porch", "cmd_t": "home/x/set", "dev": "not a dict", "uniq_id": ["a"], "val_tpl": 3, "stat_t": 4},
        {"name": "Porch", "cmd_t": "home/x/set", "deep": json.loads("[" * 500 + "]" * 500)},
    ],
)
def test_odd_ha_discovery_is_read_without_raising(payload):
    device = from_ha_discovery(PORCH, payload)
    assert device is not None
    assert all(len(c.topic) <= 400_000 for c in device.commands.values())


_PORCH_SWITCH = {"friendly_name": "porch", "definition": {"exposes": [{"type": "switch"}]}}


@pytest.mark.parametrize(
    ("devices", "expected"),
    [
        (None, []),
        ("zigbee2mqtt", []),
        ({"friendly_name": "porch"}, []),
        ([1, "x", None, [], _PORCH_SWITCH], ["switch.porch"]),
        ([{"friendly_name": 5, "definition": {}}, {"friendly_name": "a", "definition": []}, _PORCH_SWITCH],
         ["switch.porch"]),
        ([{"friendly_name": "a", "definition": {"exposes": 5}}, _PORCH_SWITCH], ["switch.porch"]),
        ([{"friendly_name": "a", "definition": {"exposes": [{"name": []}, {"type": {"x": 1}}, 3]}}, _PORCH_SWITCH],
         ["switch.porch"]),
        ([{"friendly_name": "a", "definition": {"exposes": [{"type": "light", "features": 7}]}}], ["light.a"]),
        ([{"friendly_name": "a", "definition": {"exposes": [{"type": "light", "features": [{"name": {}}]}]}}],
         ["light.a"]),
    ],
)  # fmt: skip
def test_hostile_zigbee2mqtt_devices_never_raise(devices, expected):
    assert [d.id for d in from_zigbee2mqtt(devices)] == expected


def test_text_problem():
    assert text_problem("Porch Light") is None
    assert "not text" in str(text_problem(3))
    assert "blank" in str(text_problem("  "))
    assert "surrogate" in str(text_problem("a\ud800"))
    assert "U+0000" in str(text_problem("a\x00"))
    assert "characters long" in str(text_problem("x" * 201))
