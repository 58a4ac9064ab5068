"""The encoder, in plain PyTorch, and its pruning: a vocabulary cut to the words this domain uses, fewer layers.

MiniLM-L6-H384 is a BERT encoder; this module is that encoder with the same parameter names as the base
model's ``model.safetensors``, so its weights load unchanged, and it needs only torch (the GPU machine has
no transformers). ``prepare`` writes a *prepared base*: the weights of the kept vocabulary rows, positions
and layers, in fp16, with ``encoder.json`` (the shape and the kept vocabulary's original ids).

Pruning the vocabulary: the tokenizer's 30,522 word pieces are about half of the model's bytes, and most
are never used by a smart-home command. The kept pieces are the special tokens, every single character
(so any word can still be spelled), the ``top`` most frequent pieces (BERT's vocabulary is ordered roughly by
frequency after its characters), and every piece the training sentences use. The tokenizer is rewritten
with the same pieces renumbered, so a word outside the kept set splits into smaller kept pieces.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
FIRST_WORD_ID = 1996  # in bert-base-uncased's vocabulary: [unused] 1-998, characters 999-1995, then words


def kept_vocabulary(tokenizer_json: dict[str, Any], texts: list[str], top: int) -> list[int]:
    """Original ids to keep, in order."""
    from tokenizers import Tokenizer

    vocab: dict[str, int] = tokenizer_json["model"]["vocab"]
    keep = {vocab[t] for t in SPECIALS}
    keep.update(i for t, i in vocab.items() if len(t.removeprefix("##")) == 1)  # every character
    keep.update(i for i in vocab.values() if FIRST_WORD_ID <= i < FIRST_WORD_ID + top)
    tok = Tokenizer.from_str(json.dumps(tokenizer_json))
    for enc in tok.encode_batch(texts, add_special_tokens=False):
        keep.update(enc.ids)
    return sorted(keep)


def pruned_tokenizer(tokenizer_json: dict[str, Any], kept: list[int]) -> dict[str, Any]:
    """The same tokenizer over the kept pieces, renumbered 0..len(kept)-1 in their original order."""
    by_id = {i: t for t, i in tokenizer_json["model"]["vocab"].items()}
    new = json.loads(json.dumps(tokenizer_json))
    new["model"]["vocab"] = {by_id[old]: n for n, old in enumerate(kept)}
    for added in new.get("added_tokens", []):
        added["id"] = new["model"]["vocab"][added["content"]]
    post = new.get("post_processor") or {}
    for name, special in (post.get("special_tokens") or {}).items():
        special["ids"] = [new["model"]["vocab"][name]]
    if "cls" in post:  # BertProcessing form
        post["cls"] = ["[CLS]", new["model"]["vocab"]["[CLS]"]]
        post["sep"] = ["[SEP]", new["model"]["vocab"]["[SEP]"]]
    if isinstance(new.get("padding"), dict):
        new["padding"]["pad_id"] = new["model"]["vocab"]["[PAD]"]
    return new


def layer_choice(n_base: int, n: int) -> list[int]:
    """``n`` of ``n_base`` layers, evenly spaced, first and last kept."""
    if n >= n_base:
        return list(range(n_base))
    return sorted({round(i * (n_base - 1) / (n - 1)) for i in range(n)}) if n > 1 else [n_base - 1]


def ffn_choice(weights: dict[str, Any], layer: int, n: int) -> Any:
    """The ``n`` feed-forward units of a layer that matter most before fine-tuning: by the product of the
    norms of each unit's input row and output column (magnitude pruning), kept in their original order."""
    w_in = weights[f"encoder.layer.{layer}.intermediate.dense.weight"].float()  # [units, hidden]
    w_out = weights[f"encoder.layer.{layer}.output.dense.weight"].float()  # [hidden, units]
    score = w_in.norm(dim=1) * w_out.norm(dim=0)
    return score.topk(n).indices.sort().values


def prepare(base_dir: Path, out_dir: Path, kept: list[int] | None, layers: int | None, positions: int,
            intermediate: int | None = None) -> dict:
    """Write a prepared base: ``encoder.safetensors`` (fp16) and ``encoder.json``. ``intermediate``: keep
    this many feed-forward units per layer (of the base's 1,536)."""
    from safetensors.torch import load_file, save_file

    if (base_dir / "encoder.json").exists():
        config = json.loads((base_dir / "encoder.json").read_text())
        weights = load_file(str(base_dir / "encoder.safetensors"))
    else:
        weights = load_file(str(base_dir / "model.safetensors"))
        config = json.loads((base_dir / "config.json").read_text())
        config = {"hidden": config["hidden_size"], "heads": config["num_attention_heads"],
                  "layers": config["num_hidden_layers"], "intermediate": config["intermediate_size"],
                  "vocab": config["vocab_size"], "positions": config["max_position_embeddings"],
                  "eps": config["layer_norm_eps"], "vocab_ids": None, "layer_ids": None,
                  "source": config.get("_name_or_path", "")}  # fmt: skip
    out: dict[str, Any] = {}
    chosen = layer_choice(config["layers"], layers or config["layers"])
    units = {}
    if intermediate is not None and intermediate < config["intermediate"]:
        units = {i: ffn_choice(weights, i, intermediate) for i in chosen}
    for key, value in weights.items():
        if key.startswith("pooler.") or key.endswith("position_ids"):
            continue
        if key.startswith("encoder.layer."):
            index = int(key.split(".")[2])
            if index not in chosen:
                continue
            if index in units and ".intermediate.dense." in key:
                value = value[units[index]]
            elif index in units and key.endswith(".output.dense.weight") and ".attention." not in key:
                value = value[:, units[index]]
            key = key.replace(f"encoder.layer.{index}.", f"encoder.layer.{chosen.index(index)}.", 1)
        elif key == "embeddings.word_embeddings.weight" and kept is not None:
            value = value[kept]
        elif key == "embeddings.position_embeddings.weight":
            value = value[:positions]
        out[key] = value.half().contiguous()
    earlier_layers = config.get("layer_ids") or list(range(config["layers"]))
    config.update(layers=len(chosen), layer_ids=[earlier_layers[i] for i in chosen],
                  positions=min(positions, config["positions"]))
    if units:
        config["intermediate"] = intermediate
    if kept is not None:
        config.update(vocab=len(kept), vocab_ids=kept)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(out, str(out_dir / "encoder.safetensors"))
    (out_dir / "encoder.json").write_text(json.dumps(config))
    return config


def build_encoder(base_dir: str | Path, attn: str = "eager"):
    """The encoder of a prepared base (or of the original base model), weights loaded, fp32."""
    import torch
    from safetensors.torch import load_file
    from torch import nn

    base_dir = Path(base_dir)
    if not (base_dir / "encoder.json").exists():
        raise FileNotFoundError(f"{base_dir}: no encoder.json (make one with `python -m assistant.train.encoder`)")
    cfg = json.loads((base_dir / "encoder.json").read_text())
    h, heads, eps = cfg["hidden"], cfg["heads"], cfg["eps"]

    class Embeddings(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word_embeddings = nn.Embedding(cfg["vocab"], h)
            self.position_embeddings = nn.Embedding(cfg["positions"], h)
            self.token_type_embeddings = nn.Embedding(2, h)
            self.LayerNorm = nn.LayerNorm(h, eps=eps)

        def forward(self, ids):
            positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
            x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings.weight[0]
            return self.LayerNorm(x)

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    class Dense(nn.Module):
        def __init__(self, n_in: int, n_out: int, norm: bool) -> None:
            super().__init__()
            self.dense = nn.Linear(n_in, n_out)
            if norm:
                self.LayerNorm = nn.LayerNorm(n_out, eps=eps)

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.self = SelfAttention()
            self.output = Dense(h, h, True)

        def forward(self, x, bias):
            b, t, _ = x.shape

            def heads_of(lin):
                return lin(x).view(b, t, heads, h // heads).transpose(1, 2)

            q, k, v = heads_of(self.self.query), heads_of(self.self.key), heads_of(self.self.value)
            if attn == "sdpa":
                ctx = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            else:
                scores = q @ k.transpose(-1, -2) / math.sqrt(h // heads) + bias
                ctx = scores.softmax(-1) @ v
            ctx = ctx.transpose(1, 2).reshape(b, t, h)
            return self.output.LayerNorm(self.output.dense(ctx) + x)

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = Attention()
            self.intermediate = Dense(h, cfg["intermediate"], False)
            self.output = Dense(cfg["intermediate"], h, True)

        def forward(self, x, bias):
            x = self.attention(x, bias)
            y = torch.nn.functional.gelu(self.intermediate.dense(x))
            return self.output.LayerNorm(self.output.dense(y) + x)

    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.ModuleList(Layer() for _ in range(cfg["layers"]))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = Embeddings()
            self.encoder = Stack()
            self.config = cfg

        def forward(self, input_ids, attention_mask):
            x = self.embeddings(input_ids)
            bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
            for layer in self.encoder.layer:
                x = layer(x, bias)
            return x

    model = Encoder()
    weights = {k: v.float() for k, v in load_file(str(base_dir / "encoder.safetensors")).items()}
    model.load_state_dict(weights)
    return model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m assistant.train.encoder", description="prepare a pruned base")
    ap.add_argument("--base", required=True, type=Path, help="the base model's folder, or a prepared base")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--layers", type=int, default=0, help="keep this many layers (0: all)")
    ap.add_argument("--vocab-ids", type=Path, default=None, help="a JSON list of the original ids to keep")
    ap.add_argument("--positions", type=int, default=64)
    ap.add_argument("--intermediate", type=int, default=0, help="keep this many feed-forward units per layer (0: all)")
    a = ap.parse_args(argv)
    kept = json.loads(a.vocab_ids.read_text()) if a.vocab_ids else None
    cfg = prepare(a.base, a.out, kept, a.layers or None, a.positions, a.intermediate or None)
    print(f"prepared {a.out}: {cfg['layers']} layers {cfg['layer_ids']}, {cfg['intermediate']} feed-forward units,"
          f" vocabulary {cfg['vocab']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
