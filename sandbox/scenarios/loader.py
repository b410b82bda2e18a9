"""Provides load: read a scenario file (UTF-8 TOML), check all of it, and build the Scenario."""

from __future__ import annotations

import tomllib
from pathlib import Path

from sandbox.scenarios.external import refuse_if_peer
from sandbox.scenarios.locate import Locator
from sandbox.scenarios.model import Scenario, ScenarioError
from sandbox.scenarios.validate import validate


def read_text(path: Path) -> str:
    """A scenario file's text; ScenarioError when it cannot be read or is not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}): save the file as UTF-8"
        ) from None


def load(path: str | Path) -> Scenario:
    """Read and check a whole scenario file; every mistake is a ScenarioError naming its file,
    line and field, before any step runs."""
    path = Path(path)
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: invalid TOML: {exc}") from None
    locator = Locator(text)
    headers = [line for line, name in locator.headers if name == "step"]
    steps = data.get("step", [])
    lines = {
        i: headers[i]
        for i in range(min(len(headers), len(steps) if isinstance(steps, list) else 0))
    }
    validate(data, path, locator, lines)
    scenario = Scenario(
        path,
        str(data.get("name", path.stem)),
        str(data.get("description", "")),
        data["seed"],
        data.get("tenant", {}),
        data.get("organization", {}),
        data.get("provisioning", {}),
        steps,
        lines,
        locator,
    )
    refuse_if_peer(scenario)
    return scenario
