"""pyproject.toml lists the packages by hand (the shipped model is mapped in as assistant._shipped, which
automatic discovery cannot combine with), so a package added to the source tree must be listed too. This
is the fast check; tests/test_wheel.py (slow) looks inside the built wheel."""

from __future__ import annotations

import re
import tomllib

from .conftest import ROOT


def test_pyproject_lists_every_package_in_the_source_tree():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "assistant").rglob("__init__.py")
               if "__pycache__" not in init.parts}  # fmt: skip
    listed = set(setuptools["packages"])
    assert sorted(on_disk - listed) == [], "add these to [tool.setuptools] packages in pyproject.toml"
    assert sorted(listed - on_disk) == ["assistant._shipped"]
    assert setuptools["package-dir"] == {"assistant._shipped": "models"}


def test_the_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```sh\n{ci}\n```" in readme


def test_every_extra_named_in_ci_is_declared():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    (named,) = re.findall(r"-e '\.\[([a-z,]+)\]'", ci)
    assert set(named.split(",")) <= extras.keys()
    assert "report" in named.split(",")  # tests/test_report.py draws with matplotlib
