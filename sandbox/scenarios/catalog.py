"""Provides the shipped scenarios: where they are installed, and a name resolved to one.

They are package data of `sandbox.scenarios.shipped` (pyproject maps that package to the
checkout's fixtures/scenarios/), so they are found wherever the sandbox is installed, whatever
the current directory.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

from sandbox.scenarios.model import ScenarioError

PACKAGE = "sandbox.scenarios.shipped"


def shipped() -> Path:
    """The folder of the shipped scenario files."""
    try:
        folder = resources.files(PACKAGE)
    except ModuleNotFoundError:  # a source checkout run without installing it
        return Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
    return Path(str(folder))


def shipped_files() -> list[Path]:
    """The shipped scenario files, by name."""
    return sorted(shipped().glob("*.toml"))


def resolve(name: str) -> Path:
    """A scenario file: `name` itself when it exists, else the shipped scenario of that name
    (with or without .toml); else ScenarioError: a bare name that is neither names the closest
    shipped scenarios, and a path is returned as it is (loading it says it cannot be read)."""
    path = Path(name)
    if path.exists() or path.parent != Path("."):
        return path
    files = shipped_files()
    for candidate in files:
        if name in (candidate.name, candidate.stem):
            return candidate
    if path.suffix == ".toml":
        return path
    close = difflib.get_close_matches(name, [f.stem for f in files], n=2)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise ScenarioError(
        f"{name}: no such file, and no shipped scenario of that name; {hint}"
        "`sandbox scenario list` shows them"
    )
