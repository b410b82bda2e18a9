"""Provides Scenario, a loaded and checked scenario file, and ScenarioError.

A scenario is a seed, a tenant, an organization, a provisioning configuration, then steps;
expectations are steps too (`action = "expect"`), checked where they stand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.errors import SandboxError
from sandbox.scenarios.locate import Locator


class ScenarioError(SandboxError):
    """A scenario file is wrong; the message names the file, the line and the field."""


@dataclass
class Scenario:
    """A loaded, checked scenario."""

    path: Path
    name: str
    description: str
    seed: int
    tenant: dict[str, Any]
    organization: dict[str, Any]
    provisioning: dict[str, Any]
    steps: list[dict[str, Any]]
    lines: dict[int, int] = field(default_factory=dict)
    """Step index -> line of its [[step]] header, for error messages."""
    locator: Locator = field(default_factory=lambda: Locator(""))
    """Lines of the file's tables and keys, for messages about its sections."""

    def where(self, index: int) -> str:
        """`file:line (step N)` for messages about step `index`."""
        return f"{self.path}:{self.lines.get(index, 1)} (step {index + 1})"

    def at(self, table: str, nth: int = 0, key: str | None = None) -> str:
        """`file:line` of the `nth` table `table` ("tenant", "organization.member"), or of
        its `key`; the closest line known when the table has no header of its own."""
        line = self.locator.table(table, nth)
        if line is None:
            parent, _, name = table.rpartition(".")
            above = self.locator.table(parent) if parent else 0
            line = self.locator.key(above or 0, name, nth, nested=bool(parent))
        elif key is not None:
            line = self.locator.key(line, key)
        return f"{self.path}:{line}"
