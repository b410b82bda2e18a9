"""Provides the JSON the provider accepts on the wire: RFC 8259 text and nothing looser.

Python's json module reads more than JSON: `NaN` and `Infinity` literals, numbers beyond a
double's range (`1e400`, read as infinity and written back as `Infinity`), lone UTF-16
surrogates (`"\\ud800"`, which no UTF-8 text can hold, so SQLite refuses them) and nesting
deep enough to exhaust the interpreter's recursion. Each of these is a 400 here, before any
of it reaches the rules or the store (RFC 7644 §3.12; I-JSON, RFC 7493 §2.1 and RFC 7493 §2.2).

A body is read by orjson first (sandbox.jsontext), which refuses all of these but deep
nesting; what it refuses is read again by the standard library's reader below, whose error
the client gets.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sandbox import jsontext
from sandbox.errors import ScimError
from sandbox.text import is_text

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects accepted. An Entra PATCH nests 6 levels at most
(PatchOp, Operations, an operation, a value, the enterprise extension, manager)."""

INT64 = range(-(2**63), 2**63)
"""The integers SQLite stores (and binds) as integers."""

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
"""A \\uD800-\\uDFFF escape: half of a pair (fine) or a lone surrogate (refused)."""


class NotJson(ValueError):
    """Text the provider does not take as JSON; `scim_type` is the RFC 7644 §3.12 scimType."""

    def __init__(self, message: str, scim_type: str = "invalidSyntax") -> None:
        super().__init__(message)
        self.scim_type = scim_type


def _no_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON number (RFC 8259 §6)")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise NotJson(
            f"{text[:40]} is beyond the range of a double (I-JSON, RFC 7493 §2.2)", "invalidValue"
        )
    return number


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def strict_loads(raw: bytes | str) -> Any:
    """The JSON value of `raw`; raises NotJson for anything but RFC 8259 JSON of at most
    MAX_DEPTH levels whose strings are all text (no lone surrogates) and whose numbers fit
    a double."""
    value = jsontext.loads(raw, _stdlib_loads)
    # Cheap test first: a body can only nest as deep as it has brackets.
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise NotJson(f"nested deeper than {MAX_DEPTH} levels")
    return value


def _stdlib_loads(raw: bytes | str) -> Any:
    """strict_loads on the standard library's reader: the text orjson refused, and its error."""
    if isinstance(raw, bytes):
        encoding = json.detect_encoding(raw)  # UTF-8 as RFC 8259 §8.1 asks, or a BOM's
        try:
            text = raw.decode(encoding)  # strict: json.loads would let surrogates through
        except UnicodeDecodeError as exc:
            raise NotJson(f"not valid {encoding} ({exc.reason} at byte {exc.start})") from None
    elif not is_text(raw):
        raise NotJson("a lone UTF-16 surrogate, which is not a character", "invalidValue")
    else:
        text = raw
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise NotJson(f"nested deeper than {MAX_DEPTH} levels") from None
    except NotJson:
        raise
    except ValueError as exc:
        raise NotJson(str(exc)) from None
    # Cheap test first: a string holds a surrogate only through an escape (the text itself
    # holds none, checked above).
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) and not is_text(jsontext.dumps(value)):
        raise NotJson(
            "a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not a character",
            "invalidValue",
        )
    return value


def _depth(value: Any) -> int:
    """How deep arrays and objects nest in `value` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:  # past the limit the answer is known
            stack.extend((child, level + 1) for child in children)
    return deepest


def body_json(raw: bytes) -> Any:
    """A request body as JSON, or 400 (invalidSyntax, or invalidValue for a lone surrogate)."""
    if not raw:
        raise ScimError(400, "the request body is empty", "invalidSyntax")
    try:
        return strict_loads(raw)
    except NotJson as exc:
        raise ScimError(400, f"the request body is not valid JSON: {exc}", exc.scim_type) from None


def loads_or_none(text: str) -> Any:
    """The JSON value of a string inside a payload (Entra's stringified roles), or None when
    it is not strict JSON (the string is then taken as it is)."""
    try:
        return strict_loads(text)
    except NotJson:
        return None
