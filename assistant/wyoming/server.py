"""The Wyoming server of `assistant run`: Home Assistant's voice protocol on ``wyoming.uri``.

One server offers every program: ``describe`` -> ``info``; ``transcript`` (or ``recognize``) -> the
service's answer (``handled``/``not-handled``, or ``intent``/``not-recognized`` in intent mode, and
``intents-start``, an ``intent`` per command, ``intents-stop`` for several commands in one sentence);
``transcribe`` + ``audio-start/chunk/stop`` -> ``transcript`` (when a recogniser is loaded; started at
a pause in the speech, before ``audio-stop``, when ``audio`` settings are given: ``speech.Pauses``);
``synthesize`` -> ``audio-start/chunk/stop`` (when a voice is loaded); ``ping`` -> ``pong``. It is the
``wyoming`` library's own ``AsyncTcpServer`` and ``AsyncEventHandler``; this module only decides what
each event means.

Threads: the server runs on a thread of its own ("wyoming") with its own asyncio loop; each connection is
a task on it, so a slow peer only ever waits for itself. Commands are handed to the service's bus as
``AskedCommand`` events and answered from its main thread through ``loop.call_soon_threadsafe``. Speech
work (Whisper, Piper) runs on one worker thread ("wyoming-speech"), never on the loop.

Satellites with a ``uri`` are connected to from here, as Home Assistant would (``satellite``). The server
is advertised over zeroconf when ``wyoming.zeroconf`` says so (``discovery``).

Security: Wyoming has no authentication. The server binds where ``wyoming.uri`` says (loopback in the
example); a peer not in ``wyoming.allow`` (when set) and any connection past ``max_connections`` is
closed as soon as it is accepted; one transcription takes at most ``max_audio_s`` of audio; a connection
silent for ``idle_timeout_s`` is closed. Known limit: the library reads each event's declared data and
payload whole, so a peer that may connect can still make the server buffer one large message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_read_event
from wyoming.handle import NotHandled
from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    Describe,
    HandleModel,
    HandleProgram,
    Info,
    IntentModel,
    IntentProgram,
    TtsProgram,
    TtsVoice,
)
from wyoming.intent import NotRecognized, Recognize
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler, AsyncTcpServer
from wyoming.tts import Synthesize

from .. import __version__
from ..config import Audio, Wyoming
from ..core.events import MAX_SAY_CHARS, AskedCommand, InEvent, Reply, TimerChanged, TimerFinished
from ..core.messages import Parse
from ..devices import Registry
from ..errors import AssistantError, ModelError
from ..paths import install_hint
from ..voice.asr import Recognizer
from ..voice.audio import RATE_HZ
from ..voice.memory import give_back
from ..voice.tts import Speaker
from . import speech
from .discovery import Advertisement, default_name, wanted
from .intent import MAX_TEXT_CHARS, answer_events, asker
from .satellite import EarsFactory, SatelliteLink, tcp_address

log = logging.getLogger(__name__)

ATTRIBUTION = Attribution(name="assistant", url="https://example.invalid/assistant")
"""Who made the programs ``info`` advertises."""


class WyomingError(AssistantError):
    """The Wyoming server cannot start (a bad uri, the port is taken)."""


def peer_address(writer: asyncio.StreamWriter) -> str:
    """The peer's IP as text; an IPv4-mapped IPv6 address as plain IPv4."""
    peer = writer.get_extra_info("peername")
    if not peer:
        return ""
    address = ipaddress.ip_address(peer[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def describe(settings: Wyoming, language: str, recognizer: Recognizer | None, voice: str | None) -> Info:
    """What ``describe`` answers: the conversation programs always, speech to text and text to speech when
    their models are loaded."""
    home_control = settings.mode == "handle"
    what = "acts on the home over MQTT" if home_control else "answers Home Assistant's intents"
    common: dict[str, Any] = {"attribution": ATTRIBUTION, "installed": True, "version": __version__}
    info = Info(
        handle=[HandleProgram(name="assistant", description=f"Offline assistant ({what})", models=[
            HandleModel(name="assistant-nlu", description="ONNX intent model", languages=[language], **common)],
            supports_home_control=home_control, **common)],
        intent=[IntentProgram(name="assistant", description=f"Offline assistant ({what})", models=[
            IntentModel(name="assistant-nlu", description="ONNX intent model", languages=[language], **common)],
            **common)],
    )  # fmt: skip
    if recognizer is not None:
        info.asr = [AsrProgram(name="assistant-asr", description=f"Speech to text ({recognizer.engine})", models=[
            AsrModel(name=recognizer.engine, description=recognizer.engine, languages=[language], **common)],
            **common)]  # fmt: skip
    if voice is not None:
        info.tts = [TtsProgram(name="assistant-tts", description="Piper text to speech", voices=[
            TtsVoice(name=voice, description=voice, languages=[language], **common)], **common)]  # fmt: skip
    return info


class Refused(AsyncEventHandler):
    """A connection closed as soon as it is accepted (not allowed, or one too many)."""

    async def handle_event(self, event: Event) -> bool:
        return False

    async def run(self) -> None:
        self.writer.close()


class Connection(AsyncEventHandler):
    """One peer (Home Assistant, a test client): events in order; each answered before the next is read."""

    def __init__(self, service: WyomingService, peer: str, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:  # fmt: skip
        super().__init__(reader, writer)
        self.service = service
        self.peer = peer
        self.transcribe: Transcribe | None = None
        self.audio: speech.AudioBuffer | None = None
        self.pauses: speech.Pauses | None = None
        self.guess: asyncio.Future[str] | None = None
        """Recognition of the audio up to a pause, started before ``audio-stop`` (``speech.Pauses``)."""
        self.audio_started = 0.0
        """``time.monotonic()`` at ``audio-start``: audio coming faster than spoken is not watched for pauses."""

    async def run(self) -> None:
        """As the library's loop, with the idle timeout, and the connection counted until it ends."""
        try:
            while True:
                try:
                    event = await asyncio.wait_for(async_read_event(self.reader), self.service.settings.idle_timeout_s)
                except TimeoutError:
                    log.info("wyoming: %s idle for %.0f s, closed", self.peer, self.service.settings.idle_timeout_s)
                    break
                if event is None or not await self.handle_event(event):
                    break
        finally:
            self.service.open_connections -= 1
            self.writer.close()

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.service.info.event())
        elif Transcript.is_type(event.type) or Recognize.is_type(event.type):
            text, context = event.data.get("text"), event.data.get("context")
            for answer in await self.service.ask(text if isinstance(text, str) else "", context, self.peer):
                await self.write_event(answer)
        elif Transcribe.is_type(event.type):
            self.transcribe = Transcribe.from_event(event)
        elif AudioStart.is_type(event.type):
            return await self._audio_start(AudioStart.from_event(event))
        elif AudioChunk.is_type(event.type):
            return await self._audio_chunk(AudioChunk.from_event(event))
        elif AudioStop.is_type(event.type):
            await self._audio_stop()
        elif Synthesize.is_type(event.type):
            await self._synthesize(Synthesize.from_event(event))
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=Ping.from_event(event).text).event())
        else:
            log.debug("wyoming: %s sent %s, not handled here", self.peer, event.type)
        return True

    async def _audio_start(self, start: AudioStart) -> bool:
        if self.service.recognizer is None:
            await self.write_event(Error("no speech recogniser is loaded", "asr-unavailable").event())
            return True
        try:
            self.audio = speech.AudioBuffer(start.rate, start.width, start.channels, self.service.settings.max_audio_s)
        except ValueError as exc:
            await self.write_event(Error(str(exc), "audio-format").event())
            return False
        settings, self.guess, self.pauses, self.audio_started = self.service.audio, None, None, time.monotonic()
        if settings is not None and settings.speculate_ms > 0 and (start.rate, start.width, start.channels) == (RATE_HZ, 2, 1):
            try:
                self.pauses = await self.service.in_worker(lambda: speech.Pauses(settings))
            except ModelError as exc:  # no Silero VAD (faster-whisper missing): recognised at audio-stop
                log.debug("wyoming: no recognition before audio-stop: %s", exc)
        return True

    async def _audio_chunk(self, chunk: AudioChunk) -> bool:
        if self.audio is None:
            return True
        try:
            self.audio.add(chunk.audio)
        except speech.AudioTooLong:
            log.warning("wyoming: %s sent more than %.0f s of audio; closed", self.peer, self.service.settings.max_audio_s)
            await self.write_event(Error(f"more than {self.service.settings.max_audio_s:g} s of audio",
                                         "audio-too-long").event())  # fmt: skip
            return False
        pauses, recognizer = self.pauses, self.service.recognizer
        if pauses is not None and self.audio.seconds - (time.monotonic() - self.audio_started) > speech.AHEAD_S:
            self.pauses = pauses = self.guess = None  # faster than spoken: recognised as a whole at audio-stop
        if pauses is not None and recognizer is not None:
            samples = np.frombuffer(chunk.audio[: len(chunk.audio) // 2 * 2], "<i2")
            if await self.service.in_worker(lambda: pauses.feed(samples)):
                so_far = self.audio.samples()
                self.service.guesses_dropped += self.guess is not None  # speech went on after the last pause
                self.guess = asyncio.ensure_future(self.service.in_worker(lambda: speech.transcribe(recognizer, so_far)))
        return True

    async def _audio_stop(self) -> None:
        audio, self.audio = self.audio, None
        guess, self.guess = self.guess, None
        pauses, self.pauses = self.pauses, None
        if audio is None or self.service.recognizer is None:
            return
        if guess is not None and pauses is not None and not pauses.spoke_after_pause:
            text = await guess  # recognised at the pause, while the end of speech was still being waited for
            self.service.guesses_kept += 1
        else:
            self.service.guesses_dropped += guess is not None
            text = await self.service.in_worker(lambda: speech.transcribe(self.service.recognizer, audio.samples()))  # type: ignore[arg-type]
        language = self.transcribe.language if self.transcribe else None
        self.transcribe = None
        log.info("wyoming: %s: heard %r", self.peer, text)
        await self.write_event(Transcript(text=text, language=language or self.service.language).event())
        await self.service.in_worker(give_back)  # what recognition held for a moment, once the answer is sent

    async def _synthesize(self, request: Synthesize) -> None:
        speaker = self.service.speaker
        if speaker is None:
            await self.write_event(Error("no voice is loaded", "tts-unavailable").event())
            return
        text = request.text[:MAX_SAY_CHARS]
        for event in await self.service.in_worker(lambda: speech.synthesize(speaker, text)):
            await self.write_event(event)
        await self.service.in_worker(give_back)


def _log_failure(future: concurrent.futures.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("wyoming: telling a satellite of its timer failed: %s", future.exception())


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # not already given up on (timed out, connection closed)
        future.set_result(result)


class WyomingService:
    """The server thread. ``start()`` returns once it listens (WyomingError if it cannot); ``stop()`` closes it.

    ``submit`` hands an event to the service's bus (``Daemon.submit``); ``registry`` gives the service's
    current device registry (read for Home Assistant's slot names)."""

    def __init__(self, settings: Wyoming, submit: Callable[[InEvent], None], registry: Callable[[], Registry],
                 recognizer: Recognizer | None = None, speaker: Speaker | None = None, language: str = "en",
                 voice: str | None = None, make_ears: EarsFactory | None = None,
                 audio: Audio | None = None) -> None:  # fmt: skip
        """``make_ears``: fresh Ears for a satellite's pipeline run (``satellite.EarsFactory``); needed when
        a satellite has a ``uri``. ``audio``: the VAD settings under which recognition of Home Assistant's
        audio starts at a pause, before ``audio-stop`` (``speech.Pauses``); None: only at ``audio-stop``."""
        if settings.uri is None:
            raise WyomingError("wyoming.uri is not set")
        address = tcp_address(settings.uri)
        if address is None:
            raise WyomingError(f"wyoming.uri {settings.uri!r}: expected tcp://host:port")
        self.host, self.port = address
        self.settings = settings
        self.submit = submit
        self.registry = registry
        self.recognizer = recognizer
        self.speaker = speaker
        self.audio = audio
        self.guesses_kept = 0
        """Transcripts recognised at a pause and given at ``audio-stop``."""
        self.guesses_dropped = 0
        """Recognitions started at a pause that speech went on after (the whole audio recognised instead)."""
        self.language = language
        self.info = describe(settings, language, recognizer, voice if speaker is not None else None)
        self.allow = {ipaddress.ip_address(a) for a in settings.allow}
        self.open_connections = 0
        self.refused = 0
        self.worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="wyoming-speech")
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="wyoming", daemon=True)
        dialled = [s for s in settings.satellites if s.uri is not None]
        if dialled and make_ears is None:
            raise WyomingError(f"satellites with a uri need speech recognition: {install_hint('voice')}")
        self.links = [SatelliteLink(s, self, make_ears) for s in dialled] if make_ears is not None else []
        self.advertisement = self._advertisement(settings)
        """The zeroconf advertisement when there is to be one (``discovery``)."""
        self.advertised = threading.Event()
        """Set once the advertisement is registered."""

    def _advertisement(self, settings: Wyoming) -> Advertisement | None:
        try:
            if not wanted(settings.zeroconf, self.host):
                return None
            if importlib.util.find_spec("zeroconf") is None:
                if settings.zeroconf:
                    raise WyomingError(f"wyoming.zeroconf is on but zeroconf is missing: {install_hint('wyoming')}")
                log.warning("wyoming: %s is reachable from the network but zeroconf is missing, so Home Assistant "
                            "will not discover it (%s; or set wyoming.zeroconf: false)", settings.uri,
                            install_hint("wyoming"))  # fmt: skip
                return None
            return Advertisement(settings.zeroconf_name or default_name(), self.host, self.port)
        except OSError as exc:
            raise WyomingError(f"wyoming.zeroconf: no address to advertise for {self.host}: {exc}") from None

    # -- the thread --------------------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> None:
        self.thread.start()
        if not self._started.wait(timeout_s):
            raise WyomingError(f"the Wyoming server did not start on {self.settings.uri}")
        if self._error is not None:
            raise WyomingError(f"cannot listen on {self.settings.uri}: {self._error}") from None
        log.info("wyoming: listening on %s (%s mode)", self.settings.uri, self.settings.mode)

    def stop(self, timeout_s: float = 5.0) -> None:
        loop, stopping = self.loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stopping.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
        self.thread.join(timeout_s)
        self.worker.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception:  # a failure after start: logged; the service goes on without Wyoming
            log.exception("wyoming: the server stopped")
        finally:
            self._started.set()

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = AsyncTcpServer(self.host, self.port)
        try:
            await server.start(self._connection)
        except OSError as exc:
            self._error = exc
            return
        finally:
            self._started.set()
        links = [asyncio.create_task(link.run(), name=f"satellite {link.satellite.id}") for link in self.links]
        try:
            await self._advertise()
            await self._stopping.wait()
        finally:
            for task in links:
                task.cancel()
            await asyncio.gather(*links, return_exceptions=True)
            if self.advertisement is not None and self.advertised.is_set():
                await self.advertisement.stop()
            await server.stop()

    async def _advertise(self) -> None:
        """Registers the zeroconf advertisement, if any; a failure is logged (Home Assistant can still be
        given the address by hand) and the server goes on."""
        if self.advertisement is None:
            return
        try:
            await self.advertisement.start()
        except Exception as exc:  # OSError, zeroconf's NonUniqueNameException, ...
            log.warning("wyoming: not advertised over zeroconf: %s", exc)
            return
        self.advertised.set()

    # -- connections -------------------------------------------------------------------------------

    def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> AsyncEventHandler:
        """The library's handler factory: a ``Connection``, or ``Refused`` for a peer not allowed or one
        too many."""
        peer = peer_address(writer)
        if self.allow and (not peer or ipaddress.ip_address(peer) not in self.allow):
            self.refused += 1
            log.warning("wyoming: refused %s: not in wyoming.allow", peer or "an unknown peer")
            return Refused(reader, writer)
        if self.open_connections >= self.settings.max_connections:
            self.refused += 1
            log.warning("wyoming: refused %s: %d connections open (wyoming.max_connections)", peer,
                        self.open_connections)  # fmt: skip
            return Refused(reader, writer)
        self.open_connections += 1
        return Connection(self, peer, reader, writer)

    def timer_finished(self, finished: TimerFinished, text: str) -> None:
        """A timer finished (``Daemon.announcers``, its main thread): when a satellite connected to from
        here set it, that satellite is told (``timer-finished``) and hears ``text``; else nothing."""
        link = self._link(finished.source)
        if link is not None:
            self._on_loop(link.announce(finished, text))

    def timer_changed(self, change: TimerChanged) -> None:
        """A command started, changed or cancelled a timer (``Daemon.timer_watchers``, its main thread): when
        a satellite connected to from here set it, that satellite is told; else nothing."""
        link = self._link(change.source)
        if link is not None:
            self._on_loop(link.timer_changed(change))

    def _link(self, source: str) -> SatelliteLink | None:
        return next((link for link in self.links if link.satellite.id == source), None)

    def _on_loop(self, work: Coroutine[Any, Any, None]) -> None:
        """``work`` run on the server's loop, from another thread; a failure is logged."""
        loop = self.loop
        if loop is None or loop.is_closed():
            work.close()
            return
        try:
            future = asyncio.run_coroutine_threadsafe(work, loop)
        except RuntimeError:  # the server stopped meanwhile
            work.close()
            return
        future.add_done_callback(_log_failure)

    async def in_worker(self, work: Callable[[], Any]) -> Any:
        """``work()`` on the speech worker thread, awaited without blocking the loop."""
        return await asyncio.get_running_loop().run_in_executor(self.worker, work)

    async def ask(self, text: str, context: Any, peer: str) -> list[Event]:
        """A ``transcript`` from Home Assistant: the events that answer it, in this server's mode (several
        for several commands in intent mode: ``intent.answer_events``)."""
        text = text.strip()[:MAX_TEXT_CHARS]
        mode = self.settings.mode
        source, area = asker(context, self.settings.satellites, peer)
        answered = await self.command(text, source, area, act=mode == "handle") if text else None
        if answered is None:
            return [NotRecognized().event() if mode == "intent" else NotHandled().event()]
        events = answer_events(*answered, mode, self.registry())
        log.info("wyoming: %s (%s): %r -> %s", source, peer, text[:120], ", ".join(e.type for e in events))
        return events

    async def command(self, text: str, source: str, area: str | None, act: bool) -> tuple[Parse | None, Reply] | None:
        """Hand a command to the service and wait (at most ``answer_timeout_s``) for what it made of it;
        None when no answer came in time."""
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[tuple[Parse | None, Reply]] = loop.create_future()

        def answer(parse: Parse | None, reply: Reply) -> None:  # the service's main thread
            try:
                loop.call_soon_threadsafe(_settle, answered, (parse, reply))
            except RuntimeError:  # the server stopped meanwhile
                pass

        self.submit(AskedCommand(text, source, area, answer, act=act))
        try:
            return await asyncio.wait_for(answered, self.settings.answer_timeout_s)
        except TimeoutError:
            log.warning("wyoming: no answer to %r within %.0f s", text[:60], self.settings.answer_timeout_s)
            return None
