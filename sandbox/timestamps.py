"""Provides the one form every stored and sent time has (``2026-01-05T09:00:00.000Z``) and the
real clock; standard library only, so every package may import it."""

from __future__ import annotations

from datetime import UTC, datetime


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and 'Z': the stored form of a time (it sorts as it
    compares) and SCIM's dateTime as the provider writes it (RFC 7643 §2.3.5)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def parse_timestamp(text: str) -> datetime:
    """A stored time (the `format_timestamp` form, or any ISO 8601 with an offset) as a datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def utc_now() -> datetime:
    """The real clock (UTC); the engine and scenarios inject a simulated one instead."""
    return datetime.now(UTC)
