"""`assistant bench --satellites N`: N satellites, each in a room of its own, speaking at the same moment
to one brain.

The brain is the service as systemd runs it (`assistant run` as a subprocess, on a mosquitto started for
the benchmark, ``wyoming.satellites`` listing the N satellites with their ``uri`` and room). The
satellites are simulated in this process with the ``wyoming`` library's own server classes, as
wyoming-satellite is a Wyoming server that the brain (like Home Assistant) connects to: on
``run-satellite`` each one waits; at the start of a round every satellite sends ``run-pipeline`` (start
stage asr: it woke itself) and streams the same Piper-spoken command ("Switch on the lights." /
"Switch off the lights.", alternately) in 1024-sample chunks at real-time pace, then silence until the
brain's ``transcript`` comes (as wyoming-satellite stops streaming then) or 3 s have passed.

Latency is end of speech -> the first device message of that satellite's room on the broker (a separate
MQTT client, as zigbee2mqtt would be); end of speech is the last sample of the spoken command louder than
-36 dBFS, timed on the clock that paced the audio. Rounds of one satellite alone are measured beside the
rounds of all N, so the cost of sharing the brain shows. The brain's CPU time (user + system, from
/proc, every thread) and peak resident memory (VmHWM) are read from the subprocess. Figures are printed,
never asserted.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import AssistantError
from .bench import Measured, bench_config, config_prefix, latency_row, own_mosquitto, proc_mb, spawn_service

AREAS = ("Living Room", "Kitchen", "Dining Room", "Bedroom", "Office", "Kids Room", "Hallway", "Guest Bedroom")
"""Rooms the satellites are put in, in order (each one's lights are zigbee2mqtt lights in the example config)."""

SENTENCES = (("Switch on the lights.", "ON"), ("Switch off the lights.", "OFF"))
CHUNK_SAMPLES = 1024
"""Samples per ``audio-chunk``, as wyoming-satellite sends them."""
RATE_HZ = 16000
TAIL_S = 3.0
"""Silence streamed after the command at most (the brain's endpointer needs some of it)."""
LOUD = 500
"""-36 dBFS: a sample louder than this is speech (end of speech = the last one)."""
ROUND_TIMEOUT_S = 60.0


@dataclass
class Spoken:
    """One command as 16 kHz mono int16 audio with silence around it; ``speech_end_s`` into ``samples``."""

    samples: Any
    speech_end_s: float
    state: str


@dataclass
class SimulatedSatellite:
    """One room's satellite: a Wyoming server the brain connects to; it speaks when told."""

    id: str
    area: str
    port: int
    server: Any = None
    handler: Any = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    transcript: asyncio.Event = field(default_factory=asyncio.Event)
    replied: asyncio.Event = field(default_factory=asyncio.Event)
    heard: list[str] = field(default_factory=list)

    def make_handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
        from wyoming.asr import Transcript
        from wyoming.audio import AudioStop
        from wyoming.event import Event
        from wyoming.satellite import RunSatellite
        from wyoming.server import AsyncEventHandler

        satellite = self

        class Handler(AsyncEventHandler):
            async def handle_event(self, event: Event) -> bool:
                if RunSatellite.is_type(event.type):
                    satellite.handler = self
                    satellite.connected.set()
                elif Transcript.is_type(event.type):
                    satellite.heard.append(Transcript.from_event(event).text)
                    satellite.transcript.set()
                elif AudioStop.is_type(event.type):  # the reply has been played
                    satellite.replied.set()
                return True

        return Handler(reader, writer)

    async def speak(self, spoken: Spoken, t0: float) -> None:
        """``run-pipeline``, then the audio at real-time pace from ``t0`` (``time.perf_counter``)."""
        from wyoming.audio import AudioChunk
        from wyoming.pipeline import PipelineStage, RunPipeline

        self.transcript.clear()
        self.replied.clear()
        handler = self.handler
        if handler is None:
            raise AssistantError(f"bench --satellites: {self.id} is not connected")
        await handler.write_event(RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS).event())
        samples = spoken.samples
        for start in range(0, len(samples), CHUNK_SAMPLES):
            if self.transcript.is_set() and start / RATE_HZ > spoken.speech_end_s:
                break  # the brain has heard it: wyoming-satellite stops streaming
            due = t0 + (start + CHUNK_SAMPLES) / RATE_HZ  # a chunk goes out once it has been "recorded"
            if (pause := due - time.perf_counter()) > 0:
                await asyncio.sleep(pause)
            chunk = samples[start : start + CHUNK_SAMPLES].astype("<i2").tobytes()
            await handler.write_event(AudioChunk(rate=RATE_HZ, width=2, channels=1, audio=chunk).event())


def spoken_commands(config: Config) -> list[Spoken]:
    """The commands spoken by the configured Piper voice, 16 kHz, 0.3 s of silence before and ``TAIL_S`` after."""
    import numpy as np

    from ..voice.audio import to_mono_16k
    from ..voice.tts import Speaker

    speaker = Speaker(config.tts.model_copy(update={"engine": "piper"}))
    out = []
    for text, state in SENTENCES:
        audio, rate = speaker.synthesize(text)
        speech = to_mono_16k(audio, rate)
        loud = np.flatnonzero(np.abs(speech.astype(np.int32)) > LOUD)
        lead = np.zeros(int(0.3 * RATE_HZ), np.int16)
        tail = np.zeros(int(TAIL_S * RATE_HZ), np.int16)
        out.append(Spoken(np.concatenate([lead, speech, tail]), (len(lead) + loud[-1] + 1) / RATE_HZ, state))
    return out


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process, all its threads (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Round:
    """One round's figures."""

    latency_ms: list[float]
    missed: list[str]
    """Satellites whose room saw no right device message in time."""
    cpu_s: float
    wall_s: float


class Devices:
    """The device side of the broker: when each light topic's message arrived, and what it said."""

    def __init__(self, port: int, topics: dict[str, str], status_topic: str) -> None:
        import json

        import paho.mqtt.client as paho

        from ..mqtt import new_client

        self.topics = topics
        """topic -> area"""
        self.arrivals: list[tuple[str, str, float]] = []
        """(area, state, perf_counter)"""
        self.online = threading.Event()
        self.lock = threading.Lock()

        def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
            now = time.perf_counter()
            if message.topic == status_topic:
                if message.payload == b"online":
                    self.online.set()
                return
            try:
                state = str(json.loads(message.payload).get("state"))
            except (ValueError, AttributeError):
                state = "?"
            with self.lock:
                self.arrivals.append((self.topics[message.topic], state, now))

        self.client = new_client()
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([(t, 1) for t in [*topics, status_topic]])
        self.client.loop_start()

    def first(self, area: str, state: str, after: float) -> float | None:
        with self.lock:
            return next((t for a, s, t in self.arrivals if a == area and s == state and t >= after), None)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


async def one_round(satellites: list[SimulatedSatellite], spoken: Spoken, devices: Devices, pid: int) -> Round:
    """Every satellite in ``satellites`` speaks ``spoken`` at once; waits for each one's reply to be played."""
    cpu_before = cpu_s(pid)
    t0 = time.perf_counter() + 0.05
    await asyncio.gather(*(s.speak(spoken, t0) for s in satellites))
    try:
        await asyncio.wait_for(asyncio.gather(*(s.replied.wait() for s in satellites)), ROUND_TIMEOUT_S)
    except TimeoutError:
        pass  # counted below as missed
    await asyncio.sleep(0.3)  # the last device messages on their way
    wall_s = time.perf_counter() - t0
    end_of_speech = t0 + spoken.speech_end_s
    latency, missed = [], []
    for satellite in satellites:
        arrived = devices.first(satellite.area, spoken.state, t0)
        if arrived is None:
            missed.append(satellite.id)
        else:
            latency.append((arrived - end_of_speech) * 1000)
    return Round(latency, missed, cpu_s(pid) - cpu_before, wall_s)


def run_satellites_bench(config_path: Path, config: Config, model: Path, count: int, rounds: int,
                         measured: list[Measured] | None = None) -> int:  # fmt: skip
    from wyoming.server import AsyncTcpServer

    from .broker import free_port

    if not 1 <= count <= len(AREAS):
        raise AssistantError(f"bench --satellites: 1 to {len(AREAS)} satellites (one per room)")
    lights = {f"{d.topic}/set": d.area for d in config.devices
              if d.protocol == "zigbee2mqtt" and d.domain == "light" and d.area in AREAS[:count]}  # fmt: skip
    missing = set(AREAS[:count]) - set(lights.values())
    if missing:
        raise AssistantError(f"bench --satellites: no zigbee2mqtt light in {sorted(missing)} in {config_path}")
    spoken = spoken_commands(config)
    port, broker = own_mosquitto("bench --satellites")
    workdir = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    satellites = [SimulatedSatellite(f"sat-{i + 1}", area, free_port()) for i, area in enumerate(AREAS[:count])]
    wyoming = {"uri": f"tcp://127.0.0.1:{free_port()}", "max_connections": count + 2,
               "satellites": [{"id": s.id, "area": s.area, "uri": f"tcp://127.0.0.1:{s.port}"} for s in satellites]}  # fmt: skip
    data = bench_config(config_path, model, port, workdir, wyoming=wyoming, audio={"input": None})
    devices = Devices(port, lights, f"{config_prefix(data)}/status")
    log_path = workdir / "service.log"

    async def bench(pid: int) -> tuple[list[Round], list[Round], float]:
        for satellite in satellites:
            satellite.server = AsyncTcpServer("127.0.0.1", satellite.port)
            await satellite.server.start(satellite.make_handler)
        started = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in satellites)), 180)
        except TimeoutError:
            raise AssistantError("bench --satellites: the brain did not connect to every satellite in 180 s; its "
                                 "log ends:\n" + log_path.read_text(errors="replace")[-2000:]) from None  # fmt: skip
        ready_s = time.perf_counter() - started
        await one_round(satellites, spoken[1], devices, pid)  # warm-up, all at once
        alone, together = [], []
        for i in range(rounds):
            alone.append(await one_round(satellites[i % count : i % count + 1], spoken[i % 2], devices, pid))
            await asyncio.sleep(0.5)
            together.append(await one_round(satellites, spoken[(i + 1) % 2], devices, pid))
            await asyncio.sleep(0.5)
        for satellite in satellites:
            await satellite.server.stop()
        return alone, together, ready_s

    with log_path.open("wb") as log_file:
        service = spawn_service(workdir / "config.yaml", stderr=log_file)
        try:
            alone, together, ready_s = asyncio.run(bench(service.pid))
            peak_mb, resident_mb = proc_mb(service.pid), proc_mb(service.pid, "VmRSS")
        finally:
            service.terminate()
            try:
                service.wait(10)
            except Exception:
                service.kill()
            devices.close()
            broker.stop()
    single = [ms for r in alone for ms in r.latency_ms]
    shared = [ms for r in together for ms in r.latency_ms]
    missed = [m for r in together + alone for m in r.missed]
    heard = {text for s in satellites for text in s.heard}
    load = os.getloadavg()
    print(f"\n{count} satellites speaking at once to one brain (`assistant run` as a subprocess, mosquitto, "
          f"asr.engine {config.asr.engine}, {rounds} rounds of each; {os.cpu_count()} CPU cores, "
          f"load average {load[0]:.1f} at the end)")  # fmt: skip
    print(f"brain start to every satellite connected: {ready_s:.1f} s")
    print(f"{'end of speech -> device, ms':<26}{'p50':>9}{'p95':>9}{'max':>9}")
    if single:
        print(latency_row("one satellite alone", single))
    if shared:
        print(latency_row(f"{count} at once", shared))
    commands_per_round = count
    cpu_round = statistics.median(r.cpu_s for r in together)
    busy = sum(r.cpu_s for r in together) / sum(r.wall_s for r in together)
    print(f"brain CPU per round of {count} at once (user+system, every thread): p50 {cpu_round:.2f} s "
          f"({cpu_round / commands_per_round:.2f} s per command; {busy * 100:.0f}% of one core over the rounds); "
          f"one alone: p50 {statistics.median(r.cpu_s for r in alone):.2f} s")  # fmt: skip
    print(f"brain memory: peak RSS (VmHWM) {peak_mb:.0f} MB, resident at the end {resident_mb:.0f} MB")
    print(f"commands with no right device message within {ROUND_TIMEOUT_S:.0f} s: {len(missed)}"
          f"{' ' + str(sorted(set(missed))) if missed else ''}; transcripts heard: {sorted(heard)}")  # fmt: skip
    if measured is not None:
        note = (f"{count} satellites, {rounds} rounds, `assistant run` subprocess; brain CPU p50 {cpu_round:.2f} s "
                f"per round, peak RSS {peak_mb:.0f} MB")  # fmt: skip
        measured.append(Measured(f"{count} satellites at once: end of speech to device", note,
                                 {"one satellite alone": single, f"{count} at once": shared}))  # fmt: skip
    return 0
