"""constraints.txt pins every dependency pyproject.toml names, within the ranges it allows.

An install without pins takes whatever was released last: a new ruff or mypy fails `make test` on code
that did not change, and a new library release can change a model's answers (toxicity §36). The Makefile
and the image install through the pins; these tests keep the pins and pyproject.toml in step.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
# Extras a `make lock` venv installs; `train` (torch, pinned in pyproject itself) is never locked.
LOCKED_EXTRAS = ("dev", "llm", "load", "s3")


def _pins(text: str) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, separator, version = line.partition("==")
        assert separator, f"not an exact pin: {line!r}"
        pins[canonicalize_name(name)] = Version(version)
    return pins


def _declared_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in LOCKED_EXTRAS:
        declared += project["optional-dependencies"][extra]
    return [Requirement(r) for r in declared]


def _unpinned_or_outside(pins: dict[str, Version]) -> list[str]:
    problems = []
    for requirement in _declared_requirements():
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name} is not pinned")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement.name}=={pinned} is outside {requirement.specifier}")
    return problems


def test_every_declared_dependency_is_pinned_inside_its_range():
    assert _unpinned_or_outside(_pins((ROOT / "constraints.txt").read_text())) == []


def test_a_dependency_added_without_relocking_is_reported():
    pins = _pins((ROOT / "constraints.txt").read_text())
    del pins["ruff"]
    pins["rdkit"] = Version("2024.9.6")
    assert sorted(_unpinned_or_outside(pins)) == [
        "rdkit==2024.9.6 is outside ==2026.9.1",
        "ruff is not pinned",
    ]


def test_make_and_the_image_install_through_the_pins():
    makefile = (ROOT / "Makefile").read_text()
    assert "PIP_INSTALL := $(BIN)/python -m pip install --quiet -c $(CONSTRAINTS)" in makefile
    assert "$(PIP_INSTALL) -e ." in makefile and "$(PIP_INSTALL) -e '.[dev,llm]'" in makefile
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "COPY pyproject.toml README.md LICENSE constraints.txt ./" in dockerfile
    assert "pip install -c constraints.txt '.[s3]'" in dockerfile
