"""`assistant parse` as other tools use it: a subprocess, one JSON object per input line."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import CONFIG, ROOT

KEYS = {"text", "intent", "confidence", "slots", "targets", "actions", "reply", "timings_ms"}


def run_parse(*args: str, stdin: bytes = b"") -> list[dict]:
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "parse", "--config", str(CONFIG), *args],
                          input=stdin, capture_output=True, cwd=ROOT, timeout=120, check=True)  # fmt: skip
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def test_arguments_in_order_with_all_keys():
    out = run_parse("turn off the office fan", "what's the date today")
    assert [o["text"] for o in out] == ["turn off the office fan", "what's the date today"]
    for o in out:
        assert KEYS <= o.keys()
        assert 0.0 <= o["confidence"] <= 1.0
        assert "total" in o["timings_ms"]
    assert out[0]["intent"] == "HassTurnOff"
    assert out[0]["actions"] == [{"device": "fan.office_fan", "topic": "cmnd/office_fan/POWER", "payload": "OFF",
                                  "qos": 1, "retain": False}]  # fmt: skip


def test_jsonl_ids_context_and_hostile_lines():
    lines = [
        json.dumps({"id": 7, "text": "turn the lights on", "context": {"area": "Kitchen"}}).encode(),
        b"turn on the hallway light",
        b"",
        b"\xff\xfe\x00garbage\x80",
        b"{not json",
        json.dumps({"id": "x", "context": {"area": "Kitchen"}}).encode(),
        json.dumps({"text": "a" * 10_000}).encode(),
        json.dumps([1, 2, 3]).encode(),
    ]
    out = run_parse("--jsonl", stdin=b"\n".join(lines) + b"\n")
    assert len(out) == len(lines)
    for o in out:
        assert KEYS <= o.keys()
    assert out[0]["id"] == 7
    assert out[0]["targets"] == ["light.kitchen_ceiling", "light.kitchen_counter"]
    assert out[1]["targets"] == ["light.hallway"]
    for o in out[2:]:
        assert o["intent"] is None and o["actions"] == []
    assert out[5]["id"] == "x" and "error" in out[5]


def test_parse_with_broken_config_exits_2(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("devices:\n  - id: light.x\n    name: X\n    domain: light\n    protocol: zigbee\n    topic: t\n")
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "parse", "--config", str(bad), "hello"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)  # fmt: skip
    assert proc.returncode == 2
    assert f"{bad}:5: devices[0].protocol" in proc.stderr
    assert proc.stdout == ""
