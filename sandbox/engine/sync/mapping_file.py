"""Provides read_mapping_file: a user mapping set from a file, every entry checked.

Two forms (docs/check.md, "Mappings files"):

- JSON: a list of mappings as `sandbox entra mappings list --json` prints them (the form the
  job configuration stores, `StoredMapping`), so a sandbox's mappings can be checked against
  an endpoint as they are;
- TOML: `preset = "..."` and `[[mapping]]` tables with the fields of a scenario's
  `[[provisioning.mapping]]`, each added to the preset or replacing its mapping of the target.

A mistake is one MappingError line naming the file, the entry and the field (never a Python
message); what the whole set breaks (no matching attribute, a required target missing) names
the file.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from pathlib import Path
from typing import cast

from sandbox.engine.mappings.mapping import (
    FlowType,
    Mapping,
    MappingType,
    check_source,
    parse_target_path,
    validate_mappings,
)
from sandbox.engine.mappings.presets import PRESETS
from sandbox.engine.sync.job import StoredMapping, mapping_from_dict, with_mapping
from sandbox.errors import MappingError, SandboxError

MAX_PRECEDENCE = 100
"""The highest matching precedence taken (`sandbox entra mappings set --matching`'s range)."""

USER_PRESETS = tuple(name for name, preset in PRESETS.items() if preset.object_type == "User")
"""The presets a mappings file can start from."""

Check = Callable[[object], str | None]
"""What a field's value must be (`must be ...`), or None when it fits."""


def _text(empty: bool) -> Check:
    def check(value: object) -> str | None:
        if not isinstance(value, str) or (not empty and not value.strip()):
            return "a string" if empty else "a non-empty string"
        return None

    return check


def _choice(*choices: str) -> Check:
    def check(value: object) -> str | None:
        if value not in choices:
            return "one of " + ", ".join(repr(c) for c in choices)
        return None

    return check


def _integer(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRECEDENCE:
        return f"an integer from 0 to {MAX_PRECEDENCE}"
    return None


def _boolean(value: object) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(True)(value)


def _target(value: object) -> str | None:
    problem = _text(False)(value)
    if problem is not None:
        return problem
    try:
        parse_target_path(value)
    except SandboxError as error:
        return f"a SCIM target attribute ({error})"
    return None


TYPES = tuple(t.value for t in MappingType)

JSON_FIELDS: dict[str, Check] = {
    "target": _target,
    "source": _text(True),
    "type": _choice(*TYPES),
    "default": _optional_text,
    "flow": _choice(*(f.value for f in FlowType)),
    "matching_precedence": _integer,
    "required": _boolean,
}
"""A JSON entry's fields: `StoredMapping`'s, as `sandbox entra mappings list --json` prints."""
JSON_REQUIRED = ("target",)

TOML_FIELDS: dict[str, Check] = {
    "target": _target,
    "source": _text(True),
    "type": _choice(*TYPES),
    "default": _text(True),
    "create_only": _boolean,
    "matching": _integer,
}
"""A `[[mapping]]` table's fields: a scenario's `[[provisioning.mapping]]`'s."""
TOML_REQUIRED = ("target", "source")
TOML_TOP_LEVEL = ("preset", "mapping")

OTHER_FORM = {
    "json": {"matching": "matching_precedence", "create_only": 'flow = "ObjectAddOnly"'},
    "toml": {"matching_precedence": "matching", "flow": "create_only = true"},
}
"""A field of the other form, and what this form calls it (a TOML key in a JSON file...)."""


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unknown_field(
    key: str, fields: MappingABC[str, object], form: str, what: str = "field"
) -> str:
    other = OTHER_FORM.get(form, {}).get(key)
    if other is not None:
        return f"unknown {what} {key!r} (in the {form.upper()} form it is {other})"
    near = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    near = near or [f for f in fields if f.startswith(key) or key.startswith(f)][:1]
    hint = f"did you mean {near[0]!r}?" if near else f"fields: {', '.join(fields)}"
    return f"unknown {what} {key!r} ({hint})"


def _check_entry(
    entry: object, fields: MappingABC[str, Check], required: tuple[str, ...], form: str
) -> dict[str, object]:
    """The entry's fields, checked (MappingError says which and why, without the place)."""
    if not isinstance(entry, dict):
        keys = " and ".join(required)
        raise MappingError(f"must be {'an object' if form == 'json' else 'a table'} with "
                           f"{keys}, got {_shown(entry)}")  # fmt: skip
    for key in entry:
        if key not in fields:
            raise MappingError(_unknown_field(str(key), fields, form))
    for key in required:
        if key not in entry:
            raise MappingError(f"{key} is required")
    for key, value in entry.items():
        problem = fields[key](value)
        if problem is not None:
            raise MappingError(f"{key} must be {problem}, got {_shown(value)}")
    return entry


def _place(entry: object, nth: int, form: str) -> str:
    name = "mapping" if form == "json" else "[[mapping]]"
    target = entry.get("target") if isinstance(entry, dict) else None
    return f"{name} {nth}" + (f" ({target.strip()})" if isinstance(target, str) else "")


def _inner(entry: object, error: MappingError) -> str:
    """The error without the target it starts with (the place names it already)."""
    target = entry.get("target") if isinstance(entry, dict) else None
    prefix = f"{target.strip()}: " if isinstance(target, str) else None
    message = error.message
    return message[len(prefix) :] if prefix and message.startswith(prefix) else message


_JSON_TYPES = {dict: "an object", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}  # fmt: skip


def _from_json(data: object) -> tuple[Mapping, ...]:
    if not isinstance(data, list):
        raise MappingError(
            "a JSON mappings file is a list of mappings, as `sandbox entra mappings list "
            f"--json` prints, got {_JSON_TYPES.get(type(data), type(data).__name__)}"
        )
    mappings: list[Mapping] = []
    for nth, entry in enumerate(data, 1):
        try:
            row = cast(StoredMapping, _check_entry(entry, JSON_FIELDS, JSON_REQUIRED, "json"))
            check_source(row["target"], row.get("source", ""), row.get("type", "Direct"))
            mappings.append(mapping_from_dict(row))
        except MappingError as error:
            raise MappingError(f"{_place(entry, nth, 'json')}: {_inner(entry, error)}") from None
    return tuple(mappings)


def _from_toml(data: dict[str, object]) -> tuple[tuple[Mapping, ...], str]:
    for key in data:
        if key not in TOML_TOP_LEVEL:
            raise MappingError(_unknown_field(key, dict.fromkeys(TOML_TOP_LEVEL), "", "key"))
    preset = data.get("preset", "default")
    if not isinstance(preset, str) or preset not in USER_PRESETS:
        choices = ", ".join(repr(p) for p in USER_PRESETS)
        raise MappingError(f"preset must be one of {choices}, got {_shown(preset)}")
    rows = data.get("mapping", [])
    if not isinstance(rows, list):
        raise MappingError(f"mapping must be [[mapping]] tables, got {_shown(rows)}")
    mappings = PRESETS[preset].mappings
    for nth, entry in enumerate(rows, 1):
        try:
            row = _check_entry(entry, TOML_FIELDS, TOML_REQUIRED, "toml")
            kind, default, matching = row.get("type"), row.get("default"), row.get("matching")
            mappings = with_mapping(
                mappings,
                str(row["target"]),
                str(row["source"]),
                kind=None if kind is None else str(kind),
                default=None if default is None else str(default),
                create_only=row.get("create_only") is True,
                matching=matching if isinstance(matching, int) else None,
            )
        except MappingError as error:
            raise MappingError(f"{_place(entry, nth, 'toml')}: {_inner(entry, error)}") from None
    return mappings, preset


def read_mapping_file(path: Path) -> tuple[tuple[Mapping, ...], str]:
    """The user mappings a file gives, and the preset they start from ("custom" for JSON): a
    file ending in .json is JSON, any other TOML. Raises MappingError naming the file (and the
    entry and field) on any mistake; the whole set is validated as Entra's editor would."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise MappingError(
            f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start})"
        ) from None
    try:
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text, parse_constant=_no_constant)
            except (ValueError, RecursionError) as error:
                raise MappingError(f"not valid JSON: {_json_reason(error)}") from None
            mappings, preset = _from_json(data), "custom"
        else:
            try:
                table = tomllib.loads(text)
            except tomllib.TOMLDecodeError as error:
                raise MappingError(f"not valid TOML: {error}") from None
            mappings, preset = _from_toml(table)
        validate_mappings(mappings)
    except MappingError as error:
        raise MappingError(f"{path}: {error}") from None
    return mappings, preset


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def _json_reason(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    text = str(error)
    if "integer string conversion" in text:  # Python's int digit limit
        return "a number has too many digits"
    return text
