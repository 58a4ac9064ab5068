"""The shipped model: its metadata describes it, its checksum matches, and broken files fail clearly."""

from __future__ import annotations

import json
import shutil

import pytest

from assistant.errors import ModelError
from assistant.understanding import schema
from assistant.understanding.model import NluModel, metadata_path, sha256_of

from .conftest import ROOT

MODEL = ROOT / "models" / "nlu.int8.onnx"


def test_metadata_matches_the_model_file():
    meta = json.loads(metadata_path(MODEL).read_text())
    assert meta["onnx"]["sha256"] == sha256_of(MODEL)
    assert tuple(meta["labels"]["intents"]) == schema.INTENT_LABELS
    assert tuple(meta["labels"]["tags"]) == schema.TAG_LABELS
    assert MODEL.stat().st_size <= 30 * 1024 * 1024
    tokenizer = MODEL.parent / meta["tokenizer"]["file"]
    assert sha256_of(tokenizer) == meta["tokenizer"]["sha256"]


def _copy_model(tmp_path):
    for name in ("nlu.int8.onnx", "nlu.json", "tokenizer.json"):
        shutil.copy(ROOT / "models" / name, tmp_path / name)
    return tmp_path / "nlu.int8.onnx"


def test_corrupt_model_is_refused(tmp_path):
    model = _copy_model(tmp_path)
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        NluModel(model)


def test_truncated_model_fails_to_load_clearly(tmp_path):
    model = _copy_model(tmp_path)
    model.write_bytes(model.read_bytes()[:1000])
    with pytest.raises(ModelError, match="cannot load ONNX model"):
        NluModel(model, verify=False)


def test_missing_model_names_the_fix(tmp_path):
    """The model ships in the wheel: a missing one means a damaged install, not a model to train."""
    with pytest.raises(ModelError) as missing:
        NluModel(tmp_path / "nlu.int8.onnx")
    message = str(missing.value)
    assert message.startswith(f"{tmp_path / 'nlu.int8.onnx'}: model file not found")
    assert "reinstall it (pip install --force-reinstall --no-deps hearth-voice-assistant)" in message
    assert "understanding.model" in message
    assert "run `assistant train` to build it" not in message


def test_label_mismatch_is_refused(tmp_path):
    model = _copy_model(tmp_path)
    meta = json.loads((tmp_path / "nlu.json").read_text())
    meta["labels"]["intents"] = meta["labels"]["intents"][:-1]
    (tmp_path / "nlu.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="schema"):
        NluModel(model)
