"""Speech out: Piper voices on onnxruntime (``piper-tts``), espeak-ng as the fallback, played with sounddevice.

``Speaker.synthesize(text)`` is pure audio out (int16 mono and its rate) so it can be tested without a
sound card; ``Speaker.say(text)`` also plays it. ``stop()`` cuts a reply short ("stop", a new wake phrase).
"""

from __future__ import annotations

import importlib.util
import io
import logging
import re
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np

from .. import models
from ..config import Tts
from ..errors import AssistantError, ModelError
from ..paths import install_hint
from .memory import mapped_large_allocations

log = logging.getLogger(__name__)


class TtsError(AssistantError):
    """No voice can be loaded, or synthesis failed."""


def clauses(text: str, max_words: int = 10) -> list[str]:
    """``text`` cut after commas and semicolons into pieces of at most about ``max_words`` words; a clause
    longer than that is cut again before its "and"s (where a speaker may pause too), else stays whole. Short
    texts come back as they are. The voice's memory grows with the length of the piece it is given: about
    8 MB a word for a moment (`assistant bench --ready`)."""
    pieces = []
    for clause in re.split(r"(?<=[,;])\s+", text.strip()):
        if len(clause.split()) > max_words:
            pieces += re.split(r"\s+(?=and\b)", clause)
        elif clause:
            pieces.append(clause)
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1].split()) + len(piece.split()) <= max_words:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


class PiperEngine:
    name = "piper"

    def __init__(self, voice: str) -> None:
        import json

        import onnxruntime as ort
        from piper import PiperVoice
        from piper.config import PiperConfig

        path = Path(voice) if voice.endswith(".onnx") else models.locate(f"piper-{voice}") / f"{voice}.onnx"
        if not path.is_file():
            raise ModelError(f"{path}: no such Piper voice")
        # as PiperVoice.load, with ONNX Runtime's memory arena and memory patterns off: with them, every longer
        # sentence voiced grows the arena for good (about 70 MB after one long reply, `assistant bench --ready`);
        # without, what a sentence needs is given back after it, and synthesis is as fast
        options = ort.SessionOptions()
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            config = PiperConfig.from_dict(json.loads(Path(f"{path}.json").read_text(encoding="utf-8")))
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            self.voice = PiperVoice(session=session, config=config)
        except Exception as exc:  # onnxruntime and json errors on a bad voice file
            raise ModelError(f"{path}: cannot load the Piper voice ({exc}); run `assistant models verify`") from None
        self.rate_hz = int(self.voice.config.sample_rate)

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        # a long sentence is voiced a clause at a time: the voice's memory grows with the length it is given
        with mapped_large_allocations():
            parts = [chunk.audio_int16_array for clause in clauses(text) for chunk in self.voice.synthesize(clause)]
        audio = np.concatenate(parts) if parts else np.zeros(0, np.int16)
        return audio.astype(np.int16).reshape(-1), self.rate_hz


class EspeakEngine:
    name = "espeak"

    def __init__(self, voice: str) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise TtsError("espeak-ng is not installed: apt-get install espeak-ng")
        self.binary: str = binary
        self.voice = voice if not voice.startswith("en_US-") else "en-us"

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        import soundfile as sf

        result = subprocess.run([self.binary, "--stdout", "-v", self.voice, "--", text], capture_output=True,
                                timeout=30, check=False)  # fmt: skip
        if result.returncode != 0:
            raise TtsError(f"espeak-ng failed: {result.stderr.decode(errors='replace').strip()[:200]}")
        data, rate = sf.read(io.BytesIO(result.stdout), dtype="int16")
        return np.asarray(data, np.int16).reshape(-1), int(rate)


class Speaker:
    def __init__(self, settings: Tts) -> None:
        self.settings = settings
        self.engine: PiperEngine | EspeakEngine | None = None
        self._stop = threading.Event()
        if settings.engine == "none":
            return
        errors = []
        order = ["piper", "espeak"] if settings.engine == "auto" else [settings.engine]
        for name in order:
            try:
                if name == "piper":
                    if importlib.util.find_spec("piper") is None:
                        raise TtsError(f"piper-tts is not installed: {install_hint('voice')}")
                    self.engine = PiperEngine(settings.voice)
                else:
                    self.engine = EspeakEngine(settings.voice)
                break
            except (ModelError, TtsError) as exc:
                errors.append(str(exc))
        if self.engine is None:
            raise TtsError("no voice for spoken replies: " + "; ".join(errors))
        log.info("spoken replies: %s (%s)", self.engine.name, settings.voice)

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        if self.engine is None:
            return np.zeros(0, np.int16), 16000
        return self.engine.synthesize(text)

    def say(self, text: str) -> None:
        """Synthesize and play, blocking until done or ``stop()``. Run it off the main loop."""
        audio, rate = self.synthesize(text)
        if not len(audio):
            return
        try:
            import sounddevice as sd
        except (ImportError, OSError) as exc:
            raise TtsError(f"cannot play audio: {exc}") from None
        self._stop.clear()
        block = rate // 10
        with sd.OutputStream(samplerate=rate, channels=1, dtype="int16", device=self.settings.output) as out:
            for i in range(0, len(audio), block):
                if self._stop.is_set():
                    break
                out.write(audio[i : i + block].reshape(-1, 1))

    def stop(self) -> None:
        self._stop.set()
