"""Voice activity and endpointing: Silero VAD (ONNX, run here on one thread) over 32 ms frames.

``Endpointer.feed(chunk)`` returns the ``Utterance``s that chunk completes: speech starts after
``min_speech_ms`` of speech frames (with ``pre_roll_ms`` of audio kept from before), ends after
``end_silence_ms`` of silence or at ``max_utterance_s``. ``Idle`` is returned once when no speech
has been heard for ``idle_timeout_s`` of audio since the last utterance (or since ``reset_idle``).
Silence and non-speech produce nothing. Within an utterance, a pause of ``speculate_ms`` gives a
``Tentative`` (recognise the words so far), and the same pause reaching ``act_early_ms`` a ``Paused`` (act on
them if they were whole), once each per pause. Within an utterance, ``level_gate_db`` compares loudness: speech
that far below the utterance's loudest is background talk (silence, for ending it), and a voice that far
above most of what came before starts the utterance afresh.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Audio
from ..core.messages import AudioChunk, Utterance
from ..errors import ModelError
from ..paths import install_hint
from .audio import CHUNK_SAMPLES, RATE_HZ, Framer

log = logging.getLogger(__name__)

FRAME_MS = CHUNK_SAMPLES * 1000.0 / RATE_HZ
_CONTEXT = 64


def silero_path() -> Path:
    """Silero VAD's ONNX file as carried inside the faster-whisper wheel."""
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"Silero VAD is carried by faster-whisper, which is not installed: {install_hint('voice')}")
    assets = Path(next(iter(spec.submodule_search_locations))) / "assets"
    found = sorted(assets.glob("silero_vad*.onnx"))
    if not found:
        raise ModelError(f"no silero_vad*.onnx in {assets}: reinstall faster-whisper ({install_hint('voice')})")
    return found[-1]


class SileroVad:
    """Speech probability per 512-sample frame, state carried between calls."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime as ort

        path = path or silero_path()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own non-exported exception types
            raise ModelError(f"{path}: cannot load the Silero VAD model: {exc}") from None
        self.reset()
        self.probability(np.zeros(CHUNK_SAMPLES, np.int16))  # warm-up
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)

    def probability(self, frame: np.ndarray) -> float:
        x = frame.astype(np.float32) / 32768.0
        batch = np.concatenate([self._context, x])[None, :]
        out, self._h, self._c = self.session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = x[-_CONTEXT:]
        return float(np.asarray(out).reshape(-1)[0])


@dataclass(frozen=True)
class Tentative:
    """Speech has paused for ``speculate_ms``: the utterance so far, to recognise while the rest of the
    end-of-speech silence is waited for. If speech goes on, the final ``Utterance`` has a later end."""

    utterance: Utterance


@dataclass(frozen=True)
class Paused:
    """Speech has paused for ``act_early_ms`` (longer than ``speculate_ms``): a command recognised at the
    ``Tentative`` of this same pause may be acted on now. Not sent when the two are the same pause."""

    utterance: Utterance


@dataclass(frozen=True)
class Idle:
    """No speech for ``idle_timeout_s`` of audio, at stream time ``timestamp_ms``."""

    timestamp_ms: float


LEVEL_FRAMES = 3
"""The level the gate compares is the energy of the last three frames (96 ms), in dB."""
TAIL_GAP_MS = 100.0
"""A quiet word ending may have gaps this long (a stop consonant) and still be one ending."""
RESTART_PRE_ROLL_MS = 160.0
"""Kept from before a louder voice starts an utterance afresh: its first consonant, not the talk before."""
RESTART_AFTER_MS = 500.0
"""An utterance is started afresh by a much louder voice only once it has run this long."""


class Endpointer:
    def __init__(self, settings: Audio, vad: SileroVad, on_speech: Callable[[np.ndarray], None] | None = None,
                 on_restart: Callable[[], None] | None = None) -> None:  # fmt: skip
        """``on_speech`` receives the audio of an utterance as it is found: the pre-roll and first frames
        when speech starts, then every frame until the utterance ends (for streaming recognisers).
        ``on_restart``: the audio given so far was background, and the utterance starts again (the next
        ``on_speech`` call carries its start)."""
        self.settings = settings
        self.vad = vad
        self.on_speech = on_speech
        self.on_restart = on_restart
        self._energies: deque[float] = deque(maxlen=LEVEL_FRAMES)
        self._loudest_db = -np.inf
        self._levels: list[float] = []  # the speech frames' levels (dB) in this utterance
        self.frame_ms = FRAME_MS
        self._framer = Framer(CHUNK_SAMPLES)
        self._pre_roll: deque[np.ndarray] = deque(maxlen=max(0, round(settings.pre_roll_ms / FRAME_MS)))
        self._speech: list[np.ndarray] = []
        self._in_speech = False
        self._run = 0  # consecutive speech frames before the start
        self._silence_ms = 0.0
        self._quiet_ms = 0.0  # silence by the VAD alone (the level gate's background talk not counted)
        self._tail: tuple[str, float] = ("open", 0.0)
        self._start_ms = 0.0
        self._last_speech_end_ms = 0.0
        self._vad_since_end_ms = 0.0
        self._idle_from_ms = 0.0
        self._idle_sent = False
        self._speculated = False
        self._act_pending = False

    def reset_idle(self, at_ms: float) -> None:
        self._idle_from_ms = at_ms
        self._idle_sent = False

    def feed(self, chunk: AudioChunk) -> list[Utterance | Tentative | Paused | Idle]:
        if chunk.rate_hz != RATE_HZ:
            raise ValueError(f"the endpointer takes {RATE_HZ} Hz audio, got {chunk.rate_hz}")
        out: list[Utterance | Tentative | Paused | Idle] = []
        for frame, at_ms in self._framer.feed(chunk):
            event = self._frame(frame, at_ms)
            if event is not None:
                out.append(event)
        return out

    def flush(self) -> list[Utterance | Idle]:
        """The end of the stream: speech still going is an utterance."""
        if self._in_speech:
            return [self._emit(self._framer.next_ms, truncated=False)]
        return []

    def _level_db(self, frame: np.ndarray) -> float:
        self._energies.append(float(np.mean(np.square(frame.astype(np.float32)))))
        return self._level_db_now()

    def _frame(self, frame: np.ndarray, at_ms: float) -> Utterance | Tentative | Paused | Idle | None:
        s = self.settings
        started = time.perf_counter()
        speech = self.vad.probability(frame) >= (s.vad_threshold if not self._in_speech else s.vad_threshold - 0.15)
        spent_ms = (time.perf_counter() - started) * 1000
        end_ms = at_ms + self.frame_ms
        level_db = self._level_db(frame)
        gated = False
        if self._in_speech and speech and s.level_gate_db:
            if (at_ms - self._start_ms >= RESTART_AFTER_MS
                    and level_db > float(np.percentile(self._levels, 90)) + s.level_gate_db):  # fmt: skip
                self._restart(frame, at_ms, end_ms)  # a much louder voice: what came before was background
                return None
            self._levels.append(level_db)
            if level_db < self._loudest_db - s.level_gate_db:
                speech, gated = False, True  # far below the command's own voice: background talk
            else:
                self._loudest_db = max(self._loudest_db, level_db)
        if not self._in_speech:
            self._run = self._run + 1 if speech else 0
            if self._run * self.frame_ms >= s.min_speech_ms:
                self._in_speech = True
                self._start_ms = at_ms - (self._run - 1) * self.frame_ms
                self._speech = [*self._pre_roll, frame]
                self._pre_roll.clear()
                if self.on_speech is not None:
                    self.on_speech(np.concatenate(self._speech))
                self._silence_ms = self._quiet_ms = 0.0
                self._tail = ("open", end_ms)
                self._last_speech_end_ms = end_ms
                self._vad_since_end_ms = 0.0
                self._loudest_db = level_db
                self._levels = [level_db]
                return None
            self._pre_roll.append(frame)
            if not self._idle_sent and end_ms - self._idle_from_ms >= s.idle_timeout_s * 1000:
                self._idle_sent = True
                return Idle(end_ms)
            return None
        self._speech.append(frame)
        if self.on_speech is not None:
            self.on_speech(frame)
        if speech:
            self._silence_ms = self._quiet_ms = 0.0
            self._last_speech_end_ms = end_ms
            self._vad_since_end_ms = 0.0
            self._speculated = self._act_pending = False
            self._tail = ("open", end_ms)
        else:
            self._silence_ms += self.frame_ms
            quiet_before = self._quiet_ms
            self._quiet_ms = 0.0 if gated else self._quiet_ms + self.frame_ms
            self._vad_since_end_ms += spent_ms
            # the gated frames right after speech (short gaps allowed), then true silence: the quiet end of the
            # last word ("...minutes"), still speech; gated frames after a real silence are background, and so
            # is a gated run still going at the end
            state, tail_ms = self._tail
            if gated:
                joined = state == "open" or (state == "closed" and quiet_before < TAIL_GAP_MS)
                self._tail = ("open", end_ms) if joined else ("void", tail_ms)
            elif state == "open":
                self._tail = ("closed", tail_ms)
        if self._silence_ms >= s.end_silence_ms:
            return self._emit(end_ms, truncated=False)
        # a guess is made in true silence only: a quiet ending ("curtains") is gated like background talk,
        # and a guess cut there would lose it
        if s.speculate_ms and not self._speculated and self._quiet_ms >= s.speculate_ms:
            self._speculated = True
            self._act_pending = s.act_early and s.act_pause_ms > s.speculate_ms
            return Tentative(self._utterance(end_ms, truncated=False))
        if self._act_pending and self._quiet_ms >= s.act_early_ms:
            self._act_pending = False
            return Paused(self._utterance(end_ms, truncated=False))
        if end_ms - self._start_ms >= s.max_utterance_s * 1000:
            return self._emit(end_ms, truncated=True)
        return None

    def cut(self) -> None:
        """End the utterance in progress here, emitting nothing: it was acted on at a pause (``Tentative``).
        Speech that goes on is a new utterance, started as any other (``min_speech_ms``, with its pre-roll)."""
        if self._in_speech:
            self._emit(self._framer.next_ms, truncated=False)

    def _restart(self, frame: np.ndarray, at_ms: float, end_ms: float) -> None:
        keep = min(self._pre_roll.maxlen or 0, round(RESTART_PRE_ROLL_MS / self.frame_ms))
        before = self._speech[-keep:] if keep else []
        log.debug("utterance restarted at %.0f ms: a voice %.0f dB louder than before", at_ms, self.settings.level_gate_db)
        self._speech = [*before, frame]
        self._start_ms = at_ms - len(before) * self.frame_ms
        self._loudest_db = self._level_db_now()
        self._levels = [self._loudest_db]
        self._silence_ms = self._quiet_ms = 0.0
        self._tail = ("open", end_ms)
        self._last_speech_end_ms = end_ms
        self._vad_since_end_ms = 0.0
        self._speculated = self._act_pending = False
        if self.on_restart is not None:
            self.on_restart()
        if self.on_speech is not None:
            self.on_speech(np.concatenate(self._speech))

    def _level_db_now(self) -> float:
        return 10 * float(np.log10(sum(self._energies) / len(self._energies) + 1.0))

    def _utterance(self, now_ms: float, truncated: bool) -> Utterance:
        samples = np.concatenate(self._speech) if self._speech else np.zeros(0, np.int16)
        state, tail_ms = self._tail
        end_ms = now_ms if truncated else tail_ms if state == "closed" else self._last_speech_end_ms
        return Utterance(samples, RATE_HZ, self._start_ms, end_ms, now_ms, round(self._vad_since_end_ms, 3),
                         truncated)  # fmt: skip

    def _emit(self, now_ms: float, truncated: bool) -> Utterance:
        utterance = self._utterance(now_ms, truncated)
        self._speculated = self._act_pending = False
        self._in_speech = False
        self._speech = []
        self._run = 0
        self.reset_idle(now_ms)
        log.debug("utterance %.0f-%.0f ms (%s)", utterance.start_ms, utterance.end_ms,
                  "cut at max length" if truncated else "ended by silence")  # fmt: skip
        return utterance
