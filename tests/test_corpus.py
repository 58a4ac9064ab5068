"""The written corpus: every line checked (schema, spans in the text, round trip through the slot normaliser,
targets in the evaluation home), the evaluation splits kept out of training, and the conversion to examples."""

from __future__ import annotations

import json

import pytest

from assistant.cli import main
from assistant.train import corpus

from .conftest import CONFIG


@pytest.mark.parametrize("split", ["train", "eval", "holdout"])
def test_every_line_passes_its_checks(split):
    home = corpus.evaluation_home()
    lines = list(corpus.read(corpus.files(split), evaluation=split != "train", home=home))
    if split != "holdout":
        assert len(lines) >= (20000 if split == "train" else 1500)
    bad = [(line.source, line.errors) for line in lines if line.errors]
    assert bad == []


def test_the_evaluation_splits_are_never_trained_on():
    held = {corpus.key(line.text) for split in ("eval", "holdout") for line in corpus.read(corpus.files(split))}
    trained = {corpus.key(e.text) for e in corpus.examples(corpus.load("train"))}
    assert held and not held & trained
    writers = {line.source.split("-")[0] for line in corpus.load("train")}
    assert writers.isdisjoint({line.source.split("-")[0] for line in corpus.load("eval")})


def test_a_quarter_of_the_training_lines_are_near_misses():
    lines = corpus.load("train")
    negatives = sum(line.kind == "negative" for line in lines)
    assert negatives / len(lines) >= 0.25


@pytest.mark.parametrize(("raw", "problem"), [
    ('{"text": "turn on the lamp", "intent": "HassTurnOn", "slots": {"name": "lamps"}}', "is not in the text"),
    ('{"text": "turn on the lamp", "intent": "HassTurnOnn", "slots": {}}', "unknown intent"),
    ('{"text": "turn on the lamp", "intent": "HassTurnOn", "slots": {"colour": "lamp"}}', "unknown slot type"),
    ('{"text": "dim it to fifty", "intent": "HassLightSet", "slots": {"brightness": "it"}}', "does not normalise"),
    ('{"text": "call mom", "intent": "none", "slots": {"name": "mom"}, "kind": "negative"}', "a negative has slots"),
    ('{"text": "a and b", "kind": "compound", "commands": [{"intent": "HassTurnOn", "slots": {}}]}', "two or more"),
    ('not json', "not JSON"),
])  # fmt: skip
def test_bad_labels_are_caught(raw, problem):
    line = corpus.parse_line(raw)
    assert any(problem in e for e in line.errors), line.errors


def test_evaluation_targets_must_exist_in_the_home():
    raw = '{"text": "turn on the sauna", "intent": "HassTurnOn", "slots": {"name": "sauna"}, "targets": ["switch.sauna"]}'
    line = corpus.parse_line(raw, evaluation=True, home=corpus.evaluation_home())
    assert any("not in the evaluation home" in e for e in line.errors)


def test_compound_lines_become_one_example_per_command_with_its_own_verb():
    raw = json.dumps({"text": "close the bedroom curtains and turn on the bedside lamp", "kind": "compound",
                      "commands": [{"intent": "HassTurnOff", "slots": {"name": "bedroom curtains"}},
                                   {"intent": "HassTurnOn", "slots": {"name": "bedside lamp"}}]})  # fmt: skip
    shared = json.dumps({"text": "turn off the tv and the radio", "kind": "compound",
                         "commands": [{"intent": "HassTurnOff", "slots": {"name": "tv"}},
                                      {"intent": "HassTurnOff", "slots": {"name": "radio"}}]})  # fmt: skip
    examples = corpus.examples([corpus.parse_line(raw, "X-01.jsonl:1"), corpus.parse_line(shared, "X-01.jsonl:2")])
    assert [(e.text, e.intent) for e in examples] == [
        ("close the bedroom curtains", "HassTurnOff"), ("turn on the bedside lamp", "HassTurnOn"),
        ("turn off the tv", "HassTurnOff")]  # "the radio" borrows the verb: never an example alone
    lamp = examples[1]
    assert [lamp.text[a:b] for a, b, _ in lamp.spans] == ["bedside lamp"]


def test_eval_prints_per_intent_and_per_kind_rows_beside_hassil(tmp_path, capsys):
    split = tmp_path / "eval"
    split.mkdir()
    (split / "X-01.jsonl").write_text("\n".join([
        '{"text": "turn off the desk lamp", "intent": "HassTurnOff", "slots": {"name": "desk lamp"}, '
        '"targets": ["light.office_desk_lamp"], "kind": "command"}',
        '{"text": "close the bedroom curtains and turn on the bedside lamp", "kind": "compound", "commands": ['
        '{"intent": "HassTurnOff", "slots": {"name": "bedroom curtains"}, "targets": ["cover.bedroom_curtains"]}, '
        '{"intent": "HassTurnOn", "slots": {"name": "bedside lamp"}, "targets": ["light.bedside_lamp"]}]}',
        '{"text": "remind me to call the dentist", "intent": "none", "slots": {}, "targets": [], "kind": "negative"}',
    ]) + "\n")  # fmt: skip
    assert main(["eval", "--config", str(CONFIG), "--data", str(split)]) == 0
    out = capsys.readouterr().out
    assert "hassil" in out and "this model" in out
    for row in ("compound exact", "out-of-domain rejected", "HassTurnOff", "(compound)", "negative"):
        assert row in out
    summary = next(line for line in out.splitlines() if line.startswith("compound exact"))
    assert summary.split()[2] == "100.0%"  # this model: both commands, right devices
    assert summary.split()[3] == "0.0%"  # hassil: one intent per sentence
