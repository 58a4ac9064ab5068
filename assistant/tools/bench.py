"""`assistant bench`: parse latency per sentence (p50/p95), model load time and peak memory,
with hassil's latency on the same sentences in the same run. Figures are printed, never asserted."""

from __future__ import annotations

import json
import resource
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config
from ..devices import Registry
from ..errors import AssistantError
from .evaluate import HassilPeer, load_examples


@dataclass(frozen=True)
class Measured:
    """One latency table a bench mode printed, kept for ``--report``."""

    title: str
    note: str
    """How it was measured (what, how many, the setup), one line."""
    samples_ms: dict[str, list[float]]
    """Each row's samples, milliseconds, by the row's name as printed."""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quantiles(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) < 2:  # one run: that figure is every quantile
        return samples[0], samples[0], samples[0]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94], max(samples)


def latency_row(name: str, samples: list[float]) -> str:
    p50, p95, worst = quantiles(samples)
    return f"{name:<26}{p50:>9.2f}{p95:>9.2f}{worst:>9.2f}   (n={len(samples)})"


def run_bench(config: Config, model_path: Path, data: Path, args: Any,
              measured: list[Measured] | None = None) -> int:  # fmt: skip
    from ..understanding.model import NluModel
    from ..understanding.parser import Context, Understander

    rss_before = rss_mb()
    started = time.perf_counter()
    model = NluModel(model_path, threads=1)
    load_s = time.perf_counter() - started
    understander = Understander(model, config.understanding, config.confirm)
    registry = Registry.from_config(config)
    examples = load_examples(data)
    contexts = [Context.from_json(e.context) for e in examples]

    total: list[float] = []
    model_only: list[float] = []
    for _ in range(args.runs):
        for example, context in zip(examples, contexts):
            t0 = time.perf_counter()
            understander.parse(example.text, registry, context)
            total.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            model.predict(example.text)
            model_only.append((time.perf_counter() - t0) * 1000)
    rss_ours = rss_mb()

    print(f"model: {model_path} ({model_path.stat().st_size / 1e6:.1f} MB), ONNX Runtime intra-op threads = 1")
    print(f"sentences: {len(examples)} from {data}, {args.runs} passes")
    print(f"model load (incl. sha256 check and warm-up): {load_s * 1000:.0f} ms")
    print(f"peak RSS: {rss_ours:.0f} MB (process before loading: {rss_before:.0f} MB)")
    print(f"\n{'latency, ms':<26}{'p50':>9}{'p95':>9}{'max':>9}")
    print(latency_row("parse (model+resolution)", total))
    print(latency_row("model inference only", model_only))
    samples = {"parse (model+resolution)": total, "model inference only": model_only}
    if not args.no_hassil:
        started = time.perf_counter()
        peer = HassilPeer(registry)
        hassil_load_s = time.perf_counter() - started
        hassil: list[float] = []
        for _ in range(args.runs):
            for example in examples:
                area = registry.context_area(example.context.get("area"))
                t0 = time.perf_counter()
                peer.guess(example.text, area)
                hassil.append((time.perf_counter() - t0) * 1000)
        print(latency_row("hassil recognize", hassil))
        print(f"\nhassil load: {hassil_load_s * 1000:.0f} ms; peak RSS after hassil: {rss_mb():.0f} MB")
        samples["hassil recognize"] = hassil
    if measured is not None:
        setup = f"{len(examples)} sentences from {data.name}, {args.runs} passes"
        resources = f"model load {load_s * 1000:.0f} ms; peak RSS {rss_ours:.0f} MB"
        measured.append(Measured("Parse latency per sentence", f"{setup}; {resources}", samples))
    return 0


def write_bench_report(path: Path, measured: list[Measured]) -> None:
    """The HTML report of every latency table the run printed: per table, its figures and histograms."""
    from .report import Section, latency_figure, write_report

    sections = []
    for part in measured:
        table = [["latency, ms", "p50", "p95", "max", "n"]]
        samples = {name: values for name, values in part.samples_ms.items() if values}
        for name, values in samples.items():
            p50, p95, worst = quantiles(values)
            table.append([name, f"{p50:.2f}", f"{p95:.2f}", f"{worst:.2f}", str(len(values))])
        sections.append(Section(part.title, table, note=part.note))
        if samples:
            sections.append(Section(f"{part.title}: histograms", png=latency_figure(samples)))
    write_report(path, "assistant bench", sections)
    print(f"\nreport: {path}")


def own_mosquitto(benchmark: str) -> tuple[int, Any]:
    """(port, broker) of a mosquitto started for ``benchmark``; AssistantError when it is not installed."""
    from .broker import Mosquitto, mosquitto_binary

    if mosquitto_binary() is None:
        raise AssistantError(f"{benchmark}: mosquitto is not installed (Debian, Raspberry Pi OS: "
                             "apt-get install mosquitto)")  # fmt: skip
    broker = Mosquitto().start()
    return broker.port, broker


def config_prefix(data: dict[str, Any]) -> str:
    """``<prefix>/<site>`` of a config read as YAML."""
    return f"{data.get('mqtt', {}).get('prefix', 'assistant')}/{data.get('site', {}).get('id', 'default')}"


def bench_config(config_path: Path, model: Path, port: int, workdir: Path, protocol: str = "5",
                  **sections: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """The user's config pointed at the bench broker (and ``sections`` merged in), written to ``workdir``."""
    import yaml

    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    data.setdefault("mqtt", {}).update({"host": "127.0.0.1", "port": port, "commands_per_minute": 6000, "commands_per_minute_total": 60000,
                                        "protocol": protocol})  # fmt: skip
    data.setdefault("understanding", {})["model"] = str(model.resolve())
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    (workdir / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return data


UNIT = Path("systemd") / "assistant.service"
"""The unit whose ``Environment=`` the service benchmark uses: from the checkout the benchmark is run in."""


def unit_environment(unit: Path = UNIT) -> dict[str, str]:
    """The ``Environment=`` settings of the systemd unit (the service is benchmarked as it runs there)."""
    import shlex

    env: dict[str, str] = {}
    if unit.is_file():
        for line in unit.read_text(encoding="utf-8").splitlines():
            if line.startswith("Environment="):
                for item in shlex.split(line[len("Environment=") :]):
                    name, _, value = item.partition("=")
                    env[name] = value
    return env


def spawn_service(config: Path, stderr: Any = None) -> Any:
    """``assistant run`` as a subprocess, with the systemd unit's environment."""
    import os
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "assistant.cli", "run", "--config", str(config)],
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **unit_environment()},
                            stdout=subprocess.DEVNULL, stderr=stderr or subprocess.DEVNULL)  # fmt: skip


def proc_mb(pid: int, field: str = "VmHWM") -> float:
    """A running process's peak (VmHWM) or current (VmRSS) resident memory, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


LONG_REPLY = "Set the kitchen ceiling light and the kitchen counter lights to thirty percent, and turned off the hallway light."


def run_service_ready_bench(config_path: Path, model: Path, runs: int,
                            measured: list[Measured] | None = None, speech: list[Path] | None = None) -> int:  # fmt: skip
    """The voice service as systemd starts it (a subprocess, `audio.input` set, a real mosquitto): time
    from start to `<prefix>/<site>/status` online with every model loaded and warmed, and its peak
    memory then. This machine has no microphone: the service starts, and keeps retrying to open it.
    ``speech`` (WAV files): also the service's peak memory after recognising them and voicing the long reply
    (``tools.voice_memory``, a process of its own with the unit's environment, ``runs`` times)."""
    import subprocess
    import tempfile
    import threading

    from ..mqtt import new_client

    port, broker = own_mosquitto("bench --ready")
    workdir = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    data = bench_config(config_path, model, port, workdir, audio={"input": "bench: no microphone here"})
    prefix = config_prefix(data)
    online = threading.Event()
    watcher = new_client()
    watcher.on_message = lambda c, u, m: online.set() if m.payload == b"online" else None
    watcher.connect("127.0.0.1", port)
    watcher.subscribe(f"{prefix}/status", 1)
    watcher.loop_start()
    ready_ms: list[float] = []
    ready_mb: list[float] = []
    spoken_mb: list[float] = []
    resident_mb: list[float] = []
    say_wait_s = 3.0
    try:
        for _ in range(runs):
            online.clear()
            log_path = workdir / "service.log"
            with log_path.open("wb") as log_file:
                started = time.perf_counter()
                service = spawn_service(workdir / "config.yaml", stderr=log_file)
                try:
                    if not online.wait(60):
                        raise AssistantError("bench --ready: the voice service did not come online in 60 s; "
                                             "its log ends:\n" + log_path.read_text()[-2000:])  # fmt: skip
                    ready_ms.append((time.perf_counter() - started) * 1000)
                    ready_mb.append(proc_mb(service.pid))
                    # a long reply spoken (synthesised; this machine has no speaker to play it on)
                    watcher.publish(f"{prefix}/say", LONG_REPLY.encode(), qos=1)
                    time.sleep(say_wait_s)
                    spoken_mb.append(proc_mb(service.pid))
                    resident_mb.append(proc_mb(service.pid, "VmRSS"))
                finally:
                    service.terminate()
                    try:
                        service.wait(10)
                    except subprocess.TimeoutExpired:
                        service.kill()
            watcher.publish(f"{prefix}/status", b"", retain=True, qos=1).wait_for_publish(5)  # clear the retained online
    finally:
        watcher.loop_stop()
        watcher.disconnect()
        broker.stop()
    engine = data.get("asr", {}).get("engine", "auto")
    print(f"\nvoice service (asr.engine {engine}, a subprocess with audio.input set, {runs} starts)")
    print(f"{'start to ready, ms':<26}{'p50':>9}{'p95':>9}{'max':>9}")
    print(latency_row("start -> status online", ready_ms))
    print(f"peak RSS at ready (VmHWM): p50 {statistics.median(ready_mb):.0f} MB, max {max(ready_mb):.0f} MB")
    print(f"peak RSS {say_wait_s:g} s after a {len(LONG_REPLY.split())}-word reply was sent to `say`:"
          f" p50 {statistics.median(spoken_mb):.0f} MB, max {max(spoken_mb):.0f} MB;"
          f" resident then (VmRSS) p50 {statistics.median(resident_mb):.0f} MB")  # fmt: skip
    print(f"environment from {UNIT.name}: {unit_environment() or 'none'}")
    if speech:
        _voice_memory(workdir / "config.yaml", speech, runs)
    if measured is not None:
        note = f"asr.engine {engine}, {runs} starts; peak RSS at ready p50 {statistics.median(ready_mb):.0f} MB"
        measured.append(Measured("Voice service start to ready", note, {"start -> status online": ready_ms}))
    return 0


def _voice_memory(config: Path, speech: list[Path], runs: int) -> None:
    """Peak RSS of the service built as `assistant run` builds it, after recognising ``speech`` and voicing
    the long reply (``tools.voice_memory``), in ``runs`` processes with the unit's environment."""
    import os
    import subprocess
    import sys

    figures: list[dict[str, Any]] = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-m", "assistant.tools.voice_memory", str(config), *map(str, speech)],
                              env={**os.environ, **unit_environment()}, capture_output=True, text=True, timeout=300,
                              check=False)  # fmt: skip
        if done.returncode != 0:
            raise AssistantError(f"bench --ready: the voice memory run failed: {done.stderr[-2000:]}")
        figures.append(json.loads(done.stdout.strip().splitlines()[-1]))
    peaks = [f["spoken_mb"] for f in figures]
    print(f"peak RSS after recognising {len(speech)} files and voicing the {len(LONG_REPLY.split())}-word reply"
          f" ({runs} runs): p50 {statistics.median(peaks):.0f} MB, max {max(peaks):.0f} MB; at ready p50"
          f" {statistics.median(f['ready_mb'] for f in figures):.0f} MB, after recognising p50"
          f" {statistics.median(f['recognised_mb'] for f in figures):.0f} MB; resident then (VmRSS) p50"
          f" {statistics.median(f['resident_mb'] for f in figures):.0f} MB")  # fmt: skip


def run_mqtt_bench(config_path: Path, model: Path, commands: int,
                   measured: list[Measured] | None = None) -> int:  # fmt: skip
    """Command-to-device latency over a real broker: a mosquitto on a free loopback port (amqtt when
    mosquitto is not installed), the service as a subprocess, and a client that publishes a text
    command and times the device message's arrival."""
    import json
    import tempfile
    import threading

    import paho.mqtt.client as paho

    from ..mqtt import new_client
    from .broker import EmbeddedBroker, Mosquitto, free_port, mosquitto_binary

    workdir = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    mosquitto = mosquitto_binary() is not None
    broker: Mosquitto | EmbeddedBroker = Mosquitto().start() if mosquitto else EmbeddedBroker(free_port()).start()
    port = broker.port
    broker_name = "mosquitto" if mosquitto else "amqtt (embedded)"
    data = bench_config(config_path, model, port, workdir, protocol="5" if mosquitto else "3.1.1")
    started = time.perf_counter()
    service = spawn_service(workdir / "config.yaml")
    arrived = threading.Event()
    online = threading.Event()
    prefix = config_prefix(data)
    sentences = [("turn on the hallway light", "zigbee2mqtt/hallway_light/set"),
                 ("turn off the hallway light", "zigbee2mqtt/hallway_light/set"),
                 ("set the desk lamp to 40 percent", "zigbee2mqtt/office_desk_lamp/set"),
                 ("switch on the coffee machine", "cmnd/coffee_machine/POWER")]  # fmt: skip
    wanted = {topic for _, topic in sentences}

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        if message.topic in wanted:
            arrived.set()
        elif message.topic == f"{prefix}/status" and message.payload == b"online":
            online.set()

    # Two clients, as in a real home: one sends commands (a phone, Home Assistant), the other stands for
    # the devices (zigbee2mqtt). One client doing both would measure its own delayed ACKs.
    devices = new_client()
    devices.on_message = on_message
    devices.connect("127.0.0.1", port)
    devices.subscribe([(t, 1) for t in wanted] + [(f"{prefix}/status", 1)])
    devices.loop_start()
    client = new_client()
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        if not online.wait(60):
            raise AssistantError("bench --mqtt: the service did not come online in 60 s")
        ready_s = time.perf_counter() - started
        samples: list[float] = []
        for i in range(commands + 10):
            text, _ = sentences[i % len(sentences)]
            arrived.clear()
            t0 = time.perf_counter()
            client.publish(f"{prefix}/command", json.dumps({"text": text, "id": i}), qos=1)
            if not arrived.wait(5):
                raise AssistantError(f"bench --mqtt: no device message in 5 s for {text!r}")
            if i >= 10:  # the first ten warm up
                samples.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.01)
    finally:
        for c in (client, devices):
            c.loop_stop()
            c.disconnect()
        service.terminate()
        service.wait(10)
        broker.stop()
    print(f"\ncommand-to-device latency over {broker_name} ({commands} commands, service as a subprocess)")
    print(f"{'latency, ms':<26}{'p50':>9}{'p95':>9}{'max':>9}")
    print(latency_row("command -> device message", samples))
    print(f"service start to online: {ready_s * 1000:.0f} ms")
    if measured is not None:
        note = f"{commands} commands, the service as a subprocess; start to online {ready_s * 1000:.0f} ms"
        measured.append(Measured(f"Command to device over {broker_name}", note,
                                 {"command -> device message": samples}))  # fmt: skip
    return 0


def run_voice_bench(config: Config, base: Path, files: list[Path], runs: int,
                    measured: list[Measured] | None = None) -> int:  # fmt: skip
    """Voice figures: end of speech to device message over a real mosquitto (audio fed at real-time pace,
    so the end-of-speech silence is waited for as with a microphone), recognition real-time factor,
    model load time and peak memory with the recogniser and the language model loaded."""
    import threading

    import numpy as np
    import paho.mqtt.client as paho

    from ..app import early_judge, load_understanding
    from ..core.events import SpokenCommand
    from ..mqtt import new_client
    from ..service.daemon import Daemon
    from ..voice.asr import load_recognizer
    from ..voice.audio import read_wav, split
    from ..voice.pipeline import Ears
    from ..voice.vad import SileroVad

    port, broker = own_mosquitto("bench --voice")
    arrivals: list[float] = []
    replies: list[str] = []
    arrived = threading.Event()
    service_config = config.model_copy(update={"mqtt": config.mqtt.model_copy(update={
        "host": "127.0.0.1", "port": port, "tls": None, "commands_per_minute": 6000, "commands_per_minute_total": 60000})})  # fmt: skip
    reply_topic = f"{config.mqtt.prefix}/{config.site.id}/reply"

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        if message.topic == reply_topic:
            replies.append(json.loads(message.payload).get("text", ""))
            return
        arrivals.append(time.perf_counter())
        arrived.set()

    devices = new_client()
    devices.on_message = on_message
    devices.connect("127.0.0.1", port)
    device_topics = sorted({f"{d.topic}/set" for d in config.devices if d.protocol == "zigbee2mqtt"})
    devices.subscribe([(t, 1) for t in [*device_topics, reply_topic]])
    devices.loop_start()
    service: Daemon | None = None
    thread = None
    try:
        started = time.perf_counter()
        # the shipped path: the microphone's front half (Ears), then the service's bus, session and link
        service = Daemon(service_config, load_understanding(config, base))
        recognizer = load_recognizer(config.asr, service.registry, config.wake.spoken)
        ears = Ears(config, recognizer, SileroVad(), judge=early_judge(config, service))
        load_s = time.perf_counter() - started
        thread = threading.Thread(target=service.run, kwargs={"install_signals": False}, daemon=True)
        thread.start()
        if not service.link.wait_connected(10):
            raise AssistantError("bench --voice: the service did not connect to the broker in 10 s")
        speaker = None
        if config.tts.engine != "none" and config.tts.speak_replies:
            from ..voice.tts import Speaker

            speaker = Speaker(config.tts)  # the replies are synthesised (not played) so memory counts the voice
        e2e: list[float] = []
        early = 0
        asr_ms: list[float] = []
        rtf: list[float] = []
        silence = np.zeros(16000, dtype=np.int16)  # one second after the last word
        for path in files:
            samples = np.concatenate([read_wav(path), silence])
            for _ in range(runs):
                ears.reset()
                arrivals.clear()
                arrived.clear()
                replies.clear()
                t0 = time.perf_counter()
                heard = []
                commanded: list[tuple[float, Any]] = []  # (when submitted, what was heard)

                def take(new: list[Any]) -> None:
                    for h in new:
                        if h.decision.command:
                            service.submit(SpokenCommand(h.decision.command))  # type: ignore[union-attr]
                            commanded.append((time.perf_counter(), h))
                        heard.append(h)

                for chunk in split(samples, 0.0, 512):
                    due = t0 + (chunk.timestamp_ms + chunk.duration_ms) / 1000
                    pause = due - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)  # real-time pace, as a microphone delivers
                    take(ears.feed(chunk))
                take(ears.finish())
                if commanded and arrived.wait(5):
                    # timed from the end of the utterance whose command sent it (not a wake phrase heard before)
                    before = [h for at, h in commanded if at <= arrivals[0]]
                    sent = before[-1] if before else commanded[0][1]
                    e2e.append((arrivals[0] - (t0 + sent.utterance.end_ms / 1000)) * 1000)
                    early += sent.early
                time.sleep(0.05)  # the reply follows the device message
                for text in replies if speaker is not None else []:
                    speaker.synthesize(text)  # type: ignore[union-attr]
                for h in heard:
                    asr_ms.append(h.transcript.asr_ms)
                    rtf.append(h.transcript.asr_ms / max(1.0, h.utterance.end_ms - h.utterance.start_ms))
    finally:
        if service is not None:
            service.stop()
        if thread is not None:
            thread.join(5)
        devices.loop_stop()
        devices.disconnect()
        broker.stop()
    print(f"\nvoice: {config.asr.engine} recognition, {len(files)} files x {runs} runs, audio fed at real-time pace")
    print(f"models loaded and warmed (VAD, recogniser, language model): {load_s * 1000:.0f} ms")
    print(f"peak RSS with all of them loaded{' and the replies synthesised' if speaker else ''}: {rss_mb():.0f} MB")
    print(f"{'latency, ms':<26}{'p50':>9}{'p95':>9}{'max':>9}")
    if e2e:
        print(latency_row("end of speech -> device", e2e))
    print(latency_row("recognition per utterance", asr_ms))
    act = (f"on at a pause of {config.audio.act_pause_ms} ms when whole, recognised"
           f" from {config.audio.speculate_ms} ms" if config.audio.act_early else "off")  # fmt: skip
    print(f"acting early ({act}): {early} of {len(e2e)} commands acted on before the"
          f" {config.audio.end_silence_ms} ms end-of-speech silence")  # fmt: skip
    print(f"recognition real-time factor: p50 {statistics.median(rtf):.3f}")
    if measured is not None:
        pace = f"{len(files)} files x {runs} runs at real-time pace"
        note = f"{pace}; real-time factor p50 {statistics.median(rtf):.3f}"
        rows = {"end of speech -> device": e2e, "recognition per utterance": asr_ms}
        measured.append(Measured(f"Voice: {config.asr.engine} recognition", note, rows))
    return 0


def run_vosk_bench(config: Config, files: list[Path], model: str,
                   measured: list[Measured] | None = None) -> int:  # fmt: skip
    """Streaming recognition with vosk through the product's own front half (``Ears``): audio reaches the
    recogniser as it arrives (real-time pace), so at the endpoint only the final decoding is left.
    Prints endpoint -> final transcript, and end of speech -> final transcript (which includes the
    end-of-speech silence waited for)."""
    import numpy as np

    from .. import models
    from ..devices import Registry
    from ..voice.asr import phrases
    from ..voice.asr.vosk import VoskRecognizer
    from ..voice.audio import read_wav, split
    from ..voice.pipeline import Ears
    from ..voice.vad import SileroVad

    folder = Path(model) if Path(model).is_dir() else models.locate(model)
    recognizer = VoskRecognizer(config.asr.model_copy(update={"engine": "vosk"}), folder,
                                phrases(Registry.from_config(config)))  # fmt: skip
    ears = Ears(config, recognizer, SileroVad())
    after_endpoint: list[float] = []
    after_speech: list[float] = []
    texts = []
    for path in files:
        samples = np.concatenate([read_wav(path), np.zeros(16000, np.int16)])
        ears.reset()
        t0 = time.perf_counter()
        for chunk in split(samples, 0.0, 512):
            due = t0 + (chunk.timestamp_ms + chunk.duration_ms) / 1000
            if (pause := due - time.perf_counter()) > 0:
                time.sleep(pause)
            for heard in ears.feed(chunk):
                done = time.perf_counter()
                after_endpoint.append(heard.transcript.asr_ms)
                after_speech.append((done - (t0 + heard.utterance.end_ms / 1000)) * 1000)
                texts.append(heard.transcript.text)
    print(f"\nvosk streaming ({folder.name}), {len(files)} files, audio fed at real-time pace")
    print(f"{'latency, ms':<26}{'p50':>9}{'p95':>9}{'max':>9}")
    if len(after_endpoint) > 1:
        print(latency_row("endpoint -> final", after_endpoint))
        print(latency_row("end of speech -> final", after_speech))
    print(f"transcripts: {texts}")
    if measured is not None and len(after_endpoint) > 1:
        rows = {"endpoint -> final": after_endpoint, "end of speech -> final": after_speech}
        note = f"{len(files)} files at real-time pace"
        measured.append(Measured(f"Vosk streaming ({folder.name})", note, rows))
    return 0
