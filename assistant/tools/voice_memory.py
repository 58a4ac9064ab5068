"""The voice service's peak memory after recognising speech and speaking a long reply, in a process of its own.

Run by `assistant bench --ready N --voice WAV ...` as ``python -m assistant.tools.voice_memory CONFIG WAV ...``
with the systemd unit's environment: the service is built as `assistant run` builds it (``build_service``:
the language model, the voice front door's recogniser, VAD and speaker; not connected), the files are fed through the
microphone thread's own loop body at once (the commands it hands on are only collected), then the long
reply is voiced as the speaker thread does (synthesised, memory given back; not played). Prints one JSON line of VmHWM/VmRSS
figures in MB: at ready, after the speech was recognised, after the reply was voiced.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import AssistantError


def _mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str]) -> int:
    from ..app import build_service
    from ..config import load_config
    from ..voice.audio import read_wav, split
    from ..voice.memory import give_back
    from .bench import LONG_REPLY

    config, base = load_config(Path(argv[0]))
    _daemon, front = build_service(None, config, base)  # as `assistant run` builds it (not connected)
    if front is None:
        raise AssistantError(f"{argv[0]}: audio.input is not set: the service would have no voice to measure")
    ready = _mb("VmHWM")
    heard: list[str] = []
    front.loop.submit = lambda event: heard.append(event.text)
    for path in argv[1:]:
        front.loop.ears.reset()
        for chunk in split(read_wav(path)):
            front.loop.hear(chunk)
    recognised = _mb("VmHWM")
    if front.speaker is not None:  # as the speaker thread voices a reply (its sound card left out: none here)
        front.speaker.speaker.synthesize(LONG_REPLY)
        give_back()
    print(json.dumps({"ready_mb": ready, "recognised_mb": recognised, "spoken_mb": _mb("VmHWM"),
                      "resident_mb": _mb("VmRSS"), "heard": heard}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
