"""`--report FILE`: `assistant eval` and `assistant bench` write one HTML file with their pictures
(matplotlib PNGs, base64) embedded; without matplotlib, one clear error before anything runs."""

from __future__ import annotations

import base64
import json
import re
import sys

import pytest

from assistant.cli import main

from .conftest import CONFIG

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY = [
    {"text": "turn on the desk lamp", "intent": "HassTurnOn", "targets": ["light.office_desk_lamp"], "slots": {}},
    {"text": "switch off the coffee machine", "intent": "HassTurnOff", "targets": ["switch.coffee_machine"],
     "slots": {}},
    {"text": "what time is it", "intent": "HassGetCurrentTime", "targets": [], "slots": {}},
    {"text": "what is the capital of france", "intent": None, "targets": [], "slots": {}},
]  # fmt: skip


@pytest.fixture
def tiny_set(tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in TINY), encoding="utf-8")
    return path


def images(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


def test_eval_report_has_the_table_and_the_per_intent_bars(tiny_set, tmp_path, capsys):
    report = tmp_path / "eval.html"
    assert main(["eval", "--config", str(CONFIG), "--data", str(tiny_set), "--report", str(report)]) == 0
    assert f"report: {report}" in capsys.readouterr().out
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    (bars,) = images(page)
    assert bars.startswith(PNG_MAGIC) and len(bars) > 5000
    assert "<th>this model</th><th>hassil</th>" in page
    assert "intent_accuracy" in page and "(out of domain: rejected)" in page


def test_bench_report_has_the_latency_histograms(tiny_set, tmp_path, capsys):
    report = tmp_path / "bench.html"
    argv = ["bench", "--config", str(CONFIG), "--data", str(tiny_set), "--runs", "2", "--no-hassil",
            "--report", str(report)]  # fmt: skip
    assert main(argv) == 0
    assert f"report: {report}" in capsys.readouterr().out
    page = report.read_text(encoding="utf-8")
    (histograms,) = images(page)
    assert histograms.startswith(PNG_MAGIC)
    assert "<td>parse (model+resolution)</td>" in page and "<td>8</td>" in page  # 4 sentences, 2 passes


def test_bench_report_covers_the_mqtt_table_too(tiny_set, tmp_path, capsys):
    """--mqtt over a real broker (mosquitto, or the embedded one where it is not installed): its table and
    histogram are in the same report, after the parse latency."""
    report = tmp_path / "bench.html"
    argv = ["bench", "--config", str(CONFIG), "--data", str(tiny_set), "--runs", "1", "--no-hassil",
            "--mqtt", "--commands", "20", "--report", str(report)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "command -> device message" in out and out.rstrip().endswith(f"report: {report}")
    page = report.read_text(encoding="utf-8")
    assert len(images(page)) == 2 and all(png.startswith(PNG_MAGIC) for png in images(page))
    assert page.index("<h2>Parse latency per sentence</h2>") < page.index("<h2>Command to device over ")
    assert re.search(r"<td>command -&gt; device message</td>(<td>[0-9.]+</td>){3}<td>20</td>", page), page[-3000:]


def test_bench_report_is_not_for_the_fault_table(tmp_path, capsys):
    assert main(["bench", "--config", str(CONFIG), "--faults", "--report", str(tmp_path / "x.html")]) == 1
    assert capsys.readouterr().err == "error: --report is for the latency tables, not --faults\n"
    assert not (tmp_path / "x.html").exists()


def test_without_matplotlib_the_error_names_the_extra_before_anything_runs(tiny_set, tmp_path, monkeypatch,
                                                                           capsys):  # fmt: skip
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    report = tmp_path / "eval.html"
    assert main(["eval", "--config", str(CONFIG), "--data", str(tiny_set), "--no-hassil",
                 "--report", str(report)]) == 1  # fmt: skip
    captured = capsys.readouterr()
    assert captured.err == "error: --report needs matplotlib: pip install 'hearth-voice-assistant[report]'\n"
    assert "intent_accuracy" not in captured.out and not report.exists()


def test_report_is_not_for_the_voice_evaluation(tmp_path, capsys):
    assert main(["eval", "--config", str(CONFIG), "--voice", "--report", str(tmp_path / "x.html")]) == 1
    assert capsys.readouterr().err == "error: --report is for the text evaluation, not --voice\n"
