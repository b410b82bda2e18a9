"""Provides the value model of Entra expressions: NULL, "True"/"False" booleans, dates, coercions.

Values flowing through an expression are plain Python objects:

* ``None`` is NULL (an attribute absent from the source object);
* ``str`` for text; booleans are the strings ``"True"`` / ``"False"`` (Entra docs, Not / CBool);
* ``int`` / ``float`` for numbers (literals, BitAnd, Count, InStr, DateDiff, NumFromDate);
* ``list`` for multi-valued attributes (proxyAddresses, Split) and role lists;
* ``dict`` for one app role assignment (``{"id", "value", "displayName"}``);
* ``datetime`` (aware, UTC) for DateTime, which Entra prints as ``M/d/yyyy h:mm:ss tt``.
"""

from __future__ import annotations

import math
from datetime import datetime

TRUE = "True"
FALSE = "False"


class IgnoreFlow:
    """The type of IGNORE_FLOW: the attribute is dropped from the flow (IgnoreFlowIfNullOrEmpty)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "IGNORE_FLOW"

    def __bool__(self) -> bool:
        return False


IGNORE_FLOW = IgnoreFlow()
"""Returned by evaluation when IgnoreFlowIfNullOrEmpty fired; the mapping layer drops the target."""


class Redacted(str):
    """A text value that provisioning logs must show as ``[Redact]`` (Entra docs, Redact).

    It is a ``str`` so it flows, compares and serialises like the value it wraps; only code that
    writes logs asks :func:`display_value` for the redacted form.
    """

    __slots__ = ()


class IgnoreFlowSignal(Exception):
    """Raised inside evaluation by IgnoreFlowIfNullOrEmpty; turned into IGNORE_FLOW at the top."""


class ArgumentError(Exception):
    """Raised by a function body about one argument; the evaluator adds the name and column.

    `index` is the 0-based argument index, or -1 when the call as a whole is wrong. A `verbatim`
    message is shown exactly as given (Entra's own error text), without the function name.
    """

    def __init__(self, index: int, message: str, *, verbatim: bool = False) -> None:
        super().__init__(message)
        self.index = index
        self.message = message
        self.verbatim = verbatim


def bool_str(flag: bool) -> str:
    """Return Entra's string form of a boolean."""
    return TRUE if flag else FALSE


def is_null(value: object) -> bool:
    """True when the value is NULL: absent, or a multi-valued attribute with no values."""
    return value is None or (isinstance(value, list) and not value)


def is_null_or_empty(value: object) -> bool:
    """True when the value is NULL or the empty string."""
    return value is None or value == "" or (isinstance(value, list) and not value)


def format_datetime(moment: datetime) -> str:
    """Format a UTC DateTime the way Entra returns dates: ``M/d/yyyy h:mm:ss tt``."""
    hour12 = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{moment.month}/{moment.day}/{moment.year} "
        f"{hour12}:{moment.minute:02d}:{moment.second:02d} {half}"
    )


def format_number(number: int | float) -> str:
    """Format a number like .NET's ToString(): no trailing ``.0`` on whole floats."""
    if isinstance(number, float):
        if math.isfinite(number) and number == int(number):
            return str(int(number))
        return repr(number)
    return str(number)


def text(value: object, index: int = 0) -> str | None:
    """Coerce a single value to text, keeping NULL as None; refuses lists of several values."""
    if value is None or value.__class__ is str or isinstance(value, str):
        return value  # type: ignore[return-value]
    if isinstance(value, bool):
        return bool_str(value)
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, list):
        if not value:
            return None
        if len(value) == 1:
            return text(value[0], index)
        raise ArgumentError(index, f"expects a single value, got {len(value)} values")
    if isinstance(value, dict):
        if "value" in value:
            return text(value.get("value"), index)
        raise ArgumentError(index, "expects text, got an object")
    return str(value)


def text_or_empty(value: object, index: int = 0) -> str:
    """Coerce to text with NULL read as the empty string."""
    result = text(value, index)
    return "" if result is None else result


def integer(value: object, index: int) -> int:
    """Coerce to an integer (numbers, numeric text); anything else is an argument error."""
    if isinstance(value, bool):
        raise ArgumentError(index, f"must be a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == int(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    if value is None:
        raise ArgumentError(index, "must be a number, got NULL")
    raise ArgumentError(index, f"must be a whole number, got {value!r}")


def number(value: object, index: int) -> int | float:
    """Coerce to a number (int or float), accepting numeric text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        try:
            return int(stripped)
        except ValueError:
            try:
                return float(stripped)
            except ValueError:
                pass
    raise ArgumentError(index, f"must be a number, got {value!r}")


def as_list(value: object) -> list:
    """Return a multi-valued view of a value: NULL is empty, a single value is one item."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    return [value]


def truth(value: object, index: int) -> bool:
    """Read a condition: "True"/"False" (any case), numbers (non-zero is true)."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        try:
            return float(lowered) != 0
        except ValueError:
            raise ArgumentError(index, f"must be True or False, got {value!r}") from None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if value is None:
        raise ArgumentError(index, "must be True or False, got NULL")
    raise ArgumentError(index, f"must be True or False, got {value!r}")


def display_value(value: object, *, redact: bool = True) -> str:
    """Render a result for people (CLI, provisioning logs); Redact values show as ``[Redact]``."""
    if value is IGNORE_FLOW:
        return "(dropped from the flow by IgnoreFlowIfNullOrEmpty)"
    if isinstance(value, Redacted) and redact:
        return "[Redact]"
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, list):
        return "[" + ", ".join(display_value(v, redact=redact) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {display_value(v, redact=redact)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value)
    return str(value)


def to_json(value: object) -> object:
    """Return a JSON-serialisable form of a result (dates as Entra strings, IGNORE_FLOW as None)."""
    if value is IGNORE_FLOW:
        return None
    if isinstance(value, Redacted):
        return str(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value
