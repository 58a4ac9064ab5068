"""The composition root: every command builds its objects here, so `run`, `process`, `demo`, the
benchmarks and the tests get the same service, session and voice chain that ship.

    load_understanding  the language model and the parser
    load_voice          VAD + recogniser + session: `assistant process`, `eval --voice`, `bench --voice`
    build_service       the MQTT service, with the voice front door when a microphone is configured
    run_service         `assistant run`
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from . import paths
from .config import Config

if TYPE_CHECKING:
    from .service.daemon import Daemon
    from .understanding.parser import Understander
    from .voice.microphone import VoiceFrontDoor
    from .voice.pipeline import Publisher, VoicePipeline

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The source checkout, for the developer commands' default data (`eval`, `bench`); never for the model."""


def model_path(config: Config, base: Path) -> Path:
    """The language model file: see paths.model_path (ModelError naming the paths looked at)."""
    return paths.model_path(config, base)


def load_understanding(config: Config, base: Path) -> Understander:
    from .understanding.model import NluModel
    from .understanding.parser import Understander

    model = NluModel(model_path(config, base), threads=config.understanding.threads)
    return Understander(model, config.understanding, config.confirm)


def load_voice(config: Config, base: Path, publish: Publisher | None = None) -> VoicePipeline:
    """The voice chain (VAD, recogniser, a session over the understanding) from the config; ModelError when
    a model is missing."""
    from .devices import Registry
    from .voice.asr import load_recognizer
    from .voice.pipeline import VoicePipeline
    from .voice.vad import SileroVad

    registry = Registry.from_config(config)
    recognizer = load_recognizer(config.asr, registry, config.wake.spoken)
    return VoicePipeline(config, load_understanding(config, base), registry, recognizer, SileroVad(), publish)


def build_service(config_path: Path | None, config: Config, base: Path) -> tuple[Daemon, VoiceFrontDoor | None]:
    from .mqtt import Credentials
    from .service.daemon import Daemon
    from .systemd import Notifier

    notifier = Notifier()
    notifier.status("loading the language model")
    understander = load_understanding(config, base)
    voice = None
    if config.audio.input is not None:  # the voice front door: optional, text-only without a microphone
        from .voice.microphone import VoiceFrontDoor

        voice = VoiceFrontDoor(config)
    daemon = Daemon(config, understander, config_path=config_path, credentials=Credentials.from_environment(),
                    notifier=notifier, load_understander=load_understanding, voice=voice)  # fmt: skip
    return daemon, voice


def run_service(config_path: Path, config: Config, base: Path, reload_asked: threading.Event | None = None) -> int:
    """``reload_asked``: set by a SIGHUP that came while starting; the reload happens once running."""
    daemon, voice = build_service(config_path, config, base)
    if reload_asked is not None and reload_asked.is_set():
        daemon.reload()
    if voice is not None:
        voice.start(daemon.submit)
    try:
        return daemon.run()
    finally:
        if voice is not None:
            voice.stop()
