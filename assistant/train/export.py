"""ONNX export, int8 dynamic quantization and evaluation of the exported model."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.understanding.schema import (
    EMBEDDING_OUTPUT,
    INTENT_LABELS,
    MAX_TOKENS,
    NO_INTENT,
    ONNX_INPUTS,
    ONNX_OUTPUTS,
    TAG_LABELS,
)


def export_onnx(model, path: Path, tokenizer_path: Path, sentences: list[str]) -> float:
    """Export (opset 17, dynamic batch/tokens); returns max |onnx - torch| over `sentences`. A model with an
    embedding head has a third output, ``embedding``."""
    import numpy as np
    import onnxruntime as ort
    import torch

    model.eval()
    outputs = list(ONNX_OUTPUTS) + ([EMBEDDING_OUTPUT] if getattr(model, "embed_head", None) is not None else [])
    ids = torch.tensor([[101, 2735, 2006, 1996, 4597, 102]], dtype=torch.int64)
    mask = torch.ones_like(ids)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model, (ids, mask), str(path), input_names=list(ONNX_INPUTS), output_names=outputs,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "intent_logits": {0: "batch"}, "tag_logits": {0: "batch", 1: "tokens"},
                          EMBEDDING_OUTPUT: {0: "batch"}},
            opset_version=17, do_constant_folding=True, dynamo=False,
        )
    enc = _encode(tokenizer_path, sentences)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(outputs, enc)
    with torch.no_grad():
        want = [t.numpy() for t in model(torch.from_numpy(enc["input_ids"]), torch.from_numpy(enc["attention_mask"]))]
    m = enc["attention_mask"].astype(bool)
    diffs = [np.abs(got[0] - want[0]).max(), np.abs(got[1] - want[1])[m].max()]
    diffs += [np.abs(got[2] - want[2]).max()] if len(outputs) > 2 else []
    return float(max(diffs))


def fuse(fp32: Path, fused: Path, heads: int, hidden: int) -> dict[str, int]:
    """onnxruntime's BERT graph fusion: each layer's attention becomes one ``Attention`` operator, and the
    residual adds and layer norms ``SkipLayerNormalization``, GELU with its bias ``BiasGelu`` (onnxruntime's
    own CPU kernels: about half the time per sentence on one thread). Returns the fused operator counts."""
    from onnxruntime.transformers import optimizer

    model = optimizer.optimize_model(str(fp32), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1)
    model.save_model_to_file(str(fused))
    return {k: v for k, v in model.get_fused_operator_statistics().items() if v}


def quantize(fp32: Path, int8: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # the fused operators are onnxruntime's own, which ONNX shape inference cannot type: float by default
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})  # fmt: skip


def _encode(tokenizer_path: Path, sentences: list[str]):
    import numpy as np
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.enable_truncation(max_length=MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    encs = tok.encode_batch(sentences)
    return {"input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64)}


def _decode_all(text: str, offsets, tags) -> list[tuple[str, str]]:
    """BIO tags over word pieces -> [(slot, surface text)] (an I- tag continuing the same slot extends it)."""
    cur = None
    out = []
    for (a, b), t in zip(offsets, tags):
        if b <= a:
            if cur:
                out.append(cur)
                cur = None
            continue
        lab = TAG_LABELS[t]
        if lab == "O":
            if cur:
                out.append(cur)
                cur = None
            continue
        pfx, slot = lab.split("-", 1)
        if pfx == "I" and cur and cur[0] == slot:
            cur = (slot, cur[1], b)
        else:
            if cur:
                out.append(cur)
            cur = (slot, a, b)
    if cur:
        out.append(cur)
    return [(s, text[a:b]) for s, a, b in out]


def evaluate_onnx(path: Path, tokenizer_path: Path, examples, batch_size: int = 64) -> dict[str, Any]:
    """Intent accuracy, slot span P/R/F1, exact match, OOD rejection on Examples, with onnxruntime."""
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    so = ort.SessionOptions()
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.enable_truncation(max_length=MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    none = NO_INTENT
    n = ok_int = exact = tp = fp = fn = 0
    ood_n = ood_ok = ind_n = ind_rej = 0
    errors = []
    for i in range(0, len(examples), batch_size):
        batch = examples[i:i + batch_size]
        encs = tok.encode_batch([e.text for e in batch])
        feed = {"input_ids": np.array([e.ids for e in encs], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64)}
        il, tl = sess.run(list(ONNX_OUTPUTS), feed)
        for ex, enc, pi, pt in zip(batch, encs, il.argmax(-1), tl.argmax(-1)):
            n += 1
            pred = INTENT_LABELS[int(pi)]
            spans_p = _decode_all(ex.text, enc.offsets, pt)
            spans_g = sorted((t, ex.text[s:e]) for s, e, t in ex.spans)
            sp, sg = Counter(spans_p), Counter(spans_g)
            tp += sum((sp & sg).values())
            fp += sum((sp - sg).values())
            fn += sum((sg - sp).values())
            good = pred == ex.intent
            ok_int += good
            if good and sorted(spans_p) == spans_g:
                exact += 1
            elif len(errors) < 40:
                errors.append({"text": ex.text, "gold": ex.intent, "pred": pred, "gold_spans": spans_g,
                               "pred_spans": sorted(spans_p)})
            if ex.intent == none:
                ood_n += 1
                ood_ok += pred == none
            else:
                ind_n += 1
                ind_rej += pred == none
    prec = tp / max(1, tp + fp)
    rec = tp / max(1, tp + fn)
    return {
        "n": n, "intent_accuracy": round(ok_int / max(1, n), 4), "exact_match": round(exact / max(1, n), 4),
        "slot_precision": round(prec, 4), "slot_recall": round(rec, 4),
        "slot_f1": round(2 * prec * rec / max(1e-9, prec + rec), 4),
        "ood_rejection": round(ood_ok / max(1, ood_n), 4), "in_domain_false_rejection": round(ind_rej / max(1, ind_n), 4),
        "errors_sample": errors,
    }


def latency_ms(path: Path, tokenizer_path: Path, sentences: list[str], repeats: int = 3) -> float:
    import numpy as np
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    feeds = [_encode(tokenizer_path, [s]) for s in sentences]
    sess.run(None, feeds[0])
    times = []
    for _ in range(repeats):
        for f in feeds:
            t0 = time.perf_counter()
            sess.run(None, f)
            times.append(time.perf_counter() - t0)
    return round(float(np.median(times)) * 1000, 2)


