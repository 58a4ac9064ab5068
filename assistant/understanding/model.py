"""The language model: a fine-tuned MiniLM, int8 ONNX, run with onnxruntime and a fast tokenizer.

Loading checks the metadata's sha256 and label lists against this code's schema, pins ONNX Runtime's
thread count and runs one warm-up inference, so a broken model fails at start, not mid-request.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..models import sha256_of
from ..paths import REINSTALL
from . import schema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Span:
    slot: str
    text: str
    start: int
    """Character offsets into the input text."""
    end: int


@dataclass(frozen=True)
class Prediction:
    label: str
    """The model's intent label (schema.INTENT_LABELS)."""
    confidence: float
    spans: tuple[Span, ...]
    runner_up: tuple[str, float] = ("none", 0.0)
    """The second most likely label and its probability."""


def metadata_path(model_path: Path) -> Path:
    """models/nlu.int8.onnx -> models/nlu.json"""
    return model_path.with_name(model_path.name.split(".")[0] + ".json")


class NluModel:
    """Joint intent classifier and slot tagger."""

    def __init__(self, model_path: str | Path, *, threads: int = 1, verify: bool = True) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path = Path(model_path)
        meta_path = metadata_path(model_path)
        if not model_path.is_file():
            raise ModelError(f"{model_path}: model file not found. The language model ships with the package:"
                             f" reinstall it ({REINSTALL}), or set understanding.model in the config to a"
                             " model of your own (`assistant train --out DIR` writes DIR/nlu.int8.onnx)")  # fmt: skip
        if not meta_path.is_file():
            raise ModelError(f"{meta_path}: model metadata not found")
        try:
            self.metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{meta_path}: unreadable metadata: {exc}") from None
        labels = self.metadata.get("labels", {})
        if tuple(labels.get("intents", ())) != schema.INTENT_LABELS or tuple(labels.get("tags", ())) != schema.TAG_LABELS:
            raise ModelError(f"{meta_path}: the model's labels differ from this code's schema; retrain it")
        if verify:
            expected = self.metadata.get("onnx", {}).get("sha256")
            actual = sha256_of(model_path)
            if expected != actual:
                raise ModelError(f"{model_path}: sha256 {actual} does not match the metadata ({expected})")
        tokenizer_info = self.metadata.get("tokenizer", {})
        tokenizer_file = tokenizer_info.get("file") if isinstance(tokenizer_info, dict) else tokenizer_info
        tokenizer_path = model_path.parent / str(tokenizer_file or "tokenizer.json")
        try:
            self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # tokenizers raises a bare Exception subclass on bad files
            raise ModelError(f"{tokenizer_path}: cannot load tokenizer: {exc}") from None
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(schema.MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for corrupt files
            raise ModelError(f"{model_path}: cannot load ONNX model: {exc}") from None
        self.embeds = schema.EMBEDDING_OUTPUT in {o.name for o in self.session.get_outputs()}
        """The model has an embedding head: names can be compared by meaning (``embed``)."""
        self.predict("turn on the light")  # warm-up

    def predict(self, text: str) -> Prediction:
        encoding = self.tokenizer.encode(text)
        ids = np.asarray([encoding.ids], dtype=np.int64)
        mask = np.asarray([encoding.attention_mask], dtype=np.int64)
        intent_logits, tag_logits = self.session.run(
            list(schema.ONNX_OUTPUTS), {"input_ids": ids, "attention_mask": mask}
        )
        # Plain Python over a few dozen numbers: right after a run, each numpy call pays for cold caches
        # (about 100 us for the softmax and top two in numpy, against 60 us here, on this project's machine).
        logits = intent_logits[0].tolist()
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        total = sum(exps)
        best, second = heapq.nlargest(2, range(len(exps)), key=exps.__getitem__)
        tags = [schema.TAG_LABELS[i] for i in tag_logits[0].argmax(-1).tolist()]
        spans = _decode_spans(text, tags, encoding.offsets, encoding.special_tokens_mask)
        return Prediction(schema.INTENT_LABELS[best], exps[best] / total, spans,
                          (schema.INTENT_LABELS[second], exps[second] / total))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of what ``texts`` mean (``[len(texts), hidden]``), from the model's embedding head:
        near 1 for "telly" and "TV", low for "telly" and "kettle". Only when ``embeds``."""
        if not self.embeds:
            raise ModelError("this model has no embedding output; retrain it with `assistant train`")
        out = []
        for text in texts:
            encoding = self.tokenizer.encode(text.lower())
            feed = {"input_ids": np.asarray([encoding.ids], dtype=np.int64),
                    "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64)}  # fmt: skip
            out.append(self.session.run([schema.EMBEDDING_OUTPUT], feed)[0][0])
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)


def _decode_spans(
    text: str, tags: list[str], offsets: list[tuple[int, int]], special: list[int]
) -> tuple[Span, ...]:
    """BIO tags over word pieces -> character spans. A word piece glued to the previous one
    (no space between them) always joins the previous piece's span, whatever its own tag."""
    spans: list[list[Any]] = []  # [slot, start, end]
    prev_end = -1
    current: list[Any] | None = None
    for tag, (start, end), is_special in zip(tags, offsets, special):
        if is_special or end <= start:
            continue
        glued = start == prev_end and prev_end >= 0
        prev_end = end
        if glued:
            if current is not None:
                current[2] = end
            continue
        if tag == "O":
            current = None
            continue
        prefix, slot = tag.split("-", 1)
        if prefix == "I" and current is not None and current[0] == slot:
            current[2] = end
        else:
            current = [slot, start, end]
            spans.append(current)
    return tuple(Span(str(s), text[int(a):int(b)], int(a), int(b)) for s, a, b in spans)
