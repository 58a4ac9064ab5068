"""The package as a newcomer installs it: a wheel built from this checkout, installed into a fresh venv
outside it, run from a folder outside it with a config file outside it.

Nothing is downloaded: the wheel is built without build isolation (setuptools from this environment,
the `test` extra), and the fresh venv sees this environment's site-packages through a .pth file, so the
runtime dependencies are there while `assistant` itself can only come from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import CONFIG, ROOT

pytestmark = pytest.mark.slow

BUILD_INPUTS = ("pyproject.toml", "README.md", "assistant", "models")
"""What the build reads; copied out so that building leaves nothing (build/, *.egg-info) in the checkout."""


def _run(*command: str | Path, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(ROOT / name, source / name)
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                 "-w", work / "dist", source, cwd=work)  # fmt: skip
    assert built.returncode == 0, built.stderr
    (found,) = (work / "dist").glob("*.whl")
    return found


@pytest.fixture(scope="module")
def env(wheel: Path) -> Path:
    """A fresh venv with the wheel installed; its folder."""
    root = wheel.parent.parent / "venv"
    venv.EnvBuilder(with_pip=False).create(root)
    python = root / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=root).stdout.strip()
    here = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(purelib) / "_test_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(here)))
    installed = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q",
                     wheel, cwd=root)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return root


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's folder: config.yaml copied there, no models/ beside it."""
    folder = tmp_path_factory.mktemp("home")
    shutil.copy(CONFIG, folder / "config.yaml")
    return folder


def test_the_wheel_carries_every_subpackage_and_the_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for init in (ROOT / "assistant").rglob("__init__.py"):
        if "__pycache__" not in init.parts:
            assert init.relative_to(ROOT).as_posix() in names, f"{init.parent.name}: add it to pyproject's packages"
    for name in ("nlu.int8.onnx", "nlu.json", "tokenizer.json", "README.md"):
        assert f"assistant/_shipped/{name}" in names
    assert any(n.startswith("assistant/train/templates/") and n.endswith(".yaml") for n in names)
    assert not any(n.startswith(("models/", "tests/")) for n in names)


def test_installed_parse_from_outside_the_checkout(env, home):
    where = _run(env / "bin" / "python", "-c",
                 "import assistant, assistant.paths as p; print(assistant.__file__); print(p.shipped_model_dir())",
                 cwd=home)  # fmt: skip
    assert where.returncode == 0, where.stderr
    module, model_dir = (Path(line) for line in where.stdout.splitlines())
    assert module.is_relative_to(env) and model_dir.is_relative_to(env), where.stdout
    assert not module.is_relative_to(ROOT)

    parsed = _run(env / "bin" / "assistant", "parse", "turn on the living room lamp", "--config",
                  home / "config.yaml", cwd=home)  # fmt: skip
    assert parsed.returncode == 0, parsed.stderr
    (result,) = [json.loads(line) for line in parsed.stdout.splitlines()]
    assert result["intent"] == "HassTurnOn"
    assert result["targets"] == ["light.living_room_lamp"]


def test_installed_version_is_the_package_metadata(env, home):
    from assistant import __version__

    shown = _run(env / "bin" / "assistant", "--version", cwd=home)
    assert shown.stdout.strip() == f"assistant {__version__} (hearth-voice-assistant)"


def test_a_missing_shipped_model_names_the_paths_and_the_remedy(env, home):
    model = next((env / "lib").glob("python3*/site-packages/assistant/_shipped/nlu.int8.onnx"))
    moved = model.with_name("moved.onnx")
    model.rename(moved)
    try:
        checked = _run(env / "bin" / "assistant", "check-config", "--config", home / "config.yaml", cwd=home)
    finally:
        moved.rename(model)
    assert checked.returncode == 2
    assert f"{home / 'config.yaml'}:" in checked.stderr
    assert str(home / "models" / "nlu.int8.onnx") in checked.stderr and str(model) in checked.stderr
    assert "pip install --force-reinstall --no-deps hearth-voice-assistant" in checked.stderr
