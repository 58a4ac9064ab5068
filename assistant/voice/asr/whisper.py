"""The whisper engine: faster-whisper with int8 CTranslate2 weights, prompted with the home's names.

Grammar first (``asr.grammar``, the default): the utterance is encoded once; beam search gives the open
n-best (``beam_size`` hypotheses); the home's sentences nearest to each (``grammar.SentenceSpace``) join
them as candidates, and whisper's own decoder scores every candidate on this utterance's encoding,
teacher-forced, in one batch (CTranslate2's ``align``: the probability of each token given the audio and
the tokens before it). All candidates are scored in one written form (lower case words, first letter
capitalised, a full stop), so only the words count. Sentences of the home get a prior of
``GRAMMAR_PRIOR_NATS`` (the home is where these sentences are said); the probabilities of the candidates
are pooled by meaning (the same intent and slot values, or the same words but for articles and plurals:
"turn on the lamp" and "switch on the lamp" are one), and the best meaning's share is the confidence. The
grammar's sentence (in that form, without the full stop) is taken when its meaning is the most probable
one, else the open transcript; below ``asr.grammar_min_confidence`` the transcript is
``unsure`` and is never acted on. Out-of-vocabulary speech loses to the open transcript, which the
understanding rejects as before.

Open only (``asr.grammar: false``): the open transcript, as faster-whisper decodes it.
Not thread-safe: one thread transcribes (the sentence space can be swapped from another: ``use_registry``).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...config import Asr
from ...core.messages import Transcript, Utterance
from ...devices import Registry
from ...errors import ModelError
from .. import memory
from . import window
from .grammar import Candidate, SentenceSpace, normal, similarity

log = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 600
GRAMMAR_PRIOR_NATS = 4.0
"""The log-prior a sentence of the home has over any other word string (nats): a grammar sentence wins
when whisper gives it no more than this much less log-probability than its own best transcript."""
MAX_GRAMMAR_CANDIDATES = 6
"""Sentences of the home scored per utterance (with the open hypotheses; ``SCORE_BATCH`` at a time)."""
MIN_SIMILARITY = 0.75
"""A sentence of the home is a candidate only when it is spelled or sounds at least this much like what was
heard (rapidfuzz ratio of the words or of their metaphone keys): a near miss, not another sentence altogether
(out-of-vocabulary speech has no near sentence, and must not win one by the scorer's whim)."""
MIN_WORDS_KEPT = 0.75
"""...and keeps at least this share of the words heard: scored teacher-forced, a shorter sentence is more
probable, and the half of what was said that it drops would be lost ("turn on the lamp, and what time is it")."""
SAME_SENTENCE = 0.9
"""An open hypothesis that is not a sentence of the home, but is spelled or sounds at least this much like one
and differs from it only inside the names it says, is that sentence with a slip of the ear in a name ("switch
off the hall we light"): it counts for that sentence's meaning, not against it (else the slip, which whisper
finds likelier, leaves the right sentence unsure). Where the words around the names differ ("fan to high"
against "fan to home", "volume on" against "volume to max") it is another meaning and competes."""
SCORE_BATCH = 3
"""Candidates scored in one call: the decoder's output over the whole vocabulary for every token of every
candidate is most of the grammar step's memory (the service's peak after recognising: 356-360 MB with 3 against
371-374 MB with all at once, `assistant bench --ready 3 --voice`; end of speech to device no slower)."""
MARGIN_FRAMES = 25
"""Encoder frames (20 ms each) kept past the end of the audio for scoring: the decoder reads 30 s of
encoding, most of it padding; the candidates rank alike on the speech and half a second after it, at a tenth of the cost."""


@dataclass(frozen=True)
class Scored:
    text: str
    """The form scored (see ``written``)."""
    logprob: float
    """Sum of the log-probabilities of its tokens, teacher-forced on the utterance (nats)."""
    candidate: Candidate | None
    """The sentence of the home, or None for an open hypothesis."""


def written(text: str) -> str:
    """The one written form every candidate is scored in: "Turn on the lamp." ("50 percent" as "50%")."""
    words = normal(text).replace(" percent", "%")
    return (words[:1].upper() + words[1:] + ".") if words else ""


class WhisperRecognizer:
    engine = "whisper"

    def __init__(self, settings: Asr, folder: Path, vocabulary: list[str], space: SentenceSpace | None = None,
                 wake_phrases: tuple[str, ...] = ()) -> None:  # fmt: skip
        """``space``: the home's sentences, for grammar-first recognition (None: open only).
        ``wake_phrases``: said before a command; kept in front of the grammar's sentence."""
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # it logs every call at INFO
        self.settings = settings
        missing = [n for n in ("model.bin", "config.json", "tokenizer.json") if not (folder / n).is_file()]
        if missing:
            raise ModelError(f"{folder}: whisper model incomplete (missing {', '.join(missing)});"
                             " run `assistant models pull whisper-tiny.en`")  # fmt: skip
        try:
            with memory.recognising():  # loading uses MKL too: its pool is not freed meanwhile
                self.model = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=settings.threads)
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on bad files
            raise ModelError(f"{folder}: cannot load the whisper model ({exc}); it may be corrupt:"
                             " run `assistant models verify` and `assistant models pull whisper-tiny.en`") from None  # fmt: skip
        prompt = ", ".join(vocabulary) + "." if settings.bias and vocabulary else None
        self.prompt = prompt[:MAX_PROMPT_CHARS] if prompt else None
        self.space = space
        self.wake_phrases = wake_phrases
        multilingual = self.model.model.is_multilingual
        self.tokenizer = Tokenizer(self.model.hf_tokenizer, multilingual, task="transcribe",
                                   language=settings.language if multilingual else None)  # fmt: skip
        self.last_grammar_ms = 0.0
        """Compute time of the grammar step (look-up and scoring) in the last transcription."""
        self.last_open: str | None = None
        """The open transcript of the last transcription (what it would have been with the grammar off)."""
        self.transcribe(Utterance(np.zeros(8000, np.int16), 16000, 0.0, 500.0, 500.0))  # warm-up

    def use_registry(self, registry: Registry) -> None:
        """The registry changed: the sentence space gets its names (the skeletons are kept)."""
        if self.space is not None:
            self.space = self.space.with_registry(registry)

    # -- open recognition, as faster-whisper does it ---------------------------------------------------

    def _run(self, audio: np.ndarray) -> tuple[str, float, float]:
        if self.settings.window_s < 30:  # asr.window_s encoded, not 30 s (window.py); else faster-whisper's own
            windowed = window.transcribe(self.model, audio, self.prompt, self.settings.beam_size,
                                         self.settings.language, self.settings.window_s)  # fmt: skip
            if windowed is not None:
                return windowed
        segments, _info = self.model.transcribe(
            audio, language=self.settings.language, beam_size=self.settings.beam_size, initial_prompt=self.prompt,
            vad_filter=False, condition_on_previous_text=False, without_timestamps=True, temperature=0.0,
        )  # fmt: skip
        segments = list(segments)
        text = " ".join(s.text.strip() for s in segments).strip()
        no_speech = max((s.no_speech_prob for s in segments), default=1.0)
        logprob = float(np.mean([s.avg_logprob for s in segments])) if segments else -10.0
        return text, no_speech, logprob

    def transcribe(self, utterance: Utterance) -> Transcript | None:
        started = time.perf_counter()
        audio = utterance.samples.astype(np.float32) / 32768.0
        self.last_grammar_ms = 0.0
        with memory.recognising():  # MKL's pool is not freed under a recognition (another thread's give_back)
            if self.space is None:
                text, no_speech, logprob = self._run(audio)
                chosen: tuple[str, float, bool] | None = None
            else:
                text, no_speech, logprob, chosen = self._grammar_first(audio)
        self.last_open = text
        asr_ms = (time.perf_counter() - started) * 1000
        if not text or (no_speech > self.settings.max_no_speech and logprob < -0.7):
            log.debug("whisper: no speech (no_speech %.2f, logprob %.2f): %r", no_speech, logprob, text)
            return None
        if chosen is not None:
            grammar_text, confidence, unsure = chosen
            return Transcript(grammar_text, self.engine, utterance.start_ms, utterance.end_ms, round(confidence, 4),
                              round(asr_ms, 3), grammar=True, unsure=unsure, open_text=text)  # fmt: skip
        confidence = float(np.exp(logprob))  # whisper's mean token probability
        # too unsure of its own words to act on (the open text still travels, for Wyoming's clients)
        unsure = confidence < self.settings.open_min_confidence
        return Transcript(text, self.engine, utterance.start_ms, utterance.end_ms, round(confidence, 4),
                          round(asr_ms, 3), unsure=unsure, open_text=text if unsure else None)  # fmt: skip

    # -- grammar first ---------------------------------------------------------------------------------

    def _grammar_first(self, audio: np.ndarray) -> tuple[str, float, float, tuple[str, float, bool] | None]:
        """(open text, no-speech probability, mean log-probability, the grammar's (text, confidence, unsure)
        or None when the open transcript stands)."""
        import ctranslate2
        from faster_whisper.audio import pad_or_trim

        features = self.model.feature_extractor(audio)
        frames = features.shape[-1] // 2  # encoder frames of audio
        tokenizer = self.tokenizer
        previous = tokenizer.encode(" " + self.prompt.strip()) if self.prompt else []
        prompt = self.model.get_prompt(tokenizer, previous, without_timestamps=True)
        beams = self.settings.beam_size
        # asr.window_s of audio encoded, not faster-whisper's 30 s (window.py); a decoding that runs long or
        # repeats itself on the window is done again on 30 s
        mel = window.mel_frames(features.shape[-1], self.settings.window_s)
        most = window.token_budget(len(audio))
        while True:
            encoded = self.model.encode(pad_or_trim(features, mel))
            result = self.model.model.generate(
                encoded, [prompt], beam_size=beams, num_hypotheses=beams, return_scores=True,
                return_no_speech_prob=True, suppress_blank=True, suppress_tokens=self._suppressed(),
                max_length=self.model.max_length if mel >= 3000 else min(self.model.max_length, len(prompt) + most),
            )[0]  # fmt: skip
            ids = result.sequences_ids[0] if result.sequences_ids else []
            if mel >= 3000 or not window.lost_the_end(ids, tokenizer.decode(ids).strip(), most):
                break
            mel = 3000
        texts = [tokenizer.decode(ids).strip().rstrip(",") for ids in result.sequences_ids]
        lengths = [len(ids) for ids in result.sequences_ids]
        text = texts[0] if texts else ""
        logprob = result.scores[0] * lengths[0] / (lengths[0] + 1) if texts else -10.0
        no_speech = result.no_speech_prob
        if not text or (no_speech > self.settings.max_no_speech and logprob < -0.7):
            return text, no_speech, logprob, None
        started = time.perf_counter()
        keep = min(int(np.asarray(encoded).shape[1]), frames + MARGIN_FRAMES)
        trimmed = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.asarray(encoded)[:, :keep]))
        chosen = self._choose(texts, trimmed, min(frames, keep))
        self.last_grammar_ms = (time.perf_counter() - started) * 1000
        return text, no_speech, logprob, chosen

    def _suppressed(self) -> list[int]:
        from faster_whisper.transcribe import get_suppressed_tokens

        return list(get_suppressed_tokens(self.tokenizer, [-1]))

    def _wake(self, text: str) -> tuple[str, str]:
        """(the wake phrase said at the start, the rest), or ("", text)."""
        from ..wake import strip_wake_phrase

        for phrase in self.wake_phrases:
            rest = strip_wake_phrase(text, phrase, 0.75)
            if rest is not None:
                return phrase, rest
        return "", text

    def _choose(self, hypotheses: list[str], encoded: Any, frames: int) -> tuple[str, float, bool] | None:
        if self.space is None:
            return None
        found: dict[str, tuple[str, Candidate]] = {}
        looked_up: set[str] = set()
        for hypothesis in hypotheses:
            wake, rest = self._wake(hypothesis)
            heard = normal(rest)
            if heard in looked_up:  # beams that differ only in case or punctuation: one look-up
                continue
            looked_up.add(heard)
            for candidate in self.space.nearest(rest):
                if similarity(heard, candidate.text) < MIN_SIMILARITY or \
                        len(candidate.text.split()) < MIN_WORDS_KEPT * len(heard.split()):
                    continue
                whole = f"{wake} {candidate.text}".strip()
                if whole not in found or found[whole][1].score < candidate.score:
                    found[whole] = (wake, candidate)
        if not found:
            return None
        best = sorted(found.items(), key=lambda item: -item[1][1].score)[:MAX_GRAMMAR_CANDIDATES]
        forms: dict[str, Candidate | None] = {written(text): candidate for text, (_wake, candidate) in best}
        for hypothesis in hypotheses:
            forms.setdefault(written(hypothesis), None)  # an open hypothesis that is a sentence of the home is one
        scored = self._score(list(forms.items()), encoded, frames)
        return self._decide(scored)

    def _score(self, forms: list[tuple[str, Candidate | None]], encoded: Any, frames: int) -> list[Scored]:
        import ctranslate2

        tokens = [self.tokenizer.encode(" " + text) for text, _ in forms]
        start = list(self.tokenizer.sot_sequence) + [self.tokenizer.no_timestamps]
        results = []
        for first in range(0, len(forms), SCORE_BATCH):
            chunk = tokens[first:first + SCORE_BATCH]
            batch = ctranslate2.StorageView.from_array(np.repeat(np.asarray(encoded), len(chunk), axis=0))
            results.extend(self.model.model.align(batch, start, chunk, frames))
        return [Scored(text, float(sum(math.log(max(p, 1e-12)) for p in r.text_token_probs)), candidate)
                for (text, candidate), r in zip(forms, results, strict=True)]  # fmt: skip

    def _names_said(self, candidate: Candidate) -> tuple[list[str], set[int]]:
        """The home's names (devices, areas, floors) that ``candidate`` says, as slot values or as words of its
        template ("downstairs"), and the positions of its words inside them."""
        names = self.space.names if self.space is not None else frozenset()
        padded = f" {candidate.text} "
        said = list(dict.fromkeys([v for v in candidate.values if v in names] +
                                  sorted(n for n in names if f" {n} " in padded)))  # fmt: skip
        # the longest: "hallway light", not the "hallway" in it
        said = [n for n in said if not any(n != m and f" {n} " in f" {m} " for m in said)]
        words = candidate.text.split()
        inside: set[int] = set()
        for value in said:
            size = len(value.split())
            for at in range(len(words) - size + 1):
                if " ".join(words[at : at + size]) == value:
                    inside.update(range(at, at + size))
        return said, inside

    def _slip(self, heard: str, candidate: Candidate) -> bool:
        """Whether ``heard`` differs from the sentence ``candidate`` only inside the names it says, and is
        spelled nearer to it than to the same sentence with another of the home's names."""
        said, inside = self._names_said(candidate)
        changes = _changes(heard, candidate.text)
        if not changes or not all(j2 > j1 and set(range(j1, j2)) <= inside for _tag, _i1, _i2, j1, j2 in changes):
            return False
        return not self._spelled_rival(heard, candidate, said)

    def _spelled_rival(self, heard: str, candidate: Candidate, said: list[str]) -> bool:
        """Whether another of the home's names, a device's, an area's or a floor's, put in the place of a name
        the sentence says, is spelled at least as near what was heard: "turn on the best lamp" sounds like the
        bedside lamp and is spelled like the desk lamp (which was said); "the darkroom lights" is the Garden
        Lights said, not the downstairs floor."""
        from rapidfuzz import fuzz

        names = self.space.names if self.space is not None else frozenset()
        own = fuzz.ratio(heard, candidate.text)
        return any(fuzz.ratio(heard, candidate.text.replace(value, other)) >= own
                   for value in said for other in names if other != value)  # fmt: skip

    def _name_guessed(self, heard: str, candidate: Candidate) -> bool:
        """Whether the sentence says a name where ``heard`` said other words, and another of the home's names
        is spelled at least as near them: the grammar would be choosing the device by its prior alone."""
        said, inside = self._names_said(candidate)
        return any(set(range(j1, j2)) & inside for _tag, _i1, _i2, j1, j2 in _changes(heard, candidate.text)) \
            and self._spelled_rival(heard, candidate, said)

    def _decide(self, scored: list[Scored]) -> tuple[str, float, bool] | None:
        """The grammar's sentence, its meaning's share of the probability and whether that is too low to act;
        None when an open hypothesis is the most probable meaning."""
        weights = [s.logprob + (GRAMMAR_PRIOR_NATS if s.candidate is not None else 0.0) for s in scored]
        top = max(weights)
        group = list(range(len(scored)))  # candidates that do the same: one meaning (same intent and values or gist)

        def root(i: int) -> int:
            while group[i] != i:
                i = group[i]
            return i

        for i, a in enumerate(scored):
            for j in range(i):
                b = scored[j].candidate
                if a.candidate is not None and b is not None and (
                        a.candidate.meaning == b.meaning or a.candidate.gist == b.gist):  # fmt: skip
                    group[root(i)] = root(j)
        sentences = [i for i, s in enumerate(scored) if s.candidate is not None]
        for i, s in enumerate(scored):
            if s.candidate is None and sentences:
                heard = normal(s.text)
                alike, nearest = max((similarity(heard, normal(scored[j].text)), j) for j in sentences)
                heard = normal(self._wake(heard)[1])  # the sentence's text is without the wake phrase
                if alike >= SAME_SENTENCE and self._slip(heard, scored[nearest].candidate):  # type: ignore[arg-type]
                    group[root(i)] = root(nearest)
        shares: dict[int, float] = {}
        for i, w in enumerate(weights):
            shares[root(i)] = shares.get(root(i), 0.0) + math.exp(w - top)
        total = sum(shares.values())
        meaning = max(shares, key=lambda k: shares[k])
        if scored[meaning].candidate is None:
            log.debug("grammar: the open transcript stands: %s", [(s.text, round(s.logprob, 2)) for s in scored])
            return None
        confidence = shares[meaning] / total
        best = max((s for i, s in enumerate(scored) if root(i) == meaning and s.candidate is not None),
                   key=lambda s: s.logprob)  # fmt: skip
        log.debug("grammar: %r (%.2f): %s", best.text, confidence, [(s.text, round(s.logprob, 2)) for s in scored])
        unsure = confidence < self.settings.grammar_min_confidence
        opened = max((s for s in scored if s.candidate is None), key=lambda s: s.logprob, default=None)
        if opened is not None and opened.logprob > best.logprob and \
                self._name_guessed(normal(self._wake(normal(opened.text))[1]),
                                   best.candidate):  # type: ignore[arg-type]
            # whisper heard other words where the sentence says a name, found them likelier, and they are spelled
            # at least as near another of the home's names: only the grammar's prior picked this one ("turn on
            # the darkroom lights" is not the downstairs floor, whose lights are six)
            log.debug("grammar: %r names a device only by the prior: unsure", best.text)
            unsure = True
        return best.text.removesuffix("."), confidence, unsure


def _changes(heard: str, sentence: str) -> list[tuple[str, int, int, int, int]]:
    """Where the words of ``sentence`` differ from those ``heard`` (difflib's opcodes, "equal" left out)."""
    from difflib import SequenceMatcher

    return [op for op in SequenceMatcher(None, heard.split(), sentence.split(), autojunk=False).get_opcodes()
            if op[0] != "equal"]  # fmt: skip
