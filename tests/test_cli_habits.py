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
