"""Provides whole_number: a count typed in a field as an int, or a one-line reason why not."""

from __future__ import annotations

import re

INT_MAX = 2**31 - 1
"""The largest count a field takes (the CLI's limit for the same options)."""

_DIGITS = re.compile(r"[0-9]+")
"""ASCII digits only: "²".isdigit() is true and int("²") fails, and int() of a pasted
5,000-digit string raises instead of returning."""


def whole_number(text: str, what: str, maximum: int = INT_MAX) -> int:
    """`text` (spaces around it ignored) as an int from 0 to `maximum`; ValueError naming
    `what` and the value otherwise."""
    typed = text.strip()
    if not _DIGITS.fullmatch(typed):
        shown = typed if len(typed) <= 40 else typed[:40] + "..."
        raise ValueError(f"{what} must be a whole number, got {shown!r}")
    if len(typed) > len(str(maximum)) or int(typed) > maximum:
        raise ValueError(f"{what} is at most {maximum:,}")
    return int(typed)
