"""Audio in: WAV files, raw PCM on stdin and microphones, all as 16 kHz mono int16 ``AudioChunk``s.

Timestamps come from sample counts (``timestamp_ms += duration_ms``), never from the wall clock.
The microphone callback only copies into a bounded queue that drops the oldest audio and counts
the drops; resampling and everything heavier happen in the thread that reads ``chunks()``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np

from ..core.messages import AudioChunk
from ..errors import AssistantError
from ..paths import install_hint
from ..queues import put_drop_oldest

log = logging.getLogger(__name__)

RATE_HZ = 16_000
CHUNK_SAMPLES = 512
"""32 ms at 16 kHz: one Silero VAD frame."""


class AudioError(AssistantError):
    """An audio file cannot be read, or a microphone cannot be opened or has gone away."""


class Source(Protocol):
    """Anything that yields 16 kHz mono chunks; ``chunks()`` raises AudioError when the source fails."""

    def chunks(self) -> Iterator[AudioChunk]: ...


def _need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise AudioError(f"{module} is not installed: {install_hint('voice')}") from None
    except OSError as exc:  # sounddevice without the PortAudio library
        raise AudioError(f"{module}: {exc} (on Debian and Raspberry Pi OS: apt-get install libportaudio2)") from None


def check_microphone_support() -> None:
    """Fail at start, not in the microphone thread, when the audio library cannot work at all."""
    _need("sounddevice")


def to_mono_16k(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    """Any rate, any channels (frames x channels, or 1-D), int16 or float in -1..1 -> 16 kHz mono int16."""
    if rate_hz <= 0:
        raise AudioError(f"invalid sample rate {rate_hz}")
    x = np.asarray(samples)
    if x.dtype == np.int16:
        x = x.astype(np.float32) / 32768.0
    elif x.dtype.kind == "i":
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max + 1)
    else:
        x = x.astype(np.float32, copy=False)
    if x.ndim == 2:
        x = x.mean(axis=1)
    elif x.ndim != 1:
        raise AudioError(f"audio must be 1-D or frames x channels, got shape {x.shape}")
    if rate_hz != RATE_HZ and len(x):
        soxr = _need("soxr")
        x = soxr.resample(x, rate_hz, RATE_HZ, quality="HQ")
    return float_to_int16(x)


def float_to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)


def read_wav(path: str | Path) -> np.ndarray:
    """A WAV (or any libsndfile format) file as 16 kHz mono int16."""
    sf = _need("soundfile")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, sf.LibsndfileError) as exc:
        raise AudioError(f"{path}: cannot read audio: {exc}") from None
    return to_mono_16k(data, int(rate))


def split(samples: np.ndarray, start_ms: float = 0.0, chunk_samples: int = CHUNK_SAMPLES) -> Iterator[AudioChunk]:
    """16 kHz mono int16 samples as chunks, timestamps from the sample count."""
    for i in range(0, len(samples), chunk_samples):
        yield AudioChunk(samples[i : i + chunk_samples], RATE_HZ, start_ms + i * 1000.0 / RATE_HZ)


class WavSource:
    def __init__(self, path: str | Path, chunk_samples: int = CHUNK_SAMPLES) -> None:
        self.path = Path(path)
        self.chunk_samples = chunk_samples

    def chunks(self) -> Iterator[AudioChunk]:
        yield from split(read_wav(self.path), 0.0, self.chunk_samples)


class PcmSource:
    """Raw signed 16-bit little-endian PCM from a byte stream (stdin), at any rate and channel count."""

    def __init__(self, stream: BinaryIO, rate_hz: int = RATE_HZ, channels: int = 1,
                 chunk_samples: int = CHUNK_SAMPLES) -> None:  # fmt: skip
        if rate_hz <= 0 or channels <= 0:
            raise AudioError("rate and channels must be positive")
        self.stream = stream
        self.rate_hz = rate_hz
        self.channels = channels
        self.chunk_samples = chunk_samples

    def chunks(self) -> Iterator[AudioChunk]:
        frame_bytes = 2 * self.channels
        want = max(1, self.chunk_samples * self.rate_hz // RATE_HZ) * frame_bytes
        converter = StreamConverter(self.rate_hz, self.channels)
        carry = b""
        while True:
            data = self.stream.read(want)
            if not data:
                break
            data = carry + data
            usable = len(data) - len(data) % frame_bytes
            carry = data[usable:]
            frames = np.frombuffer(data[:usable], dtype="<i2").reshape(-1, self.channels)
            yield from converter.convert(frames)
        yield from converter.convert(np.zeros((0, self.channels), np.int16), last=True)


class StreamConverter:
    """Streaming downmix + resample to 16 kHz with continuous sample-count timestamps."""

    def __init__(self, rate_hz: int, channels: int) -> None:
        self.rate_hz = rate_hz
        self.channels = channels
        self.samples_out = 0
        self._resampler = None
        if rate_hz != RATE_HZ:
            soxr = _need("soxr")
            self._resampler = soxr.ResampleStream(rate_hz, RATE_HZ, 1, dtype="float32", quality="HQ")

    def convert(self, frames: np.ndarray, last: bool = False) -> Iterator[AudioChunk]:
        x = frames.astype(np.float32) / 32768.0 if frames.dtype == np.int16 else frames.astype(np.float32)
        if x.ndim == 2:
            x = x.mean(axis=1)
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x, last=last)
        if not len(x):
            return
        out = float_to_int16(x)
        chunk = AudioChunk(out, RATE_HZ, self.samples_out * 1000.0 / RATE_HZ)
        self.samples_out += len(out)
        yield chunk


class Microphone:
    """A sounddevice input stream. The callback only copies into a bounded queue (oldest dropped, counted)."""

    def __init__(self, device: str | int | None = None, rate_hz: int | None = None, channels: int = 1,
                 queue_ms: int = 3000, block_ms: int = 32) -> None:  # fmt: skip
        self.device = device
        self.rate_hz = rate_hz
        self.channels = channels
        self.queue_ms = queue_ms
        self.block_ms = block_ms
        self.dropped_blocks = 0
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=1)
        self._status: str | None = None

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status:
            self._status = str(status)
        self.dropped_blocks += put_drop_oldest(self._queue, indata.copy())

    def _finished(self) -> None:
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass

    def chunks(self) -> Iterator[AudioChunk]:
        sd = _need("sounddevice")
        try:
            info = sd.query_devices(self.device, kind="input")
        except (ValueError, sd.PortAudioError) as exc:
            raise AudioError(f"microphone {self.device!r}: {exc}") from None
        rate = int(self.rate_hz or info["default_samplerate"])
        block = max(1, rate * self.block_ms // 1000)
        self._queue = queue.Queue(maxsize=max(2, self.queue_ms // self.block_ms))
        converter = StreamConverter(rate, self.channels)
        try:
            stream = sd.InputStream(device=info["index"], samplerate=rate, channels=self.channels, dtype="int16",
                                    blocksize=block, callback=self._callback, finished_callback=self._finished)  # fmt: skip
        except sd.PortAudioError as exc:
            raise AudioError(f"microphone {info['name']!r}: {exc}") from None
        log.info("microphone %r open: %d Hz, %d channel(s)", info["name"], rate, self.channels)
        with stream:
            while True:
                try:
                    frames = self._queue.get(timeout=2.0)
                except queue.Empty:
                    raise AudioError(f"microphone {info['name']!r}: no audio for 2 s") from None
                if frames is None:
                    raise AudioError(f"microphone {info['name']!r} stopped ({self._status or 'device gone'})")
                yield from converter.convert(frames)


class Reopening:
    """A source that is reopened when it fails (a USB microphone unplugged and back), with back-off.

    Stream time keeps running across reopenings: the new source's timestamps are shifted after the old ones.
    """

    def __init__(self, open_source: Callable[[], Source], max_backoff_s: float = 30.0,
                 stop: threading.Event | None = None, sleep: Callable[[float], Any] = time.sleep) -> None:  # fmt: skip
        self.open_source = open_source
        self.max_backoff_s = max_backoff_s
        self.stop = stop or threading.Event()
        self.sleep = sleep
        self.reopened = 0

    def chunks(self) -> Iterator[AudioChunk]:
        offset_ms = 0.0
        backoff = 0.5
        while not self.stop.is_set():
            end_ms = offset_ms
            try:
                for chunk in self.open_source().chunks():
                    backoff = 0.5
                    shifted = AudioChunk(chunk.samples, chunk.rate_hz, chunk.timestamp_ms + offset_ms)
                    end_ms = shifted.timestamp_ms + shifted.duration_ms
                    yield shifted
                    if self.stop.is_set():
                        return
                return  # the source ended normally (a file, a closed pipe)
            except AudioError as exc:
                log.warning("audio source failed: %s; reopening in %.1f s", exc, backoff)
            offset_ms = end_ms
            self.reopened += 1
            self.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)


class Framer:
    """16 kHz chunks of any length -> frames of ``size`` samples, each with the stream time (ms) of its
    first sample, from the chunks' sample-count timestamps. Samples short of a frame wait for the next chunk."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.frame_ms = size * 1000.0 / RATE_HZ
        self._pending = np.zeros(0, np.int16)
        self.next_ms = 0.0
        """The stream time of the next frame's first sample (the end of the last frame given)."""

    def feed(self, chunk: AudioChunk) -> Iterator[tuple[np.ndarray, float]]:
        if not len(self._pending):
            self.next_ms = chunk.timestamp_ms
        self._pending = np.concatenate([self._pending, chunk.samples])
        while len(self._pending) >= self.size:
            frame, self._pending = self._pending[: self.size], self._pending[self.size :]
            at_ms = self.next_ms
            self.next_ms += self.frame_ms
            yield frame, at_ms


def concat(chunks: Iterable[AudioChunk]) -> np.ndarray:
    parts = [c.samples for c in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)
