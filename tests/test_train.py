"""`assistant train` end to end on a tiny sample: data from the templates, a few optimizer steps on the
CPU, ONNX export, int8 quantization and metadata, loadable by the runtime. Minutes of real training
are not what this proves; that the pipeline that made the shipped model still runs is."""

from __future__ import annotations

import json

from assistant.cli import main
from assistant.understanding import schema
from assistant.understanding.model import NluModel, sha256_of

from .conftest import ROOT


def test_tiny_training_run_produces_a_loadable_model(tmp_path):
    out = tmp_path / "model"
    status = main(["train", "--out", str(out), "--seed", "3", "--epochs", "1", "--max-steps", "3", "--sample", "96",
                   "--per-intent", "12", "--batch-size", "16", "--device", "cpu", "--no-latency",
                   "--work-dir", str(tmp_path / "work")])  # fmt: skip
    assert status == 0
    model_file = out / "nlu.int8.onnx"
    meta = json.loads((out / "nlu.json").read_text())
    assert meta["onnx"]["sha256"] == sha256_of(model_file)
    assert tuple(meta["labels"]["intents"]) == schema.INTENT_LABELS
    assert meta["training"]["steps"] == 3
    assert meta["base_model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    model = NluModel(model_file)  # checksum, labels, tokenizer and a warm-up inference
    prediction = model.predict("turn on the kitchen light")
    assert prediction.label in schema.INTENT_LABELS
    assert 0.0 <= prediction.confidence <= 1.0
    # the embedding head (resolution by meaning) and the fused graph came through export and quantization
    assert model.embeds and meta["training"]["embedding"]["weight"] > 0
    vectors = model.embed(["telly", "kitchen light"])
    assert vectors.shape == (2, 384)
    assert abs(float((vectors * vectors).sum(1).max()) - 1.0) < 1e-3
    assert meta["onnx"]["fusion"]["operators"].get("Attention") == 6


def test_a_shipped_model_teaches_through_its_onnx_file_and_saved_logits(tmp_path):
    """Distillation from an exported model (no torch weights needed): the shipped model's own logits,
    computed with onnxruntime, agree with its predictions; saved to a .pt file, they load back unchanged."""
    import numpy as np
    import torch

    from assistant.train.model import teacher_logits

    model = NluModel(ROOT / "models" / "nlu.int8.onnx")
    texts = ["turn on the kitchen light", "what's the weather like", "set a timer for ten minutes", "hi"]
    encodings = [model.tokenizer.encode(t) for t in texts]
    width = max(len(e.ids) for e in encodings) + 3  # padded wider than any sentence, as in the data sets
    ids = np.zeros((len(texts), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = encoding.ids
        mask[row, : len(encoding.ids)] = 1
    data = {"input_ids": ids, "attention_mask": mask}
    intent, tags = teacher_logits([("unused", str(ROOT / "models" / "nlu.int8.onnx"))], data, "cpu")
    assert intent.shape == (len(texts), len(schema.INTENT_LABELS))
    assert tags.shape == (len(texts), width, len(schema.TAG_LABELS))
    labels = [schema.INTENT_LABELS[i] for i in intent.argmax(-1).tolist()]
    assert labels == [model.predict(t).label for t in texts]
    saved = tmp_path / "teacher.pt"
    torch.save((intent, tags), saved)
    again = teacher_logits([("unused", str(saved))], data, "cpu")
    assert torch.equal(again[0], intent) and torch.equal(again[1], tags)


def test_feed_forward_pruning_keeps_the_strongest_units_and_a_working_encoder(tmp_path):
    import torch
    from safetensors.torch import load_file

    from assistant.train.encoder import build_encoder, prepare
    from assistant.train.pipeline import base_model_dir

    base = base_model_dir()
    cfg = prepare(base, tmp_path / "pruned", None, 2, 64, intermediate=96)
    assert cfg["layers"] == 2 and cfg["layer_ids"] == [0, 5] and cfg["intermediate"] == 96
    assert json.loads((tmp_path / "pruned" / "encoder.json").read_text())["intermediate"] == 96
    original = load_file(str(base / "model.safetensors"))
    pruned = load_file(str(tmp_path / "pruned" / "encoder.safetensors"))
    w_in, w_out = (original[f"encoder.layer.5.{k}.dense.weight"].float() for k in ("intermediate", "output"))
    strongest = (w_in.norm(dim=1) * w_out.norm(dim=0)).topk(96).indices.sort().values
    # layer 5 of the base is layer 1 here: its strongest units, in order, both matrices cut alike
    assert torch.equal(pruned["encoder.layer.1.intermediate.dense.weight"].float(), w_in[strongest].half().float())
    assert torch.equal(pruned["encoder.layer.1.output.dense.weight"].float(), w_out[:, strongest].half().float())
    assert pruned["encoder.layer.1.attention.output.dense.weight"].shape == (384, 384)  # attention untouched
    encoder = build_encoder(tmp_path / "pruned")
    hidden = encoder(torch.tensor([[101, 2735, 2006, 102]]), torch.ones(1, 4, dtype=torch.long))
    assert hidden.shape == (1, 4, 384) and torch.isfinite(hidden).all()
