"""The composition root: every command builds its objects here, so `run`, `process`, `demo`, the
benchmarks and the tests get the same service, session and voice chain that ship.

    load_understanding  the language model and the parser
    load_voice          VAD + recogniser + session: `assistant process`, `eval --voice`, `bench --voice`
    build_service       the MQTT service, with the voice front door when a microphone is configured
    early_judge         whether a command heard at a pause is whole (`audio.act_early`), for the microphone
    load_wyoming        the Wyoming server (Home Assistant, satellites) when `wyoming.uri` is set
    run_service         `assistant run`
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import paths
from .config import Config
from .errors import AssistantError

if TYPE_CHECKING:
    from .service.daemon import Daemon
    from .understanding.parser import Understander
    from .voice.asr import Recognizer
    from .voice.microphone import VoiceFrontDoor
    from .voice.pipeline import Ears, Publisher, VoicePipeline
    from .wyoming.server import WyomingService

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
    if voice is not None:
        daemon.registry_listeners.append(voice.registry_changed)
    return daemon, voice


def load_wyoming(config: Config, daemon: Daemon) -> WyomingService | None:
    """The Wyoming server over ``daemon``, or None when ``wyoming.uri`` is not set. With the voice extra
    installed it also offers speech to text and text to speech (a missing model fails here, at start)."""
    if config.wyoming.uri is None:
        return None
    if importlib.util.find_spec("wyoming") is None:
        raise AssistantError(f"wyoming.uri is set but the wyoming library is missing: {paths.install_hint('wyoming')}")
    from .voice.asr import installed_engines, load_recognizer
    from .wyoming.server import WyomingService

    recognizer = speaker = make_ears = None
    if any(installed_engines()):
        recognizer = load_recognizer(config.asr, daemon.registry, config.wake.spoken)
        make_ears = satellite_ears(config, recognizer)
    if config.tts.engine != "none" and importlib.util.find_spec("piper") is not None:
        from .voice.tts import Speaker

        speaker = Speaker(config.tts)
    return WyomingService(config.wyoming, daemon.submit, lambda: daemon.registry, recognizer, speaker,
                          config.asr.language, config.tts.voice, make_ears, config.audio)  # fmt: skip


def satellite_ears(config: Config, recognizer: Recognizer) -> Callable[[bool], Ears]:
    """Ears for one satellite pipeline run: the configured wake gate when the brain listens for the wake
    word, none when the satellite woke itself (its pipeline starts at speech to text)."""
    from .voice.pipeline import Ears
    from .voice.vad import SileroVad

    woken = config.model_copy(update={"wake": config.wake.model_copy(update={"mode": "always"})})
    return lambda satellite_woke: Ears(woken if satellite_woke else config, recognizer, SileroVad())


def early_judge(config: Config, daemon: Daemon) -> Callable[[str], bool] | None:
    """Whether a command heard at a pause is whole (``audio.act_early``), judged with the service's current
    understander and registry; None when the setting is off."""
    from .voice.pipeline import EarlyJudge

    if not config.audio.act_early:
        return None
    return EarlyJudge(lambda: daemon.understander, lambda: daemon.registry)


def run_service(config_path: Path, config: Config, base: Path, reload_asked: threading.Event | None = None) -> int:
    """``reload_asked``: set by a SIGHUP that came while starting; the reload happens once running."""
    daemon, voice = build_service(config_path, config, base)
    if reload_asked is not None and reload_asked.is_set():
        daemon.reload()
    wyoming = load_wyoming(config, daemon)
    if voice is not None:
        voice.start(daemon.submit, early_judge(config, daemon))
    if wyoming is not None:
        daemon.announcers.append(wyoming.timer_finished)
        daemon.timer_watchers.append(wyoming.timer_changed)
        if wyoming.recognizer is not None:
            daemon.registry_listeners.append(wyoming.recognizer.use_registry)
        wyoming.start()
    try:
        return daemon.run()
    finally:
        if wyoming is not None:
            wyoming.stop()
        if voice is not None:
            voice.stop()
