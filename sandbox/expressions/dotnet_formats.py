"""Provides .NET custom date and time format strings (parse and format), invariant culture.

FormatDateTime takes its input and output formats as .NET format strings (Entra docs, FormatDateTime:
"For supported formats, see .NET custom date and time format strings"), e.g. ``yyyyMMddHHmmss.fZ``.
Specifiers: y, M, d, h, H, m, s, f, F, t, z, K, ``:`` and ``/``; quoted text, ``\\x`` escapes
and any other character are literals. One-letter strings are .NET *standard* formats.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone

_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_SPECIFIERS = frozenset("yMdhHmsfFtzKg")

# .NET standard formats (invariant culture) expressed as custom formats.
_STANDARD = {
    "d": "MM/dd/yyyy",
    "D": "dddd, dd MMMM yyyy",
    "f": "dddd, dd MMMM yyyy HH:mm",
    "F": "dddd, dd MMMM yyyy HH:mm:ss",
    "g": "MM/dd/yyyy HH:mm",
    "G": "MM/dd/yyyy HH:mm:ss",
    "M": "MMMM dd",
    "m": "MMMM dd",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "t": "HH:mm",
    "T": "HH:mm:ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "y": "yyyy MMMM",
    "Y": "yyyy MMMM",
}


class FormatError(ValueError):
    """The format string or the value does not fit."""


@functools.lru_cache(maxsize=256)
def tokens(fmt: str) -> tuple[tuple[str, str], ...]:
    """Split a format into ("spec", "yyyy") and ("lit", "-") pieces."""
    if len(fmt) == 1:
        if fmt not in _STANDARD:
            raise FormatError(f"unsupported standard format {fmt!r}")
        fmt = _STANDARD[fmt]
    out: list[tuple[str, str]] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        if ch in "'\"":
            end = fmt.find(ch, i + 1)
            if end < 0:
                raise FormatError(f"unterminated quoted text in format {fmt!r}")
            out.append(("lit", fmt[i + 1 : end]))
            i = end + 1
        elif ch == "\\" and i + 1 < n:
            out.append(("lit", fmt[i + 1]))
            i += 2
        elif ch == "%" and i + 1 < n:
            i += 1
        elif ch in _SPECIFIERS:
            j = i
            while j < n and fmt[j] == ch:
                j += 1
            out.append(("spec", fmt[i:j]))
            i = j
        else:
            out.append(("lit", ch))
            i += 1
    return tuple(out)


def _pattern(spec: str, group: str) -> str:
    ch, count = spec[0], len(spec)
    digits = {1: r"\d{1,2}", 2: r"\d{2}"}
    if ch == "y":
        body = r"\d{4}" if count >= 4 else (r"\d{3,4}" if count == 3 else digits[min(count, 2)])
    elif ch == "M" and count >= 3:
        names = _MONTHS if count >= 4 else [m[:3] for m in _MONTHS]
        body = "|".join(names)
    elif ch == "d" and count >= 3:
        names = _DAYS if count >= 4 else [d[:3] for d in _DAYS]
        return "(?:" + "|".join(names) + ")"
    elif ch in "MdhHms":
        body = digits[min(count, 2)]
    elif ch == "f":
        body = rf"\d{{{count}}}"
    elif ch == "F":
        body = rf"\d{{0,{count}}}"
    elif ch == "t":
        body = "[AaPp][Mm]" if count >= 2 else "[AaPp]"
    elif ch == "z":
        body = r"[+-]\d{2}:\d{2}" if count >= 3 else r"[+-]\d{1,2}"
    elif ch == "K":
        body = r"Z|[+-]\d{2}:\d{2}|"
    else:  # era "g"
        return r"(?:A\.?D\.?)?"
    return f"(?P<{group}>{body})"


@functools.lru_cache(maxsize=256)
def _compiled(fmt: str) -> tuple[re.Pattern[str], tuple[tuple[str, str], ...]]:
    parts, groups = [], []
    for index, (kind, value) in enumerate(tokens(fmt)):
        if kind == "lit":
            parts.append(re.escape(value))
        else:
            name = f"g{index}"
            parts.append(_pattern(value, name))
            groups.append((name, value))
    return re.compile("".join(parts), re.IGNORECASE), tuple(groups)


def parse(value: str, fmt: str) -> datetime:
    """Parse `value` with a .NET format; the result is aware, converted to UTC (naive = UTC)."""
    pattern, groups = _compiled(fmt)
    match = pattern.fullmatch(value.strip())
    if match is None:
        raise FormatError(f"{value!r} does not match the format {fmt!r}")
    year, month, day, hour, minute, second, micro = 1, 1, 1, 0, 0, 0, 0
    pm: bool | None = None
    offset: timedelta | None = None
    for name, spec in groups:
        got = match.group(name)
        if got is None or got == "":
            continue
        ch = spec[0]
        if ch == "y":
            year = (
                int(got)
                if len(spec) >= 3
                else 2000 + int(got)
                if int(got) < 50
                else 1900 + int(got)
            )
        elif ch == "M":
            month = int(got) if len(spec) <= 2 else _month_number(got)
        elif ch == "d":
            day = int(got)
        elif ch in "hH":
            hour = int(got)
        elif ch == "m":
            minute = int(got)
        elif ch == "s":
            second = int(got)
        elif ch in "fF":
            micro = int((got + "000000")[:6])
        elif ch == "t":
            pm = got[0].upper() == "P"
        elif ch in "zK":
            offset = _offset(got)
    if pm is not None and hour <= 12:
        hour = (hour % 12) + (12 if pm else 0)
    try:
        moment = datetime(year, month, day, hour, minute, second, micro)
    except ValueError as exc:
        raise FormatError(f"{value!r} is not a valid date: {exc}") from None
    zone = timezone(offset) if offset is not None else UTC
    return moment.replace(tzinfo=zone).astimezone(UTC)


def _month_number(name: str) -> int:
    lowered = name.lower()
    for index, month in enumerate(_MONTHS, start=1):
        if month.lower().startswith(lowered[:3]):
            return index
    raise FormatError(f"unknown month {name!r}")


def _offset(text: str) -> timedelta:
    if text.upper() == "Z":
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    hours, _, minutes = text[1:].partition(":")
    return sign * timedelta(hours=int(hours), minutes=int(minutes or 0))


def format(moment: datetime, fmt: str) -> str:  # noqa: A001 - mirrors .NET's ToString(format)
    """Format an aware datetime (shown in UTC) with a .NET format string."""
    moment = moment.astimezone(UTC)
    out: list[str] = []
    for kind, value in tokens(fmt):
        out.append(value if kind == "lit" else _render(moment, value))
    return "".join(out)


def _render(m: datetime, spec: str) -> str:
    ch, count = spec[0], len(spec)
    if ch == "y":
        if count == 1:
            return str(m.year % 100)
        if count == 2:
            return f"{m.year % 100:02d}"
        return str(m.year).zfill(count)
    if ch == "M":
        if count >= 4:
            return _MONTHS[m.month - 1]
        if count == 3:
            return _MONTHS[m.month - 1][:3]
        return f"{m.month:02d}" if count == 2 else str(m.month)
    if ch == "d":
        if count >= 4:
            return _DAYS[m.weekday()]
        if count == 3:
            return _DAYS[m.weekday()][:3]
        return f"{m.day:02d}" if count == 2 else str(m.day)
    simple = {"h": m.hour % 12 or 12, "H": m.hour, "m": m.minute, "s": m.second}
    if ch in simple:
        return f"{simple[ch]:02d}" if count >= 2 else str(simple[ch])
    if ch in "fF":
        digits = f"{m.microsecond:06d}0"[:count].ljust(count, "0")
        return digits.rstrip("0") if ch == "F" else digits
    if ch == "t":
        half = "AM" if m.hour < 12 else "PM"
        return half if count >= 2 else half[0]
    if ch == "z":
        return "+00:00" if count >= 3 else ("+00" if count == 2 else "+0")
    if ch == "K":
        return "Z"
    return "A.D."
