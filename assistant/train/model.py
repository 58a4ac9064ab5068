"""Joint intent + BIO tagging model over a BERT encoder, and its training loop.

Only needs torch, safetensors and numpy (runs on the device machine too:
``python3 -m assistant.train.model --data DIR --base DIR --out DIR``, DIR a prepared base from
:mod:`assistant.train.encoder`).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from assistant.understanding.schema import INTENT_LABELS, NO_INTENT, TAG_LABELS


def mean_pool(hs, mask):
    """The mean of the tokens' states where ``mask`` is 1 (the pooling of sentence-transformers' MiniLM)."""
    m = mask.unsqueeze(-1).to(hs.dtype)
    return (hs * m).sum(1) / m.sum(1).clamp(min=1.0)


def _batches(data: dict, batch_size: int, device: str):
    """(start, input ids, attention mask) of ``data`` in order, each batch cut to its longest sentence."""
    import torch

    for i in range(0, len(data["input_ids"]), batch_size):
        mask = data["attention_mask"][i:i + batch_size]
        longest = int(mask.sum(1).max())
        yield (i, torch.from_numpy(data["input_ids"][i:i + batch_size, :longest]).to(device),
               torch.from_numpy(mask[:, :longest]).to(device))  # fmt: skip


def build_model(base_dir: str | Path, attn: str = "eager", embed: bool = False):
    """The joint model; ``embed`` adds a third output, a unit-length embedding of the whole input (a linear
    head on the mean-pooled tokens), trained to match the base sentence encoder's own embedding."""
    import torch
    from torch import nn

    class JointModel(nn.Module):
        def __init__(self, encoder: nn.Module, n_intents: int, n_tags: int, dropout: float = 0.1):
            super().__init__()
            self.encoder = encoder
            h = int(encoder.config["hidden"])  # type: ignore[index]
            self.dropout = nn.Dropout(dropout)
            self.intent_head = nn.Linear(2 * h, n_intents)
            self.tag_head = nn.Linear(h, n_tags)
            self.embed_head = nn.Linear(h, h) if embed else None

        def forward(self, input_ids, attention_mask):
            hs = self.encoder(input_ids, attention_mask)
            mean = mean_pool(hs, attention_mask)
            pooled = torch.cat([hs[:, 0], mean], dim=-1)
            intent_logits = self.intent_head(self.dropout(pooled))
            tag_logits = self.tag_head(self.dropout(hs))
            if self.embed_head is None:
                return intent_logits, tag_logits
            return intent_logits, tag_logits, nn.functional.normalize(self.embed_head(mean), dim=-1)

    from assistant.train.encoder import build_encoder

    return JointModel(build_encoder(base_dir, attn), len(INTENT_LABELS), len(TAG_LABELS))


def sentence_embeddings(base_dir: str | Path, data: dict, device: str, batch_size: int = 1024):
    """The base sentence encoder's embeddings (mean-pooled, unit length, as sentence-transformers' all-MiniLM
    makes them) of the encoded phrases in ``data``: what the embedding head learns to reproduce."""
    import torch

    from assistant.train.encoder import build_encoder

    encoder = build_encoder(base_dir, "eager").to(device).eval()
    out = []
    with torch.no_grad():
        for _, ids, mask in _batches(data, batch_size, device):
            out.append(torch.nn.functional.normalize(mean_pool(encoder(ids, mask).float(), mask), dim=-1))
    return torch.cat(out)


def _load_npz(path: Path):
    import numpy as np

    d = np.load(path)
    return {k: d[k] for k in d.files}


def evaluate_arrays(model, data, device, batch_size: int = 256) -> dict[str, float]:
    import numpy as np
    import torch

    model.eval()
    width = data["input_ids"].shape[1]
    pi, pt = [], []
    with torch.no_grad():
        for _, ids, mask in _batches(data, batch_size, device):
            il, tl = model(ids, mask)[:2]
            pi.append(il.argmax(-1).cpu().numpy())
            t = np.full((ids.shape[0], width), -100)
            t[:, :ids.shape[1]] = tl.argmax(-1).cpu().numpy()
            pt.append(t)
    model.train()
    return array_metrics(np.concatenate(pi), np.concatenate(pt), data["intent"], data["tags"])


def array_metrics(pred_int, pred_tags, gold_int, gold_tags) -> dict[str, float]:
    import numpy as np

    none = INTENT_LABELS.index(NO_INTENT)
    valid = gold_tags != -100
    tag_ok = np.where(valid, pred_tags == gold_tags, True).all(1)
    ood = gold_int == none
    return {
        "intent_acc": float((pred_int == gold_int).mean()),
        "tags_seq_acc": float(tag_ok.mean()),
        "exact": float(((pred_int == gold_int) & tag_ok).mean()),
        "ood_rejection": float((pred_int[ood] == none).mean()) if ood.any() else float("nan"),
        "false_rejection": float((pred_int[~ood] == none).mean()) if (~ood).any() else float("nan"),
    }


def teacher_logits(teachers: list[tuple[str, str]], data: dict, device: str, batch_size: int = 512):
    """The teachers' mean intent and tag logits over every training sentence (kept on ``device``).

    ``teachers``: (prepared base folder, trained weights) pairs, each a trained joint model; or (anything,
    an exported ``nlu.int8.onnx``), run with onnxruntime on the CPU (a shipped model as the teacher); or
    (anything, a ``.pt`` file of logits saved from this function, to share them between runs)."""
    import torch

    n, width = data["input_ids"].shape
    intent = torch.zeros((n, len(INTENT_LABELS)), dtype=torch.float32, device=device)
    tags = torch.zeros((n, width, len(TAG_LABELS)), dtype=torch.float16, device=device)
    for base, weights in teachers:
        if str(weights).endswith(".pt"):  # logits saved earlier: torch.save(teacher_logits(...), "x.pt")
            saved_intent, saved_tags = torch.load(weights, map_location=device)
            intent += saved_intent.float() / len(teachers)
            tags[:, :saved_tags.shape[1]] += (saved_tags.float() / len(teachers)).half()
            continue
        if str(weights).endswith(".onnx"):
            for rows, il, tl in _onnx_logits(weights, data):
                i = torch.from_numpy(rows).to(device)
                intent[i] += torch.from_numpy(il).to(device) / len(teachers)
                tags[i, :tl.shape[1]] += (torch.from_numpy(tl).to(device) / len(teachers)).half()
            continue
        model = load_trained(base, weights).to(device)
        with torch.no_grad(), torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            for i, ids, mask in _batches(data, batch_size, device):
                il, tl = model(ids, mask)[:2]
                intent[i:i + len(ids)] += il.float() / len(teachers)
                tags[i:i + len(ids), :ids.shape[1]] += (tl.float() / len(teachers)).half()
        del model
    return intent, tags


def _onnx_logits(path: str | Path, data: dict, batch_size: int = 256):
    """(row indices, intent logits, tag logits) of an exported model over ``data``, in batches of sentences
    of about the same length."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    lengths = data["attention_mask"].sum(1)
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = int(lengths[rows].max())
        il, tl = session.run(["intent_logits", "tag_logits"],
                             {"input_ids": data["input_ids"][rows, :width].astype(np.int64),
                              "attention_mask": data["attention_mask"][rows, :width].astype(np.int64)})  # fmt: skip
        yield rows, il, tl


def _distil_loss(student, teacher, temperature: float, valid=None):
    """Soft cross-entropy (KL) of the student's tempered distribution to the teacher's, times T^2."""
    import torch.nn.functional as F

    t = temperature
    kl = F.kl_div(F.log_softmax(student / t, -1), F.log_softmax(teacher.float() / t, -1), reduction="none",
                  log_target=True).sum(-1)  # fmt: skip
    if valid is not None:
        return (kl * valid).sum() / valid.sum().clamp(min=1) * t * t
    return kl.mean() * t * t


def train(data_dir: str | Path, base_dir: str | Path, out_dir: str | Path, *, epochs: float = 5, lr: float = 5e-5,
          head_lr: float = 5e-4, batch_size: int = 64, warmup: float = 0.06, weight_decay: float = 0.01,
          seed: int = 13, max_steps: int = 0, device: str = "auto", log=print,
          teachers: list[tuple[str, str]] | None = None, alpha: float = 0.5, temperature: float = 2.0,
          tag_weight: float = 1.0, embed_from: str | Path | None = None, embed_weight: float = 1.0) -> dict[str, Any]:
    """Fine-tune the joint model; with ``teachers``, distil them too: the loss is (1 - alpha) x the labels'
    cross-entropy + alpha x the soft cross-entropy to the teachers' mean logits at ``temperature`` (the tags'
    part times ``tag_weight``: 0 distils the intent only).
    ``embed_from``: a base sentence encoder (all six layers); the model gets an embedding head trained on
    ``phrases.npz`` of ``data_dir`` to reproduce that encoder's embeddings (cosine loss x ``embed_weight``),
    so that the one loaded model can compare a spoken name with device names by meaning."""
    import numpy as np
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    np.random.seed(seed)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_d = _load_npz(data_dir / "train.npz")
    test_d = _load_npz(data_dir / "test.npz")
    model = build_model(base_dir, attn="sdpa" if device == "cuda" else "eager", embed=embed_from is not None).to(device)
    phrases = target = None
    if embed_from is not None:
        phrases = _load_npz(data_dir / "phrases.npz")
        target = sentence_embeddings(embed_from, phrases, device)
        n_held = max(1, len(target) // 20)  # the last 5%: how well the head learned, on phrases it never saw
        log(f"embedding head: {len(target) - n_held} phrases to learn from, {n_held} held out")
    n = len(train_d["intent"])
    steps_per_epoch = max(1, math.ceil(n / batch_size))
    total = round(steps_per_epoch * epochs)
    if max_steps:
        total = min(total, max_steps) if total else max_steps
    total = max(1, total)
    no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias")
    enc_params = list(model.encoder.named_parameters())
    head_params = [p for n_, p in model.named_parameters() if not n_.startswith("encoder.")]
    groups = [
        {"params": [p for n_, p in enc_params if not any(x in n_ for x in no_decay)], "lr": lr, "weight_decay": weight_decay},
        {"params": [p for n_, p in enc_params if any(x in n_ for x in no_decay)], "lr": lr, "weight_decay": 0.0},
        {"params": head_params, "lr": head_lr, "weight_decay": weight_decay},
    ]
    opt = torch.optim.AdamW(groups, lr=lr)
    base_lrs: list[float] = [float(g["lr"]) for g in groups]  # type: ignore[arg-type]
    n_warm = max(1, int(total * warmup))

    def set_lr(step: int) -> None:
        f = step / n_warm if step < n_warm else max(0.0, (total - step) / max(1, total - n_warm))
        for g, b in zip(opt.param_groups, base_lrs):
            g["lr"] = b * f

    soft = teacher_logits(teachers, train_d, device) if teachers else None
    if soft is not None:
        log(f"distilling {len(teachers or [])} teacher(s), alpha {alpha}, temperature {temperature}")
    ce_int = torch.nn.CrossEntropyLoss()
    ce_tag = torch.nn.CrossEntropyLoss(ignore_index=-100)
    rng = np.random.default_rng(seed)
    use_amp = device == "cuda"
    t0 = time.time()
    step = 0
    model.train()
    history = []
    epoch = 0
    while step < total:
        perm = rng.permutation(n)
        for i in range(0, n, batch_size):
            if step >= total:
                break
            idx = perm[i:i + batch_size]
            mask_np = train_d["attention_mask"][idx]
            L = int(mask_np.sum(1).max())
            ids = torch.from_numpy(train_d["input_ids"][idx, :L]).to(device)
            mask = torch.from_numpy(mask_np[:, :L]).to(device)
            yi = torch.from_numpy(train_d["intent"][idx]).to(device)
            yt = torch.from_numpy(train_d["tags"][idx, :L]).to(device)
            set_lr(step)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                il, tl = model(ids, mask)[:2]
            loss = ce_int(il.float(), yi) + ce_tag(tl.float().reshape(-1, tl.shape[-1]), yt.reshape(-1))
            if soft is not None:
                sel = torch.from_numpy(idx).to(device)
                valid = (yt != -100).float()
                kd = _distil_loss(il.float(), soft[0][sel], temperature)
                if tag_weight:
                    kd = kd + tag_weight * _distil_loss(tl.float(), soft[1][sel, :L], temperature, valid)
                loss = (1 - alpha) * loss + alpha * kd
            if target is not None and phrases is not None:
                pick = rng.integers(0, len(target) - n_held, batch_size)
                p_mask = phrases["attention_mask"][pick]
                p_len = int(p_mask.sum(1).max())
                with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                    emb = model(torch.from_numpy(phrases["input_ids"][pick, :p_len]).to(device),
                                torch.from_numpy(p_mask[:, :p_len]).to(device))[2]  # fmt: skip
                loss = loss + embed_weight * (1 - (emb.float() * target[torch.from_numpy(pick).to(device)]).sum(-1)).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step % 200 == 0 or step == total:
                log(f"step {step}/{total} loss {loss.item():.4f} {time.time() - t0:.0f}s")
        epoch += 1
        m = evaluate_arrays(model, test_d, device)
        m.update(epoch=epoch, step=step)
        history.append(m)
        log(f"epoch {epoch} test {json.dumps(m)}")
    train_m = evaluate_arrays(model, {k: v[:4000] for k, v in train_d.items()}, device)
    embed_m = None
    if target is not None and phrases is not None:
        embed_m = embedding_agreement(model, phrases, target, len(target) - n_held, device)
        log(f"embedding head on held-out phrases: {json.dumps(embed_m)}")
    log(f"train subset {json.dumps(train_m)}")
    sd = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, str(out_dir / "weights.fp16.safetensors"))
    info = {"epochs": epochs, "epochs_run": epoch, "lr": lr, "head_lr": head_lr, "batch_size": batch_size,
            "warmup": warmup, "weight_decay": weight_decay, "seed": seed, "steps": step, "max_steps": max_steps,
            "device": device if device == "cpu" else torch.cuda.get_device_name(0), "torch": torch.__version__,
            "amp": "bf16" if use_amp else "none", "n_train": n, "train_seconds": round(time.time() - t0, 1),
            "history": history, "train_subset": train_m,
            "distillation": {"teachers": len(teachers), "alpha": alpha, "temperature": temperature,
                             "tag_weight": tag_weight} if teachers else None,
            "embedding": {"weight": embed_weight, **(embed_m or {})} if embed_from is not None else None}
    (out_dir / "train_info.json").write_text(json.dumps(info, indent=1))
    return info


def embedding_agreement(model, phrases: dict, target, start: int, device: str) -> dict[str, float]:
    """On the held-out phrases from ``start``: the mean cosine to the base encoder's embedding, and how often
    the phrase nearest to each (among the held-out ones) is the same for the head as for the base encoder."""
    import torch

    model.eval()
    ids = torch.from_numpy(phrases["input_ids"][start:]).to(device)
    mask = torch.from_numpy(phrases["attention_mask"][start:]).to(device)
    with torch.no_grad():
        emb = model(ids, mask)[2].float()
    model.train()
    want = target[start:]
    cos = float((emb * want).sum(-1).mean())
    eye = torch.eye(len(want), device=device, dtype=torch.bool)
    mine = (emb @ emb.T).masked_fill(eye, -2).argmax(-1)
    theirs = (want @ want.T).masked_fill(eye, -2).argmax(-1)
    return {"held_out_phrases": len(want), "mean_cosine": round(cos, 4),
            "nearest_neighbour_agreement": round(float((mine == theirs).float().mean()), 4)}


def load_trained(base_dir: str | Path, weights: str | Path | list[Path]):
    """Rebuild the joint model (eager attention, fp32) and load trained weights (file or chunk list)."""
    from safetensors.torch import load as load_bytes

    if isinstance(weights, (list, tuple)):
        raw = b"".join(Path(p).read_bytes() for p in sorted(weights))
    else:
        raw = Path(weights).read_bytes()
    sd = {k: v.float() if v.is_floating_point() else v for k, v in load_bytes(raw).items()}
    model = build_model(base_dir, attn="eager", embed="embed_head.weight" in sd)
    model.load_state_dict(sd)
    model.eval()
    return model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="train the joint model on an encoded dataset")
    ap.add_argument("--data", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=float, default=5)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=5e-4)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--teacher", nargs=2, action="append", metavar=("BASE", "WEIGHTS"), default=[],
                    help="distil this trained model (repeat: their mean logits); WEIGHTS may also be an exported"
                         " nlu.int8.onnx, or logits saved from teacher_logits (.pt)")
    ap.add_argument("--alpha", type=float, default=0.5, help="weight of the teachers' soft targets")
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--tag-weight", type=float, default=1.0, help="weight of the tags in distillation (0: intent only)")
    ap.add_argument("--embed-from", default=None,
                    help="a base sentence encoder: add the embedding head, trained on DATA/phrases.npz")
    ap.add_argument("--embed-weight", type=float, default=1.0)
    a = ap.parse_args(argv)
    train(a.data, a.base, a.out, epochs=a.epochs, lr=a.lr, head_lr=a.head_lr, batch_size=a.batch_size,
          seed=a.seed, max_steps=a.max_steps, device=a.device, log=lambda s: print(s, flush=True),
          teachers=[tuple(t) for t in a.teacher] or None, alpha=a.alpha, temperature=a.temperature,
          tag_weight=a.tag_weight, embed_from=a.embed_from, embed_weight=a.embed_weight)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
