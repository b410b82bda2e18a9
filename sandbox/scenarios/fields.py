"""Provides the field checks scenario schemas are made of: a type and the values it allows.

A check takes a TOML value and raises Invalid saying what the value must be; `Table` and
`Tables` describe a table's fields (required ones, "at least one of", cross-field rules) and an
array of tables. The schemas themselves are in `sandbox.scenarios.schema`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


class Invalid(Exception):
    """A value is not what its field takes; the message says what it must be."""


Check = Callable[[Any], None]
"""Raises Invalid when a value does not fit a field."""

Rule = Callable[[Mapping[str, Any]], "tuple[str, str] | None"]
"""A cross-field check of a whole table: (field, what is wrong) or None."""


def shown(value: Any) -> str:
    """A value as the message shows it (long ones cut)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def integer(low: int, high: int) -> Check:
    """An integer from `low` to `high` (a boolean is not an integer here)."""

    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(f"an integer from {low} to {high}")

    return check


def number(high: float) -> Check:
    """A number above 0 and at most `high`."""

    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= high:
            raise Invalid(f"a number above 0 and at most {high}")

    return check


def number_between(low: float, high: float) -> Check:
    """A number from `low` to `high`."""

    def check(value: Any) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise Invalid(f"a number from {low:g} to {high:g}")

    return check


def boolean(value: Any) -> None:
    """true or false."""
    if not isinstance(value, bool):
        raise Invalid("true or false")


def text(
    *,
    empty: bool = False,
    choices: Collection[str] = (),
    fold: bool = False,
    shape: re.Pattern[str] | None = None,
    like: str = "",
) -> Check:
    """A string: non-empty unless `empty`; one of `choices` (any case when `fold`); matching
    `shape` (described as `like`)."""

    def check(value: Any) -> None:
        if choices:
            allowed = {c.casefold() for c in choices} if fold else set(choices)
            if not isinstance(value, str) or (value.casefold() if fold else value) not in allowed:
                raise Invalid(f"one of {', '.join(repr(c) for c in choices)}")
            return
        if not isinstance(value, str):
            raise Invalid("a string" if empty else "a non-empty string")
        if not empty and not value.strip():
            raise Invalid("a non-empty string")
        if shape is not None and not shape.match(value):
            raise Invalid(like)

    return check


def texts(value: Any) -> None:
    """An array of non-empty strings (it may be empty)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise Invalid("an array of non-empty strings")


def either(first: Check, second: Check) -> Check:
    """A value one of two checks takes."""

    def check(value: Any) -> None:
        try:
            first(value)
        except Invalid as one:
            try:
                second(value)
            except Invalid as other:
                raise Invalid(f"{one} or {other}") from None

    return check


def day(value: Any) -> None:
    """A date (2023-01-16 or "2023-01-16") or a time ("2023-01-16T09:00:00Z")."""
    if isinstance(value, date):  # datetime is a date too
        return
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return
        except ValueError:
            pass
    raise Invalid("a date such as 2023-01-16 or a time such as 2023-01-16T09:00:00Z")


MAX_DAYS = 3650
"""The longest duration an `advance` step takes (the simulated clock stays within its range)."""

_DURATION = re.compile(r"^\s*([0-9]{1,8})\s*([smhd])\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(value: Any) -> None:
    """40m, 6h, 31d or 90s, at most ten years."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) * _SECONDS[match.group(2).lower()] > MAX_DAYS * 86400:
        raise Invalid(f"a duration such as 40m, 6h, 31d or 90s (at most {MAX_DAYS}d)")


@dataclass(frozen=True)
class Table:
    """A table's fields: each a Check, a Table or Tables."""

    fields: Mapping[str, Check | Table | Tables]
    required: Collection[str] = ()
    one_of: Collection[str] = ()
    """At least one of these must be given."""
    empty: str = ""
    """What the message says when none of `one_of` is given."""
    rules: tuple[Rule, ...] = field(default=())
    keys: Check | None = None
    """A table whose keys are free (not `fields`): each key and value is checked by calling
    `keys({key: value})`."""


@dataclass(frozen=True)
class Tables:
    """An array of tables; `single`: one table may stand for an array of one."""

    table: Table
    single: bool = False
