"""Satellites: one brain, many rooms.

How they connect (read from wyoming-satellite 1.0.0): the satellite program is a Wyoming *server*
(``--uri tcp://0.0.0.0:10700``); Home Assistant connects to it, sends ``run-satellite``, and the
satellite answers with ``run-pipeline`` (start stage ``asr`` when it woke locally, ``wake`` when the
brain is to listen for the wake word) and then streams ``audio-chunk``s (``audio-stop`` when its own VAD
timed out). The brain sends back ``transcript``, ``synthesize`` and the reply's audio
(``audio-start/chunk/stop``), which the satellite plays. So this service does what Home Assistant
does: for each ``wyoming.satellites`` entry with a ``uri`` it connects out to that satellite
(``SatelliteLink``), and ``wyoming.allow`` keeps guarding the server's own port. An entry without a
``uri`` is a satellite Home Assistant serves: only its room is used, for transcripts that name it.

Each satellite's audio goes through Ears of its own (endpointing, recognition, the wake gate) and its
commands to the service with ``source`` = its id and ``area`` = its room, so "turn on the lights" means
that room's lights, and follow-ups and confirmations stay in its own conversation; the reply goes back
to it alone. A timer it set is announced back to it alone when it finishes (``timer-finished``, then
the spoken "... timer is done"; ``WyomingService.timer_finished``, wired to the service's
``Daemon.announcers``). A satellite that drops loses only its own utterance; the link reconnects with
back-off. Its timers are shown on it as wyoming-satellite expects them from Home Assistant: a command
that starts, pauses, resumes, lengthens, shortens or cancels one sends ``timer-started``,
``timer-updated`` or ``timer-cancelled`` (``timer_event``) before the reply
(``WyomingService.timer_changed``, wired to ``Daemon.timer_watchers``).

Threads: each link is a pair of tasks on the Wyoming server's loop (reading, and feeding a bounded
queue of audio whose oldest chunks are dropped and counted); VAD and recognition run on the server's
speech worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import numpy as np
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.timer import TimerCancelled, TimerStarted, TimerUpdated
from wyoming.timer import TimerFinished as WyomingTimerFinished
from wyoming.tts import Synthesize

from ..config import Satellite
from ..core import messages
from ..core.events import TimerChanged, TimerFinished
from ..voice.audio import RATE_HZ
from ..voice.pipeline import Ears, Heard
from . import speech

if TYPE_CHECKING:
    from .server import WyomingService

log = logging.getLogger(__name__)

QUEUE_CHUNKS = 300
"""Audio chunks waiting to be heard per satellite (about 10 s at wyoming-satellite's 1024 samples);
the oldest are dropped beyond this."""

RECONNECT_MAX_S = 30.0

EarsFactory = Callable[[bool], Ears]
"""Fresh Ears for one pipeline run; the argument is True when the satellite woke itself (no wake gate)."""


def tcp_address(uri: str) -> tuple[str, int] | None:
    """``tcp://host:port`` -> (host, port); None when either is missing."""
    parsed = urlparse(uri)
    return None if parsed.hostname is None or parsed.port is None else (parsed.hostname, parsed.port)


def timer_event(change: TimerChanged) -> Event:
    """Wyoming's event for a timer change: ``timer-started`` (its length split into the hours, minutes and
    seconds it was set for), ``timer-updated`` (running or paused, seconds left) or ``timer-cancelled``."""
    timer_id = str(change.timer_id)
    if change.change == "started":
        hours, rest = divmod(round(change.duration_s), 3600)
        minutes, seconds = divmod(rest, 60)
        return TimerStarted(timer_id, round(change.duration_s), change.name, hours or None, minutes or None,
                            seconds or None).event()  # fmt: skip
    if change.change == "updated":
        return TimerUpdated(timer_id, change.active, round(change.remaining_s)).event()
    return TimerCancelled(timer_id).event()


@dataclass(frozen=True)
class PipelineStarted:
    """The satellite's ``run-pipeline``: fresh Ears for what follows."""

    woken: bool


@dataclass(frozen=True)
class AudioEnded:
    """The satellite's ``audio-stop``: what was said so far is final."""


FromSatellite = PipelineStarted | AudioChunk | AudioEnded


class SatelliteLink:
    """The connection to one satellite, kept up until cancelled."""

    def __init__(self, satellite: Satellite, service: WyomingService, make_ears: EarsFactory) -> None:
        if satellite.uri is None:
            raise ValueError(f"satellite {satellite.id!r} has no uri")
        address = tcp_address(satellite.uri)
        if address is None:
            raise ValueError(f"satellite {satellite.id!r}: expected tcp://host:port")
        self.host, self.port = address
        self.satellite = satellite
        self.service = service
        self.make_ears = make_ears
        self.dropped = 0
        """Audio chunks dropped because recognition fell behind."""
        self.connected = asyncio.Event()
        self.commands = 0
        self.client: AsyncTcpClient | None = None
        """The connection while there is one: timers finishing are announced on it."""
        self.speaking = asyncio.Lock()
        """Held while a reply's or an announcement's audio goes out, so two never interleave."""
        self.announced = 0

    async def run(self) -> None:
        backoff = 1.0
        while True:
            try:
                async with AsyncTcpClient(self.host, self.port, connect_timeout=5) as client:
                    backoff = 1.0
                    log.info("satellite %s: connected to %s:%d", self.satellite.id, self.host, self.port)
                    await client.write_event(RunSatellite().event())
                    self.client = client
                    self.connected.set()
                    await self._serve(client)
                log.info("satellite %s: disconnected", self.satellite.id)
            except (OSError, TimeoutError) as exc:
                log.info("satellite %s: %s; retrying in %.0f s", self.satellite.id, exc, backoff)
            finally:
                self.client = None
                self.connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX_S)

    async def _serve(self, client: AsyncTcpClient) -> None:
        """Read the satellite's events until it goes; hearing runs beside, so reading never waits on it."""
        queue: asyncio.Queue[FromSatellite] = asyncio.Queue(maxsize=QUEUE_CHUNKS)
        hearing = asyncio.create_task(self._hear(client, queue), name=f"satellite {self.satellite.id}")
        try:
            while not hearing.done():
                event = await client.read_event()
                if event is None:
                    break
                if RunPipeline.is_type(event.type):
                    start = RunPipeline.from_event(event).start_stage
                    self._put(queue, PipelineStarted(woken=start != PipelineStage.WAKE))
                elif AudioChunk.is_type(event.type):
                    self._put(queue, AudioChunk.from_event(event))
                elif AudioStop.is_type(event.type):
                    self._put(queue, AudioEnded())
        finally:
            hearing.cancel()
            try:
                await hearing
            except asyncio.CancelledError:
                pass
        if hearing.done() and not hearing.cancelled() and hearing.exception() is not None:
            raise OSError(f"hearing failed: {hearing.exception()}")

    def _put(self, queue: asyncio.Queue[FromSatellite], item: FromSatellite) -> None:
        while queue.full():
            queue.get_nowait()
            self.dropped += 1
        queue.put_nowait(item)

    async def _hear(self, client: AsyncTcpClient, queue: asyncio.Queue[FromSatellite]) -> None:
        ears: Ears | None = None
        converter = AudioChunkConverter(rate=RATE_HZ, width=2, channels=1)
        now_ms = 0.0
        while True:
            item = await queue.get()
            if isinstance(item, PipelineStarted):
                ears, now_ms = await self.service.in_worker(lambda: self.make_ears(item.woken)), 0.0
                continue
            if ears is None:  # audio before any run-pipeline
                continue
            current = ears
            if isinstance(item, AudioEnded):
                heard = await self.service.in_worker(current.finish)
            else:
                samples = np.frombuffer(converter.convert(item).audio, "<i2")
                chunk = messages.AudioChunk(samples, RATE_HZ, now_ms)
                now_ms += chunk.duration_ms
                heard = await self.service.in_worker(lambda: current.feed(chunk))
            for one in heard:
                if one.decision.command:
                    await self._answer(client, current, one)

    async def _answer(self, client: AsyncTcpClient, ears: Ears, heard: Heard) -> None:
        text = heard.decision.command or ""
        await client.write_event(Transcript(text=text).event())
        answered = await self.service.command(text, self.satellite.id, self.satellite.area, act=True)
        self.commands += 1
        reply = answered[1].text if answered else ""
        log.info("satellite %s (%s): %r -> %r", self.satellite.id, self.satellite.area, text[:120], reply[:120])
        ears.gate.replied(heard.utterance.emitted_ms)
        if reply:
            await self._say(client, reply)

    async def announce(self, finished: TimerFinished, text: str) -> None:
        """A timer this satellite set has finished: Wyoming's ``timer-finished`` (wyoming-satellite plays
        its timer sound), then ``text`` spoken. Lost, and logged, when the satellite is not connected."""
        client = self.client
        if client is None:
            log.warning("satellite %s: not connected; %r not announced", self.satellite.id, text)
            return
        await client.write_event(WyomingTimerFinished(id=str(finished.timer_id)).event())
        await self._say(client, text)
        self.announced += 1
        log.info("satellite %s (%s): %r", self.satellite.id, self.satellite.area, text)

    async def timer_changed(self, change: TimerChanged) -> None:
        """A timer this satellite set was started, changed or cancelled: ``timer_event``. Lost, and logged,
        when the satellite is not connected."""
        client = self.client
        if client is None:
            log.warning("satellite %s: not connected; timer %d %s not shown", self.satellite.id, change.timer_id,
                        change.change)  # fmt: skip
            return
        await client.write_event(timer_event(change))

    async def _say(self, client: AsyncTcpClient, text: str) -> None:
        """``synthesize``, and the voice's audio when one is loaded (the satellite plays it)."""
        speaker = self.service.speaker
        async with self.speaking:
            await client.write_event(Synthesize(text=text).event())
            if speaker is not None:
                for event in await self.service.in_worker(lambda: speech.synthesize(speaker, text)):
                    await client.write_event(event)
