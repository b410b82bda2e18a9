"""Provides the date functions: CDate, DateAdd, DateDiff, DateFromNum, FormatDateTime, Now, NumFromDate.

Dates are aware UTC datetimes inside an evaluation and print as ``M/d/yyyy h:mm:ss tt`` (Entra docs,
CDate: "The returned string is always in UTC and follows the format M/d/yyyy h:mm:ss tt").
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, timezone

from sandbox.expressions import dotnet_formats
from sandbox.expressions.spec import EvaluationContext, make_spec
from sandbox.expressions.values import ArgumentError, integer, text

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
_US = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
_STYLES = frozenset(
    "None AllowLeadingWhite AllowTrailingWhite AllowInnerWhite AllowWhiteSpaces NoCurrentDateDefault "
    "AdjustToUniversal AssumeLocal AssumeUniversal RoundtripKind".split()
)
INTERVALS = ("yyyy", "m", "d", "ww", "h", "n", "s")
"""DateAdd / DateDiff intervals (Entra docs): year, month, day, week, hour, minute, second."""


def _zone(text_: str | None) -> timezone:
    if not text_ or text_.upper() == "Z":
        return UTC
    sign = -1 if text_[0] == "-" else 1
    digits = text_[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))


def parse_date_text(value: str) -> datetime | None:
    """Parse the date strings Entra's examples use; naive times are read as UTC.

    Accepts ISO 8601 (``2009-06-15T01:45:30-07:00``), a date with an offset (``2020-03-16-07:00``,
    Workday's form) and Entra's own output (``8/25/2021 5:41:18 PM``).
    """
    stripped = value.strip()
    match = _ISO.fullmatch(stripped)
    if match:
        y, mo, d, h, mi, s, frac, zone = match.groups()
        micro = int((frac or "0").ljust(6, "0")[:6])
        hour, minute, second = int(h or 0), int(mi or 0), int(s or 0)
    else:
        match = _US.fullmatch(stripped)
        if not match:
            return None
        mo, d, y, h, mi, s, half, zone = match.groups()
        micro, hour, minute, second = 0, int(h or 0), int(mi or 0), int(s or 0)
        if half:
            hour = hour % 12 + (12 if half.upper() == "PM" else 0)
    try:
        moment = datetime(int(y), int(mo), int(d), hour, minute, second, micro, _zone(zone))
    except ValueError:
        return None
    return moment.astimezone(UTC)


def to_datetime(value: object, index: int) -> datetime:
    """Coerce a DateTime argument: a date from CDate/Now, or a date string."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if value is None:
        raise ArgumentError(index, "must be a date, got NULL")
    as_text = text(value, index) or ""
    parsed = parse_date_text(as_text)
    if parsed is None:
        raise ArgumentError(index, f"is not a date Entra can read: {as_text!r}")
    return parsed


def _interval(value: object, index: int) -> str:
    interval = text(value, index)
    if interval not in INTERVALS:
        raise ArgumentError(index, f"must be one of {', '.join(INTERVALS)}; got {interval!r}")
    return interval


def _cdate(ctx: EvaluationContext, value: object) -> datetime | None:
    return None if value is None or value == "" else to_datetime(value, 0)


def add_months(moment: datetime, months: int) -> datetime:
    """Add calendar months, clamping the day to the month's end (like .NET AddMonths)."""
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _date_add(ctx: EvaluationContext, interval: object, value: object, moment: object) -> datetime:
    unit = _interval(interval, 0)
    amount = integer(value, 1)
    start = to_datetime(moment, 2)
    if unit == "yyyy":
        return add_months(start, 12 * amount)
    if unit == "m":
        return add_months(start, amount)
    step = {"d": "days", "ww": "weeks", "h": "hours", "n": "minutes", "s": "seconds"}[unit]
    return start + timedelta(**{step: amount})


def _floor(moment: datetime, seconds: int) -> int:
    return int(moment.timestamp() // seconds)


def _date_diff(ctx: EvaluationContext, interval: object, first: object, second: object) -> int:
    # VBA DateDiff semantics: the number of interval boundaries crossed (Entra docs, DateDiff
    # examples: -3449 days, -493 weeks, -113 months, -9 years between 8/25/2021 and 3/16/2012).
    unit = _interval(interval, 0)
    a, b = to_datetime(first, 1), to_datetime(second, 2)
    if unit == "yyyy":
        return b.year - a.year
    if unit == "m":
        return (b.year * 12 + b.month) - (a.year * 12 + a.month)
    if unit == "d":
        return (b.date() - a.date()).days
    if unit == "ww":  # weeks start on Sunday (vbSunday)
        a_week = a.date() - timedelta(days=(a.weekday() + 1) % 7)
        b_week = b.date() - timedelta(days=(b.weekday() + 1) % 7)
        return (b_week - a_week).days // 7
    return _floor(b, {"h": 3600, "n": 60, "s": 1}[unit]) - _floor(
        a, {"h": 3600, "n": 60, "s": 1}[unit]
    )


def _date_from_num(ctx: EvaluationContext, value: object) -> datetime | None:
    # AD dates are Windows FILETIMEs: 100-nanosecond ticks since 1601-01-01 UTC.
    if value is None or value == "":
        return None
    ticks = integer(value, 0)
    return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


def _num_from_date(ctx: EvaluationContext, value: object) -> int | None:
    if value is None or value == "":
        return None
    moment = to_datetime(value, 0)
    delta = moment - _FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def _format_date_time(
    ctx: EvaluationContext, source: object, styles: object, in_fmt: object, out_fmt: object
) -> str | None:
    if styles is not None:
        for style in str(styles).replace("|", ",").split(","):
            if style.strip().removeprefix("DateTimeStyles.") not in _STYLES:
                raise ArgumentError(1, f"unknown DateTimeStyles value {style.strip()!r}")
    value = text(source, 0)
    if value is None or value == "":
        return None
    input_format, output_format = text(in_fmt, 2), text(out_fmt, 3)
    if not input_format:
        raise ArgumentError(2, "is required: the .NET format of the source value")
    if not output_format:
        raise ArgumentError(3, "is required: the .NET format of the result")
    try:
        moment = dotnet_formats.parse(value, input_format)
    except dotnet_formats.FormatError as exc:
        raise ArgumentError(0, str(exc)) from None
    try:
        return dotnet_formats.format(moment, output_format)
    except dotnet_formats.FormatError as exc:
        raise ArgumentError(3, str(exc)) from None


def _now(ctx: EvaluationContext) -> datetime:
    moment = ctx.clock()
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


SPECS = (
    make_spec(
        "CDate",
        "expression",
        "Parse a date string into a UTC DateTime (printed M/d/yyyy h:mm:ss tt).",
        _cdate,
        example='CDate("2021-06-30+08:00") -> 6/29/2021 4:00:00 PM',
    ),
    make_spec(
        "DateAdd",
        "interval, value, dateTime",
        "Add value intervals (yyyy, m, d, ww, h, n, s) to a DateTime.",
        _date_add,
        example='DateAdd("d", 7, CDate("2012-03-16-07:00")) -> 3/23/2012 7:00:00 AM',
    ),
    make_spec(
        "DateDiff",
        "interval, date1, date2",
        "Count interval boundaries from date1 to date2 (positive when date2 is later).",
        _date_diff,
        example='DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00")) -> 13',
    ),
    make_spec(
        "DateFromNum",
        "value",
        "Convert an AD date number (FILETIME) to a DateTime.",
        _date_from_num,
        example="DateFromNum(129699324000000000) -> 1/1/2012 11:00:00 PM",
    ),
    make_spec(
        "FormatDateTime",
        "source, dateTimeStyles?, inputFormat, outputFormat",
        "Reformat a date string from one .NET format to another.",
        _format_date_time,
        example='FormatDateTime("20150123105347.1Z", , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd") -> 2015-01-23',
    ),
    make_spec(
        "Now",
        "",
        "The current UTC date and time (from the evaluation context's clock).",
        _now,
        example="Now() -> 7/2/2021 3:33:38 PM",
    ),
    make_spec(
        "NumFromDate",
        "value",
        "Convert an ISO 8601 date to an AD date number (FILETIME), e.g. for accountExpires.",
        _num_from_date,
        example='NumFromDate("2012-01-01T23:00:00Z") -> 129699324000000000',
    ),
)
