"""What a newcomer expects of a command line: --version, -v anywhere, help on every option, the model ids
in `assistant models --help`, and a clear refusal on 32-bit ARM before anything heavy is imported."""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys

import pytest

from assistant import __version__
from assistant.cli import build_parser, main
from assistant.models import REGISTRY

from .conftest import ROOT


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_version_comes_from_the_package(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    try:
        expected = importlib.metadata.version("hearth-voice-assistant")
    except importlib.metadata.PackageNotFoundError:  # a checkout run without installing it
        expected = __version__
    assert capsys.readouterr().out.strip() == f"assistant {expected} (hearth-voice-assistant)"


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["parse", "hello"], False),
        (["-v", "parse", "hello"], True),
        (["parse", "-v", "hello"], True),
        (["parse", "hello", "--verbose"], True),
        (["-v", "check-config", "-v"], True),
    ],
)
def test_verbose_before_or_after_the_command(argv, verbose):
    assert build_parser().parse_args(argv).verbose is verbose


def test_every_command_takes_verbose():
    for name, parser in subcommands().items():
        assert "-v" in parser._option_string_actions, name


def _without_help(parser: argparse.ArgumentParser, groups: tuple[str, ...] = ()) -> list[str]:
    missing = []
    for group in parser._action_groups:
        if group.title in groups:
            continue
        for action in group._group_actions:
            if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip():
                missing.append("/".join(action.option_strings) or action.dest)
    return missing


def test_every_option_has_help():
    assert _without_help(build_parser()) == []
    for name, parser in subcommands().items():
        assert _without_help(parser, groups=("train",)) == [], name


def test_every_train_option_has_help():
    assert _without_help(subcommands()["train"]) == []


def test_models_help_lists_the_model_ids(capsys):
    with pytest.raises(SystemExit):
        main(["models", "--help"])
    out = capsys.readouterr().out
    for model in REGISTRY:
        assert f"  {model.id} " in out


@pytest.mark.parametrize("machine", ["armv7l", "armv6l"])
def test_32_bit_arm_is_refused_at_start(machine, capsys):
    assert main(["parse", "turn on the lamp"], machine=machine) == 1
    captured = capsys.readouterr()
    assert captured.err == f"error: 64-bit Raspberry Pi OS (arm64) is required; this is {machine}\n"
    assert captured.out == ""


@pytest.mark.parametrize("machine", ["aarch64", "x86_64"])
def test_64_bit_machines_are_let_through(machine, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"], machine=machine)
    assert exit_info.value.code == 0


def test_the_refusal_comes_before_onnxruntime_is_imported():
    code = ("import sys; from assistant.cli import main; status = main(['parse', 'hi'], machine='armv7l');"
            " print('onnxruntime' in sys.modules); sys.exit(status)")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=False)  # fmt: skip
    assert proc.returncode == 1
    assert proc.stdout.strip() == "False"
    assert "64-bit Raspberry Pi OS (arm64) is required; this is armv7l" in proc.stderr


def _helps() -> list[tuple[str, str]]:
    """(where, text) of every help text: the commands' and their options' (train's own options aside)."""
    helps = []
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    helps += [(f"command {a.dest}", a.help or "") for a in sub._choices_actions]
    for name, parser in subcommands().items():
        for group in parser._action_groups:
            if group.title == "train":
                continue
            helps += [(f"{name} {'/'.join(a.option_strings) or a.dest}", a.help or "") for a in group._group_actions
                      if not isinstance(a, argparse._HelpAction)]  # fmt: skip
    return helps


def test_help_texts_are_written_one_way():
    """Lower case first (a word, an option, a variable or an acronym), no full stop at the end, and an extra always named
    as `(needs the [NAME] extra)` with a NAME that pyproject.toml defines."""
    import re
    import tomllib

    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    for where, text in _helps():
        assert re.match(r"[a-z\-$(]|[A-Z]{2,}\b", text), (where, text)  # "WAV files" is fine
        assert not text.endswith("."), (where, text)
        for mention in re.findall(r"[^(]*\bextra\b", text):
            assert re.search(r"needs the \[(\w+)\] extra$", mention), (where, text)
        for name in re.findall(r"needs the \[(\w+)\] extra", text):
            assert name in extras, (where, name)


def test_commands_are_described_by_what_they_do():
    """Each command's help starts with its verb ("measure accuracy ...", not "accuracy ...")."""
    import re

    verbs = {"validate", "understand", "measure", "run", "list", "try", "reproduce"}
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    for action in sub._choices_actions:
        assert re.match(r"\w+", action.help or "-")[0] in verbs, (action.dest, action.help)


def test_eval_voice_without_its_recordings_says_what_is_missing_before_loading_anything(tmp_path, capsys):
    status = main(["eval", "--voice", "--config", str(ROOT / "config.yaml"), "--speech", str(tmp_path)])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: eval --voice: 9 files missing from {tmp_path} (commands/turn_on_living_room_lamp"
                          ".wav, ")  # fmt: skip
    assert "'Evaluating the voice pipeline'" in err and "--speech DIR" in err


def test_the_default_recordings_are_what_eval_voice_reads_where_this_project_has_them():
    from assistant.tools.evaluate import speech_files

    shared = ROOT.parent / "shared" / "data" / "speech"
    if not shared.is_dir():
        pytest.skip(f"{shared} is this project's; an outsider fetches it as the README says")
    assert [p for p in speech_files(shared) if not p.is_file()] == []
    assert len(speech_files(shared)) == 8 + 1 + 5  # commands, the transcripts, the LibriVox readings


@pytest.mark.parametrize(("argv", "level"), [
    (["demo"], "WARNING"), (["eval", "--voice"], "WARNING"), (["bench", "--mqtt"], "WARNING"),
    (["demo", "-v"], "DEBUG"), (["run"], "INFO"), (["parse", "hi"], "INFO"),
])  # fmt: skip
def test_commands_that_print_tables_keep_info_lines_out_of_them(argv, level):
    """demo, eval and bench print their own account (eval --voice would add a line per utterance heard); the
    service keeps INFO for the journal. The demo's own test shows the output with and without -v."""
    import logging

    args = build_parser().parse_args(argv)
    assert logging.getLevelName(logging.DEBUG if args.verbose else getattr(args, "log_level", logging.INFO)) == level


@pytest.mark.parametrize("command", ["eval", "bench"])
def test_a_data_file_that_is_missing_or_wrong_is_an_error_line_not_a_traceback(command, tmp_path, capsys):
    config = str(ROOT / "config.yaml")
    missing = tmp_path / "none.jsonl"
    assert main([command, "--config", config, "--data", str(missing), "--no-hassil"]) == 1
    assert capsys.readouterr().err == f"error: {missing}: no such file\n"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "turn on the desk lamp"}\n\n{"txt": "typo"}\n', encoding="utf-8")
    assert main([command, "--config", config, "--data", str(bad), "--no-hassil"]) == 1
    assert capsys.readouterr().err == f"error: {bad}:3: not an example (no 'text')\n"
