"""Provides validate: a whole scenario file checked against its schema before anything runs.

Every mistake is a ScenarioError naming the file, the line and the field: a value of the wrong
type or outside what its field takes, an unknown field (with the closest known one, "did you
mean"), a missing one, an expectation with nothing to compare.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sandbox.scenarios.actions import ACTIONS
from sandbox.scenarios.fields import Invalid, Table, Tables, shown
from sandbox.scenarios.locate import Locator
from sandbox.scenarios.model import ScenarioError
from sandbox.scenarios.schema import TOP_LEVEL


@dataclass(frozen=True)
class Site:
    """Where a table sits in the file: for messages and to find its keys' lines."""

    path: Path
    locator: Locator
    label: str
    """The table's dotted name in messages ("tenant.user[2]", "sync", "expect.requests")."""
    line: int
    """Its header's line, or the line of the key that opens it inline (0: the top level)."""
    header: str | None = None
    """Its dotted header name when it has one ("tenant", "step"), for its sub-tables'."""
    inline: bool = False
    nth: int = 0
    """Its index in an inline array (its keys are the nth match after `line`)."""
    step: int | None = None

    def at(self, line: int) -> str:
        """`file:line`, with the step when there is one."""
        step = f" (step {self.step + 1})" if self.step is not None else ""
        return f"{self.path}:{max(line, 1)}{step}"

    def key_line(self, key: str) -> int:
        """The line of field `key` (of its own header when it is a table that has one)."""
        found = self.locator.find(self.line, key, self.nth, nested=self.inline)
        if found is None and self.header is not None:
            found = self.locator.table(f"{self.header}.{key}".lstrip("."))
        return max(self.line, 1) if found is None else found

    def name(self, key: str) -> str:
        return f"{self.label}.{key}" if self.label else key

    def fail(self, key: str | None, message: str) -> ScenarioError:
        return ScenarioError(f"{self.at(self.key_line(key) if key else self.line)}: {message}")

    def child(self, key: str, index: int | None = None, count: int = 1) -> Site:
        """The site of the table in field `key` (item `index` of an array of `count`)."""
        label = self.name(key) + (f"[{index + 1}]" if index is not None and count > 1 else "")
        header = None if self.header is None else f"{self.header}.{key}".lstrip(".")
        if header is not None:
            line = self.locator.table(header, index or 0)
            if line is not None:
                return replace(self, label=label, line=line, header=header, inline=False, nth=0)
            # a table only its sub-tables' headers open ([[provisioning.mapping]] with no
            # [provisioning]): its sub-tables still have headers to find
            below = [n for n, name in self.locator.headers if name.startswith(f"{header}.")]
            if below and self.locator.find(self.line, key, self.nth, nested=self.inline) is None:
                return replace(self, label=label, line=below[0], header=header, inline=False, nth=0)
        return replace(
            self, label=label, line=self.key_line(key), header=None, inline=True, nth=index or 0
        )


def check_table(data: Any, table: Table, site: Site) -> None:
    """Check a table's fields against `table`; raise ScenarioError at the first mistake."""
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{site.at(site.line)}: {site.label} must be a table, got {shown(data)}"
        )
    if table.keys is not None:
        if not data:
            raise site.fail(None, f"{site.label} is empty: {table.empty}")
        for key, value in data.items():
            try:
                table.keys({key: value})
            except Invalid as error:
                raise site.fail(
                    key, f"{site.name(key)} must be {error}, got {shown(value)}"
                ) from None
        return
    for key in data:
        if key not in table.fields:
            raise site.fail(key, unknown(site.label or "the scenario", key, table.fields))
    for key in table.required:
        if key not in data:
            raise site.fail(None, f"{site.label or 'the scenario'} needs {key}")
    if table.one_of and not any(k in data for k in table.one_of):
        raise site.fail(
            None, f"{site.label} has {table.empty}: give at least one of {', '.join(table.one_of)}"
        )
    for key, value in data.items():
        spec = table.fields[key]
        if isinstance(spec, Table):
            check_table(value, spec, site.child(key))
        elif isinstance(spec, Tables):
            items = [value] if spec.single and isinstance(value, dict) else value
            kind = "a table or a non-empty array of tables" if spec.single else "an array of tables"
            if not isinstance(items, list) or (spec.single and not items):
                raise site.fail(key, f"{site.name(key)} must be {kind}, got {shown(value)}")
            for index, item in enumerate(items):
                check_table(item, spec.table, site.child(key, index, len(items)))
        else:
            try:
                spec(value)
            except Invalid as error:
                raise site.fail(
                    key, f"{site.name(key)} must be {error}, got {shown(value)}"
                ) from None
    for rule in table.rules:
        broken = rule(data)
        if broken is not None:
            raise site.fail(broken[0], f"{site.name(broken[0])}: {broken[1]}")


def unknown(label: str, key: str, allowed: Any) -> str:
    """`LABEL has no field 'KEY' (did you mean 'X'?)`, or the fields it has."""
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"fields: {', '.join(sorted(allowed))}"
    if not allowed:
        hint = "it takes no field"
    return f"{label} has no field {key!r} ({hint})"


def validate(data: dict[str, Any], path: Path, locator: Locator, lines: dict[int, int]) -> None:
    """Check the whole file; `lines` maps a step index to the line of its [[step]] header."""
    top = Site(path, locator, "", 0, header="")
    check_table(data, TOP_LEVEL, top)
    steps = data.get("step")
    if not steps:
        raise ScenarioError(f"{path}: a scenario needs at least one [[step]]")
    for index, step in enumerate(steps):
        line = lines.get(index, 1)
        site = Site(path, locator, "step", line, step=index)
        if "step" not in [h for _, h in locator.headers]:
            site = replace(top.child("step", index, len(steps)), step=index, label="step")
        action = step.get("action")
        if not isinstance(action, str) or action not in ACTIONS:
            close = difflib.get_close_matches(str(action), list(ACTIONS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise site.fail(
                "action", f"unknown action {shown(action)}; {hint}use one of: {', '.join(ACTIONS)}"
            )
        fields = {k: v for k, v in step.items() if k != "action"}
        check_table(fields, ACTIONS[action], replace(site, label=action))
