"""Whisper on a 15 s window instead of 30 s: half the encoder's work and a fraction of its memory.

faster-whisper always pads the mel features of an utterance to 30 s (3000 frames) before encoding, and the
encoder's self-attention grows with the square of that: on two cores whisper tiny.en spends about 320 ms and
60-70 MB of transient memory encoding a 2 s command, most of it padding. A command is never longer than
``audio.max_utterance_s`` (12 s), so ``transcribe`` encodes ``asr.window_s`` (15 s; more only for longer audio)
and decodes greedily from there, as faster-whisper would (the same prompt of the home's names, the same
suppressed tokens, the same no-speech probability and mean log-probability). The words come out alike
(on the shared recordings and the Piper commands of ``eval --voice``: the same words but for a few names,
"Porcupine" for "Porky Pine", "Snow Boy" for "Snowboy", "blind" for "blinds" once); a comma it ends on is dropped.

A window much shorter than 30 s makes whisper lose track of where the speech ends and repeat it ("Turn on the
lamp, Turn on the lamp, ..." with 10 s); 15 s did not on any recording or synthesised command tried. As a
guard, a decoding that runs past the tokens the audio can hold (``MAX_TOKENS_PER_S``), that ends in the same
words twice, or that repeats itself (gzip compression ratio over 2.4, faster-whisper's own threshold) is
discarded: the caller then decodes the full 30 s, as before.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

import numpy as np

MARGIN_FRAMES = 100
"""Audio longer than the window is encoded with this much padding after it (up to 30 s)."""
MAX_TOKENS_PER_S = 8.0
"""More tokens than this per second of audio (plus ``EXTRA_TOKENS``) is a decoding that lost the end."""
EXTRA_TOKENS = 12
MAX_COMPRESSION_RATIO = 2.4


def transcribe(model: Any, audio: np.ndarray, prompt: str | None, beam_size: int, language: str,
               window_s: int = 15) -> tuple[str, float, float] | None:  # fmt: skip
    """(text, no-speech probability, mean log-probability) of ``audio`` (float32, 16 kHz) decoded on the
    window; None when the guard discards it (decode the full 30 s then). ``model``: a faster-whisper
    ``WhisperModel``; ``prompt``: the initial prompt (the home's names), as given to its ``transcribe``;
    ``language``: for a multilingual model; ``window_s``: the seconds encoded (``asr.window_s``)."""
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    features = model.feature_extractor(audio)
    frames = mel_frames(features.shape[-1], window_s)
    encoded = model.encode(pad_or_trim(features, frames))
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                          language=language if model.model.is_multilingual else None)  # fmt: skip
    previous = tokenizer.encode(" " + prompt.strip()) if prompt else []
    tokens = model.get_prompt(tokenizer, previous, without_timestamps=True)
    most = token_budget(len(audio))
    result = model.model.generate(
        encoded, [tokens], beam_size=beam_size, max_length=min(model.max_length, len(tokens) + most),
        return_scores=True, return_no_speech_prob=True, suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, (-1,)),
    )[0]  # fmt: skip
    ids = result.sequences_ids[0]
    text = tokenizer.decode(ids).strip().rstrip(",")  # the window's end can read as a pause: no comma to end on
    if lost_the_end(ids, text, most):
        return None
    logprob = result.scores[0] * len(ids) / (len(ids) + 1) if ids else -10.0
    return text, float(result.no_speech_prob), float(logprob)


def mel_frames(audio_frames: int, window_s: int) -> int:
    """The mel frames encoded (100 a second, even): the window, more only for longer audio; 3000 (faster-whisper's
    30 s) when the window is 30 s or more."""
    if window_s >= 30:
        return 3000
    frames = min(3000, max(window_s * 100, audio_frames + MARGIN_FRAMES))
    return frames + frames % 2


def token_budget(samples: int) -> int:
    """The most tokens a decoding of ``samples`` (16 kHz) may take on the window before it counts as lost."""
    return EXTRA_TOKENS + int(MAX_TOKENS_PER_S * samples / 16000)


def lost_the_end(ids: list[int], text: str, most: int) -> bool:
    """A decoding on the window that ran past its token budget or repeats itself: decode the full 30 s."""
    return len(ids) >= most or _compression_ratio(text) > MAX_COMPRESSION_RATIO or _repeats(text)


def _repeats(text: str, min_words: int = 3) -> bool:
    """True when the text ends in the same run of words twice ("turn on the lamp, turn on the lamp")."""
    words = re.findall(r"[\w']+", text.casefold())
    return any(words[-k:] == words[-2 * k : -k] for k in range(min_words, len(words) // 2 + 1))


def _compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0
