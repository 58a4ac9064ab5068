"""`assistant run` with a microphone: the voice thread beside the MQTT loop, and a speaker for replies.

The microphone thread (``MicrophoneLoop``) hands spoken commands to the daemon's bounded event queue,
so they are understood and acted on by the main thread exactly like MQTT commands. Replies and ``say``
texts go to a speaker thread through a bounded queue (the oldest waiting text is dropped).
"""

from __future__ import annotations

import logging
import queue
import threading

from .audio import Microphone
from .config import Config
from .daemon import Daemon
from .devices import Registry
from .errors import AssistantError
from .queues import put_drop_oldest
from .voice import MicrophoneLoop

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


def attach_voice(daemon: Daemon, config: Config) -> MicrophoneLoop:
    """Load the voice models (fails fast when one is missing), start the microphone and speaker threads."""
    from .asr import load_recognizer
    from .audio import check_microphone_support
    from .vad import SileroVad

    check_microphone_support()
    wake = config.wake.spoken
    recognizer = load_recognizer(config.asr, Registry.from_config(config), wake)
    audio = config.audio
    speaker: SpeakerThread | None = None
    if config.tts.engine != "none" and config.tts.speak_replies:
        try:
            speaker = SpeakerThread(config)
            daemon.speak = speaker.speak
        except AssistantError as exc:
            log.warning("spoken replies off: %s", exc)
    loop = MicrophoneLoop(
        config, recognizer, SileroVad(), lambda text: daemon._enqueue("message", "voice", text),
        lambda: Microphone(audio.input, audio.rate_hz, audio.channels, audio.queue_ms),
        interrupt=speaker.stop if speaker else None,
        speaking=speaker.speaking.is_set if speaker else (lambda: False),
    )  # fmt: skip
    daemon.listen = loop.listen
    loop.start()
    return loop
