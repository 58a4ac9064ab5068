"""Wake: which transcripts are commands.

Modes: ``always`` (every utterance), ``phrase`` (the transcript must begin with the wake phrase,
fuzzy-matched; the rest is the command; the phrase alone opens listening for the next utterance),
``mqtt`` (listening opened by ``<prefix>/<site>/listen``). After a reply, ``follow_up_s`` of
listening needs no wake phrase. All times are stream times in milliseconds, from the audio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from .config import Wake

_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Decision:
    command: str | None
    """The text to understand, or None when this utterance is not for us (or only opened listening)."""
    woken: bool
    """True when the utterance was addressed to the assistant (wake phrase, open window, or mode always)."""


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


class WakeGate:
    def __init__(self, settings: Wake) -> None:
        self.settings = settings
        self.open_until_ms = -1.0

    def open(self, now_ms: float, for_s: float | None = None) -> None:
        """Listen without the wake phrase until ``now_ms + for_s`` (default ``listen_s``)."""
        seconds = self.settings.listen_s if for_s is None else for_s
        self.open_until_ms = max(self.open_until_ms, now_ms + seconds * 1000)

    def close(self) -> None:
        self.open_until_ms = -1.0

    def replied(self, now_ms: float) -> None:
        """A reply was given: open the follow-up window."""
        if self.settings.follow_up_s > 0:
            self.open(now_ms, self.settings.follow_up_s)

    def is_open(self, now_ms: float) -> bool:
        return now_ms <= self.open_until_ms

    def decide(self, text: str, start_ms: float, end_ms: float) -> Decision:
        """``start_ms``: where the utterance's speech began (an open window must include it)."""
        mode = self.settings.mode
        if mode == "always":
            return Decision(text, True)
        if mode == "phrase":
            rest = strip_wake_phrase(text, self.settings.phrase, self.settings.min_similarity)
            if rest is not None:
                if not _words(rest):
                    self.open(end_ms)
                    return Decision(None, True)
                self.close()
                return Decision(rest, True)
        if self.is_open(start_ms):
            self.close()
            return Decision(text, True)
        return Decision(None, False)
