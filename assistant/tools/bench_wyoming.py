"""`assistant bench --wyoming`: speech to text over Wyoming, ours beside wyoming-faster-whisper.

Both services are asked the same way, by the ``wyoming`` library's own client as Home Assistant asks:
``transcribe``, ``audio-start``, the audio (16 kHz mono 16-bit, as Home Assistant sends it), ``audio-stop``;
latency runs from writing ``audio-stop`` to reading the ``transcript``. The same audio (the shared recordings
of commands, commands spoken by the Piper voice, LibriVox read speech), the same Whisper tiny.en files,
the same beam size and CPU threads, in the same run, the services asked in turn, one at a time. Ours is
the server `assistant run` starts (``app.load_wyoming``), as shipped (Whisper prompted with the home's
device and area names) and once more without the names, as the peer runs; the peer is
``python -m wyoming_faster_whisper`` started as a subprocess on a free loopback port.

Accuracy: word error rate against what was said, and "right command": the transcript, given to our
understanding, gives the intent and targets the sentence should. Figures are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from .bench import proc_mb, quantiles, rss_mb
from .evaluate import SHARED_COMMANDS, SHARED_SPEECH, SYNTH_COMMANDS, word_errors

CHUNK_SAMPLES = 1024
"""Samples per ``audio-chunk``, as wyoming-satellite sends them."""

WAKE_WORDS = {"pocketsphinx": "okay rhasspy", "raven": "okay rhasspy", "porcupine": "porcupine",
              "snowboy": "snowboy", "precise": "hey mycroft"}  # fmt: skip
"""The wake phrase said before the command in each shared ``wake_*`` recording (its README)."""

LAMP = ("HassTurnOn", ["light.living_room_lamp"])


@dataclass(frozen=True)
class Clip:
    """One piece of audio: ``samples`` 16 kHz mono int16, ``said`` the words spoken, ``command`` the
    (intent, targets) it must give, or None for read speech (WER only)."""

    name: str
    samples: Any
    said: str
    command: tuple[str, list[str]] | None


@dataclass
class Tally:
    """One service's figures on one group of clips, over every run."""

    latency_ms: list[float] = field(default_factory=list)
    edits: int = 0
    words: int = 0
    right: int = 0
    asked: int = 0
    heard: dict[str, str] = field(default_factory=dict)
    wrong: dict[str, str] = field(default_factory=dict)
    """Transcripts that did not give the right command: what they gave."""


def clips() -> dict[str, list[Clip]]:
    """The benchmark's audio, by group."""
    import numpy as np

    from ..voice.audio import read_wav, to_mono_16k

    pause = np.zeros(3200, np.int16)  # 0.2 s of silence either side, as an endpointed utterance has
    commands = []
    for stem, command in SHARED_COMMANDS.items():
        wake = next((phrase for key, phrase in WAKE_WORDS.items() if stem.startswith(f"wake_{key}_")), "")
        expected = ("HassGetCurrentTime", []) if "time" in command else LAMP
        samples = read_wav(SHARED_SPEECH / "commands" / f"{stem}.wav")
        commands.append(Clip(stem, samples, f"{wake} {command}".strip(), expected))
    groups = {"shared recordings": commands}
    if importlib.util.find_spec("piper") is not None:
        from ..config import Tts
        from ..voice.tts import Speaker

        speaker = Speaker(Tts(engine="piper"))
        spoken = []
        for text, intent, targets in SYNTH_COMMANDS:
            audio, rate = speaker.synthesize(text)
            spoken.append(Clip(text, np.concatenate([pause, to_mono_16k(audio, rate), pause]), text, (intent, targets)))
        groups["piper voice"] = spoken
    librivox = SHARED_SPEECH / "librivox"
    groups["librivox (read)"] = [
        Clip(file_id, read_wav(librivox / f"{file_id}.wav"), reference, None)
        for file_id, reference in (line.split("\t") for line in (librivox / "transcripts.tsv").read_text().splitlines())
    ]  # fmt: skip
    return groups


HA_SILENCE_S = 0.7
"""Silence Home Assistant's VAD waits for before it sends ``audio-stop`` (its default), streamed after each
clip in real-time mode."""


async def transcribe(port: int, samples: Any, realtime: bool = False) -> tuple[str, float]:
    """(text, ms from ``audio-stop`` to ``transcript``) from the Wyoming service on ``port``. ``realtime``:
    the audio is written at the pace it is spoken, as Home Assistant streams a microphone, followed by
    ``HA_SILENCE_S`` of silence; else as fast as the connection takes it."""
    import numpy as np
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient

    if realtime:
        samples = np.concatenate([samples, np.zeros(int(HA_SILENCE_S * 16000), np.int16)])
    audio = samples.astype("<i2").tobytes()
    step = CHUNK_SAMPLES * 2
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
        t0 = time.perf_counter()
        for i in range(0, len(audio), step):
            if realtime and (pause := t0 + (i + step) / 32000 - time.perf_counter()) > 0:
                await asyncio.sleep(pause)  # a chunk goes out once it has been spoken
            await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=audio[i : i + step]).event())
        await client.write_event(AudioStop().event())
        started = time.perf_counter()
        while True:
            event = await asyncio.wait_for(client.read_event(), 120)
            if event is None:
                raise ConnectionError("the service closed the connection before its transcript")
            if Transcript.is_type(event.type):
                return Transcript.from_event(event).text, (time.perf_counter() - started) * 1000


async def describe(port: int, timeout_s: float, process: Any = None) -> bool:
    """True once the service on ``port`` answers ``describe``; False past ``timeout_s`` or when ``process`` ends."""
    from wyoming.client import AsyncTcpClient
    from wyoming.info import Describe

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        try:
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Describe().event())
                if await asyncio.wait_for(client.read_event(), 10) is not None:
                    return True
        except OSError:
            await asyncio.sleep(0.5)
    return False


def start_peer(config: Config, model_dir: Path, port: int, data_dir: Path, log: Any) -> Any:
    """wyoming-faster-whisper on ``port`` with our Whisper files, beam size and threads, as HA users run it."""
    command = [sys.executable, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{port}",
               "--model", str(model_dir), "--data-dir", str(data_dir), "--local-files-only",
               "--language", config.asr.language, "--beam-size", str(config.asr.beam_size),
               "--cpu-threads", str(config.asr.threads), "--compute-type", "int8", "--stt-library", "faster-whisper"]  # fmt: skip
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def run_wyoming_bench(config: Config, base: Path, runs: int, realtime: bool = False) -> int:
    from .. import models
    from ..app import load_understanding, load_wyoming
    from ..config import Wyoming
    from ..service.daemon import Daemon
    from ..understanding.parser import Context
    from .broker import free_port

    logging.getLogger("assistant.wyoming").setLevel(logging.WARNING)  # it logs every transcript
    missing = [name for name in ("wyoming", "faster_whisper", "wyoming_faster_whisper")
               if importlib.util.find_spec(name) is None]  # fmt: skip
    if missing:
        print(f"wyoming benchmark: not installed: {', '.join(missing)} (pip install wyoming-faster-whisper)")
        return 1
    if config.asr.engine == "vosk":
        print("wyoming benchmark: asr.engine is vosk; the peer is Whisper, so set whisper (or auto)")
        return 1
    asr = config.asr.model_copy(update={"engine": "whisper"})
    model_dir = Path(asr.model) if asr.model and Path(asr.model).is_dir() else models.locate(asr.model or "whisper-tiny.en")
    ours_port, plain_port, peer_port = free_port(), free_port(), free_port()
    understander = load_understanding(config, base)

    def server(port: int, bias: bool) -> Any:
        """Our Wyoming server as `assistant run` builds it; ``bias``: prompted with the home's names."""
        settings = config.model_copy(update={"asr": asr.model_copy(update={"bias": bias}),
                                             "wyoming": Wyoming(uri=f"tcp://127.0.0.1:{port}")})  # fmt: skip
        daemon = Daemon(settings, understander)  # not run: transcription needs no broker
        return daemon, load_wyoming(settings, daemon)

    groups = clips()
    with tempfile.TemporaryDirectory(prefix="wyoming-bench-") as workdir:
        log_path = Path(workdir) / "peer.log"
        with log_path.open("w") as log:
            peer = start_peer(config, model_dir, peer_port, Path(workdir), log)
            started = time.perf_counter()
            daemon, ours = server(ours_port, True)
            ours_load_s = time.perf_counter() - started
            plain = server(plain_port, False)[1]
            if ours is None or ours.recognizer is None or plain is None:
                print("wyoming benchmark: our server has no recogniser (is faster-whisper installed?)")
                peer.terminate()
                return 1
            ours.start()
            plain.start()
            try:
                if not asyncio.run(describe(peer_port, 120, peer)):
                    print(f"wyoming benchmark: wyoming-faster-whisper did not start:\n{log_path.read_text()[-2000:]}")
                    return 1
                peer_ready_s = time.perf_counter() - started
                services = {"assistant": ours_port, "assistant, no names": plain_port,
                            "wyoming-faster-whisper": peer_port}  # fmt: skip
                warm = groups["shared recordings"][0].samples
                for port in services.values():  # one warm-up each (the peer loads its model on first use)
                    asyncio.run(transcribe(port, warm))
                warm_guesses = (ours.guesses_kept, ours.guesses_dropped)
                tallies = {(g, s): Tally() for g in groups for s in services}
                for _ in range(runs):
                    for group, items in groups.items():
                        for clip in items:
                            for service, port in services.items():
                                text, ms = asyncio.run(transcribe(port, clip.samples, realtime))
                                tally = tallies[group, service]
                                tally.latency_ms.append(ms)
                                edits, words = word_errors(clip.said, text)
                                tally.edits, tally.words = tally.edits + edits, tally.words + words
                                tally.heard[clip.name] = text
                                if clip.command is not None:
                                    parse = understander.parse(text, daemon.registry, Context())
                                    tally.asked += 1
                                    good = (parse.intent, sorted(parse.targets)) == (clip.command[0], sorted(clip.command[1]))
                                    tally.right += good
                                    if not good:
                                        tally.wrong[text] = f"{parse.intent} {sorted(parse.targets)}"
                peer_mb = proc_mb(peer.pid)
            finally:
                ours.stop()
                plain.stop()
                peer.terminate()
                try:
                    peer.wait(10)
                except subprocess.TimeoutExpired:
                    peer.kill()
    seconds = {g: statistics.mean(len(c.samples) / 16000 for c in items) for g, items in groups.items()}
    pace = (f"audio at real-time pace, {HA_SILENCE_S:g} s of silence after each clip (as Home Assistant streams)"
            if realtime else "audio written as fast as taken")  # fmt: skip
    print(f"\nspeech to text over Wyoming: {model_dir.name} ({model_dir}), beam {asr.beam_size}, "
          f"{asr.threads} CPU threads, int8, {runs} runs, {pace}; latency = audio-stop written -> transcript read")  # fmt: skip
    print(f"ours: `assistant run`'s Wyoming server, prompted with the home's names (as shipped), ready in "
          f"{ours_load_s:.1f} s; the same without the names; peer: wyoming-faster-whisper, ready in "
          f"{peer_ready_s:.1f} s (all three started together)")  # fmt: skip
    print(f"{'audio (clips, mean length)':<32}{'service':<24}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'WER':>7}"
          f"{'right cmd':>11}")  # fmt: skip
    for (group, service), tally in tallies.items():
        p50, p95, worst = quantiles(tally.latency_ms)
        right = f"{tally.right}/{tally.asked}" if tally.asked else "-"
        label = f"{group} ({len(groups[group])}, {seconds[group]:.1f} s)" if service == "assistant" else ""
        print(f"{label:<32}{service:<24}{p50:>8.0f}{p95:>8.0f}{worst:>8.0f}"
              f"{tally.edits / max(1, tally.words):>7.3f}{right:>11}")  # fmt: skip
    kept, dropped = ours.guesses_kept - warm_guesses[0], ours.guesses_dropped - warm_guesses[1]
    print(f"ours, {sum(len(i) for i in groups.values()) * runs} clips: the transcript recognised at a pause before "
          f"audio-stop was given {kept} times; {dropped} recognitions begun at a pause were dropped because speech "
          f"went on (audio.speculate_ms {config.audio.speculate_ms:g}; 0 turns it off)")  # fmt: skip
    print(f"peak memory: wyoming-faster-whisper {peer_mb:.0f} MB; this process (our two servers, the language "
          f"model, Piper) {rss_mb():.0f} MB")  # fmt: skip
    said = {clip.name: clip.said for items in groups.values() for clip in items}
    for (group, service), tally in tallies.items():
        for name, text in tally.heard.items():
            if group != "librivox (read)" and word_errors(said[name], text)[0]:
                print(f"  {service} misheard {said[name]!r} as {text!r}")
        for text, gave in tally.wrong.items():
            print(f"  {service}: {text!r} gave {gave}, not the command said")
    return 0
