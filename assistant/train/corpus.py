"""The written corpus: natural commands by many writers (a large language model in personas), labelled.

``corpus/train/*.jsonl`` is training data; ``corpus/eval/*.jsonl`` is the evaluation split, written by other
writers with other personas, and is never trained on; ``corpus/holdout/*.jsonl`` is a second evaluation split by
yet other writers, whose failures nobody on the project reads (so it stays unseen). ``corpus/prompts/`` holds the
briefs that made them.

Every line is checked before it is used (``python -m assistant.train.corpus check FILE...``):

* the schema: known fields, kinds, intents and slot types;
* spans that exist: every slot value is a substring of the text (its span is the first occurrence after the
  previous command's, so a compound line's slots are in order);
* the round trip through the parser: the spans, given to the runtime's slot normaliser as if the model had
  tagged them, give a value for every slot (a brightness that normalises to nothing is a bad label);
* for the evaluation split, targets that exist in the evaluation home (``config.yaml``);
* no duplicate text; a training line that is also in the evaluation split is left out of training.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.understanding import schema
from assistant.understanding.model import Prediction, Span
from assistant.understanding.recognise import normalise_slots

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
KINDS = ("command", "question", "compound", "negative")
# Labels the relative-change intents use: the writers use the model's labels.
_COMING = {"HassBroadcast", "HassClimateSetFanMode", "HassLawnMowerDock", "HassLawnMowerStartMowing",
           "HassListCompleteItem", "HassListRemoveItem", "HassMediaSearchAndPlay", "HassRespond",
           "HassShoppingListCompleteItem", "HassVacuumCleanArea"}  # TODO(merge): in schema with the new model
LABELS = frozenset(schema.INTENT_LABELS) | _COMING
SLOTS = frozenset(schema.SLOT_TYPES) | {"message", "query", "media_class", "fan_mode"}
_NORMALISED = {"brightness": "brightness", "position": "position", "volume": "volume_level",
               "temperature": "temperature", "duration": "duration_s"}  # fmt: skip


@dataclass
class Command:
    label: str
    spans: list[tuple[int, int, str]]
    targets: tuple[str, ...] | None = None


@dataclass
class Line:
    text: str
    kind: str
    commands: list[Command]
    context_area: str | None = None
    source: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def compound(self) -> bool:
        return len(self.commands) > 1


def _spans(text: str, slots: Any, start: int, errors: list[str]) -> tuple[list[tuple[int, int, str]], int]:
    if not isinstance(slots, dict):
        errors.append("slots is not an object")
        return [], start
    found: list[tuple[int, int, str]] = []
    for slot, value in slots.items():
        if slot not in SLOTS:
            errors.append(f"unknown slot type {slot!r}")
            continue
        if not isinstance(value, str) or not value.strip():
            errors.append(f"slot {slot!r}: value must be a non-empty string")
            continue
        if value != value.strip():
            errors.append(f"slot {slot!r}: value {value!r} has spaces around it")
            continue
        at = text.find(value, start)
        if at < 0:
            at = text.find(value)
        if at < 0:
            errors.append(f"slot {slot!r}: {value!r} is not in the text")
            continue
        found.append((at, at + len(value), slot))
    found.sort()
    for (a1, b1, s1), (a2, _b2, s2) in zip(found, found[1:], strict=False):
        if a2 < b1:
            errors.append(f"slots {s1!r} and {s2!r} overlap")
    return found, max([b for _a, b, _s in found], default=start)


def normalised(text: str, label: str, spans: Iterable[tuple[int, int, str]]) -> dict[str, Any]:
    """The slots the runtime makes of these spans, as if the model had tagged them (for the checks, and for
    the evaluation's expected values)."""
    prediction = Prediction(label, 1.0, tuple(Span(s, text[a:b], a, b) for a, b, s in spans))
    return normalise_slots(prediction, label, text)[0]


def _round_trip(text: str, label: str, spans: list[tuple[int, int, str]], errors: list[str]) -> None:
    """Give the spans to the runtime's normaliser: every value it understands must come back."""
    try:
        slots = normalised(text, label, spans)
    except Exception as exc:  # noqa: BLE001 - a label that crashes the normaliser is a bad label
        errors.append(f"normaliser failed: {exc!r}")
        return
    for a, b, slot in spans:
        key = _NORMALISED.get(slot)
        if key and key not in slots and not (slot == "brightness" and label in schema.INTERNAL_INTENTS):
            errors.append(f"slot {slot!r}: {text[a:b]!r} does not normalise to a value")


def parse_line(raw: str, source: str = "", *, evaluation: bool = False, home: frozenset[str] = frozenset()) -> Line:
    errors: list[str] = []
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Line("", "", [], source=source, errors=[f"not JSON: {exc}"])
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
        return Line("", "", [], source=source, errors=["no text"])
    text = obj["text"]
    kind = obj.get("kind", "compound" if "commands" in obj else "command")
    if kind not in KINDS:
        errors.append(f"unknown kind {kind!r}")
    raw_commands = obj["commands"] if "commands" in obj else [obj]
    if not isinstance(raw_commands, list) or not raw_commands:
        return Line(text, kind, [], source=source, errors=["commands must be a non-empty list"])
    commands: list[Command] = []
    start = 0
    for item in raw_commands:
        if not isinstance(item, dict):
            errors.append("a command is not an object")
            continue
        label = item.get("intent")
        if label not in LABELS:
            errors.append(f"unknown intent {label!r}")
            continue
        spans, start = _spans(text, item.get("slots", {}), start, errors)
        if label == schema.NO_INTENT and spans:
            errors.append("a negative has slots")
        _round_trip(text, label, spans, errors)
        targets = item.get("targets")
        if evaluation:
            if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
                errors.append("evaluation commands need a list of target ids")
                targets = []
            unknown = [t for t in targets if home and t not in home]
            if unknown:
                errors.append(f"targets not in the evaluation home: {unknown}")
        commands.append(Command(label, spans, tuple(sorted(targets)) if isinstance(targets, list) else None))
    if kind == "compound" and len(raw_commands) < 2:
        errors.append("a compound line needs two or more commands")
    if kind != "compound" and len(raw_commands) > 1:
        errors.append("several commands: kind must be compound")
    if kind == "negative" and any(c.label != schema.NO_INTENT for c in commands):
        errors.append("a negative's intent must be 'none'")
    context = obj.get("context") or {}
    area = context.get("area") if isinstance(context, dict) else None
    return Line(text, kind, commands, context_area=area, source=source, errors=errors)


def evaluation_home(config_path: Path = ROOT / "config.yaml") -> frozenset[str]:
    """The device ids of the evaluation home (config.yaml's devices)."""
    import yaml

    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    return frozenset(d["id"] for d in data.get("devices", []) if isinstance(d, dict) and "id" in d)


def read(paths: Iterable[Path], *, evaluation: bool = False, home: frozenset[str] = frozenset()) -> Iterator[Line]:
    for path in paths:
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if raw.strip():
                yield parse_line(raw, f"{path.name}:{number}", evaluation=evaluation, home=home)


def files(split: str) -> list[Path]:
    return sorted((CORPUS / split).glob("*.jsonl"))


def key(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


@lru_cache(maxsize=1)
def held_out() -> frozenset[str]:
    """The keys of every sentence in the evaluation splits (read once per process)."""
    return frozenset(key(line.text) for line in read(files("eval") + files("holdout")))


def load(split: str, *, strict: bool = False) -> list[Line]:
    """The checked lines of a split; bad lines are dropped (or raise, with strict)."""
    evaluation = split in ("eval", "holdout")
    home = evaluation_home() if evaluation else frozenset()
    lines = list(read(files(split), evaluation=evaluation, home=home))
    bad = [line for line in lines if line.errors]
    if bad and strict:
        raise ValueError(f"{len(bad)} bad corpus lines, first: {bad[0].source}: {bad[0].errors}")
    # the evaluation splits are never trained on, not even a short line both wrote
    seen: set[str] = set(held_out()) if split == "train" else set()
    kept = []
    for line in lines:
        if not line.errors and key(line.text) not in seen:
            seen.add(key(line.text))
            kept.append(line)
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.train.corpus", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check corpus files (default: all of them)")
    check.add_argument("files", nargs="*", type=Path)
    check.add_argument("--eval", action="store_true", help="the files are evaluation files (targets checked)")
    sub.add_parser("stats", help="counts per split, kind, intent and writer")
    args = parser.parse_args(argv)
    if args.command == "stats":
        for split in ("train", "eval", "holdout"):
            lines = load(split)
            kinds = Counter(line.kind for line in lines)
            writers = Counter(line.source.split("-")[0] for line in lines)
            labels = Counter(c.label for line in lines for c in line.commands)
            print(f"{split}: {len(lines)} lines; kinds {dict(kinds)}; writers {dict(writers)}")
            print("  " + ", ".join(f"{k} {v}" for k, v in sorted(labels.items())))
        return 0
    paths = args.files or files("train") + files("eval") + files("holdout")
    home = evaluation_home()
    failures = 0
    seen: Counter[str] = Counter()
    for path in paths:
        evaluation = args.eval or path.parent.name in ("eval", "holdout")
        for line in read([path], evaluation=evaluation, home=home):
            seen[key(line.text)] += 1
            for problem in line.errors:
                failures += 1
                print(f"{line.source}: {problem}  [{line.text[:60]}]")
    repeated = sum(n - 1 for n in seen.values() if n > 1)
    print(f"{failures} problem(s) in {len(paths)} file(s); {repeated} line(s) repeat an earlier one (used once)",
          file=sys.stderr)  # fmt: skip
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())


# --------------------------------------------------------------------------- to training examples
_OWN = re.compile(r"[^\W\d_]+")
_NOT_OWN = frozenset("the a an my our all both too also as well please in on of for to at and then".split())


def _type_word(value: str) -> bool:
    """The lights in general ("the lights", "the heating"): where, not which, so not a name (the runtime drops
    such names too, :func:`assistant.understanding.recognise.is_generic_name`)."""
    from assistant.understanding.recognise import is_generic_name

    return is_generic_name(value)


def examples(lines: Iterable[Line]) -> list[Any]:
    """Training examples (``assistant.train.data.Example``): one per command. A compound line is cut where
    the runtime cuts it (``understanding.compound.split``, its spans kept whole); each part with words of its
    own becomes an example with its command's label; parts that only name a device (they borrow the verb of
    the part before) are left out, as the model never sees them alone either."""
    from assistant.train.data import Example
    from assistant.understanding.compound import split

    held = held_out()  # never trained on, parts of a compound neither
    out = []
    for line in lines:
        writer = line.source.split("-")[0]
        if not line.compound:
            command = line.commands[0]
            spans = [s for s in command.spans if not (s[2] == "name" and _type_word(line.text[s[0]:s[1]]))]
            out.append(Example(line.text, command.label, spans, f"corpus:{writer}", "corpus"))
            continue
        spans_all = [s for c in line.commands for s in c.spans]
        parts = split(line.text, [(a, b) for a, b, _ in spans_all], lambda _part: True)  # the labels say how many
        if len(parts) != len(line.commands):
            continue  # cut differently from the labels: not used rather than guessed
        at = 0
        for part, command in zip(parts, line.commands, strict=True):
            start = line.text.find(part, at)
            if start < 0:
                break
            at = start + len(part)
            inside = [(a - start, b - start, s) for a, b, s in command.spans if start <= a and b <= at]
            if len(inside) != len(command.spans):
                break
            rest = part
            for a, b, _s in sorted(inside, reverse=True):
                rest = rest[:a] + " " + rest[b:]
            if not any(w.lower() not in _NOT_OWN for w in _OWN.findall(rest)):
                continue  # "and the lights": no verb of its own
            kept = [s for s in inside if not (s[2] == "name" and _type_word(part[s[0]:s[1]]))]
            out.append(Example(part, command.label, kept, f"corpus:{writer}", "corpus"))
    return [e for e in out if key(e.text) not in held]
