"""One timestamp form (``2026-01-05T09:00:00.000Z``) and one real clock, in sandbox.timestamps:
the provider, the engine's clock, the tenant and the request log all write it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from sandbox.timestamps import format_timestamp, parse_timestamp, utc_now

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "2026-01-05T09:00:00.000Z"),
        # Another offset is written in UTC.
        (datetime(2026, 1, 5, 10, 30, tzinfo=timezone(timedelta(hours=1))),
         "2026-01-05T09:30:00.000Z"),
        # Microseconds are cut to milliseconds, not rounded.
        (datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC), "2026-03-01T23:59:59.999Z"),
    ],
)  # fmt: skip
def test_a_time_is_written_in_utc_with_milliseconds_and_z(moment, text):
    assert format_timestamp(moment) == text
    assert parse_timestamp(text) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_the_real_clock_is_aware_and_in_utc():
    now = utc_now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_every_package_writes_times_with_the_one_function():
    from sandbox.engine.sync import clock
    from sandbox.engine.tenant import directory
    from sandbox.provider import users

    assert clock.format_time is format_timestamp
    assert clock.parse_time is parse_timestamp
    assert users.utc_now is directory.utc_now is utc_now
    for path in (ROOT / "sandbox").rglob("*.py"):
        if path.name != "timestamps.py":
            source = path.read_text(encoding="utf-8")
            assert 'isoformat(timespec="milliseconds")' not in source, path


def test_the_cli_takes_time_formatting_from_timestamps_not_the_filter_compiler():
    for path in (ROOT / "sandbox" / "cli").rglob("*.py"):
        assert "sandbox.provider.filters" not in path.read_text(encoding="utf-8"), path
    import sandbox.provider.filters as filters

    assert not hasattr(filters, "format_datetime")
