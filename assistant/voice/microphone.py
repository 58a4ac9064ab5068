"""The voice front door of `assistant run`: the microphone thread and a speaker for replies.

The microphone thread (``MicrophoneLoop``) hands ``SpokenCommand`` events to whatever ``submit`` it is
given (the service's bus), so they are understood and acted on by the service's main thread exactly like
MQTT commands. Replies and ``say`` texts go to a speaker thread through a bounded queue (the oldest
waiting text is dropped). This package depends on the core, never on the service.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from ..config import Config
from ..core.events import SpokenCommand
from ..core.messages import AudioChunk
from ..devices import Registry
from ..errors import AssistantError
from ..queues import put_drop_oldest
from .asr import Recognizer
from .audio import Microphone, Reopening
from .memory import give_back
from .pipeline import STOP_WORDS, Ears
from .vad import SileroVad

log = logging.getLogger(__name__)


class SpeakerThread:
    def __init__(self, config: Config) -> None:
        from .tts import Speaker

        self.speaker = Speaker(config.tts)
        self.queue: queue.Queue[str] = queue.Queue(maxsize=4)
        self.dropped = 0
        self.speaking = threading.Event()
        threading.Thread(target=self._run, name="speaker", daemon=True).start()

    def speak(self, text: str) -> None:
        self.dropped += put_drop_oldest(self.queue, text)

    def stop(self) -> None:
        """Cut the reply being spoken short and forget the ones waiting."""
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.speaker.stop()

    def _run(self) -> None:
        while True:
            text = self.queue.get()
            self.speaking.set()
            try:
                self.speaker.say(text)
            except AssistantError as exc:
                log.warning("could not speak %r: %s", text[:60], exc)
            finally:
                if self.queue.empty():
                    self.speaking.clear()
                give_back()  # what voicing the reply held for a moment


class MicrophoneLoop:
    """The voice thread: microphone -> endpointer -> recogniser -> wake; commands handed to ``submit``.

    Runs beside the MQTT loop; the daemon's main thread does the understanding and acting, so spoken
    and MQTT commands share confirmation, timers and follow-ups. A microphone that goes away is reopened.
    """

    def __init__(self, config: Config, recognizer: Recognizer, vad: SileroVad, submit: Callable[[SpokenCommand], None],
                 open_source: Callable[[], Any], interrupt: Callable[[], None] | None = None,
                 speaking: Callable[[], bool] = lambda: False) -> None:  # fmt: skip
        self.config = config
        self.submit = submit
        self.interrupt = interrupt
        """Cuts a spoken reply short: called on "stop", a new wake phrase, or the wake word as soon as it fires."""
        self.ears = Ears(config, recognizer, vad, on_wake_word=self._wake_word)
        self.speaking = speaking
        """True while a reply is spoken: then only "stop" or the wake phrase count (not the echo of the reply)."""
        self.stop_event = threading.Event()
        self.source = Reopening(open_source, config.audio.reopen_max_s, self.stop_event)
        self.now_ms = 0.0
        self.thread = threading.Thread(target=self._run, name="microphone", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def listen(self) -> None:
        """``<prefix>/<site>/listen``: the next utterance needs no wake phrase."""
        self.ears.listen(self.now_ms)

    def _wake_word(self, at_ms: float) -> None:
        if self.interrupt is not None and self.speaking():
            self.interrupt()

    def _run(self) -> None:
        for chunk in self.source.chunks():
            self.now_ms = chunk.timestamp_ms + chunk.duration_ms
            try:
                self.hear(chunk)
            except Exception:  # one bad utterance must not end listening for good
                log.exception("voice: an error while handling the audio at %.0f ms; listening goes on", self.now_ms)

    def hear(self, chunk: AudioChunk) -> None:
        """One chunk of the microphone's audio (the thread's body calls it for each)."""
        heard_any = False
        for heard in self.ears.feed(chunk):
            heard_any = True
            text, decision = heard.transcript.text, heard.decision
            if self.interrupt is not None and (decision.called or STOP_WORDS.match(text)):
                self.interrupt()  # "stop" (or a new wake phrase) while a reply is spoken cuts it short
                if STOP_WORDS.match(text):
                    continue
            elif self.speaking():
                log.info("ignored while speaking (the reply's own echo?): %r", text)
                continue
            if decision.command:
                self.submit(SpokenCommand(decision.command, received_s=time.monotonic()))
                self.ears.gate.replied(heard.utterance.emitted_ms)
        if heard_any:
            give_back()  # what recognition held for a moment; the commands are handed on already


class VoiceFrontDoor:
    """The microphone and the speaker of one service: loads the voice models at once (failing fast and
    clearly when one is missing), starts listening when given somewhere to ``submit`` commands."""

    def __init__(self, config: Config) -> None:
        from .asr import load_recognizer
        from .audio import check_microphone_support

        check_microphone_support()
        recognizer = load_recognizer(config.asr, Registry.from_config(config), config.wake.spoken)
        self.recognizer = recognizer
        self.speaker: SpeakerThread | None = None
        if config.tts.engine != "none" and config.tts.speak_replies:
            try:
                self.speaker = SpeakerThread(config)
            except AssistantError as exc:
                log.warning("spoken replies off: %s", exc)
        audio = config.audio
        self._submit: Callable[[SpokenCommand], None] = lambda event: None
        speaker = self.speaker
        self.loop = MicrophoneLoop(
            config, recognizer, SileroVad(), lambda event: self._submit(event),
            lambda: Microphone(audio.input, audio.rate_hz, audio.channels, audio.queue_ms),
            interrupt=speaker.stop if speaker else None,
            speaking=speaker.speaking.is_set if speaker else (lambda: False),
        )  # fmt: skip
        give_back()  # what loading and warming the models held for a moment

    def start(self, submit: Callable[[SpokenCommand], None], judge: Callable[[str], bool] | None = None) -> None:
        """``judge``: whether a command heard at a pause is whole, to act on at once (``pipeline.EarlyJudge``
        over the service's understander and registry); None waits for the end of every utterance."""
        self._submit = submit
        self.loop.ears.judge = judge
        self.loop.start()

    def speak(self, text: str) -> None:
        if self.speaker is not None:
            self.speaker.speak(text)

    def listen(self) -> None:
        self.loop.listen()

    def registry_changed(self, registry: Registry) -> None:
        """Devices came or went (discovery, a reload): recognition learns the new names."""
        self.recognizer.use_registry(registry)

    def stop(self) -> None:
        self.loop.stop()
