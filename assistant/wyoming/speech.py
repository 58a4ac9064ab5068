"""Speech over Wyoming, the blocking part: audio bytes -> text (our recogniser), text -> audio (Piper).

These run on the server's speech worker thread (``run_in_executor``), never on its event loop. Audio on
the wire is little-endian PCM of any rate, width and channel count (Wyoming's ``audio-start``); the
recogniser is given 16 kHz mono int16, as everywhere else in this project.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event

from ..core.messages import Utterance
from ..voice.asr import Recognizer
from ..voice.audio import RATE_HZ, to_mono_16k
from ..voice.tts import Speaker

SAMPLE_TYPES = {1: np.uint8, 2: np.int16, 4: np.int32}
"""numpy sample type per Wyoming ``width`` (bytes per sample)."""

CHUNK_MS = 100
"""Synthesized audio is sent in chunks this long."""


class AudioTooLong(Exception):
    """More audio than ``wyoming.max_audio_s`` for one transcription."""


class AudioBuffer:
    """The audio of one ``transcribe`` request, in its wire format, refused past ``max_s`` seconds."""

    def __init__(self, rate_hz: int, width: int, channels: int, max_s: float) -> None:
        if width not in SAMPLE_TYPES or not 0 < channels <= 16 or not 1000 <= rate_hz <= 192_000:
            raise ValueError(f"unsupported audio format: {rate_hz} Hz, {width} bytes, {channels} channels")
        self.rate_hz, self.width, self.channels = rate_hz, width, channels
        self.max_bytes = int(max_s * rate_hz) * width * channels
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, audio: bytes) -> None:
        self.size += len(audio)
        if self.size > self.max_bytes:
            raise AudioTooLong(f"more than {self.max_bytes} bytes of audio")
        self.parts.append(audio)

    def samples(self) -> np.ndarray:
        """16 kHz mono int16 (resampled with soxr, channels mixed down)."""
        frame = self.width * self.channels
        data = b"".join(self.parts)
        data = data[: len(data) - len(data) % frame]
        x = np.frombuffer(data, SAMPLE_TYPES[self.width]).reshape(-1, self.channels)
        if self.width == 1:  # unsigned 8-bit
            x = (x.astype(np.int16) - 128) * 256
        return to_mono_16k(x if self.channels > 1 else x[:, 0], self.rate_hz)


def transcribe(recognizer: Recognizer, samples: np.ndarray) -> str:
    """The text heard in 16 kHz mono int16 ``samples``; "" when nothing was. When the grammar's sentence won by
    too little (``Transcript.unsure``) the open transcript is the answer: the client acts on what it gets, and
    an unsure guess of the grammar must not become an action."""
    if not len(samples):
        return ""
    end_ms = len(samples) * 1000.0 / RATE_HZ
    transcript = recognizer.transcribe(Utterance(samples, RATE_HZ, 0.0, end_ms, end_ms))
    if transcript is None:
        return ""
    return (transcript.open_text or "").strip() if transcript.unsure else transcript.text.strip()


def synthesize(speaker: Speaker, text: str) -> list[Event]:
    """``audio-start``, ``audio-chunk``s, ``audio-stop``: ``text`` spoken by the configured voice (16-bit mono)."""
    audio, rate_hz = speaker.synthesize(text)
    return list(audio_events(np.asarray(audio, np.int16), rate_hz))


def audio_events(audio: np.ndarray, rate_hz: int) -> Iterator[Event]:
    step = rate_hz * CHUNK_MS // 1000
    yield AudioStart(rate=rate_hz, width=2, channels=1).event()
    for i in range(0, len(audio), step):
        yield AudioChunk(rate=rate_hz, width=2, channels=1, audio=audio[i : i + step].astype("<i2").tobytes()).event()
    yield AudioStop().event()
