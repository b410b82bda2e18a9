"""Provides is_text: whether a string is Unicode text that can be stored and sent (shared by
the provider's JSON reader, the engine's job settings and the Graph surface)."""

from __future__ import annotations


def is_text(value: str) -> bool:
    """Whether `value` is Unicode text UTF-8 can carry (no lone surrogate in it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
