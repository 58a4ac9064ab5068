"""`assistant eval --early`: how often acting at a pause (``audio.act_early``) would have cut a command short.

Every piece of audio is run through the voice chain twice, acting early and waiting for the end of every
utterance, each on a fresh conversation. An early action *cut a command short* when its device messages
differ from those of the utterance that waiting heard over the same speech ("turn on the desk lamp" acted
on, where the whole was "turn on the desk lamp and the hallway light"). The *end result* differs when all
the device messages of the audio differ (speech that went on after an early action is a new utterance and may
still get there: "... and the hallway light" as a follow-up).

The sets: the shared recordings and the LibriVox readings (``--speech``), the evaluation's commands spoken by
the Piper voice (two paces) and by espeak-ng, those commands with a 250 ms pause after each of their words
(longer than ``act_early_ms``, shorter than ``end_silence_ms``: "turn on the ... kitchen ceiling light"), or of
96 ms (recognition starts there, no action may), and,
apart, two commands with a pause before their "and", which acting early cannot tell from a finished command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config, Tts
from ..errors import AssistantError

PAUSE_MS = 250
"""A pause inside a command: longer than the default ``act_early_ms`` (160), shorter than ``end_silence_ms`` (400)."""
SHORT_PAUSE_MS = 96
"""A pause inside a command that recognition starts at (the default ``speculate_ms``, 64) but no action (160)."""
SECOND_COMMANDS = [("turn on the desk lamp", "and the hallway light"),
                   ("switch off the kitchen ceiling light", "and the coffee machine")]  # fmt: skip
"""A pause before "and": the first command is whole by itself, so it is acted on; what follows is a new utterance."""


@dataclass
class Tally:
    items: int = 0
    early: int = 0
    """Early actions taken."""
    cut_short: list[str] = field(default_factory=list)
    """One line per early action whose messages differ from the whole utterance's."""
    end_differs: list[str] = field(default_factory=list)
    """One line per item whose device messages, all together, differ."""


def _messages(rows: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((a["topic"], a["payload"]) for r in rows for a in r["actions"])


def compare(early_rows: list[dict[str, Any]], full_rows: list[dict[str, Any]], name: str, tally: Tally) -> None:
    """Count one item's early actions against what waiting for the end of each utterance did."""
    tally.items += 1
    for row in early_rows:
        if not row["early"]:
            continue
        tally.early += 1
        whole = [r for r in full_rows if r["start_ms"] <= row["end_ms"] and r["end_ms"] >= row["start_ms"]]
        if _messages([row]) != _messages(whole):
            heard = " | ".join(r["transcript"] for r in whole) or "(nothing)"
            tally.cut_short.append(f"{name}: acted on {row['transcript']!r}; the whole utterance was {heard!r}")
    if _messages(early_rows) != _messages(full_rows):
        tally.end_differs.append(f"{name}: {[r['transcript'] for r in early_rows]} vs "
                                 f"{[r['transcript'] for r in full_rows]}")  # fmt: skip


def run_early_eval(config: Config, base: Path, load_voice: Callable[..., Any], speech: Path,
                   examples: int = 3) -> int:  # fmt: skip
    """Print, per set, the early actions taken and how many cut a command short (and ``examples`` of each)."""
    import numpy as np

    from ..voice.audio import read_wav, split, to_mono_16k
    from ..voice.pipeline import VoicePipeline
    from ..voice.tts import Speaker
    from .evaluate import SYNTH_COMMANDS

    recordings = sorted((speech / "commands").glob("*.wav"))
    readings = sorted((speech / "librivox").glob("*.wav"))
    if not recordings or not readings:
        raise AssistantError(f"eval --early: no commands/*.wav or librivox/*.wav in {speech}; --speech DIR points "
                             "at the folder (README, 'Evaluating the voice pipeline')")  # fmt: skip
    shared = load_voice(config, base)
    on, off = (config.model_copy(update={"audio": config.audio.model_copy(update={"act_early": early})})
               for early in (True, False))  # fmt: skip

    def run(settings: Config, samples: Any) -> list[dict[str, Any]]:
        pipe = VoicePipeline(settings, shared.session.understander, shared.registry, shared.recognizer,
                             shared.ears.vad)  # fmt: skip
        return list(pipe.run(split(samples)))

    def tally(items: Iterable[tuple[str, Any]]) -> Tally:
        counts = Tally()
        for name, samples in items:
            compare(run(on, samples), run(off, samples), name, counts)
        return counts

    piper = Speaker(Tts(engine="piper"))
    from piper.config import SynthesisConfig

    def trimmed(audio: Any) -> Any:
        """The speech alone: the voice's own leading and trailing silence taken off (it would lengthen a pause)."""
        loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > 300)
        return audio[max(0, loud[0] - 160): loud[-1] + 160] if len(loud) else audio

    def voiced(text: str, pace: float = 1.0) -> Any:
        voice: Any = piper.engine.voice  # type: ignore[union-attr]
        style = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=pace)
        audio = np.concatenate([c.audio_int16_array for c in voice.synthesize(text, syn_config=style)])
        return trimmed(to_mono_16k(audio, voice.config.sample_rate))

    def framed(*pieces: Any, pause_ms: int = PAUSE_MS) -> Any:
        """Half a second before, ``pause_ms`` between the pieces, a second after."""
        gap = np.zeros(pause_ms * 16, np.int16)
        parts: list[Any] = [np.zeros(8000, np.int16)]
        for i, piece in enumerate(pieces):
            parts += [piece, gap] if i < len(pieces) - 1 else [piece]
        return np.concatenate([*parts, np.zeros(16000, np.int16)])

    espeak = Speaker(Tts(engine="espeak"))
    texts = [text for text, _intent, _targets in SYNTH_COMMANDS]
    sets: list[tuple[str, Callable[[], Iterable[tuple[str, Any]]]]] = [
        (f"shared recordings ({len(recordings)} files)", lambda: ((p.stem, read_wav(p)) for p in recordings)),
        (f"librivox readings ({len(readings)} files)", lambda: ((p.stem, read_wav(p)) for p in readings)),
        (f"piper commands, 2 paces ({2 * len(texts)})",
         lambda: ((f"{t} (pace {pace})", framed(voiced(t, pace))) for pace in (0.9, 1.15) for t in texts)),
        (f"espeak-ng commands ({len(texts)})",
         lambda: ((t, framed(trimmed(to_mono_16k(*espeak.synthesize(t))))) for t in texts)),
        (f"piper commands, a {PAUSE_MS} ms pause after each word",
         lambda: ((f"{' '.join(t.split()[:k])} ... {' '.join(t.split()[k:])}",
                   framed(voiced(" ".join(t.split()[:k])), voiced(" ".join(t.split()[k:]))))
                  for t in texts for k in range(1, len(t.split())))),
        (f"piper commands, a {SHORT_PAUSE_MS} ms pause after each word",
         lambda: ((f"{' '.join(t.split()[:k])} .. {' '.join(t.split()[k:])}",
                   framed(voiced(" ".join(t.split()[:k])), voiced(" ".join(t.split()[k:])), pause_ms=SHORT_PAUSE_MS))
                  for t in texts for k in range(1, len(t.split())))),
    ]  # fmt: skip
    apart: list[tuple[str, Callable[[], Iterable[tuple[str, Any]]]]] = [(f"a second command after a {PAUSE_MS} ms pause ({len(SECOND_COMMANDS)})",
              lambda: ((f"{a} ... {b}", framed(voiced(a), voiced(b))) for a, b in SECOND_COMMANDS))]  # fmt: skip
    print(f"acting early: at a pause of {config.audio.act_pause_ms} ms (recognised"
          f" from {config.audio.speculate_ms} ms on), beside waiting {config.audio.end_silence_ms} ms;"
          f" {shared.recognizer.engine} recognition")  # fmt: skip
    print(f"{'audio':<52}{'items':>7}{'early':>7}{'cut short':>11}{'end differs':>13}")
    total = 0
    groups: list[tuple[list[tuple[str, Callable[[], Iterable[tuple[str, Any]]]]], bool]] = [(sets, True), (apart, False)]
    for group, test_set in groups:
        for title, make in group:
            counts = tally(make())
            if test_set:
                total += len(counts.cut_short)
            print(f"{title:<52}{counts.items:>7}{counts.early:>7}{len(counts.cut_short):>11}{len(counts.end_differs):>13}")
            for line in (counts.cut_short + counts.end_differs)[:examples]:
                print(f"    {line}")
    print(f"early cut short on the test sets: {total}")
    return 0
