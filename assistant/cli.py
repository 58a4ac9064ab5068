"""The `assistant` command line."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import platform
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from . import __version__, paths
from .app import REPO_ROOT, load_understanding, load_voice, model_path
from .config import check_input_device, config_location, load_config
from .errors import AssistantError, ConfigError, ModelError

log = logging.getLogger("assistant")

DEFAULT_CONFIG = "config.yaml"
UNSUPPORTED_MACHINES = ("armv6", "armv7", "armv8l")
"""32-bit ARM (`platform.machine()` prefixes): onnxruntime has no wheel for it."""


def config_path(arg: str | None) -> str:
    return arg or os.environ.get("ASSISTANT_CONFIG") or DEFAULT_CONFIG


# ----------------------------------------------------------------------------------------------


def cmd_check_config(args: argparse.Namespace) -> int:
    """The file (every problem, with its line), then what it points at: the model file and the microphone.
    Starts nothing; errors exit 2, warnings and checks that could not be made are printed and exit 0."""
    path = config_path(args.config)
    config, base = load_config(path)
    try:
        model: Path | None = model_path(config, base)
    except ModelError as exc:
        print(f"error: {config_location(path, ('understanding', 'model'))}: {exc}", file=sys.stderr)
        model = None
    if config.audio.input is not None:
        where = f"{config_location(path, ('audio', 'input'))}: audio.input {config.audio.input!r}"
        unchecked = None
        try:
            import sounddevice
        except ImportError:
            unchecked = f"sounddevice is not installed ({paths.install_hint('voice')})"
        except OSError as exc:  # sounddevice without the PortAudio library
            unchecked = f"{exc} (on Debian and Raspberry Pi OS: apt-get install libportaudio2)"
        else:
            try:
                problem = check_input_device(config.audio.input, sounddevice)
            except sounddevice.PortAudioError as exc:  # no device list to compare with
                unchecked = str(exc)
            else:
                if problem is not None:
                    print(f"warning: {where}: {problem}", file=sys.stderr)
        if unchecked is not None:
            print(f"note: {where}: could not be checked: {unchecked}", file=sys.stderr)
    if model is None:
        return 2
    print(f"{path}: OK ({len(config.areas)} areas, {len(config.devices)} devices; model {model})")
    return 0


def _requests(args: argparse.Namespace) -> Iterator[tuple[str, Any, dict[str, Any] | None, str | None]]:
    """(text, id, context, error) per input, in order."""
    if args.text:
        for text in args.text:
            yield text, None, None, None
        return
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not args.jsonl:
            yield line, None, None, None
            continue
        stripped = line.strip()
        if not stripped.startswith(("{", '"')):
            yield line, None, None, None
            continue
        try:
            data = json.loads(stripped)
        except ValueError:
            yield line, None, None, "invalid JSON"
            continue
        if isinstance(data, str):
            yield data, None, None, None
        elif isinstance(data, dict):
            text = data.get("text")
            context = data.get("context")
            if not isinstance(text, str):
                yield "", data.get("id"), None, "missing `text` string"
            elif context is not None and not isinstance(context, dict):
                yield text, data.get("id"), None, "`context` must be an object"
            else:
                yield text, data.get("id"), context, None
        else:
            yield line, None, None, "expected a JSON object with `text`"


def cmd_parse(args: argparse.Namespace) -> int:
    from .devices import Registry
    from .understanding.parser import Context
    from .understanding.replies import NOT_UNDERSTOOD

    config, base = load_config(config_path(args.config))
    understander = load_understanding(config, base)
    registry = Registry.from_config(config)
    for text, request_id, context_data, error in _requests(args):
        if error is None:
            try:
                context = Context.from_json(context_data)
            except (ValueError, TypeError) as exc:
                error = f"bad context: {exc}"
        if error is not None:
            result: dict[str, Any] = {"text": text[:400], "intent": None, "confidence": 0.0, "slots": {}, "targets": [],
                      "actions": [], "reply": NOT_UNDERSTOOD, "outcome": "rejected", "error": error,
                      "timings_ms": {"total": 0.0}}  # fmt: skip
            if request_id is not None:
                result = {"id": request_id, **result}
        else:
            result = understander.parse(text, registry, context).as_dict(request_id)
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .tools.evaluate import run_eval

    config, base = load_config(config_path(args.config))
    if args.early:
        if args.voice or args.report:
            raise AssistantError("--early is a run of its own: not with --voice or --report")
        from .tools.early import run_early_eval
        from .tools.evaluate import SHARED_SPEECH

        return run_early_eval(config, base, load_voice, Path(args.speech) if args.speech else SHARED_SPEECH)
    if args.voice:
        if args.report:
            raise AssistantError("--report is for the text evaluation, not --voice")
        from .tools.evaluate import run_voice_eval

        if args.speech:
            return run_voice_eval(config, base, load_voice, speech=Path(args.speech))
        return run_voice_eval(config, base, load_voice)
    if args.data is None:  # the written evaluation split when this is a checkout, else the hand-written set
        split = sorted((REPO_ROOT / "corpus" / "eval").glob("*.jsonl"))
        if split:
            from .tools.evaluate import run_corpus_eval

            return run_corpus_eval(config, load_understanding(config, base), split, args)
        args.data = str(REPO_ROOT / "tests" / "data" / "handwritten.jsonl")
    if Path(args.data).is_dir() or Path(args.data).parent.name in ("eval", "holdout"):
        from .tools.evaluate import run_corpus_eval

        paths = sorted(Path(args.data).glob("*.jsonl")) if Path(args.data).is_dir() else [Path(args.data)]
        return run_corpus_eval(config, load_understanding(config, base), paths, args)
    return run_eval(config, load_understanding(config, base), Path(args.data), args)


def cmd_bench(args: argparse.Namespace) -> int:
    from .tools.bench import Measured, run_bench, write_bench_report

    path = Path(config_path(args.config))
    config, base = load_config(path)
    if args.faults:
        if args.report:
            raise AssistantError("--report is for the latency tables, not --faults")
        from .app import load_understanding
        from .tools.faults import run_faults

        return run_faults(config, load_understanding(config, base))
    if args.report:
        from .tools.report import require

        require()  # before the benchmark, not after it
    measured: list[Measured] = []
    status = run_bench(config, model_path(config, base), Path(args.data), args, measured)
    if status == 0 and args.mqtt:
        from .tools.bench import run_mqtt_bench

        status = run_mqtt_bench(path, model_path(config, base), args.commands, measured)
    if status == 0 and args.vosk:
        from .tools.bench import run_vosk_bench

        status = run_vosk_bench(config, [Path(f) for f in args.vosk], args.vosk_model, measured)
    if status == 0 and args.voice:
        from .tools.bench import run_voice_bench

        status = run_voice_bench(config, base, [Path(f) for f in args.voice], args.voice_runs, measured)
    if status == 0 and args.wyoming:
        from .tools.bench_wyoming import run_wyoming_bench

        status = run_wyoming_bench(config, base, args.wyoming_runs, args.wyoming_realtime)
    if status == 0 and args.satellites:
        from .tools.bench_satellites import run_satellites_bench

        status = run_satellites_bench(path, config, model_path(config, base), args.satellites, args.satellite_rounds,
                                      measured)  # fmt: skip
    if status == 0 and args.ready:
        from .tools.bench import run_service_ready_bench

        speech = [Path(f) for f in args.voice] if args.voice else None
        status = run_service_ready_bench(path, model_path(config, base), args.ready, measured, speech)
    if status == 0 and args.report:
        write_bench_report(Path(args.report), measured)
    return status


def cmd_run(args: argparse.Namespace) -> int:
    import signal
    import threading

    # a reload asked for while the models load is done once the service runs (SIGHUP would end it here)
    reload_asked = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: reload_asked.set())
    from .app import run_service

    path = Path(config_path(args.config))
    config, base = load_config(path)
    log.info("starting: loading the models")
    return run_service(path, config, base, reload_asked)


def cmd_devices(args: argparse.Namespace) -> int:
    from .tools.listing import print_devices

    config, _ = load_config(config_path(args.config))
    return print_devices(config, args.json)


def cmd_demo(args: argparse.Namespace) -> int:
    from .tools.demo import run_demo

    config, base = load_config(config_path(args.config))
    return run_demo(config, base, load_understanding, args.text)


def cmd_process(args: argparse.Namespace) -> int:
    from .voice.audio import PcmSource, WavSource

    config, base = load_config(config_path(args.config))
    pipeline = load_voice(config, base)
    for name in args.files:
        pipeline.reset()
        source = PcmSource(sys.stdin.buffer, args.rate, args.channels) if name == "-" else WavSource(name)
        for row in pipeline.run(source.chunks()):
            sys.stdout.write(json.dumps({"file": name, **row}, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from . import models

    return models.cli(args.action, args.ids)


def cmd_train(args: argparse.Namespace) -> int:
    from .train import pipeline

    return pipeline.run(args)


def build_parser() -> argparse.ArgumentParser:
    from . import models

    try:
        version = importlib.metadata.version(paths.DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that is not installed
        version = __version__
    parser = argparse.ArgumentParser(prog="assistant", description="Offline voice assistant for the smart home.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version} ({paths.DISTRIBUTION})")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    # -v after the command too (`assistant parse -v ...`); SUPPRESS keeps it from resetting one given before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="one of these; `assistant COMMAND --help` for its options")

    def command(name: str, help: str, **kwargs: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".", parents=[common],
                              **kwargs)  # fmt: skip

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", metavar="PATH",
                       help=f"config file (default: $ASSISTANT_CONFIG or {DEFAULT_CONFIG})")
        return p


    p = with_config(command("check-config", "validate the config, its model file and microphone; start nothing"))
    p.set_defaults(func=cmd_check_config)

    p = with_config(command("parse", "understand sentences; print one JSON object per line"))
    p.add_argument("--jsonl", action="store_true", help='stdin lines are JSON: {"text", "id", "context"}')
    p.add_argument("text", nargs="*", help="sentences (default: one per stdin line)")
    p.set_defaults(func=cmd_parse)

    p = with_config(command("eval", "measure accuracy on the written evaluation split (or a set given), "
                                   "beside hassil"))
    p.add_argument("--data", default=None, help="a JSONL set, hand-written format, or a corpus folder/file "
                   "(default: the checkout's corpus/eval/, else tests/data/handwritten.jsonl)")
    p.add_argument("--generated", default=None, help="held-out generated split (default: from the model metadata)")
    p.add_argument("--no-hassil", action="store_true", help="skip the hassil peer")
    p.add_argument("--errors", type=int, default=0, metavar="N", help="print up to N failures")
    p.add_argument("--voice", action="store_true",
                   help="instead: WER and command success on recordings (--speech) and on Piper speech "
                        "with noise (needs the [voice] extra)")  # fmt: skip
    p.add_argument("--early", action="store_true",
                   help="instead: acting at a pause (audio.act_early) beside waiting for the end of speech, on "
                        "the recordings (--speech), Piper and espeak-ng commands, with pauses inside them: how "
                        "often an early action cut a command short (needs the [voice] extra)")  # fmt: skip
    p.add_argument("--speech", metavar="DIR", help="--voice, --early: the folder with commands/ and librivox/ "
                   "(default: ../shared/data/speech; the README says what goes in it)")
    p.add_argument("--report", metavar="FILE",
                   help="also write an HTML report: the table and per-intent accuracy bars "
                        "(needs the [report] extra)")  # fmt: skip
    p.set_defaults(func=cmd_eval, log_level=logging.WARNING)

    p = with_config(command("bench", "measure parse latency (p50/p95), load time and memory, beside hassil"))
    p.add_argument("--data", default=str(REPO_ROOT / "tests" / "data" / "handwritten.jsonl"),
                   help="sentences and their expected results, JSON lines (default: the checkout's "
                        "tests/data/handwritten.jsonl)")  # fmt: skip
    p.add_argument("--runs", type=int, default=5, metavar="N",
                   help="passes over the sentences (default: %(default)s)")
    p.add_argument("--no-hassil", action="store_true", help="skip the hassil peer")
    p.add_argument("--mqtt", action="store_true",
                   help="also: command-to-device latency over a real broker (mosquitto on a free port, else "
                        "the embedded one)")  # fmt: skip
    p.add_argument("--commands", type=int, default=200, metavar="N",
                   help="--mqtt: commands to send (default: %(default)s)")
    p.add_argument("--faults", action="store_true",
                   help="instead: stalls, refusals, outages and attacks on a real mosquitto; a table of actions "
                        "expected/seen/late/wrong and whether each reply told the truth")  # fmt: skip
    p.add_argument("--voice", nargs="+", metavar="WAV",
                   help="also: end of speech to device message over mosquitto, real-time factor, memory")
    p.add_argument("--voice-runs", type=int, default=3, metavar="N",
                   help="--voice: runs per file (default: %(default)s)")
    p.add_argument("--ready", type=int, default=0, metavar="N",
                   help="also: start the voice service N times, time start to ready, peak memory; with --voice "
                        "WAV ...: also its peak memory after recognising them and speaking a long reply")  # fmt: skip
    p.add_argument("--wyoming", action="store_true",
                   help="also: speech to text over Wyoming beside wyoming-faster-whisper (same audio, same Whisper "
                        "model): latency p50/p95, WER, right commands")  # fmt: skip
    p.add_argument("--wyoming-runs", type=int, default=3, help="passes over the audio for --wyoming")
    p.add_argument("--wyoming-realtime", action="store_true",
                   help="--wyoming: stream the audio at real-time pace, then 0.7 s of silence, as Home Assistant "
                        "streams a microphone (recognition may start before audio-stop)")  # fmt: skip
    p.add_argument("--satellites", type=int, default=0, metavar="N",
                   help="also: N simulated satellites (1-8, one per room) speaking at once to the service over "
                        "Wyoming: end of speech to device message p50/p95, the service's CPU and peak memory")  # fmt: skip
    p.add_argument("--satellite-rounds", type=int, default=5, metavar="N",
                   help="--satellites: rounds of all at once, and of one alone (default: %(default)s)")
    p.add_argument("--vosk", nargs="+", metavar="WAV", help="also: vosk streaming, endpoint to final transcript")
    p.add_argument("--vosk-model", default="vosk-model-small-ko-0.22", metavar="ID",
                   help="--vosk: a model id or folder (default: %(default)s)")
    p.add_argument("--report", metavar="FILE",
                   help="also write an HTML report: every latency table printed (parse, --mqtt, --voice, "
                        "--vosk, --ready, --satellites) with its histograms; not for --faults "
                        "(needs the [report] extra)")  # fmt: skip
    p.set_defaults(func=cmd_bench, log_level=logging.WARNING)

    p = with_config(command("run", "run the assistant service on MQTT"))
    p.set_defaults(func=cmd_run)

    p = with_config(command("devices", "list the registry as the running service sees it"))
    p.add_argument("--json", action="store_true", help="print the JSON the service publishes")
    p.set_defaults(func=cmd_devices)

    p = with_config(command("demo", "try it with no broker: an embedded one, the service and a few commands, "
                                     "printed (the service's log with -v)"))
    p.add_argument("text", nargs="*", help="commands to send (default: a handful of examples)")
    p.set_defaults(func=cmd_demo, log_level=logging.WARNING)

    p = with_config(command("process", "run the voice pipeline on audio files; print one JSON object per "
                                      "utterance"))
    p.add_argument("files", nargs="+", help="WAV files (any rate, any channels); - reads raw s16le PCM from stdin")
    p.add_argument("--rate", type=int, default=16000, help="stdin PCM: sample rate in Hz")
    p.add_argument("--channels", type=int, default=1, help="stdin PCM: channels")
    p.set_defaults(func=cmd_process)

    p = command("models", "list, pull (download and verify) or verify the speech models",
                epilog=models.registry_help(), formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("action", choices=["list", "pull", "verify"],
                   help="list: where each model is; pull: fetch and verify; verify: check every file's sha256")
    p.add_argument("ids", nargs="*", metavar="ID", help="model ids, below (default: all)")
    p.set_defaults(func=cmd_models)

    p = command("train", "reproduce the shipped model from scratch (needs the [train] extra)")
    try:
        from .train import pipeline
    except ImportError:  # the train package is optional at runtime
        pipeline = None  # type: ignore[assignment]
    if pipeline is not None:
        pipeline.add_arguments(p)
    p.set_defaults(func=cmd_train)
    return parser


def main(argv: Iterable[str] | None = None, *, machine: str | None = None) -> int:
    """The `assistant` command; ``machine`` stands in for ``platform.machine()`` in tests."""
    if machine is None:
        machine = platform.machine()
        if machine in ("aarch64", "arm64") and sys.maxsize < 2**32:  # 32-bit Raspberry Pi OS on a 64-bit kernel
            machine = "armv7l (a 32-bit system on a 64-bit kernel)"
    if machine.startswith(UNSUPPORTED_MACHINES):  # before anything imports onnxruntime
        print(f"error: 64-bit Raspberry Pi OS (arm64) is required; this is {machine}", file=sys.stderr)
        return 1
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    # demo, eval and bench print what they do; their INFO lines would be mixed in with it (-v brings them back)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else getattr(args, "log_level", logging.INFO),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for line in str(exc).splitlines():  # one problem a line, each `file:line: field: message`
            print(f"error: {line}", file=sys.stderr)
        return 2
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
