"""Speech over Wyoming, the blocking part: audio bytes -> text (our recogniser), text -> audio (Piper).

These run on the server's speech worker thread (``run_in_executor``), never on its event loop. Audio on
the wire is little-endian PCM of any rate, width and channel count (Wyoming's ``audio-start``); the
recogniser is given 16 kHz mono int16, as everywhere else in this project.

Recognition before ``audio-stop`` (``Pauses``): Home Assistant streams a command's audio as it is spoken
and sends ``audio-stop`` once its own VAD has heard the speech end (by default after 0.7 s of silence).
Recognition need not wait for that: as on the local microphone (``audio.speculate_ms``), it starts on the
audio so far once speech has paused for ``speculate_ms``, and that transcript is the answer at
``audio-stop`` when no speech came after the pause; else the whole audio is recognised then. Only for
16 kHz mono 16-bit audio (what Home Assistant sends), where no resampling is needed per chunk, and only
while the audio comes at about the pace it is spoken: audio sent faster (a recording) is all there by
the time a pause is found, so it is recognised at ``audio-stop`` as a whole (``AHEAD_S``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event

from ..config import Audio
from ..core.messages import Utterance
from ..voice.asr import Recognizer
from ..voice.audio import CHUNK_SAMPLES, RATE_HZ, to_mono_16k
from ..voice.tts import Speaker
from ..voice.vad import SileroVad

SAMPLE_TYPES = {1: np.uint8, 2: np.int16, 4: np.int32}
"""numpy sample type per Wyoming ``width`` (bytes per sample)."""

CHUNK_MS = 100
"""Synthesized audio is sent in chunks this long."""


AHEAD_S = 0.5
"""Audio this far ahead of the time since ``audio-start`` comes faster than spoken: no recognition at pauses."""


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

    @property
    def seconds(self) -> float:
        """Audio held, in seconds."""
        return self.size / (self.rate_hz * self.width * self.channels)

    def samples(self) -> np.ndarray:
        """16 kHz mono int16 (resampled with soxr, channels mixed down)."""
        frame = self.width * self.channels
        data = b"".join(self.parts)
        data = data[: len(data) - len(data) % frame]
        x = np.frombuffer(data, SAMPLE_TYPES[self.width]).reshape(-1, self.channels)
        if self.width == 1:  # unsigned 8-bit
            x = (x.astype(np.int16) - 128) * 256
        return to_mono_16k(x if self.channels > 1 else x[:, 0], self.rate_hz)


class Pauses:
    """Watches a ``transcribe`` stream for a pause after speech (Silero VAD, 32 ms frames; see the module
    docstring). Not thread-safe: fed on the speech worker thread."""

    def __init__(self, settings: Audio, vad: SileroVad | None = None) -> None:
        self.vad = vad or SileroVad()
        self.threshold = settings.vad_threshold
        self.pause_ms = settings.speculate_ms
        self.min_speech_ms = settings.min_speech_ms
        self.frame_ms = CHUNK_SAMPLES * 1000.0 / RATE_HZ
        self._pending = np.zeros(0, np.int16)
        self._speech_ms = 0.0
        self._quiet_ms = 0.0
        self._paused = False
        self.spoke_after_pause = False
        """Speech came after the last pause reported: a transcript started at it is incomplete."""

    def feed(self, samples: np.ndarray) -> bool:
        """True when the speech so far has just paused for ``speculate_ms``: recognise the audio up to here."""
        self._pending = np.concatenate([self._pending, samples])
        paused_now = False
        while len(self._pending) >= CHUNK_SAMPLES:
            frame, self._pending = self._pending[:CHUNK_SAMPLES], self._pending[CHUNK_SAMPLES:]
            if self.vad.probability(frame) >= self.threshold:
                self._speech_ms += self.frame_ms
                self._quiet_ms = 0.0
                if self._paused and self._speech_ms >= self.min_speech_ms:
                    self._paused, self.spoke_after_pause = False, True
                continue
            self._quiet_ms += self.frame_ms
            if not self._paused and self._speech_ms >= self.min_speech_ms and self._quiet_ms >= self.pause_ms:
                self._paused, self.spoke_after_pause, paused_now = True, False, True
                self._speech_ms = 0.0
        return paused_now


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
