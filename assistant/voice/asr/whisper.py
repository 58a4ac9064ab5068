"""The whisper engine: faster-whisper with int8 CTranslate2 weights, prompted with the home's names."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ...config import Asr
from ...core.messages import Transcript, Utterance
from ...errors import ModelError
from . import window

log = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 600


class WhisperRecognizer:
    engine = "whisper"

    def __init__(self, settings: Asr, folder: Path, vocabulary: list[str]) -> None:
        from faster_whisper import WhisperModel

        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # it logs every call at INFO
        self.settings = settings
        missing = [n for n in ("model.bin", "config.json", "tokenizer.json") if not (folder / n).is_file()]
        if missing:
            raise ModelError(f"{folder}: whisper model incomplete (missing {', '.join(missing)});"
                             " run `assistant models pull whisper-tiny.en`")  # fmt: skip
        try:
            self.model = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=settings.threads)
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on bad files
            raise ModelError(f"{folder}: cannot load the whisper model ({exc}); it may be corrupt:"
                             " run `assistant models verify` and `assistant models pull whisper-tiny.en`") from None  # fmt: skip
        prompt = ", ".join(vocabulary) + "." if settings.bias and vocabulary else None
        self.prompt = prompt[:MAX_PROMPT_CHARS] if prompt else None
        self._run(np.zeros(8000, np.float32))  # warm-up

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
        text, no_speech, logprob = self._run(audio)
        asr_ms = (time.perf_counter() - started) * 1000
        if not text or (no_speech > self.settings.max_no_speech and logprob < -0.7):
            log.debug("whisper: no speech (no_speech %.2f, logprob %.2f): %r", no_speech, logprob, text)
            return None
        return Transcript(text, self.engine, utterance.start_ms, utterance.end_ms, round(float(np.exp(logprob)), 4),
                          round(asr_ms, 3))  # fmt: skip
