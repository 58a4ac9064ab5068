"""The Wyoming server as Home Assistant uses it: the `wyoming` library's own client over real TCP, the
service on a real mosquitto, the real intent model, Whisper and Piper."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("wyoming", reason="needs the [wyoming] extra")

from wyoming.asr import Transcribe, Transcript  # noqa: E402
from wyoming.audio import AudioChunk, AudioStart, AudioStop  # noqa: E402
from wyoming.client import AsyncTcpClient  # noqa: E402
from wyoming.error import Error  # noqa: E402
from wyoming.event import Event  # noqa: E402
from wyoming.handle import Handled, NotHandled  # noqa: E402
from wyoming.info import Describe, Info  # noqa: E402
from wyoming.intent import Intent, NotRecognized  # noqa: E402
from wyoming.tts import Synthesize  # noqa: E402

from assistant.config import Asr, Config, Satellite, Tts, Wyoming  # noqa: E402
from assistant.tools.broker import free_port  # noqa: E402
from assistant.wyoming.server import WyomingService  # noqa: E402

from .mqtt_helpers import Observer  # noqa: E402
from .test_daemon import PREFIX, running, with_broker  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
LAMP = SHARED / "data" / "speech" / "commands" / "turn_on_living_room_lamp.wav"
HAS_VOICE = importlib.util.find_spec("faster_whisper") is not None and importlib.util.find_spec("soxr") is not None


@pytest.fixture(scope="module")
def recognizer(registry):
    if not HAS_VOICE:
        pytest.skip("needs the [voice] extra")
    from assistant.voice.asr import load_recognizer

    return load_recognizer(Asr(engine="whisper"), registry)


@pytest.fixture(scope="module")
def speaker():
    if importlib.util.find_spec("piper") is None:
        pytest.skip("piper-tts not installed")
    from assistant.voice.tts import Speaker

    speaker = Speaker(Tts(engine="piper"))
    # the voice configured without its random noise (the "inference" settings a voice's own config can give):
    # the same audio in every run, so what whisper hears back is the same too
    speaker.engine.voice.config.noise_scale = 0.0  # type: ignore[union-attr]
    speaker.engine.voice.config.noise_w_scale = 0.0  # type: ignore[union-attr]
    return speaker


@contextmanager
def serving(daemon, **settings: object) -> Iterator[WyomingService]:
    """The Wyoming server over ``daemon`` on a free loopback port."""
    speech = {k: settings.pop(k) for k in ("recognizer", "speaker", "audio") if k in settings}
    wyoming = Wyoming(uri=f"tcp://127.0.0.1:{free_port()}", **settings)
    service = WyomingService(wyoming, daemon.submit, lambda: daemon.registry, voice="en_US-joe-medium", **speech)
    service.start()
    try:
        yield service
    finally:
        service.stop()
        assert not service.thread.is_alive()


@pytest.fixture
def home(broker_port, config: Config, understander):
    """The service on a real mosquitto, and an observer of everything published."""
    observer = Observer(broker_port)
    with running(with_broker(config, broker_port), understander) as daemon:
        assert daemon.link.wait_connected(10)
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online")
        yield daemon, observer
    observer.close()


@pytest.fixture
def broker_port(tmp_path):
    from .mqtt_helpers import Broker

    broker = Broker(tmp_path).start()
    yield broker.port
    broker.stop()


async def exchange(port: int, *events: Event, answers: int = 1, timeout: float = 60) -> list[Event]:
    """Send ``events`` with the library's client as Home Assistant does; read ``answers`` events back."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        for event in events:
            await client.write_event(event)
        out = []
        for _ in range(answers):
            event = await asyncio.wait_for(client.read_event(), timeout)
            assert event is not None, f"connection closed after {[e.type for e in out]}"
            out.append(event)
        return out


def ask(port: int, text: str, context: dict | None = None) -> Event:
    return asyncio.run(exchange(port, Transcript(text, context=context).event()))[0]


# -- describe ---------------------------------------------------------------------------------------


def test_describe_advertises_the_programs_loaded(home):
    daemon, _ = home
    with serving(daemon) as service:
        info = Info.from_event(asyncio.run(exchange(service.port, Describe().event()))[0])
    assert [p.name for p in info.handle] == ["assistant"] and info.handle[0].supports_home_control
    assert info.handle[0].models[0].languages == ["en"]
    assert [p.name for p in info.intent] == ["assistant"]
    assert info.asr == [] and info.tts == []  # no speech models given to this server


# -- conversation -----------------------------------------------------------------------------------


def test_transcript_is_handled_and_the_device_message_goes_out(home):
    daemon, observer = home
    with serving(daemon) as service:
        mark = observer.mark()
        answer = ask(service.port, "turn on the hallway light", {"conversation_id": "abc"})
        assert Handled.is_type(answer.type), answer
        assert Handled.from_event(answer).text == "Turned on the Hallway Light."
        payload = observer.wait_for("zigbee2mqtt/hallway_light/set", start=mark)
        assert json.loads(payload) == {"state": "ON"}
        # the same reply on MQTT, as for every other command
        reply = json.loads(observer.wait_for(f"{PREFIX}/reply", start=mark))
        assert reply["text"] == "Turned on the Hallway Light." and reply["success"] is True


def test_out_of_domain_text_is_not_handled_and_sends_nothing(home):
    daemon, observer = home
    with serving(daemon) as service:
        mark = observer.mark()
        answer = ask(service.port, "what is the meaning of life")
        assert NotHandled.is_type(answer.type), answer
        observer.wait_for(f"{PREFIX}/reply", start=mark)  # the command was seen through to its reply
        device_topics = {t for t, _, _ in observer.since(mark) if not t.startswith(PREFIX)}
        assert device_topics == set()
        assert NotHandled.is_type(ask(service.port, "   ").type)


def test_the_satellites_room_is_the_commands_room(home):
    daemon, observer = home
    satellites = [Satellite(id="office-sat", area="Office")]
    with serving(daemon, satellites=satellites) as service:
        mark = observer.mark()
        answer = ask(service.port, "turn on the lights", {"device_id": "office-sat"})
        assert Handled.from_event(answer).text == "Turned on the Desk Lamp and the Office Ceiling Light."
        observer.wait_for("zigbee2mqtt/office_ceiling/set", start=mark)
        # a follow-up in the satellite's own conversation
        assert Handled.is_type(ask(service.port, "turn it off", {"device_id": "office-sat"}).type)
        assert json.loads(observer.wait_for("zigbee2mqtt/office_ceiling/set",
                                            lambda p: json.loads(p) == {"state": "OFF"}, start=mark))  # fmt: skip


def test_intent_mode_answers_home_assistant_intents_and_acts_on_nothing(home):
    daemon, observer = home
    with serving(daemon, mode="intent") as service:
        mark = observer.mark()
        events = {text: ask(service.port, text) for text in (
            "turn on the hallway light", "set the living room lamp to 40 percent", "start a 5 minute timer",
            "what is the meaning of life")}  # fmt: skip
        info = Info.from_event(asyncio.run(exchange(service.port, Describe().event()))[0])
    assert not info.handle[0].supports_home_control
    on = Intent.from_event(events["turn on the hallway light"])
    assert on.name == "HassTurnOn" and {e.name: e.value for e in on.entities} == {"name": "Hallway Light"}
    light = Intent.from_event(events["set the living room lamp to 40 percent"])
    assert light.name == "HassLightSet"
    assert {e.name: e.value for e in light.entities} == {"name": "Living Room Lamp", "brightness": 40}
    timer = Intent.from_event(events["start a 5 minute timer"])
    assert timer.name == "HassStartTimer" and {e.name: e.value for e in timer.entities} == {"minutes": 5}
    assert NotRecognized.is_type(events["what is the meaning of life"].type)
    assert {t for t, _, _ in observer.since(mark) if not t.startswith(PREFIX)} == set()


def test_several_commands_in_one_sentence_use_the_multi_intent_wrapper(home):
    """Intent mode: one ``intent`` per command between ``intents-start`` and ``intents-stop`` (wyoming
    1.10), each with its own Home Assistant slots; a sentence with a part not understood is not
    recognised as a whole. Nothing is sent to a device."""
    daemon, observer = home
    two = "turn off the hallway light and start a 5 minute timer"
    half = "turn on the hallway light and tell me the meaning of life"
    with serving(daemon, mode="intent") as service:
        mark = observer.mark()
        events = asyncio.run(exchange(service.port, Transcript(two).event(), answers=4))
        refused = ask(service.port, half)
    assert [e.type for e in events] == ["intents-start", "intent", "intent", "intents-stop"]
    off, timer = (Intent.from_event(e) for e in events[1:3])
    assert off.name == "HassTurnOff" and {e.name: e.value for e in off.entities} == {"name": "Hallway Light"}
    assert off.text == "Turned off the Hallway Light."
    assert timer.name == "HassStartTimer" and {e.name: e.value for e in timer.entities} == {"minutes": 5}
    assert NotRecognized.is_type(refused.type), refused
    assert "did nothing" in (NotRecognized.from_event(refused).text or "")
    assert {t for t, _, _ in observer.since(mark) if not t.startswith(PREFIX)} == set()


def test_several_commands_in_one_sentence_are_handled_with_one_reply(home):
    """Handle mode: both carried out, one ``handled`` with the one reply (``handled`` carries one text),
    and nothing else on the connection."""
    daemon, observer = home

    async def one_answer(port: int) -> tuple[Event, Event | None]:
        async with AsyncTcpClient("127.0.0.1", port) as client:
            await client.write_event(Transcript("turn on the hallway light and the garden lights").event())
            answer = await asyncio.wait_for(client.read_event(), 60)
            assert answer is not None
            try:
                more = await asyncio.wait_for(client.read_event(), 1.0)
            except TimeoutError:
                more = None
            return answer, more

    with serving(daemon) as service:
        mark = observer.mark()
        answer, more = asyncio.run(one_answer(service.port))
    assert Handled.from_event(answer).text == "Turned on the Hallway Light. Turned on the Garden Lights.", answer
    assert more is None, more
    for topic in ("zigbee2mqtt/hallway_light/set", "zigbee2mqtt/garden_lights/set"):
        assert json.loads(observer.wait_for(topic, start=mark)) == {"state": "ON"}


# -- speech -----------------------------------------------------------------------------------------


def test_speech_to_text_on_a_shared_recording(home, recognizer):
    import soundfile as sf

    daemon, _ = home
    data, rate = sf.read(str(LAMP), dtype="int16", always_2d=True)  # the file's own rate: the server resamples
    audio = data.astype("<i2").tobytes()
    channels = data.shape[1]
    step = rate * 2 * channels // 10
    events = [Transcribe(language="en").event(), AudioStart(rate=rate, width=2, channels=channels).event()]
    events += [AudioChunk(rate=rate, width=2, channels=channels, audio=audio[i : i + step]).event()
               for i in range(0, len(audio), step)]  # fmt: skip
    events.append(AudioStop().event())
    with serving(daemon, recognizer=recognizer) as service:
        info = Info.from_event(asyncio.run(exchange(service.port, Describe().event()))[0])
        assert info.asr and info.asr[0].models[0].name == "whisper"
        answer = asyncio.run(exchange(service.port, *events))[0]
    assert Transcript.is_type(answer.type), answer
    assert "living room lamp" in Transcript.from_event(answer).text.lower()


def test_recognition_starts_at_a_pause_before_audio_stop(home, recognizer, config):
    """Home Assistant's audio (16 kHz mono 16-bit, streamed as it is spoken) is recognised once speech
    pauses, before ``audio-stop``; that transcript is given when no speech came after the pause, and the
    whole audio is recognised when some did, or when the audio came faster than spoken."""
    import time

    from assistant.voice.audio import read_wav
    from assistant.wyoming.speech import transcribe

    daemon, _ = home
    lamp = read_wav(LAMP)
    time_asked = read_wav(SHARED / "data" / "speech" / "commands" / "what_time_is_it.wav")
    pause, tail = np.zeros(8000, np.int16), np.zeros(16000, np.int16)

    async def stream(port: int, samples: np.ndarray, paced: bool = True) -> str:
        audio = samples.astype("<i2").tobytes()
        async with AsyncTcpClient("127.0.0.1", port) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
            t0 = time.monotonic()
            for i in range(0, len(audio), 2048):
                if paced and (wait := t0 + (i + 2048) / 32000 - time.monotonic()) > 0:
                    await asyncio.sleep(wait)  # as a microphone delivers it
                await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=audio[i : i + 2048]).event())
            await client.write_event(AudioStop().event())
            event = await asyncio.wait_for(client.read_event(), 60)
            assert event is not None and Transcript.is_type(event.type), event
            return Transcript.from_event(event).text

    with serving(daemon, recognizer=recognizer, audio=config.audio) as service:
        one = asyncio.run(stream(service.port, np.concatenate([lamp, tail])))
        assert "living room lamp" in one.lower(), one
        assert (service.guesses_kept, service.guesses_dropped) == (1, 0)
        # speech, a pause, more speech: the guess at the first pause is not the answer
        two = asyncio.run(stream(service.port, np.concatenate([lamp, pause, time_asked, tail])))
        assert "living room lamp" in two.lower() and "time" in two.lower(), two
        # the guess at the first pause, and any at a pause inside "what time is it" (64 ms is short), was dropped
        assert service.guesses_kept == 2 and service.guesses_dropped >= 1
        dropped = service.guesses_dropped
        # no pause before audio-stop: recognised then
        cut = asyncio.run(stream(service.port, lamp[: len(lamp) // 2]))
        assert (service.guesses_kept, service.guesses_dropped) == (2, dropped)
        # a recording sent at once: recognised as a whole at audio-stop
        fast = asyncio.run(stream(service.port, np.concatenate([lamp, tail]), paced=False))
        assert (service.guesses_kept, service.guesses_dropped) == (2, dropped)
    assert cut == transcribe(recognizer, lamp[: len(lamp) // 2])
    assert fast == transcribe(recognizer, np.concatenate([lamp, tail]))


def test_audio_past_the_cap_is_refused(home, recognizer):
    daemon, _ = home
    second = np.zeros(16000, np.int16).tobytes()
    events = [Transcribe().event(), AudioStart(rate=16000, width=2, channels=1).event()]
    events += [AudioChunk(rate=16000, width=2, channels=1, audio=second).event() for _ in range(3)]
    with serving(daemon, recognizer=recognizer, max_audio_s=2) as service:
        answer = asyncio.run(exchange(service.port, *events))[0]
    assert Error.is_type(answer.type) and Error.from_event(answer).code == "audio-too-long"


def test_text_to_speech_returns_the_voice(home, speaker, recognizer):
    daemon, _ = home
    with serving(daemon, speaker=speaker, recognizer=recognizer) as service:
        info = Info.from_event(asyncio.run(exchange(service.port, Describe().event()))[0])
        assert info.tts and info.tts[0].voices[0].name == "en_US-joe-medium"

        async def speak() -> list[Event]:
            async with AsyncTcpClient("127.0.0.1", service.port) as client:
                await client.write_event(Synthesize("Turned on the hallway light.").event())
                out = []
                while not out or not AudioStop.is_type(out[-1].type):
                    event = await asyncio.wait_for(client.read_event(), 60)
                    assert event is not None
                    out.append(event)
                return out

        events = asyncio.run(speak())
    start = AudioStart.from_event(events[0])
    assert (start.width, start.channels) == (2, 1) and start.rate == speaker.engine.rate_hz
    audio = b"".join(AudioChunk.from_event(e).audio for e in events[1:-1])
    samples = np.frombuffer(audio, "<i2")
    assert len(samples) > start.rate * 0.5 and np.abs(samples).max() > 1000  # real speech, not silence
    # and it says what it was asked to
    from assistant.voice.audio import to_mono_16k
    from assistant.wyoming.speech import transcribe

    heard = transcribe(recognizer, to_mono_16k(samples, start.rate))
    assert "hallway light" in heard.lower(), heard


# -- security ---------------------------------------------------------------------------------------


def test_a_peer_not_in_allow_is_closed_at_once(home):
    daemon, observer = home

    async def refused(port: int) -> Event | None:
        """None when the server closed the connection (before or after the write)."""
        try:
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Transcript("turn on the hallway light").event())
                return await asyncio.wait_for(client.read_event(), 10)
        except ConnectionError:
            return None

    mark = observer.mark()
    with serving(daemon, allow=["192.0.2.7"]) as service:
        assert asyncio.run(refused(service.port)) is None
        assert service.refused == 1
    assert all(t != f"{PREFIX}/reply" for t, _, _ in observer.since(mark))  # never reached the service
    with serving(daemon, allow=["127.0.0.1"]) as service:
        allowed = observer.mark()
        assert Handled.is_type(ask(service.port, "turn on the hallway light").type)
        observer.wait_for("zigbee2mqtt/hallway_light/set", start=allowed)


async def close(client: AsyncTcpClient) -> None:
    try:
        await client.disconnect()
    except ConnectionError:  # the server had closed it
        pass


def test_a_flood_of_connections_is_capped_and_the_others_still_served(home):
    daemon, _ = home

    async def flood(port: int) -> tuple[list[Event | None], Event]:
        holders = [AsyncTcpClient("127.0.0.1", port) for _ in range(10)]
        for client in holders:
            await client.connect()
        await asyncio.sleep(0.2)  # let the server accept them all
        results = []
        for client in holders:
            try:
                await client.write_event(Describe().event())
                results.append(await asyncio.wait_for(client.read_event(), 10))
            except ConnectionError:  # closed by the server, before or after the write
                results.append(None)
        for client in holders[:5]:
            await close(client)
        await asyncio.sleep(0.2)
        answer = (await exchange(port, Transcript("turn on the hallway light").event()))[0]
        for client in holders[5:]:
            await close(client)
        return results, answer

    with serving(daemon, max_connections=3) as service:
        results, answer = asyncio.run(flood(service.port))
        assert service.refused == 7
    assert [r is not None and Info.is_type(r.type) for r in results] == [True] * 3 + [False] * 7
    assert Handled.is_type(answer.type)


def test_a_silent_connection_does_not_hold_up_another(home):
    daemon, _ = home

    async def both(port: int) -> Event:
        async with AsyncTcpClient("127.0.0.1", port) as silent:
            await silent.write_event(AudioStart(rate=16000, width=2, channels=1).event())  # and then nothing
            return (await exchange(port, Transcript("turn on the hallway light").event()))[0]

    with serving(daemon) as service:
        assert Handled.is_type(asyncio.run(both(service.port)).type)


# -- discovery ----------------------------------------------------------------------------------------


def test_zeroconf_is_on_where_others_can_connect():
    from assistant.wyoming.discovery import wanted

    assert not wanted(None, "127.0.0.1") and not wanted(None, "localhost") and not wanted(None, "::1")
    assert wanted(None, "0.0.0.0") and wanted(None, "192.168.1.5")
    assert wanted(True, "127.0.0.1") and not wanted(False, "0.0.0.0")


def test_home_assistant_discovers_the_server_over_zeroconf(home):
    """A zeroconf browser, as Home Assistant's, on loopback multicast: it finds ``<name>._wyoming._tcp``
    with the server's address and port, ``describe`` there answers, and the service goes when the server
    stops (no longer answered)."""
    import os
    import time

    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    daemon, _ = home
    name = f"assistant-test-{os.getpid()}-{free_port()}"
    full = f"{name}._wyoming._tcp.local."
    seen: list[tuple[str, ServiceStateChange]] = []

    async def browse(until) -> AsyncServiceInfo | None:
        zeroconf = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
        browser = AsyncServiceBrowser(zeroconf.zeroconf, "_wyoming._tcp.local.",
                                      handlers=[lambda zeroconf, service_type, name, state_change:
                                                seen.append((name, state_change))])  # fmt: skip
        try:
            deadline = time.monotonic() + 15
            while not until() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            info = AsyncServiceInfo("_wyoming._tcp.local.", full)
            return info if await info.async_request(zeroconf.zeroconf, 3000) else None
        finally:
            await browser.async_cancel()
            await zeroconf.async_close()

    with serving(daemon, zeroconf=True, zeroconf_name=name) as service:
        assert service.advertised.wait(15)
        info = asyncio.run(browse(lambda: (full, ServiceStateChange.Added) in seen))
        assert info is not None and info.port == service.port
        assert info.parsed_addresses() == ["127.0.0.1"]
        described = Info.from_event(asyncio.run(exchange(info.port, Describe().event()))[0])
        assert [p.name for p in described.handle] == ["assistant"]
    assert asyncio.run(browse(lambda: True)) is None  # stopped: no longer answered


# -- assistant run ----------------------------------------------------------------------------------


def test_assistant_run_starts_the_wyoming_server(tmp_path, broker_port):
    """The composition root: `assistant run` with `wyoming.uri` set serves Home Assistant."""
    import signal
    import time

    from .test_service import start_service, write_config

    port = free_port()
    config = write_config(tmp_path, broker_port)
    config.write_text(config.read_text() + f"wyoming:\n  uri: tcp://127.0.0.1:{port}\n")
    proc = start_service(config)
    observer = Observer(broker_port)
    try:
        observer.wait_for(f"{PREFIX}/status", lambda p: p == b"online", timeout=60)
        deadline = time.monotonic() + 60
        while True:  # the server starts once the speech models are loaded
            try:
                info = Info.from_event(asyncio.run(exchange(port, Describe().event()))[0])
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "service.log").read_text()
                time.sleep(0.5)
        assert info.handle and (info.asr != []) == HAS_VOICE
        mark = observer.mark()
        assert Handled.is_type(ask(port, "turn on the hallway light").type)
        observer.wait_for("zigbee2mqtt/hallway_light/set", start=mark)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        observer.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


# -- satellites -------------------------------------------------------------------------------------


class FakeSatellite:
    """A satellite as wyoming-satellite behaves (a Wyoming server, streaming after ``run-satellite``),
    built on the library's own server classes: it streams ``samples`` once (16 kHz mono; a list: one
    utterance after another, each once the reply to the one before has been played), or only their first
    ``drop_after`` part and then hangs up; it keeps what the brain sends back."""

    def __init__(self, samples: np.ndarray | list[np.ndarray], drop_after: float | None = None) -> None:
        from wyoming.server import AsyncTcpServer

        self.port = free_port()
        self.server = AsyncTcpServer("127.0.0.1", self.port)
        self.utterances = list(samples) if isinstance(samples, list) else [samples]
        self.drop_after = drop_after
        self.received: list[Event] = []
        self.streamed = False
        self.done = asyncio.Event()

    def handler(self, reader, writer):
        from wyoming.server import AsyncEventHandler

        satellite = self

        class Handler(AsyncEventHandler):
            async def stream(self, samples: np.ndarray) -> None:
                from wyoming.pipeline import PipelineStage, RunPipeline

                await self.write_event(RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS).event())
                for i in range(0, len(samples), 1024):
                    await self.write_event(AudioChunk(rate=16000, width=2, channels=1,
                                                      audio=samples[i : i + 1024].tobytes()).event())  # fmt: skip

            async def handle_event(self, event: Event) -> bool:
                from wyoming.satellite import RunSatellite

                if RunSatellite.is_type(event.type) and not satellite.streamed:
                    satellite.streamed = True
                    samples = satellite.utterances.pop(0)
                    if satellite.drop_after is not None:
                        await self.stream(samples[: int(len(samples) * satellite.drop_after)])
                        satellite.done.set()
                        return False  # hang up mid-utterance
                    await self.stream(samples)
                    return True
                satellite.received.append(event)
                if AudioStop.is_type(event.type):  # a reply played
                    if satellite.utterances:
                        await self.stream(satellite.utterances.pop(0))
                    else:
                        satellite.done.set()
                return True

        return Handler(reader, writer)


@asynccontextmanager
async def satellites_served(service, *satellites: FakeSatellite):
    """The satellites' servers up and the brain connected to them; on leaving, the brain stopped, then them."""
    for satellite in satellites:
        await satellite.server.start(satellite.handler)
    await asyncio.to_thread(service.start)
    try:
        yield
    finally:
        await asyncio.to_thread(service.stop)
        for satellite in satellites:
            await satellite.server.stop()


def piper_says(speaker, text: str) -> np.ndarray:
    """Piper saying ``text`` without its random noise, 16 kHz, with silence around."""
    from piper.config import SynthesisConfig

    from assistant.voice.audio import to_mono_16k

    voice = speaker.engine.voice
    style = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    audio = np.concatenate([c.audio_int16_array for c in voice.synthesize(text, syn_config=style)])
    speech = to_mono_16k(audio, voice.config.sample_rate)
    return np.concatenate([np.zeros(8000, np.int16), speech, np.zeros(24000, np.int16)])


@pytest.fixture(scope="module")
def lights_spoken(speaker) -> np.ndarray:
    return piper_says(speaker, "Switch on the lights.")


def test_satellites_in_two_rooms_and_one_that_drops(home, config, recognizer, speaker, lights_spoken):
    from assistant.app import satellite_ears

    daemon, observer = home
    kitchen, office = FakeSatellite(lights_spoken), FakeSatellite(lights_spoken)
    dropping = FakeSatellite(lights_spoken, drop_after=0.5)
    satellites = [Satellite(id="kitchen-sat", area="Kitchen", uri=f"tcp://127.0.0.1:{kitchen.port}"),
                  Satellite(id="office-sat", area="Office", uri=f"tcp://127.0.0.1:{office.port}"),
                  Satellite(id="bedroom-sat", area="Bedroom", uri=f"tcp://127.0.0.1:{dropping.port}")]  # fmt: skip
    wyoming = Wyoming(uri=f"tcp://127.0.0.1:{free_port()}", satellites=satellites)
    service = WyomingService(wyoming, daemon.submit, lambda: daemon.registry, recognizer, speaker,
                             make_ears=satellite_ears(config, recognizer))  # fmt: skip
    mark = observer.mark()

    async def rooms() -> None:
        async with satellites_served(service, kitchen, office, dropping):
            await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in (kitchen, office, dropping))), 180)

    asyncio.run(rooms())
    for satellite, area, lights in ((kitchen, "Kitchen", ("kitchen_ceiling", "kitchen_counter")),
                                    (office, "Office", ("office_ceiling", "office_desk_lamp"))):  # fmt: skip
        types = [e.type for e in satellite.received]
        assert types[:3] == ["transcript", "synthesize", "audio-start"] and types[-1] == "audio-stop", area
        assert "lights" in Transcript.from_event(satellite.received[0]).text.lower()
        reply = Synthesize.from_event(satellite.received[1]).text
        assert reply.startswith("Turned on the ") and all(w in reply for w in area.split()), reply
        for light in lights:
            observer.wait_for(f"zigbee2mqtt/{light}/set", lambda p: json.loads(p) == {"state": "ON"}, start=mark)
    # the one that hung up mid-sentence got nothing and switched nothing; the others were not held up
    assert {e.type for e in dropping.received} <= {"run-satellite"}  # (the link came back: run-satellite)
    assert not [t for t, _, _ in observer.since(mark) if "bedroom" in t or "bedside" in t]
    links = {link.satellite.id: link for link in service.links}
    assert links["kitchen-sat"].commands == 1 and links["office-sat"].commands == 1
    assert links["bedroom-sat"].commands == 0


# -- pure mapping -----------------------------------------------------------------------------------


def test_asker_names_the_conversation_and_room():
    from assistant.wyoming.intent import asker

    sats = [Satellite(id="kitchen-sat", area="Kitchen")]
    assert asker({"device_id": "kitchen-sat"}, sats, "10.0.0.2") == ("kitchen-sat", "Kitchen")
    assert asker({"device_id": "kitchen-sat", "area": "Office"}, sats, "10.0.0.2") == ("kitchen-sat", "Office")
    assert asker({"conversation_id": "c1"}, sats, "10.0.0.2") == ("wyoming:c1", None)
    assert asker(None, sats, "10.0.0.2") == ("wyoming:10.0.0.2", None)
    assert asker({"conversation_id": "x" * 500}, sats, "p")[0] == ("wyoming:" + "x" * 500)[:64]


def test_several_targets_become_an_area_and_a_domain(understander, registry):
    from assistant.understanding.parser import Context
    from assistant.wyoming.intent import ha_entities

    parse = understander.parse("turn on the lights", registry, Context(area="Kitchen"))
    assert parse.intent == "HassTurnOn" and len(parse.targets) == 2
    assert {e.name: e.value for e in ha_entities(parse, registry)} == {"area": "Kitchen", "domain": "light"}


# -- one sentence, four ways in -----------------------------------------------------------------------


def test_the_same_sentence_gives_the_same_device_message_every_way_in(home, config, understander, recognizer,
                                                                      speaker):  # fmt: skip
    """One recording, "turn on the living room lamp", through each front door of one service: typed over
    MQTT, heard by the microphone loop, transcribed and handled over Wyoming as Home Assistant's pipeline
    does (asr, then the transcript), and streamed by a satellite. Each gives the same device message."""
    import soundfile as sf

    from assistant.app import satellite_ears
    from assistant.understanding.parser import Context
    from assistant.voice.audio import read_wav, split
    from assistant.voice.microphone import MicrophoneLoop
    from assistant.voice.vad import SileroVad

    daemon, observer = home
    text = "turn on the living room lamp"
    expected = understander.parse(text, daemon.registry, Context())
    wanted = [(a.topic, a.payload.encode()) for a in expected.actions]
    assert wanted == [("zigbee2mqtt/living_room_lamp/set", b'{"state":"ON"}')]
    own = {f"{PREFIX}/{t}" for t in ("status", "intent", "reply", "timer", "devices", "stats", "probe", "command")}

    def device_messages(mark: int) -> list[tuple[str, bytes]]:
        """What went to devices since ``mark``, once the command's reply is out (it comes after them)."""
        observer.wait_for(f"{PREFIX}/reply", start=mark, timeout=60)
        return [(t, p) for t, p, _ in observer.since(mark) if t not in own]

    samples = np.concatenate([read_wav(LAMP), np.zeros(16000, np.int16)])  # 16 kHz mono, a pause after
    got: dict[str, list[tuple[str, bytes]]] = {}

    # 1. typed, over MQTT
    mark = observer.mark()
    observer.publish(f"{PREFIX}/command", json.dumps({"text": text, "id": "mqtt"}))
    got["mqtt"] = device_messages(mark)

    # 2. spoken into the microphone loop (the voice front door's thread, given the recording as its source)
    class Recording:
        def chunks(self):
            yield from split(samples)

    mark = observer.mark()
    microphone = MicrophoneLoop(config, recognizer, SileroVad(), daemon.submit, Recording)
    microphone.start()
    microphone.thread.join(60)
    assert not microphone.thread.is_alive()
    got["microphone"] = device_messages(mark)

    # 3. Home Assistant's pipeline over Wyoming: our speech to text, then our conversation agent
    data, rate = sf.read(str(LAMP), dtype="int16", always_2d=True)
    audio, channels = data.astype("<i2").tobytes(), data.shape[1]
    step = rate * 2 * channels // 10
    stt = [Transcribe(language="en").event(), AudioStart(rate=rate, width=2, channels=channels).event()]
    stt += [AudioChunk(rate=rate, width=2, channels=channels, audio=audio[i : i + step]).event()
            for i in range(0, len(audio), step)]  # fmt: skip
    stt.append(AudioStop().event())
    mark = observer.mark()
    with serving(daemon, recognizer=recognizer) as service:
        heard = Transcript.from_event(asyncio.run(exchange(service.port, *stt))[0]).text
        answer = ask(service.port, heard, {"conversation_id": "ha"})
    assert Handled.is_type(answer.type), answer
    assert Handled.from_event(answer).text == expected.reply
    got["wyoming"] = device_messages(mark)

    # 4. a satellite in the living room streaming the same recording
    satellite = FakeSatellite(samples)
    satellites = [Satellite(id="lounge-sat", area="Living Room", uri=f"tcp://127.0.0.1:{satellite.port}")]
    wyoming = Wyoming(uri=f"tcp://127.0.0.1:{free_port()}", satellites=satellites)
    service = WyomingService(wyoming, daemon.submit, lambda: daemon.registry, recognizer, speaker,
                             make_ears=satellite_ears(config, recognizer))  # fmt: skip
    mark = observer.mark()

    async def room() -> None:
        async with satellites_served(service, satellite):
            await asyncio.wait_for(satellite.done.wait(), 120)

    asyncio.run(room())
    assert Synthesize.from_event(satellite.received[1]).text == expected.reply
    got["satellite"] = device_messages(mark)

    assert got == {way: wanted for way in ("mqtt", "microphone", "wyoming", "satellite")}


# -- timers -------------------------------------------------------------------------------------------


def test_a_timer_is_announced_back_to_the_satellite_that_set_it(home, config, recognizer, speaker):
    """A satellite in the kitchen says "start a three second timer": it gets Wyoming's ``timer-started``
    before the reply; when it finishes, that satellite (and not the one in the office) gets
    ``timer-finished`` and the spoken announcement."""
    from wyoming.timer import TimerFinished, TimerStarted

    from assistant.app import satellite_ears

    daemon, observer = home
    spoken = piper_says(speaker, "Start a three second timer.")
    silence = np.zeros(16000, np.int16)
    kitchen, office = FakeSatellite(spoken), FakeSatellite(silence)
    satellites = [Satellite(id="kitchen-sat", area="Kitchen", uri=f"tcp://127.0.0.1:{kitchen.port}"),
                  Satellite(id="office-sat", area="Office", uri=f"tcp://127.0.0.1:{office.port}")]  # fmt: skip
    wyoming = Wyoming(uri=f"tcp://127.0.0.1:{free_port()}", satellites=satellites)
    service = WyomingService(wyoming, daemon.submit, lambda: daemon.registry, recognizer, speaker,
                             make_ears=satellite_ears(config, recognizer))  # fmt: skip
    daemon.announcers.append(service.timer_finished)
    daemon.timer_watchers.append(service.timer_changed)
    mark = observer.mark()

    async def announced() -> bool:
        return any(TimerFinished.is_type(e.type) for e in kitchen.received) and AudioStop.is_type(
            kitchen.received[-1].type)  # fmt: skip

    async def rooms() -> None:
        async with satellites_served(service, kitchen, office):
            await asyncio.wait_for(kitchen.done.wait(), 120)  # the timer was set and the reply spoken
            for _ in range(200):  # then the timer runs out
                if await announced():
                    break
                await asyncio.sleep(0.1)

    try:
        asyncio.run(rooms())
    finally:
        daemon.announcers.remove(service.timer_finished)
        daemon.timer_watchers.remove(service.timer_changed)
    types = [e.type for e in kitchen.received]
    assert types[:3] == ["transcript", "timer-started", "synthesize"], types
    started = TimerStarted.from_event(kitchen.received[1])
    assert (started.total_seconds, started.start_hours, started.start_minutes, started.start_seconds) == (3, None, None, 3)
    assert Synthesize.from_event(kitchen.received[2]).text == "Timer set for 3 seconds.", types
    at = types.index("timer-finished")
    assert types[at + 1 : at + 3] == ["synthesize", "audio-start"] and types[-1] == "audio-stop", types
    done = Synthesize.from_event(kitchen.received[at + 1]).text
    assert "timer" in done.lower() and "done" in done.lower(), done
    timer = json.loads(observer.wait_for(f"{PREFIX}/timer", start=mark))
    assert timer["event"] == "finished" and TimerFinished.from_event(kitchen.received[at]).id == str(timer["id"])
    assert started.id == str(timer["id"])
    assert {e.type for e in office.received} <= {"run-satellite"}  # the other room heard nothing of it
    assert {link.satellite.id: link.announced for link in service.links} == {"kitchen-sat": 1, "office-sat": 0}


def test_a_satellites_timer_is_shown_on_it_as_it_changes(home, config, recognizer, speaker):
    """Spoken to a kitchen satellite one after another: start a ten minute timer, pause it, resume it,
    cancel it. The satellite gets ``timer-started``, ``timer-updated`` (paused, then running) and
    ``timer-cancelled`` for the same timer, each before its reply, as wyoming-satellite gets them from
    Home Assistant; the office satellite gets none."""
    from wyoming.timer import TimerCancelled, TimerStarted, TimerUpdated

    from assistant.app import satellite_ears

    daemon, _ = home
    said = ["Start a ten minute timer.", "Pause the timer.", "Resume the timer.", "Cancel the timer."]
    kitchen = FakeSatellite([piper_says(speaker, text) for text in said])
    office = FakeSatellite(np.zeros(16000, np.int16))
    satellites = [Satellite(id="kitchen-sat", area="Kitchen", uri=f"tcp://127.0.0.1:{kitchen.port}"),
                  Satellite(id="office-sat", area="Office", uri=f"tcp://127.0.0.1:{office.port}")]  # fmt: skip
    wyoming = Wyoming(uri=f"tcp://127.0.0.1:{free_port()}", satellites=satellites)
    service = WyomingService(wyoming, daemon.submit, lambda: daemon.registry, recognizer, speaker,
                             make_ears=satellite_ears(config, recognizer))  # fmt: skip
    daemon.timer_watchers.append(service.timer_changed)

    async def rooms() -> None:
        async with satellites_served(service, kitchen, office):
            await asyncio.wait_for(kitchen.done.wait(), 180)

    try:
        asyncio.run(rooms())
    finally:
        daemon.timer_watchers.remove(service.timer_changed)
    # each command: its transcript, the timer's event, then the reply
    shown = [(e.type, kitchen.received[i + 1].type) for i, e in enumerate(kitchen.received[:-1])
             if e.type.startswith("timer-")]  # fmt: skip
    assert shown == [("timer-started", "synthesize"), ("timer-updated", "synthesize"),
                     ("timer-updated", "synthesize"), ("timer-cancelled", "synthesize")], [e.type for e in kitchen.received]  # fmt: skip
    events = [e for e in kitchen.received if e.type.startswith("timer-")]
    started = TimerStarted.from_event(events[0])
    assert (started.total_seconds, started.start_minutes) == (600, 10)
    paused, resumed = TimerUpdated.from_event(events[1]), TimerUpdated.from_event(events[2])
    assert not paused.is_active and resumed.is_active and 590 <= resumed.total_seconds <= paused.total_seconds <= 600
    cancelled = TimerCancelled.from_event(events[3])
    assert started.id == paused.id == resumed.id == cancelled.id
    replies = [Synthesize.from_event(e).text for e in kitchen.received if Synthesize.is_type(e.type)]
    assert replies[0] == "Timer set for 10 minutes." and len(replies) == 4, replies
    assert {e.type for e in office.received} <= {"run-satellite"}
