"""One sequence of commands through every way in: `assistant parse` (state passed in through context),
`assistant process` (spoken, one file per command, Piper's voice, Whisper) and the service on a real
mosquitto. All three must send the same device messages; only the session can carry out the "yes"."""

from __future__ import annotations

import importlib.util
import json
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from assistant.understanding.context import Context, Previous

from .conftest import CONFIG
from .test_daemon import PREFIX, broker, daemon, device_messages, observer, send  # noqa: F401 (fixtures)

SEQUENCE = ["Turn on the living room lamp.", "Now turn it off.", "Please unlock the front door.", "Yes, please."]


def via_parse(understander, registry) -> list[tuple[str, str]]:
    """parse with the previous command passed in as context; the confirmed action is the one parse holds back."""
    messages: list[tuple[str, str]] = []
    previous = None
    for text in SEQUENCE[:-1]:
        parse = understander.parse(text, registry, Context(previous=previous))
        messages += [(a.topic, a.payload) for a in parse.actions + parse.pending_actions]
        previous = Previous.of(parse) or previous
    return messages


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> list[Path]:
    from assistant.config import Tts
    from assistant.voice.tts import Speaker

    if importlib.util.find_spec("piper") is None:
        pytest.skip("piper-tts not installed")
    from piper.config import SynthesisConfig

    speaker = Speaker(Tts(engine="piper"))
    voice = speaker.engine.voice  # type: ignore[union-attr]
    style = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)  # the voice without its random noise: repeatable
    folder = tmp_path_factory.mktemp("spoken")
    paths = []
    for i, text in enumerate(SEQUENCE):
        audio = np.concatenate([c.audio_int16_array for c in voice.synthesize(text, syn_config=style)])
        rate = voice.config.sample_rate
        samples = np.concatenate([np.zeros(rate // 2, np.int16), np.asarray(audio, np.int16), np.zeros(rate, np.int16)])
        path = folder / f"{i}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(samples.tobytes())
        paths.append(path)
    return paths


def test_process_carries_the_conversation_across_files(spoken, capsys, understander, registry):
    assert main(["process", "--config", str(CONFIG), *map(str, spoken)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in rows] == [str(p) for p in spoken]
    assert [r["outcome"] for r in rows] == ["done", "done", "confirm", "done"]
    assert rows[3]["reply"] == "Unlocked the Front Door."
    got = [(a["topic"], a["payload"]) for r in rows for a in r["actions"]]
    assert got == via_parse(understander, registry)


def test_parse_process_and_the_service_send_the_same_messages(daemon, observer, understander, registry):  # noqa: F811
    expected = via_parse(understander, registry)
    assert len(expected) == 3
    mark = observer.mark()
    for i, text in enumerate(SEQUENCE):
        send(observer, text, f"s{i}", source="kitchen-panel")
    got = [(t, p.decode()) for t, p in device_messages(observer, mark, daemon) if not t.startswith(PREFIX)]
    assert got == expected

