from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Config, load_config, parse_config
from assistant.devices import Registry

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yaml"


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
