"""Wake: which transcripts are commands.

Modes: ``always`` (every utterance), ``phrase`` (the transcript must begin with the wake phrase,
fuzzy-matched; the rest is the command; the phrase alone opens listening for the next utterance),
``mqtt`` (listening opened by ``<prefix>/<site>/listen``), ``openwakeword`` (``WakeWordDetector``
hears the user's own wake word models in the audio; the utterance it fires in is a command, with the
wake phrase taken off its transcript when heard there). After a reply, ``follow_up_s`` of
listening needs no wake phrase. All times are stream times in milliseconds, from the audio.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from ..config import Wake
from ..core.messages import AudioChunk
from ..errors import ModelError
from ..paths import install_hint
from .audio import Framer

log = logging.getLogger(__name__)

OWW_FRAME = 1280
"""openWakeWord scores 80 ms frames of 16 kHz audio."""
FIRED_BEFORE_START_MS = 500.0
"""A wake word that fired this long before an utterance's detected start still belongs to it."""

_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Decision:
    command: str | None
    """The text to understand, or None when this utterance is not for us (or only opened listening)."""
    woken: bool
    """True when the utterance was addressed to the assistant (wake phrase, open window, or mode always)."""
    called: bool = False
    """True when the wake phrase or wake word was in this utterance (not just an open window)."""


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def strip_wake_phrase(text: str, phrase: str, min_similarity: float) -> str | None:
    """The text after a fuzzy-matched wake phrase at its start (maybe empty), or None when it does not start so."""
    wanted = " ".join(_words(phrase))
    words = _WORD.finditer(text)
    spans = [(m.group(0).casefold(), m.end()) for m in words]
    n = len(wanted.split())
    best: tuple[float, int] = (0.0, 0)
    for take in range(max(1, n - 1), min(len(spans), n + 1) + 1):
        heard = " ".join(w for w, _ in spans[:take])
        score = fuzz.ratio(heard, wanted) / 100.0
        if score > best[0]:
            best = (score, take)
    if best[0] < min_similarity:
        return None
    rest = text[spans[best[1] - 1][1] :]
    return rest.lstrip(" ,.!?;:-").strip()


class WakeWordDetector:
    """openWakeWord over the audio stream, with models the user supplies: ``feed`` returns the stream
    times (ms, the end of the 80 ms frame) where a model's score reached ``threshold``. After firing it
    stays quiet for ``refractory_ms`` so one wake word fires once."""

    def __init__(self, settings: Wake, refractory_ms: float = 1500.0) -> None:
        try:
            from openwakeword.model import Model
        except ImportError:
            raise ModelError(f"wake.mode openwakeword needs the openwakeword package: {install_hint('wakeword')}") from None
        paths = [Path(p).expanduser() for p in settings.models]
        for path in paths:
            if not path.is_file():
                raise ModelError(f"wake.models: {path} does not exist (openWakeWord models are files you supply)")
        framework = "tflite" if paths[0].suffix == ".tflite" else "onnx"
        try:
            self.model: Any = Model(wakeword_models=[str(p) for p in paths], inference_framework=framework)
        except Exception as exc:  # onnxruntime and tflite raise their own exception types
            raise ModelError(f"wake.models: cannot load {', '.join(map(str, paths))}: {exc}") from None
        self.threshold = settings.threshold
        self.refractory_ms = refractory_ms
        self.reset()

    def reset(self) -> None:
        """A new stream."""
        self.model.reset()
        self._framer = Framer(OWW_FRAME)
        self._quiet_until_ms = -1.0

    def feed(self, chunk: AudioChunk) -> list[float]:
        fired: list[float] = []
        for frame, _ in self._framer.feed(chunk):
            end_ms = self._framer.next_ms
            name, score = max(self.model.predict(frame).items(), key=lambda kv: kv[1])
            if score >= self.threshold and end_ms > self._quiet_until_ms:
                log.info("wake word %s (score %.2f) at %.0f ms", name, score, end_ms)
                fired.append(end_ms)
                self._quiet_until_ms = end_ms + self.refractory_ms
        return fired


class WakeGate:
    def __init__(self, settings: Wake) -> None:
        self.settings = settings
        self.open_until_ms = -1.0
        self.fired_ms: list[float] = []
        """openwakeword: where the wake word fired, not yet given to an utterance."""

    def copy(self) -> WakeGate:
        """A gate in this one's state, to try a decision on without changing this one."""
        gate = WakeGate(self.settings)
        gate.open_until_ms, gate.fired_ms = self.open_until_ms, list(self.fired_ms)
        return gate

    def fired(self, at_ms: float) -> None:
        """The wake word was heard at ``at_ms``: listening opens (the wake word may be said alone)."""
        self.fired_ms.append(at_ms)
        self.open(at_ms)

    def open(self, now_ms: float, for_s: float | None = None) -> None:
        """Listen without the wake phrase until ``now_ms + for_s`` (default ``listen_s``)."""
        seconds = self.settings.listen_s if for_s is None else for_s
        self.open_until_ms = max(self.open_until_ms, now_ms + seconds * 1000)

    def close(self) -> None:
        self.open_until_ms = -1.0
        self.fired_ms.clear()

    def replied(self, now_ms: float) -> None:
        """A reply was given: open the follow-up window."""
        if self.settings.follow_up_s > 0:
            self.open(now_ms, self.settings.follow_up_s)

    def is_open(self, now_ms: float) -> bool:
        return now_ms <= self.open_until_ms

    def decide(self, text: str, start_ms: float, end_ms: float, emitted_ms: float | None = None) -> Decision:
        """``start_ms``: where the utterance's speech began (an open window must include it);
        ``emitted_ms``: when it was cut (a wake word that fired up to then belongs to it)."""
        mode = self.settings.mode
        if mode == "always":
            return Decision(text, True)
        called = False
        if mode == "openwakeword":
            until = end_ms if emitted_ms is None else emitted_ms
            mine = [t for t in self.fired_ms if start_ms - FIRED_BEFORE_START_MS <= t <= until]
            self.fired_ms = [t for t in self.fired_ms if t > until]
            called = bool(mine)
        if mode == "phrase" or called:
            rest = strip_wake_phrase(text, self.settings.phrase, self.settings.min_similarity)
            if rest is None and called:
                # the model heard it; the recogniser wrote the wake word some other way, or not at all: the
                # whole text is the command, and listening stays open in case it was only the wake word
                return Decision(text, True, called=True)
            if rest is not None:
                if not _words(rest):
                    self.open(end_ms)
                    return Decision(None, True, called=True)
                self.close()
                return Decision(rest, True, called=True)
        if self.is_open(start_ms):
            self.close()
            return Decision(text, True)
        return Decision(None, False)
