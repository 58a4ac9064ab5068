from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli import main
from assistant.config import check_input_device, parse_config
from assistant.errors import ConfigError
from assistant.paths import model_path, shipped_model_dir

from .conftest import CONFIG


def test_example_config_is_valid(config):
    assert config.site.area == "Living Room"
    assert {d.protocol for d in config.devices} == {"zigbee2mqtt", "tasmota", "generic"}
    assert len({d.id for d in config.devices}) == len(config.devices)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("site:\n  id: x\n  are: Kitchen\ndevices: []\n", 3, "site.are", "unknown field"),
        ("understanding:\n  min_confidence: 3\ndevices: []\n", 2, "understanding.min_confidence",
         "less than or equal to 1"),
        (
            ("areas:\n  - name: Kitchen\ndevices:\n  - id: light.a\n    name: A\n    domain: light\n"
            "    protocol: zigbee2mqtt\n    topic: z/a\n  - id: light.b\n    name: B\n    domain: lite\n"
            "    protocol: tasmota\n    topic: b\n"),
            11, "devices[1].domain", "Input should be",
        ),
        (
            ("areas:\n  - name: Kitchen\ndevices:\n  - id: light.a\n    name: A\n    area: Garage\n"
            "    domain: light\n    protocol: zigbee2mqtt\n    topic: z/a\n"),
            6, "devices[0].area", "unknown area 'Garage'",
        ),
        (
            ("devices:\n  - id: switch.x\n    name: X\n    domain: switch\n    protocol: generic\n    commands:\n"
            "      turn_on: {topic: a/b, payload: '{bright}'}\n"),
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
    bad.write_text("site:\n  id: home\nareas:\n  - name: Kitchen\n    flor: Ground\ndevices: []\n", encoding="utf-8")
    assert main(["check-config", "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {bad}:5: areas[0].flor: unknown field (a typo?)"


def test_check_config_missing_file(tmp_path, capsys):
    assert main(["check-config", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


# --- check-config: the whole file, then what it points at ---------------------------------------------


def check(tmp_path, capsys, text: str) -> tuple[int, str, str, Path]:
    """`assistant check-config` on ``text`` written to a file: (exit status, stdout, stderr, the file)."""
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    status = main(["check-config", "--config", str(path)])
    out, err = capsys.readouterr()
    return status, out, err, path


@pytest.mark.parametrize("text", ["", "\n", "# nothing but a comment\n", "~\n"])
def test_an_empty_file_fails_saying_devices_is_required(tmp_path, capsys, text):
    status, out, err, path = check(tmp_path, capsys, text)
    assert status == 2 and out == ""
    assert err.startswith(f"error: {path}: the file is empty")
    assert "`devices:`" in err


def test_a_file_without_devices_fails(tmp_path, capsys):
    status, _, err, path = check(tmp_path, capsys, "site:\n  id: home\n")
    assert status == 2
    assert f"error: {path}: devices: missing" in err


def test_a_duplicate_key_fails_naming_both_lines(tmp_path, capsys):
    status, _, err, path = check(tmp_path, capsys, "mqtt:\n  host: a\n  port: 1883\n  host: b\ndevices: []\n")
    assert status == 2
    assert err.strip() == f"error: {path}:4: mqtt.host: written twice (lines 2 and 4): remove one; YAML would" \
                          " silently keep the last"  # fmt: skip


def test_duplicates_are_found_at_any_depth_and_merges_are_not_duplicates():
    text = (
        "base: &base {protocol: tasmota}\n"  # an unknown top-level key, also reported
        "devices:\n"
        "  - id: light.a\n    name: A\n    domain: light\n    <<: *base\n    topic: a\n"
        "  - id: light.b\n    name: B\n    name: C\n    domain: light\n    protocol: tasmota\n    topic: b\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml")
    assert str(info.value).splitlines() == [
        "c.yaml:1: base: unknown field (a typo?)",
        "c.yaml:10: devices[1].name: written twice (lines 9 and 10): remove one; YAML would silently keep the last",
    ]


def test_every_error_is_reported_with_its_line_in_file_order(tmp_path, capsys):
    text = (
        "site:\n  id: home\n  aera: Kitchen\n"  # 3
        "understanding:\n  min_confidence: 2\n"  # 5
        "devices:\n"
        "  - id: light.a\n    name: A\n    domain: lite\n    protocol: tasmota\n    topic: a\n"  # 9
        "  - id: light.b\n    domain: light\n    protocol: tasmota\n    topic: b\n"  # 12: no name
        "mqtt:\n  port: 0\n"  # 17
    )
    status, _, err, path = check(tmp_path, capsys, text)
    assert status == 2
    lines = err.splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        f"{path}:3", f"{path}:5", f"{path}:9", f"{path}:12", f"{path}:17"
    ]
    assert [line.split(": ")[2] for line in lines] == [
        "site.aera", "understanding.min_confidence", "devices[0].domain", "devices[1].name", "mqtt.port"
    ]
    assert all(line.startswith("error: ") for line in lines)


def test_every_cross_reference_error_is_reported():
    text = (
        "areas:\n  - name: Kitchen\n"
        "devices:\n"
        "  - {id: light.a, name: A, area: Garage, domain: light, protocol: tasmota, topic: a}\n"
        "  - {id: light.a, name: B, area: Attic, domain: light, protocol: tasmota, topic: b}\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml")
    assert str(info.value).splitlines() == [
        "c.yaml:4: devices[0].area: unknown area 'Garage'",
        "c.yaml:5: devices[1].id: duplicate device id 'light.a'",
        "c.yaml:5: devices[1].area: unknown area 'Attic'",
    ]


def test_a_missing_model_file_fails_check_config_naming_the_path(tmp_path, capsys):
    status, out, err, path = check(tmp_path, capsys, "devices: []\nunderstanding:\n  model: mine/nlu.int8.onnx\n")
    assert status == 2 and out == ""
    assert err.startswith(f"error: {path}:3: understanding.model: {tmp_path / 'mine' / 'nlu.int8.onnx'}: no such file")


def test_check_config_names_the_model_it_found(tmp_path, capsys):
    status, out, _, path = check(tmp_path, capsys, "devices: []\n")
    assert status == 0
    assert out.strip() == f"{path}: OK (0 areas, 0 devices; model {shipped_model_dir() / 'nlu.int8.onnx'})"


def test_a_relative_model_is_looked_for_beside_the_config_first(tmp_path):
    config = parse_config("devices: []\n")
    assert model_path(config, tmp_path) == shipped_model_dir() / "nlu.int8.onnx"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "nlu.int8.onnx").write_bytes(b"a model of one's own")
    assert model_path(config, tmp_path) == tmp_path / "models" / "nlu.int8.onnx"


class FakeSounddevice:
    """sounddevice's query_devices and PortAudioError, with a fixed device list."""

    class PortAudioError(Exception):
        pass

    def __init__(self, devices: list[dict]) -> None:
        self.devices = [{"index": i, **d} for i, d in enumerate(devices)]

    def query_devices(self, device=None, kind=None):
        if device is None:
            return self.devices
        for d in self.devices:
            if d["max_input_channels"] > 0 and (d["index"] == device or str(device).lower() in d["name"].lower()):
                return d
        raise ValueError(f"No input device matching {device!r}")


HERE = FakeSounddevice([
    {"name": "bcm2835 Headphones", "max_input_channels": 0},
    {"name": "USB PnP Sound Device", "max_input_channels": 1},
    {"name": "ReSpeaker 4 Mic Array", "max_input_channels": 4},
])  # fmt: skip


def test_an_audio_input_that_is_present_passes():
    assert check_input_device("usb pnp", HERE) is None
    assert check_input_device(2, HERE) is None


def test_an_absent_audio_input_lists_the_input_devices_seen():
    problem = check_input_device("Blue Yeti", HERE)
    assert problem == ("No input device matching 'Blue Yeti'; the input devices here: 1 'USB PnP Sound Device',"
                       " 2 'ReSpeaker 4 Mic Array'")  # fmt: skip
    assert "Headphones" not in check_input_device(0, HERE)


def test_check_config_reports_the_audio_input_but_never_fails_on_it(tmp_path, capsys):
    status, out, err, path = check(tmp_path, capsys, "devices: []\naudio:\n  input: Blue Yeti\n")
    assert status == 0 and "OK" in out
    # With PortAudio and a device list: a warning listing the devices; without (as on CI): a note.
    assert err.startswith((f"warning: {path}:3: audio.input 'Blue Yeti': ", f"note: {path}:3: audio.input 'Blue Yeti': "))
    if err.startswith("note:"):
        assert "could not be checked" in err


def test_wyoming_is_off_by_default_and_satellite_areas_must_exist(config):
    assert config.wyoming.uri is None
    base = "devices: []\nareas:\n  - name: Kitchen\nwyoming:\n  uri: tcp://127.0.0.1:10700\n"
    ok = parse_config(base + "  satellites:\n    - {id: sat-1, area: kitchen}\n", "inline.yaml")
    assert ok.wyoming.satellites[0].area == "kitchen" and ok.wyoming.mode == "handle"
    with pytest.raises(ConfigError, match=r"inline.yaml:7: wyoming.satellites\[0\].area: unknown area 'Attic'"):
        parse_config(base + "  satellites:\n    - {id: sat-1, area: Attic}\n", "inline.yaml")
    with pytest.raises(ConfigError, match="wyoming.allow"):
        parse_config(base + "  allow: [my-laptop]\n", "inline.yaml")
    with pytest.raises(ConfigError, match="wyoming.uri"):
        parse_config("devices: []\nwyoming:\n  uri: http://0.0.0.0:10700\n", "inline.yaml")


def test_a_microphone_needs_the_wake_phrase_unless_told_otherwise():
    from assistant.config import parse_config

    base = "devices:\n  - {id: light.a, name: A, domain: light, protocol: zigbee2mqtt, topic: z/a}\n"
    assert parse_config(base, "a.yaml").wake.mode == "always"  # files, Wyoming: every utterance is for us
    assert parse_config(base + "audio: {input: 0}\n", "b.yaml").wake.mode == "phrase"  # it hears the TV too
    told = parse_config(base + "audio: {input: 0}\nwake: {mode: always}\n", "c.yaml")
    assert told.wake.mode == "always"  # push-to-talk style, when asked for
    models = parse_config(base + "audio: {input: 0}\nwake: {models: [w.onnx]}\n", "d.yaml")
    assert models.wake.mode == "openwakeword"
