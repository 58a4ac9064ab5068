from __future__ import annotations

import pytest

from assistant.cli import main
from assistant.config import parse_config
from assistant.errors import ConfigError

from .conftest import CONFIG


def test_example_config_is_valid(config):
    assert config.site.area == "Living Room"
    assert {d.protocol for d in config.devices} == {"zigbee2mqtt", "tasmota", "generic"}
    assert len({d.id for d in config.devices}) == len(config.devices)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("site:\n  id: x\n  are: Kitchen\n", 3, "site.are", "unknown field"),
        ("understanding:\n  min_confidence: 3\n", 2, "understanding.min_confidence", "less than or equal to 1"),
        (
            "areas:\n  - name: Kitchen\ndevices:\n  - id: light.a\n    name: A\n    domain: light\n"
            "    protocol: zigbee2mqtt\n    topic: z/a\n  - id: light.b\n    name: B\n    domain: lite\n"
            "    protocol: tasmota\n    topic: b\n",
            11, "devices[1].domain", "Input should be",
        ),
        (
            "areas:\n  - name: Kitchen\ndevices:\n  - id: light.a\n    name: A\n    area: Garage\n"
            "    domain: light\n    protocol: zigbee2mqtt\n    topic: z/a\n",
            6, "devices[0].area", "unknown area 'Garage'",
        ),
        (
            "devices:\n  - id: switch.x\n    name: X\n    domain: switch\n    protocol: generic\n    commands:\n"
            "      turn_on: {topic: a/b, payload: '{bright}'}\n",
            2, "devices[0]", "unknown template field {bright}",
        ),
        ("devices:\n  - id: Light-A\n    name: A\n    domain: light\n    protocol: tasmota\n    topic: a\n",
         2, "devices[0].id", "domain.object_id"),
        ("devices:\n  - id: light.a\n    name: A\n    domain: light\n    protocol: tasmota\n    topic: a/#\n",
         2, "devices[0]", "wildcards"),
        ("devices: [\n", 2, "", "invalid YAML"),
        ("- just\n- a list\n", 1, "", "top level must be a mapping"),
    ],
)
def test_errors_name_the_line_and_field(text, line, field, words):
    with pytest.raises(ConfigError) as info:
        parse_config(text, "bad.yaml")
    message = str(info.value)
    assert message.startswith(f"bad.yaml:{line}: "), message
    assert field in message
    assert words in message
    assert "\n" not in message


def test_check_config_cli_ok(capsys):
    assert main(["check-config", "--config", str(CONFIG)]) == 0
    assert "OK" in capsys.readouterr().out


def test_check_config_cli_bad_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "config.yaml"
    bad.write_text("site:\n  id: home\nareas:\n  - name: Kitchen\n    flor: Ground\n", encoding="utf-8")
    assert main(["check-config", "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {bad}:5: areas[0].flor: unknown field (a typo?)"


def test_check_config_missing_file(tmp_path, capsys):
    assert main(["check-config", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_wyoming_is_off_by_default_and_satellite_areas_must_exist(config):
    assert config.wyoming.uri is None
    base = "areas:\n  - name: Kitchen\nwyoming:\n  uri: tcp://127.0.0.1:10700\n"
    ok = parse_config(base + "  satellites:\n    - {id: sat-1, area: kitchen}\n", "inline.yaml")
    assert ok.wyoming.satellites[0].area == "kitchen" and ok.wyoming.mode == "handle"
    with pytest.raises(ConfigError, match=r"inline.yaml:6: wyoming.satellites\[0\].area: unknown area 'Attic'"):
        parse_config(base + "  satellites:\n    - {id: sat-1, area: Attic}\n", "inline.yaml")
    with pytest.raises(ConfigError, match="wyoming.allow"):
        parse_config(base + "  allow: [my-laptop]\n", "inline.yaml")
    with pytest.raises(ConfigError, match="wyoming.uri"):
        parse_config("wyoming:\n  uri: http://0.0.0.0:10700\n", "inline.yaml")
