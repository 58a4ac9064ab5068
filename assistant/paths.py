"""Where the package's own files are: the shipped language model, and the name the package is installed under.

The shipped model lives in ``models/`` at the top of the source tree; a wheel carries it as the data-only
package ``assistant._shipped`` (pyproject.toml maps the folder there), and it is found with
importlib.resources, so an installed package never looks at the folder it was built from. Only when that
package is not importable (code run straight from a checkout: PYTHONPATH, an editable install) is
``models/`` beside the ``assistant`` folder used.

Nothing here runs at import time; every function only reads the file system.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from .config import Config, Understanding
from .errors import ModelError

DISTRIBUTION = "hearth-voice-assistant"
"""The name on PyPI (`pip install hearth-voice-assistant`); the import package and the command are `assistant`."""

SHIPPED_PACKAGE = "assistant._shipped"
SHIPPED_FILES = ("nlu.int8.onnx", "nlu.json", "tokenizer.json")
"""The model, its metadata and its tokenizer: they are always found together, in one folder."""


REINSTALL = f"pip install --force-reinstall --no-deps {DISTRIBUTION}"
"""Puts back the package's own files (the shipped model) without touching its dependencies."""


def install_hint(extra: str | None = None) -> str:
    """The command that installs this package or adds one of its extras: ``pip install 'NAME[voice]'``."""
    return f"pip install '{DISTRIBUTION}[{extra}]'" if extra else f"pip install {DISTRIBUTION}"


def shipped_model_dir() -> Path:
    """The folder that should hold the shipped model files (whether or not they are there)."""
    try:
        model = importlib.resources.files(SHIPPED_PACKAGE).joinpath(SHIPPED_FILES[0])
    except ModuleNotFoundError:  # not built: running from the source tree
        return Path(__file__).resolve().parent.parent / "models"
    if not isinstance(model, Path):  # ONNX Runtime and the tokenizer need files on disk, not in a zip
        raise ModelError(f"{model}: the package is installed in a way that leaves its model files unreadable"
                         f" as files; install it with pip ({install_hint()})")  # fmt: skip
    return model.parent


def model_path(config: Config, base: Path) -> Path:
    """The language model file `understanding.model` names, checked to exist.

    A relative path is relative to the config file's folder ``base``; the default one
    (``models/nlu.int8.onnx``), when that folder has no such file, means the model shipped with the
    package. Raises ModelError naming every path looked at and how to get the model.
    """
    setting = config.understanding.model
    path = Path(setting).expanduser()
    if path.is_absolute():
        if path.is_file():
            return path
        raise ModelError(f"understanding.model: {path}: no such file; fix the path, or remove the setting"
                         " to use the model shipped with the package")  # fmt: skip
    local = base / path
    if local.is_file():
        return local
    if setting != Understanding.model_fields["model"].default:
        raise ModelError(f"understanding.model: {local}: no such file ({setting!r} is relative to the config"
                         " file's folder); fix the path, or remove the setting to use the model shipped with"
                         " the package")  # fmt: skip
    shipped = shipped_model_dir() / Path(setting).name
    if shipped.is_file():
        return shipped
    raise ModelError(f"understanding.model: no language model at {local} nor at {shipped}. It ships with the"
                     f" package: reinstall it ({REINSTALL}). If you"
                     " train your own, `assistant train --out DIR` writes one: set understanding.model to"
                     " DIR/nlu.int8.onnx")  # fmt: skip
