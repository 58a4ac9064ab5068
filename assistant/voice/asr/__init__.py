"""Speech recognition: an ``Utterance`` in, a ``Transcript`` out.

Engines: ``whisper`` (faster-whisper, int8 CTranslate2) and ``vosk`` (streaming).
``load_recognizer`` picks one (``asr.engine: auto``: whisper when installed, else vosk) and says which.
Both are biased toward the registry's device and area names, and with ``asr.grammar`` both try the home's
sentences first (``grammar.SentenceSpace``: the intent templates with this home's names): whisper scores
the nearest ones on the audio, vosk decodes with a grammar of their words. ``use_registry`` gives a loaded
recogniser the names of a changed registry.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ... import models
from ...config import Asr
from ...core.messages import Transcript, Utterance
from ...devices import Registry
from ...errors import ModelError
from ...paths import install_hint

if TYPE_CHECKING:
    from .grammar import SentenceSpace

log = logging.getLogger(__name__)

COMMAND_WORDS = (
    "turn on off the a an in to of and set dim brighten brighter dimmer lights light lamp open close lock unlock "
    "start stop pause play resume next previous mute unmute volume up down percent degrees what is it time date "
    "timer minutes minute seconds hours for cancel add shopping list please would you could can temperature "
    "heat heating warmer cooler colour color red green blue white warm cool fan speed blinds curtains all"
).split()


class Recognizer(Protocol):
    engine: str

    def transcribe(self, utterance: Utterance) -> Transcript | None: ...

    def use_registry(self, registry: Registry) -> None: ...


def phrases(registry: Registry, extra: tuple[str, ...] = ()) -> list[str]:
    """The names people say for devices, areas and floors, and any extra phrases (the wake phrase)."""
    out: list[str] = list(extra)
    for device in registry.devices:
        out += [device.name, *device.aliases]
    for area in registry.areas:
        out += [area.name, *area.aliases]
    for floor in registry.floors:
        out += [floor.name, *floor.aliases]
    seen: set[str] = set()
    return [p for p in out if not (p.casefold() in seen or seen.add(p.casefold()))]  # type: ignore[func-returns-value]


def installed_engines() -> Iterator[str]:
    if importlib.util.find_spec("faster_whisper") is not None:
        yield "whisper"
    if importlib.util.find_spec("vosk") is not None:
        yield "vosk"


def load_recognizer(settings: Asr, registry: Registry, extra_phrases: tuple[str, ...] = ()) -> Recognizer:
    """The configured engine, loaded and warmed up; ModelError naming the install command if it cannot be."""
    engines = [settings.engine] if settings.engine != "auto" else list(installed_engines())
    if not engines:
        raise ModelError(f"no speech recogniser installed: {install_hint('voice')}")
    errors = []
    for engine in engines:
        model_id = settings.model or models.DEFAULTS[engine]
        try:
            folder = Path(model_id) if ("/" in model_id or Path(model_id).is_dir()) else models.locate(model_id)
            if not folder.is_dir():
                raise ModelError(f"{folder}: no such model folder")
            recognizer = _load(engine, settings, folder, phrases(registry, extra_phrases), registry, extra_phrases)
        except ModelError as exc:
            errors.append(str(exc))
            continue
        log.info("speech recognition: %s engine, model %s", engine, folder)
        return recognizer
    raise ModelError("; ".join(errors))


def _load(engine: str, settings: Asr, folder: Path, vocabulary: list[str], registry: Registry,
          wake_phrases: tuple[str, ...]) -> Recognizer:  # fmt: skip
    if engine == "whisper":
        if importlib.util.find_spec("faster_whisper") is None:
            raise ModelError(f"the whisper engine needs faster-whisper: {install_hint('voice')}")
        from .whisper import WhisperRecognizer

        space = sentence_space(registry) if settings.grammar else None
        return WhisperRecognizer(settings, folder, vocabulary, space, wake_phrases)
    if importlib.util.find_spec("vosk") is None:
        raise ModelError(f"the vosk engine needs vosk: {install_hint('voice')}")
    from .vosk import VoskRecognizer

    space = sentence_space(registry) if settings.grammar and settings.bias else None
    return VoskRecognizer(settings, folder, vocabulary, space)


def sentence_space(registry: Registry) -> SentenceSpace:
    """The home's sentences (built once per process; the names are this registry's)."""
    from .grammar import SentenceSpace

    return SentenceSpace.build(registry)
