"""The vosk engine: streaming recognition with partial results, a grammar of the home's words first.

Two recognisers hear the same audio as it arrives: one limited to a grammar (registry names and
command words, plus ``[unk]``), one open. At the end of the utterance the grammar's result is used
when its words are confident enough, else the open result. Our endpointer decides where utterances
end (vosk's own endpointer is not used), so both engines see the same utterances.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...config import Asr
from ...core.messages import Transcript, Utterance
from ...devices import Registry
from ...errors import ModelError
from . import COMMAND_WORDS
from .grammar import SentenceSpace

log = logging.getLogger(__name__)


def _words(vocabulary: list[str]) -> list[str]:
    words = {w for phrase in vocabulary for w in re.findall(r"[\w']+", phrase.casefold())}
    return sorted(words | set(COMMAND_WORDS))


class VoskStream:
    """One utterance being recognised as it arrives."""

    def __init__(self, owner: VoskRecognizer) -> None:
        import vosk

        self.owner = owner
        self.open = vosk.KaldiRecognizer(owner.model, 16000)
        self.open.SetWords(True)
        self.grammar = None
        if owner.grammar_json is not None:
            self.grammar = vosk.KaldiRecognizer(owner.model, 16000, owner.grammar_json)
            self.grammar.SetWords(True)
        self.partial = ""

    def accept(self, samples: np.ndarray) -> str:
        """Feed 16 kHz int16 audio; returns the partial transcript so far."""
        data = samples.astype("<i2").tobytes()
        for recognizer in filter(None, (self.grammar, self.open)):
            recognizer.AcceptWaveform(data)
        self.partial = json.loads(self.open.PartialResult()).get("partial", "")
        return self.partial

    def finish(self, start_ms: float = 0.0, end_ms: float = 0.0) -> Transcript | None:
        started = time.perf_counter()
        best = None
        if self.grammar is not None:
            text, confidence = _result(self.grammar.FinalResult())
            if text and "[unk]" not in text and confidence >= self.owner.settings.grammar_min_confidence:
                best = (text, confidence, True)
        if best is None:
            text, confidence = _result(self.open.FinalResult())
            best = (text, confidence, False)
        asr_ms = (time.perf_counter() - started) * 1000
        text, confidence, grammar = best
        if not text:
            return None
        return Transcript(text, "vosk", start_ms, end_ms, round(confidence, 4), round(asr_ms, 3), grammar)


def _result(raw: str) -> tuple[str, float]:
    data: dict[str, Any] = json.loads(raw)
    words = data.get("result") or []
    text = " ".join(w["word"] for w in words) if words else data.get("text", "")
    confidence = float(np.mean([w.get("conf", 0.0) for w in words])) if words else 0.0
    return text.strip(), confidence


class VoskRecognizer:
    engine = "vosk"

    def __init__(self, settings: Asr, folder: Path, vocabulary: list[str], space: SentenceSpace | None = None) -> None:
        """``space``: the home's sentences; their words join the grammar (``asr.grammar``)."""
        import vosk

        vosk.SetLogLevel(-1)
        self.settings = settings
        if not (folder / "am" / "final.mdl").is_file():
            raise ModelError(f"{folder}: not a vosk model (no am/final.mdl); run `assistant models pull`"
                             f" with a vosk model id (`assistant models list`)")  # fmt: skip
        try:
            self.model = vosk.Model(str(folder))
        except Exception as exc:  # vosk raises a bare Exception when Kaldi cannot read the files
            raise ModelError(f"{folder}: cannot load the vosk model ({exc}); it may be corrupt:"
                             " run `assistant models verify`") from None  # fmt: skip
        self.vocabulary = vocabulary
        self.grammar_json: str | None = None
        if settings.grammar and settings.bias:
            self.grammar_json = self._grammar(vocabulary, space)
        self.start().accept(np.zeros(1600, np.int16))  # warm-up

    def _grammar(self, vocabulary: list[str], space: SentenceSpace | None) -> str | None:
        """The grammar's words: the home's names, the command words and the words of the home's sentences,
        those this model knows (with ``[unk]``); None when it knows none."""
        words = set(_words(vocabulary)) | (space.vocabulary() if space is not None else set())
        known = [w for w in sorted(words) if self.model.vosk_model_find_word(w) >= 0]
        if not known:
            log.warning("vosk: none of the home's words are in this model's vocabulary; open recognition only")
            return None
        unknown = ["[unk]"] if self.model.vosk_model_find_word("[unk]") >= 0 else []
        return json.dumps([*known, *unknown], ensure_ascii=False)

    def use_registry(self, registry: Registry) -> None:
        """The registry changed: its names join the grammar (streams started from now on use it)."""
        if self.grammar_json is None and not (self.settings.grammar and self.settings.bias):
            return
        from . import phrases, sentence_space

        self.grammar_json = self._grammar(phrases(registry), sentence_space(registry))

        self.start().accept(np.zeros(1600, np.int16))  # warm-up

    def start(self) -> VoskStream:
        return VoskStream(self)

    def transcribe(self, utterance: Utterance) -> Transcript | None:
        stream = self.start()
        samples = utterance.samples
        for i in range(0, len(samples), 4000):
            stream.accept(samples[i : i + 4000])
        return stream.finish(utterance.start_ms, utterance.end_ms)
