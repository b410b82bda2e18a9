"""Provides scenario files: loading TOML, checking every field, errors naming file, line, field.

A scenario is a seed, a tenant, an organization, a provisioning configuration, then steps;
expectations are steps too (`action = "expect"`), checked where they stand.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.errors import SandboxError


class ScenarioError(SandboxError):
    """A scenario file is wrong; the message names the file, the line and the field."""


SETTINGS = {
    "flag",
    "scope",
    "groups",
    "delete_threshold",
    "skip_out_of_scope_deletions",
    "escrow_threshold",
    "create",
    "update",
    "delete",
    "mappings",
}
"""Provisioning settings a scenario sets in [provisioning] or changes with a configure step."""

ACTIONS: dict[str, tuple[set[str], set[str]]] = {
    # action: (required fields, optional fields)
    "assign": ({"principal"}, {"role"}),
    "set-role": ({"principal", "role"}, set()),
    "unassign": ({"principal"}, {"role"}),
    "soft-delete": ({"user"}, set()),
    "restore": ({"user"}, set()),
    "hard-delete": ({"user"}, set()),
    "block": ({"user"}, {"blocked"}),
    "edit": ({"user", "set"}, set()),
    "add-user": (
        {"upn"},
        {
            "mail",
            "display_name",
            "given_name",
            "surname",
            "country",
            "preferred_language",
            "department",
            "job_title",
        },
    ),
    "add-member": ({"group", "user"}, set()),
    "remove-member": ({"group", "user"}, set()),
    "sync": (set(), {"cycles", "until_idle"}),
    "advance": ({"by"}, set()),
    "pod": ({"user"}, set()),
    "fault": (
        set(),
        {
            "method",
            "path",
            "status",
            "retry_after",
            "latency_ms",
            "drop",
            "count",
            "probability",
            "seed",
        },
    ),
    "clear-faults": (set(), set()),
    "test-connection": (set(), set()),
    "restart": (set(), {"reset"}),
    "allow-deletes": (set(), set()),
    "configure": (set(), SETTINGS | {"tenant_url", "secret_token"}),
    "mapping": ({"target", "source"}, {"type", "default", "create_only", "matching", "force"}),
    "admin-edit": ({"member"}, {"role", "language", "timezone", "name", "active"}),
    "reissue-token": ({"issuer"}, set()),
    "expect": (set(), {"member", "team", "log", "requests", "job", "connection", "note"}),
}
"""Every step action with its fields."""

TOP_LEVEL = {"name", "description", "seed", "tenant", "organization", "provisioning", "step"}
TENANT = {"users", "from_organization", "groups", "guests", "user", "group"}
ORGANIZATION = {"members", "member", "team", "token_issuer", "seat_limit", "domain"}
PROVISIONING = SETTINGS | {"mapping", "fault"}


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

    def where(self, index: int) -> str:
        """`file:line (step N)` for messages about step `index`."""
        return f"{self.path}:{self.lines.get(index, 1)} (step {index + 1})"


def _headers(text: str, name: str) -> list[int]:
    pattern = re.compile(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]\s*(#.*)?$")
    return [n for n, line in enumerate(text.splitlines(), 1) if pattern.match(line)]


def _key_line(text: str, start: int, key: str) -> int:
    lines = text.splitlines()
    for n in range(start, len(lines) + 1):
        line = lines[n - 1].strip()
        if n > start and line.startswith("["):
            break
        if re.match(rf"^{re.escape(key)}\s*=", line):
            return n
    return start


def _check_keys(where: str, data: Any, allowed: set[str], what: str) -> None:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: {what} must be a table")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScenarioError(
            f"{where}: unknown field(s) in {what}: {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )


def load(path: str | Path) -> Scenario:
    """Read and check a scenario file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: invalid TOML: {exc}") from None
    _check_keys(str(path), data, TOP_LEVEL, "the scenario")
    seed = data.get("seed")
    if not isinstance(seed, int):
        raise ScenarioError(f"{path}:{_key_line(text, 1, 'seed')}: seed must be an integer")
    tenant = data.get("tenant", {})
    organization = data.get("organization", {})
    provisioning = data.get("provisioning", {})
    _check_keys(f"{path} [tenant]", tenant, TENANT, "[tenant]")
    _check_keys(f"{path} [organization]", organization, ORGANIZATION, "[organization]")
    _check_keys(f"{path} [provisioning]", provisioning, PROVISIONING, "[provisioning]")
    steps = data.get("step", [])
    if not isinstance(steps, list) or not steps:
        raise ScenarioError(f"{path}: a scenario needs at least one [[step]]")
    headers = _headers(text, "step")
    lines = {i: headers[i] for i in range(min(len(headers), len(steps)))}
    for index, step in enumerate(steps):
        line = lines.get(index, 1)
        action = step.get("action")
        if action not in ACTIONS:
            at = _key_line(text, line, "action")
            raise ScenarioError(
                f"{path}:{at} (step {index + 1}): unknown action {action!r}; "
                f"use one of: {', '.join(ACTIONS)}"
            )
        required, optional = ACTIONS[action]
        unknown = sorted(set(step) - required - optional - {"action"})
        if unknown:
            at = _key_line(text, line, unknown[0])
            raise ScenarioError(
                f"{path}:{at} (step {index + 1}): {action} has no field "
                f"{unknown[0]!r} (fields: {', '.join(sorted(required | optional))})"
            )
        missing = sorted(required - set(step))
        if missing:
            raise ScenarioError(
                f"{path}:{line} (step {index + 1}): {action} needs {', '.join(missing)}"
            )
    return Scenario(
        path,
        str(data.get("name", path.stem)),
        str(data.get("description", "")),
        seed,
        tenant,
        organization,
        provisioning,
        steps,
        lines,
    )
