"""`assistant train`: reproduce the shipped NLU model (data -> training -> ONNX -> int8 -> metadata).

Importing this package is cheap: torch, safetensors, hassil... are imported inside functions.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from assistant.train.pipeline import add_arguments as _add

    _add(parser)


def run(args: argparse.Namespace) -> int:
    from assistant.train.pipeline import run as _run

    return _run(args)


__all__ = ["add_arguments", "run"]
