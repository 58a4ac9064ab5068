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


def build_model(base_dir: str | Path, attn: str = "eager"):
    import torch
    from torch import nn

    class JointModel(nn.Module):
        def __init__(self, encoder: nn.Module, n_intents: int, n_tags: int, dropout: float = 0.1):
            super().__init__()
            self.encoder = encoder
            h = encoder.config["hidden"]
            self.dropout = nn.Dropout(dropout)
            self.intent_head = nn.Linear(2 * h, n_intents)
            self.tag_head = nn.Linear(h, n_tags)

        def forward(self, input_ids, attention_mask):
            hs = self.encoder(input_ids, attention_mask)
            m = attention_mask.unsqueeze(-1).to(hs.dtype)
            mean = (hs * m).sum(1) / m.sum(1).clamp(min=1.0)
            pooled = torch.cat([hs[:, 0], mean], dim=-1)
            intent_logits = self.intent_head(self.dropout(pooled))
            tag_logits = self.tag_head(self.dropout(hs))
            return intent_logits, tag_logits

    from assistant.train.encoder import build_encoder

    return JointModel(build_encoder(base_dir, attn), len(INTENT_LABELS), len(TAG_LABELS))


def _load_npz(path: Path):
    import numpy as np

    d = np.load(path)
    return {k: d[k] for k in d.files}


def evaluate_arrays(model, data, device, batch_size: int = 256) -> dict[str, float]:
    import numpy as np
    import torch

    model.eval()
    n = len(data["intent"])
    pi, pt = [], []
    with torch.no_grad():
        for i in range(0, n, batch_size):
            ids = torch.from_numpy(data["input_ids"][i:i + batch_size]).to(device)
            mask = torch.from_numpy(data["attention_mask"][i:i + batch_size]).to(device)
            L = int(mask.sum(1).max())
            il, tl = model(ids[:, :L], mask[:, :L])
            pi.append(il.argmax(-1).cpu().numpy())
            t = np.full((ids.shape[0], ids.shape[1]), -100)
            t[:, :L] = tl.argmax(-1).cpu().numpy()
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


def train(data_dir: str | Path, base_dir: str | Path, out_dir: str | Path, *, epochs: float = 5, lr: float = 5e-5,
          head_lr: float = 5e-4, batch_size: int = 64, warmup: float = 0.06, weight_decay: float = 0.01,
          seed: int = 13, max_steps: int = 0, device: str = "auto", log=print) -> dict[str, Any]:
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
    model = build_model(base_dir, attn="sdpa" if device == "cuda" else "eager").to(device)
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
    base_lrs = [g["lr"] for g in groups]
    n_warm = max(1, int(total * warmup))

    def set_lr(step: int) -> None:
        f = step / n_warm if step < n_warm else max(0.0, (total - step) / max(1, total - n_warm))
        for g, b in zip(opt.param_groups, base_lrs):
            g["lr"] = b * f

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
                il, tl = model(ids, mask)
            loss = ce_int(il.float(), yi) + ce_tag(tl.float().reshape(-1, tl.shape[-1]), yt.reshape(-1))
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
    log(f"train subset {json.dumps(train_m)}")
    sd = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, str(out_dir / "weights.fp16.safetensors"))
    info = {"epochs": epochs, "epochs_run": epoch, "lr": lr, "head_lr": head_lr, "batch_size": batch_size,
            "warmup": warmup, "weight_decay": weight_decay, "seed": seed, "steps": step, "max_steps": max_steps,
            "device": device if device == "cpu" else torch.cuda.get_device_name(0), "torch": torch.__version__,
            "amp": "bf16" if use_amp else "none", "n_train": n, "train_seconds": round(time.time() - t0, 1),
            "history": history, "train_subset": train_m}
    (out_dir / "train_info.json").write_text(json.dumps(info, indent=1))
    return info


def load_trained(base_dir: str | Path, weights: str | Path | list[Path]):
    """Rebuild the joint model (eager attention, fp32) and load trained weights (file or chunk list)."""
    from safetensors.torch import load as load_bytes

    model = build_model(base_dir, attn="eager")
    if isinstance(weights, (list, tuple)):
        raw = b"".join(Path(p).read_bytes() for p in sorted(weights))
    else:
        raw = Path(weights).read_bytes()
    sd = {k: v.float() if v.is_floating_point() else v for k, v in load_bytes(raw).items()}
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
    a = ap.parse_args(argv)
    train(a.data, a.base, a.out, epochs=a.epochs, lr=a.lr, head_lr=a.head_lr, batch_size=a.batch_size,
          seed=a.seed, max_steps=a.max_steps, device=a.device, log=lambda s: print(s, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
