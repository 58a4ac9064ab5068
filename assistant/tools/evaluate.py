"""`assistant eval`: accuracy on the hand-written set (and a held-out generated split), beside hassil.

Scores, on in-domain sentences: intent accuracy, slot F1 over the normalised value slots, and exact
match of (intent, targets, value slots); on out-of-domain sentences: the share rejected.
Names, areas and floors are judged through `targets`, not as slots.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from ..devices import Registry
from ..errors import AssistantError
from ..understanding.parser import Context, Understander

OUT_OF_DOMAIN = "(out of domain: rejected)"
"""The row of Scores.by_intent for sentences that must be rejected."""
VALUE_SLOTS = ("brightness", "brightness_step", "color", "color_temp", "position", "volume_level", "volume_step",
               "percentage", "temperature", "temperature_unit", "temperature_step", "duration_s", "item")  # fmt: skip


@dataclass(frozen=True)
class Example:
    text: str
    context: dict[str, Any]
    intent: str | None
    targets: tuple[str, ...]
    slots: dict[str, Any]


@dataclass(frozen=True)
class Guess:
    intent: str | None
    targets: tuple[str, ...]
    slots: dict[str, Any]


def load_examples(path: Path) -> list[Example]:
    """The hand-written format: a JSON object a line with `text` (and `context`, `intent`, `targets`, `slots`).
    AssistantError, naming the file (and line), when it cannot be read or a line is not such an object."""
    examples = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise AssistantError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AssistantError(f"{path}: cannot read: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            examples.append(Example(row["text"], row.get("context") or {}, row.get("intent"),
                                    tuple(sorted(row.get("targets") or ())), row.get("slots") or {}))  # fmt: skip
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            problem = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
            raise AssistantError(f"{path}:{number}: not an example ({problem})") from None
    return examples


def _value_items(slots: dict[str, Any]) -> set[tuple[str, Any]]:
    items = set()
    for key in VALUE_SLOTS:
        if key in slots and slots[key] is not None:
            value = slots[key]
            if isinstance(value, float) and value == int(value):
                value = int(value)
            if isinstance(value, str):
                value = value.strip().lower()
            items.add((key, value))
    return items


@dataclass
class Scores:
    n_in: int = 0
    n_ood: int = 0
    intent_ok: int = 0
    exact_ok: int = 0
    ood_rejected: int = 0
    false_rejects: int = 0
    slot_tp: int = 0
    slot_fp: int = 0
    slot_fn: int = 0
    by_intent: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Expected intent (or OUT_OF_DOMAIN) -> (intent right, examples), in the order first seen."""

    def _tally(self, key: str, right: bool) -> None:
        done, n = self.by_intent.get(key, (0, 0))
        self.by_intent[key] = (done + right, n + 1)

    def add(self, example: Example, guess: Guess) -> bool:
        """Record one example; True when it is fully right."""
        if example.intent is None:
            self.n_ood += 1
            self.ood_rejected += guess.intent is None
            self._tally(OUT_OF_DOMAIN, guess.intent is None)
            return guess.intent is None
        self.n_in += 1
        self.false_rejects += guess.intent is None
        expected, got = _value_items(example.slots), _value_items(guess.slots)
        self.slot_tp += len(expected & got)
        self.slot_fp += len(got - expected)
        self.slot_fn += len(expected - got)
        intent_ok = guess.intent == example.intent
        self.intent_ok += intent_ok
        self._tally(example.intent, intent_ok)
        exact = intent_ok and guess.targets == example.targets and expected == got
        self.exact_ok += exact
        return exact

    def row(self) -> dict[str, float]:
        precision = self.slot_tp / max(1, self.slot_tp + self.slot_fp)
        recall = self.slot_tp / max(1, self.slot_tp + self.slot_fn)
        return {
            "intent_accuracy": self.intent_ok / max(1, self.n_in),
            "slot_f1": 2 * precision * recall / max(1e-9, precision + recall),
            "exact_match": self.exact_ok / max(1, self.n_in),
            "ood_rejection": self.ood_rejected / max(1, self.n_ood),
            "in_domain_rejected": self.false_rejects / max(1, self.n_in),
        }


class HassilPeer:
    """Home Assistant's own template matcher, given this registry's names, areas and floors."""

    def __init__(self, registry: Registry) -> None:
        import home_assistant_intents
        from hassil import Intents
        from hassil.intents import TextSlotList

        data = home_assistant_intents.get_intents("en")
        if data is None:
            raise AssistantError("home-assistant-intents has no English intents")
        self.intents = Intents.from_dict(data)
        self.skip_words = data.get("skip_words")
        self.registry = registry
        names = [(n, d.id, {"domain": d.domain, **({"device_class": d.device_class} if d.device_class else {})})
                 for d in registry.devices for n in (d.name, *d.aliases)]  # fmt: skip
        self.slot_lists: dict[str, Any] = {
            "name": TextSlotList.from_tuples(names),
            "area": TextSlotList.from_tuples([(n, a.name) for a in registry.areas for n in (a.name, *a.aliases)]),
            "floor": TextSlotList.from_tuples([(n, f.name) for f in registry.floors for n in (f.name, *f.aliases)]),
            "zone": TextSlotList.from_strings([]),
            "search_query": TextSlotList.from_strings([]),
        }

    def guess(self, text: str, context_area: str | None) -> Guess:
        from hassil import recognize

        result = recognize(text, self.intents, slot_lists=self.slot_lists, skip_words=self.skip_words,
                           intent_context={"area": context_area} if context_area else None,
                           language="en")  # fmt: skip
        if result is None:
            return Guess(None, (), {})
        entities = {k: v.value for k, v in result.entities.items()}
        return Guess(result.intent.name, self._targets(result.intent.name, entities, context_area),
                     self._slots(result.intent.name, entities))  # fmt: skip

    def _targets(self, intent: str, entities: dict[str, Any], context_area: str | None) -> tuple[str, ...]:
        registry = self.registry
        if isinstance(entities.get("name"), str) and entities["name"] in {d.id for d in registry.devices}:
            return (entities["name"],)
        from ..understanding.plan import INTENTS

        spec = INTENTS.get(intent)
        if spec is None or not spec.domains:
            return ()
        domain = entities.get("domain")
        domains = {domain} if isinstance(domain, str) else set(spec.default_domains)
        devices = [d for d in registry.devices if d.domain in domains]
        if isinstance(entities.get("device_class"), str):
            devices = [d for d in devices if d.device_class == entities["device_class"]]
        if isinstance(entities.get("floor"), str):
            devices = registry.in_areas(devices, registry.areas_on_floor(entities["floor"]))
        elif isinstance(entities.get("area"), str):
            area = registry.area(entities["area"])
            devices = registry.in_areas(devices, [area.name if area else entities["area"]])
        elif context_area and "floor" not in entities:
            devices = registry.in_areas(devices, [context_area])
        return tuple(sorted(d.id for d in devices))

    @staticmethod
    def _slots(intent: str, entities: dict[str, Any]) -> dict[str, Any]:
        slots: dict[str, Any] = {}
        for key in ("brightness", "position", "percentage"):
            if isinstance(entities.get(key), (int, float)):
                slots[key] = int(entities[key])
        if isinstance(entities.get("color"), str):
            slots["color"] = entities["color"]
        if isinstance(entities.get("temperature"), (int, float)):
            slots["color_temp" if intent == "HassLightSet" else "temperature"] = entities["temperature"]
        if isinstance(entities.get("volume_level"), (int, float)):
            slots["volume_level"] = int(entities["volume_level"])
        step = entities.get("volume_step")
        if step is not None:
            slots["volume_step"] = {"up": 10, "down": -10}.get(step, step) if isinstance(step, str) else int(step)
        seconds = sum(float(entities.get(k) or 0) * m for k, m in (("hours", 3600), ("minutes", 60), ("seconds", 1))
                      if isinstance(entities.get(k), (int, float)))  # fmt: skip
        if seconds:
            slots["duration_s"] = int(seconds)
        if isinstance(entities.get("item"), str):
            slots["item"] = entities["item"]
        return slots


def _score(examples: Iterable[Example], guess: Callable[[Example], Guess],
           failures: list[tuple[Example, Guess]]) -> Scores:  # fmt: skip
    scores = Scores()
    for example in examples:
        g = guess(example)
        if not scores.add(example, g):
            failures.append((example, g))
    return scores


def _print_table(title: str, columns: dict[str, dict[str, float]], counts: str) -> None:
    print(f"\n{title}  ({counts})")
    names = list(columns)
    print(f"{'metric':<22}" + "".join(f"{n:>14}" for n in names))
    for metric in next(iter(columns.values())):
        print(f"{metric:<22}" + "".join(f"{columns[n][metric] * 100:>13.1f}%" for n in names))


def run_eval(config: Config, understander: Understander, data: Path, args: Any) -> int:
    registry = Registry.from_config(config)
    examples = load_examples(data)

    def ours(example: Example) -> Guess:
        parse = understander.parse(example.text, registry, Context.from_json(example.context))
        return Guess(parse.intent, parse.targets, parse.slots)

    report = getattr(args, "report", None)
    if report:
        from . import report as html_report

        html_report.require()  # before the evaluation, not after it
    started = time.perf_counter()
    our_failures: list[tuple[Example, Guess]] = []
    scores = {"this model": _score(examples, ours, our_failures)}
    elapsed = time.perf_counter() - started
    if not args.no_hassil:
        peer = HassilPeer(registry)
        scores["hassil"] = _score(
            examples, lambda e: peer.guess(e.text, registry.context_area(e.context.get("area"))), []
        )
    columns = {name: s.row() for name, s in scores.items()}
    n_in = sum(e.intent is not None for e in examples)
    counts = f"{n_in} in-domain, {len(examples) - n_in} out-of-domain"
    _print_table(f"hand-written set: {data}", columns, counts)
    print(f"(this model: {elapsed / max(1, len(examples)) * 1000:.2f} ms per sentence, mean)")
    metrics = understander.model.metadata.get("metrics", {})
    if metrics:
        print("\nheld-out generated split (from the model metadata, int8 ONNX):")
        for key, value in metrics.items():
            print(f"  {key}: {value}")
    for example, guess in our_failures[: args.errors]:
        print(f"\nFAIL {example.text!r} ctx={example.context}\n  want {example.intent} {list(example.targets)} "
              f"{example.slots}\n  got  {guess.intent} {list(guess.targets)} {guess.slots}")  # fmt: skip
    if report:
        _write_eval_report(Path(report), data, counts, columns, scores)
    return 0


def _write_eval_report(path: Path, data: Path, counts: str, columns: dict[str, dict[str, float]],
                       scores: dict[str, Scores]) -> None:  # fmt: skip
    from .report import Section, accuracy_figure, write_report

    names = list(columns)
    table = [["metric", *names]] + [[metric, *(f"{columns[n][metric] * 100:.1f}%" for n in names)]
                                    for metric in columns[names[0]]]  # fmt: skip
    bars = accuracy_figure({name: s.by_intent for name, s in scores.items()})
    write_report(path, "assistant eval", [
        Section(f"Hand-written set: {data.name} ({counts})", table),
        Section("Per intent: share of sentences given the right intent", png=bars,
                note=f"{OUT_OF_DOMAIN}: the share of out-of-domain sentences rejected."),
    ])  # fmt: skip
    print(f"\nreport: {path}")


# -- voice ------------------------------------------------------------------------------------------

SHARED_SPEECH = Path("..") / "shared" / "data" / "speech"
"""The project's shared recordings, beside the checkout the evaluation is run from (else ``--speech``)."""
# The command each shared recording carries (after any wake phrase), and what it must do.
SHARED_COMMANDS = {
    "turn_on_living_room_lamp": "turn on the living room lamp",
    "would_you_please_turn_on_living_room_lamp": "would you please turn on the living room lamp",
    "what_time_is_it": "what time is it",
    **{f"wake_{w}_turn_on_the_living_room_lamp": "turn on the living room lamp"
       for w in ("pocketsphinx", "porcupine", "precise", "raven", "snowboy")},
}  # fmt: skip
# Commands spoken by the Piper voice: (text, intent, targets).
SYNTH_COMMANDS = [
    ("turn off the kitchen ceiling light", "HassTurnOff", ["light.kitchen_ceiling"]),
    ("turn on the desk lamp", "HassTurnOn", ["light.office_desk_lamp"]),
    ("close the bedroom curtains", "HassTurnOff", ["cover.bedroom_curtains"]),
    ("turn on the coffee machine", "HassTurnOn", ["switch.coffee_machine"]),
    ("switch off the hallway light", "HassTurnOff", ["light.hallway"]),
    ("open the living room blinds", "HassTurnOn", ["cover.living_room_blinds"]),
    ("set the bedroom fan to high", "HassFanSetSpeed", ["fan.bedroom_fan"]),
    ("dim the kitchen lights to thirty percent", "HassLightSet", ["light.kitchen_ceiling", "light.kitchen_counter"]),
    ("what time is it", "HassGetCurrentTime", []),
    ("set a timer for ten minutes", "HassStartTimer", []),
]


def _words(text: str) -> list[str]:
    import re

    from ..understanding.normalize import to_digits

    return re.findall(r"[a-z0-9']+", to_digits(text.lower().replace("%", " percent")))


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word edits, reference words); numbers compared as digits ("ten" = "10")."""
    from rapidfuzz.distance import Levenshtein

    ref, hyp = _words(reference), _words(hypothesis)
    return Levenshtein.distance(ref, hyp), len(ref)


def kitchen_noise(n: int, rng: Any, rate: int = 16000) -> Any:
    """A synthetic kitchen, for want of recordings: an extractor fan (brown noise and a mains hum), a tap
    running now and then (band-passed noise, 1-4 kHz), and dishes and cutlery (short decaying clinks,
    about two a second). Unit-free; the caller scales it to an SNR."""
    import numpy as np

    def band(x: Any, low: float, high: float) -> Any:
        spectrum = np.fft.rfft(x)
        freqs = np.fft.rfftfreq(len(x), 1 / rate)
        spectrum[(freqs < low) | (freqs > high)] = 0
        return np.fft.irfft(spectrum, len(x))

    def unit(x: Any) -> Any:
        return x / (np.sqrt(np.mean(x**2)) + 1e-9)

    t = np.arange(n) / rate
    fan = unit(band(np.cumsum(rng.normal(0, 1, n)), 40, 2000)) + 0.3 * unit(
        sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3)))  # fmt: skip
    tap = np.zeros(n)
    for start in rng.integers(0, max(1, n - rate), size=max(1, n // (4 * rate))):
        length = int(rng.integers(rate, 3 * rate))
        piece = band(rng.normal(0, 1, length), 1000, 4000) * (1 + 0.3 * np.sin(2 * np.pi * 3 * np.arange(length) / rate))
        tap[start : start + length] += piece[: n - start]
    clinks = np.zeros(n)
    for at in rng.integers(0, n, size=max(1, int(2 * n / rate))):
        length = int(0.15 * rate)
        k = np.arange(length) / rate
        hit = sum(np.sin(2 * np.pi * f * k) for f in rng.uniform(2000, 6000, 3)) * np.exp(-k / rng.uniform(0.02, 0.08))
        clinks[at : at + length] += rng.uniform(2, 8) * hit[: n - at]
    return (unit(fan) + 0.7 * unit(tap) + 0.6 * unit(clinks)).astype(np.float32)


def speech_files(folder: Path) -> list[Path]:
    """What ``eval --voice`` reads in ``folder``: commands/*.wav, librivox/*.wav and their transcripts."""
    librivox = folder / "librivox"
    transcripts = librivox / "transcripts.tsv"
    lines = transcripts.read_text(encoding="utf-8").splitlines() if transcripts.is_file() else []
    wavs = [librivox / f"{line.split(chr(9))[0]}.wav" for line in lines]
    return [folder / "commands" / f"{stem}.wav" for stem in SHARED_COMMANDS] + [transcripts, *wavs]


ESPEAK_VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp+f2", "en-029+m3", "en-us-nyc+f4",
                 "en-gb-x-gbclan+klatt", "en-gb-x-gbcwmd+m7")  # fmt: skip
"""espeak-ng voices and variants (``voice+variant``) that speak the commands, beside the Piper voice."""
# More commands, for the espeak-ng voices: (text, intent, targets).
MORE_COMMANDS = [
    ("cancel the timer", "HassCancelTimer", []),
    ("turn off the bedside lamp", "HassTurnOff", ["light.bedside_lamp"]),
    ("set the living room lamp to fifty percent", "HassLightSet", ["light.living_room_lamp"]),
    ("lock the front door", "HassTurnOn", ["lock.front_door"]),
    ("turn on the garden lights", "HassTurnOn", ["light.garden_lights"]),
    ("set the thermostat to twenty degrees", "HassClimateSetTemperature", ["climate.living_room_thermostat"]),
    ("what's the temperature in the bedroom", "HassClimateGetTemperature", ["climate.bedroom_radiator"]),
    ("turn up the volume on the kitchen speaker", "HassSetVolumeRelative", ["media_player.kitchen_speaker"]),
    ("turn off the living room tv", "HassTurnOff", ["media_player.living_room_tv"]),
    ("start the vacuum", "HassVacuumStart", ["vacuum.robot"]),
]
# Out of vocabulary: said to the assistant, none of it a command of this home; it must do nothing.
OUT_OF_VOCABULARY = ["what's the weather like in paris", "tell me a joke about cats", "call my mother tomorrow",
                     "how tall is mount everest"]  # fmt: skip
MODES = ("grammar", "open")
"""The columns of ``eval --voice``: grammar first (``asr.grammar: true``) and open recognition."""


@dataclass
class VoiceScore:
    """One condition, one mode: word errors and commands done right."""

    edits: int = 0
    words: int = 0
    ok: int = 0
    n: int = 0
    unsure: int = 0
    """Commands heard but not surely enough to act on (the grammar's sentence won by too little)."""
    oov_acted: int = 0
    oov: int = 0

    def add(self, other: VoiceScore) -> None:
        for key in vars(self):
            setattr(self, key, getattr(self, key) + getattr(other, key))

    def cells(self) -> str:
        wer = f"{self.edits / max(1, self.words):.3f}" if self.words else "-"
        commands = f"{self.ok}/{self.n}" if self.n else "-"
        oov = f"{self.oov_acted}/{self.oov}" if self.oov else "-"
        return f"{wer:>7}{commands:>9}{self.unsure:>7}{oov:>6}"


def run_voice_eval(config: Config, base: Path, load_voice: Any, snrs: tuple[float, ...] = (20, 10, 5),
                   speech: Path = SHARED_SPEECH) -> int:  # fmt: skip
    """Word error rate and command success (right intent and targets), grammar first beside open recognition,
    on the shared recordings (in ``speech``), on commands spoken by the Piper voice (clean and with noise at
    each SNR: white, a synthetic kitchen, and background talk from the LibriVox readings), and by
    espeak-ng's voices (clean and kitchen noise at 10 dB), with out-of-vocabulary sentences that must do nothing."""
    import numpy as np

    from ..config import Tts
    from ..voice.audio import read_wav, split, to_mono_16k
    from ..voice.tts import EspeakEngine, Speaker

    missing = [p for p in speech_files(speech) if not p.is_file()]
    if missing:  # before any model is loaded
        shown = ", ".join(str(p.relative_to(speech)) for p in missing[:3]) + (", ..." * (len(missing) > 3))
        raise AssistantError(f"eval --voice: {len(missing)} files missing from {speech} ({shown}); "
                             "README, 'Evaluating the voice pipeline', says which and where they come from, "
                             "and --speech DIR points at another folder")  # fmt: skip
    pipelines = {mode: load_voice(config.model_copy(update={"asr": config.asr.model_copy(
        update={"grammar": mode == "grammar"})}), base) for mode in MODES}  # fmt: skip
    recognizer = pipelines["grammar"].recognizer
    grammar_ms: list[float] = []
    transcribe = recognizer.transcribe

    def timed(utterance: Any) -> Any:
        transcript = transcribe(utterance)
        if getattr(recognizer, "last_grammar_ms", 0.0):
            grammar_ms.append(recognizer.last_grammar_ms)
        return transcript

    recognizer.transcribe = timed

    def run(mode: str, samples: Any) -> list[dict[str, Any]]:
        pipeline = pipelines[mode]
        pipeline.reset()
        return list(pipeline.run(split(samples)))

    def score(items: Any, spans: list[tuple[float, float]] | None = None) -> dict[str, VoiceScore]:
        """``items``: (text, samples, intent or None for out of vocabulary, targets). ``spans``: where each
        item's command lies (ms); else the command is the last utterance."""
        out = {mode: VoiceScore() for mode in MODES}
        for mode in MODES:
            result = out[mode]
            for i, (command, samples, intent, targets) in enumerate(items):
                rows = run(mode, samples)
                if spans is not None:  # what was heard over the command (background talk elsewhere is not it)
                    start, end = spans[i]
                    rows = [r for r in rows if r["start_ms"] < end and r["end_ms"] > start]
                if intent is None:
                    result.oov += 1
                    result.oov_acted += any(r["actions"] or r["outcome"] == "confirm" for r in rows)
                    continue
                heard = " ".join(r["transcript"] for r in rows) if spans is not None else (
                    rows[-1]["transcript"] if rows else "")  # fmt: skip
                e, n = word_errors(command, heard)
                result.edits, result.words, result.n = result.edits + e, result.words + n, result.n + 1
                result.ok += any(r["intent"] == intent and sorted(r["targets"]) == sorted(targets) for r in rows)
                result.unsure += any(r["outcome"] == "unsure" for r in rows)
        return out

    def show(title: str, scores: dict[str, VoiceScore]) -> None:
        print(f"{title:<40}" + "".join(scores[mode].cells() for mode in MODES))

    print(f"voice: {recognizer.engine} recognition, grammar first beside open; WER on the command words, "
          "commands = right intent and targets, unsure = heard but not acted on, oov = out-of-vocabulary "
          "sentences acted on")  # fmt: skip
    print(f"{'':<40}" + "".join(f"{'-- ' + mode + ' ':-<29}" for mode in MODES))
    print(f"{'audio':<40}" + f"{'WER':>7}{'commands':>9}{'unsure':>7}{'oov':>6}" * len(MODES))
    totals: dict[str, dict[str, VoiceScore]] = {}

    def tally(condition: str, scores: dict[str, VoiceScore]) -> None:
        into = totals.setdefault(condition, {mode: VoiceScore() for mode in MODES})
        for mode in MODES:
            into[mode].add(scores[mode])

    lamp = ["light.living_room_lamp"]
    shared = [(text, read_wav(speech / "commands" / f"{stem}.wav"),
               "HassGetCurrentTime" if "time" in text else "HassTurnOn", [] if "time" in text else lamp)
              for stem, text in SHARED_COMMANDS.items()]  # fmt: skip
    scores = score(shared)
    show(f"shared recordings ({len(shared)} files)", scores)
    tally("clean", scores)
    librivox = speech / "librivox"
    read: dict[str, VoiceScore] = {mode: VoiceScore() for mode in MODES}
    for line in (librivox / "transcripts.tsv").read_text().splitlines():
        file_id, reference = line.split("\t")
        for mode in MODES:
            rows = run(mode, read_wav(librivox / f"{file_id}.wav"))
            e, n = word_errors(reference, " ".join(r["transcript"] for r in rows))
            read[mode].edits, read[mode].words = read[mode].edits + e, read[mode].words + n
    show("librivox read speech (WER only)", read)
    speaker = Speaker(Tts(engine="piper"))
    rng = np.random.default_rng(0)
    from piper.config import SynthesisConfig

    def voiced(text: str, pace: float) -> Any:
        """The voice without its random noise (so runs compare), at a speaking pace (phoneme length scale)."""
        voice: Any = speaker.engine.voice  # type: ignore[union-attr]
        style = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=pace)
        audio = np.concatenate([c.audio_int16_array for c in voice.synthesize(text, syn_config=style)])
        return to_mono_16k(audio, voice.config.sample_rate).astype(np.float32)

    paces = (0.9, 1.15)  # brisk and unhurried
    synth = [(text, intent, targets, voiced(text, pace)) for pace in paces for text, intent, targets in SYNTH_COMMANDS]
    # "babble": people talking in the background, from the LibriVox readings, looped
    babble = np.concatenate([read_wav(p).astype(np.float32) for p in sorted(librivox.glob("*.wav"))])

    def noise(kind: str, n: int) -> Any:
        if kind == "white":
            return rng.normal(0, 1, n).astype(np.float32)
        if kind == "kitchen":
            return kitchen_noise(n, rng)
        start = int(rng.integers(0, len(babble)))
        return np.resize(np.roll(babble, -start), n)

    def items_in(spoken: list[Any], snr: float | None,
                 kind: str | None) -> tuple[list[Any], list[tuple[float, float]]]:  # fmt: skip
        """(text, intent, targets, float audio) -> the items for ``score``, half a second of silence before
        and a second after, with ``kind`` noise at ``snr`` dB."""
        items, spans = [], []
        for text, intent, targets, audio in spoken:
            spans.append((500.0, 500.0 + len(audio) / 16))
            x = np.concatenate([np.zeros(8000, np.float32), audio, np.zeros(16000, np.float32)])
            if snr is not None and kind is not None:
                n = noise(kind, len(x))
                gain = np.sqrt(float(np.mean(audio**2)) / (float(np.mean(n**2)) * 10 ** (snr / 10)))
                x = x + gain * n
            items.append((text, np.clip(x, -32768, 32767).astype(np.int16), intent, targets))
        return items, spans

    kinds = ("white", "kitchen", "babble")
    conditions = [("clean", None, None)] + [(kind, snr, kind) for kind in kinds for snr in snrs]
    for label, snr, kind in conditions:
        scores = score(*items_in(synth, snr, kind))
        show(f"piper voice, {label if snr is None else f'{label} noise {snr:g} dB SNR'}", scores)
        if snr is None or (kind, snr) == ("kitchen", 10):
            tally("clean" if snr is None else "kitchen 10 dB", scores)
    commands = [*SYNTH_COMMANDS, *MORE_COMMANDS, *((text, None, []) for text in OUT_OF_VOCABULARY)]
    espeak = []
    for name in ESPEAK_VOICES:
        engine = EspeakEngine(name)
        for text, intent, targets in commands:
            audio, rate = engine.synthesize(text)
            espeak.append((text, intent, targets, to_mono_16k(audio, rate).astype(np.float32)))
    for label, snr, kind in (("clean", None, None), ("kitchen noise 10 dB SNR", 10.0, "kitchen")):
        scores = score(*items_in(espeak, snr, kind))
        show(f"espeak-ng, {len(ESPEAK_VOICES)} voices, {label}", scores)
        tally("clean" if snr is None else "kitchen 10 dB", scores)
    print(f"\n{'all commands above':<40}" + "".join(f"{'-- ' + mode + ' ':-<29}" for mode in MODES))
    for condition, scores in totals.items():
        cells = "".join(f"{scores[m].edits / max(1, scores[m].words):>7.3f}{100 * scores[m].ok / max(1, scores[m].n):>8.1f}%"
                        f"{scores[m].unsure:>7}{f'{scores[m].oov_acted}/{scores[m].oov}':>6}" for m in MODES)  # fmt: skip
        print(f"{condition + (' (shared, piper, espeak-ng)' if condition == 'clean' else ' (piper, espeak-ng)'):<40}{cells}")
    if grammar_ms:
        print(f"\ngrammar step (look-up and scoring), added per utterance: median {np.median(grammar_ms):.1f} ms, "
              f"p95 {np.percentile(grammar_ms, 95):.1f} ms over {len(grammar_ms)} utterances")  # fmt: skip
    return 0


# -- the written evaluation split (corpus/eval): per intent, per kind, compound commands ---------------------

STEP_KEYS = ("brightness_step", "temperature_step", "volume_step")


def _gold(text: str, command: Any) -> tuple[str | None, dict[str, Any]]:
    """A corpus command's public intent and normalised value slots, as the runtime would normalise them."""
    from ..train.corpus import normalised
    from ..understanding import schema

    label = command.label
    slots = normalised(text, label, command.spans)
    if label in schema.INTERNAL_INTENTS:
        _intent, key, sign = schema.INTERNAL_INTENTS[label]
        if isinstance(slots.get(key), (int, float)):
            slots[key] = abs(slots[key]) * sign
    return schema.public_intent(label), slots


def _same_values(gold: dict[str, Any], got: dict[str, Any]) -> bool:
    expected, guessed = _value_items(gold), _value_items(got)
    if not any(k in gold for k in STEP_KEYS):  # the size of a step nobody said is the settings' default
        guessed = {(k, v) for k, v in guessed if k not in STEP_KEYS}
    return expected == guessed


def _guess_parts(parse: Any) -> list[Guess]:
    parts = parse.commands or (parse,)
    return [Guess(p.intent, tuple(sorted(p.targets)), p.slots) for p in parts]


def run_corpus_eval(config: Config, understander: Understander, paths: list[Path], args: Any) -> int:
    """Intent, exact match (intent, targets, value slots), compound commands and out-of-domain rejection on
    the written evaluation split, per intent and per kind, this model beside hassil."""
    from ..train import corpus

    registry = Registry.from_config(config)
    lines = list(corpus.read(paths, evaluation=True, home=frozenset(d.id for d in registry.devices)))
    bad = [line for line in lines if line.errors]
    lines = [line for line in lines if not line.errors]
    peer = None if args.no_hassil else HassilPeer(registry)
    names = ["this model"] + (["hassil"] if peer else [])
    # per system: kind -> [right, n]; intent -> [intent right, exact right, n]
    kinds: dict[str, dict[str, list[int]]] = {n: {} for n in names}
    intents: dict[str, dict[str, list[int]]] = {n: {} for n in names}
    failures: list[str] = []
    started = time.perf_counter()
    timed = 0.0
    for line in lines:
        gold = [(_gold(line.text, c), c.targets or ()) for c in line.commands]
        context = Context.from_json({"area": line.context_area} if line.context_area else None)
        for name in names:
            if name == "this model":
                t0 = time.perf_counter()
                parse = understander.parse(line.text, registry, context)
                timed += time.perf_counter() - t0
                guesses = _guess_parts(parse)
            else:
                assert peer is not None
                guesses = [peer.guess(line.text, registry.context_area(line.context_area))]
            if line.kind == "negative":
                right = all(g.intent is None for g in guesses)
                intent_right = right
            else:
                intent_right = len(guesses) == len(gold) and all(
                    g.intent == want[0] for g, (want, _t) in zip(guesses, gold, strict=True))
                right = intent_right and all(
                    g.targets == tuple(sorted(targets)) and _same_values(want[1], g.slots)
                    for g, (want, targets) in zip(guesses, gold, strict=True))
            row = kinds[name].setdefault(line.kind, [0, 0])
            row[0] += right
            row[1] += 1
            key = OUT_OF_DOMAIN if line.kind == "negative" else (
                "(compound)" if line.kind == "compound" else str(gold[0][0][0]))
            cell = intents[name].setdefault(key, [0, 0, 0])
            cell[0] += intent_right
            cell[1] += right
            cell[2] += 1
            if name == "this model" and not right:
                failures.append(f"FAIL [{line.source}] {line.text!r}\n  want {[(w[0], list(t), w[1]) for w, t in gold]}"
                                f"\n  got  {[(g.intent, list(g.targets), g.slots) for g in guesses]}")
    n = len(lines)
    print(f"written evaluation split: {n} lines from {len(paths)} files ({len(bad)} lines failed their checks)")
    print(f"(this model: {timed / max(1, n) * 1000:.2f} ms per sentence, mean, parse only; "
          f"whole run {time.perf_counter() - started:.1f} s)")

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:6.1f}%" if b else "     -"

    def summary(name: str) -> dict[str, str]:
        rows = [v for k, v in intents[name].items() if k not in (OUT_OF_DOMAIN, "(compound)")]
        single_n = sum(r[2] for r in rows)
        comp = kinds[name].get("compound", [0, 0])
        neg = kinds[name].get("negative", [0, 0])
        return {"intent (one command)": pct(sum(r[0] for r in rows), single_n),
                "exact (one command)": pct(sum(r[1] for r in rows), single_n),
                "compound exact": pct(*comp), "out-of-domain rejected": pct(*neg)}

    print(f"\n{'':<28}" + "".join(f"{n:>14}" for n in names))
    sums = {name: summary(name) for name in names}
    for metric in sums[names[0]]:
        print(f"{metric:<28}" + "".join(f"{sums[n][metric]:>14}" for n in names))
    print(f"\nper kind (exact){'':<12}" + "".join(f"{n:>14}" for n in names) + f"{'n':>7}")
    for kind in corpus.KINDS:
        if kind in kinds[names[0]]:
            print(f"  {kind:<26}" + "".join(f"{pct(*kinds[n][kind]):>14}" for n in names)
                  + f"{kinds[names[0]][kind][1]:>7}")
    print(f"\nper intent (intent / exact){'':<1}" + "".join(f"{n:>22}" for n in names) + f"{'n':>7}")
    for key in sorted(intents[names[0]], key=lambda k: (k.startswith("("), k)):
        cells = "".join(f"{pct(intents[n][key][0], intents[n][key][2]) + ' /' + pct(intents[n][key][1], intents[n][key][2]):>22}"
                        for n in names)  # fmt: skip
        print(f"  {key:<26}{cells}{intents[names[0]][key][2]:>7}")
    for failure in failures[: args.errors]:
        print("\n" + failure)
    return 0
