"""`assistant bench`: parse latency per sentence (p50/p95), model load time and peak memory,
with hassil's latency on the same sentences in the same run. Figures are printed, never asserted."""

from __future__ import annotations

import resource
import statistics
import time
from pathlib import Path
from typing import Any

from .config import Config
from .devices import Registry
from .evaluate import HassilPeer, load_examples


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _quantiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94], max(samples)


def _row(name: str, samples: list[float]) -> str:
    p50, p95, worst = _quantiles(samples)
    return f"{name:<26}{p50:>9.2f}{p95:>9.2f}{worst:>9.2f}   (n={len(samples)})"


def run_bench(config: Config, model_path: Path, data: Path, args: Any) -> int:
    from .understanding.model import NluModel
    from .understanding.parser import Context, Understander

    rss_before = _rss_mb()
    started = time.perf_counter()
    model = NluModel(model_path, threads=1)
    load_s = time.perf_counter() - started
    understander = Understander(model, config.understanding, config.confirm)
    registry = Registry.from_config(config)
    examples = load_examples(data)
    contexts = [Context.from_json(e.context) for e in examples]

    total: list[float] = []
    model_only: list[float] = []
    for _ in range(args.runs):
        for example, context in zip(examples, contexts):
            t0 = time.perf_counter()
            understander.parse(example.text, registry, context)
            total.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            model.predict(example.text)
            model_only.append((time.perf_counter() - t0) * 1000)
    rss_ours = _rss_mb()

    print(f"model: {model_path} ({model_path.stat().st_size / 1e6:.1f} MB), ONNX Runtime intra-op threads = 1")
    print(f"sentences: {len(examples)} from {data}, {args.runs} passes")
    print(f"model load (incl. sha256 check and warm-up): {load_s * 1000:.0f} ms")
    print(f"peak RSS: {rss_ours:.0f} MB (process before loading: {rss_before:.0f} MB)")
    print(f"\n{'latency, ms':<26}{'p50':>9}{'p95':>9}{'max':>9}")
    print(_row("parse (model+resolution)", total))
    print(_row("model inference only", model_only))
    if not args.no_hassil:
        started = time.perf_counter()
        peer = HassilPeer(registry)
        hassil_load_s = time.perf_counter() - started
        hassil: list[float] = []
        for _ in range(args.runs):
            for example in examples:
                area = registry.context_area(example.context.get("area"))
                t0 = time.perf_counter()
                peer.guess(example.text, area)
                hassil.append((time.perf_counter() - t0) * 1000)
        print(_row("hassil recognize", hassil))
        print(f"\nhassil load: {hassil_load_s * 1000:.0f} ms; peak RSS after hassil: {_rss_mb():.0f} MB")
    return 0
