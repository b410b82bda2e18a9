"""Provides the text functions: Append, Join, Left, Mid, Word, PCase, ToLower, NormalizeDiacritics...

Null handling follows Entra's docs where they say it (Left and Word return "" for a null string,
Len returns 0); elsewhere a NULL source stays NULL so the attribute is simply not provisioned.
"""

from __future__ import annotations

import base64
import functools
import re
import unicodedata

from sandbox.expressions.spec import EvaluationContext, make_spec
from sandbox.expressions.values import (
    ArgumentError,
    Redacted,
    as_list,
    integer,
    text,
    text_or_empty,
)

# Entra docs, NormalizeDiacritics: letters that do not decompose into base + accent.
_SPECIAL_LETTERS = {
    "æ": "ae", "Æ": "AE", "ø": "oe", "Ø": "OE", "œ": "oe", "Œ": "OE",
    "ß": "ss", "ł": "l", "Ł": "L", "ı": "i",
}  # fmt: skip
# .NET ToTitleCase separators (Entra docs, PCase remarks): spaces, controls, punctuation, symbols.
_TITLE_SEPARATOR_CATEGORIES = frozenset("Zs Zl Zp Cc Cf Pc Pd Ps Pe Pi Pf Po Sm Sc Sk So".split())
_CULTURE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def _append(ctx: EvaluationContext, source: object, suffix: object) -> str:
    return text_or_empty(source, 0) + text_or_empty(suffix, 1)


def _base64(ctx: EvaluationContext, source: object) -> str | None:
    value = text(source, 0)
    # Entra docs, ConvertToBase64: a "Unicode" base64 string, i.e. of the UTF-16LE bytes.
    return None if value is None else base64.b64encode(value.encode("utf-16-le")).decode("ascii")


def _utf8_hex(ctx: EvaluationContext, source: object) -> str | None:
    value = text(source, 0)
    return None if value is None else value.encode("utf-8").hex().upper()


def _cstr(ctx: EvaluationContext, value: object) -> str | None:
    return text(value, 0)


def _instr(
    ctx: EvaluationContext,
    haystack: object,
    needle: object,
    start: object = None,
    compare: object = None,
) -> int | None:
    value = text(haystack, 0)
    if value is None:
        return None
    wanted = text_or_empty(needle, 1)
    begin = 1 if start is None else integer(start, 2)
    if begin < 1:
        raise ArgumentError(2, f"is 1-based and must be at least 1, got {begin}")
    mode = "vbBinaryCompare" if compare is None else text(compare, 3)
    if mode in ("vbTextCompare", "1"):
        value, wanted = value.lower(), wanted.lower()
    elif mode not in ("vbBinaryCompare", "0"):
        raise ArgumentError(3, f"must be vbTextCompare or vbBinaryCompare, got {mode!r}")
    return value.find(wanted, begin - 1) + 1  # 1-based; 0 when not found


def _join(ctx: EvaluationContext, separator: object, *sources: object) -> str:
    # Entra docs, Join: multi-valued sources expand; empty values are skipped
    # (Join(", ", "", [surname], [givenName]) -> "Doe, John").
    parts: list[str] = []
    for index, source in enumerate(sources, start=1):
        for item in as_list(source):
            part = text(item, index)
            if part:
                parts.append(part)
    return text_or_empty(separator, 0).join(parts)


def _left(ctx: EvaluationContext, value: object, count: object) -> str:
    # Entra docs, Left: 0 -> "", negative -> whole input, null -> "", shorter -> whole input.
    source = text_or_empty(value, 0)
    n = integer(count, 1)
    return source if n < 0 else source[:n]


def _len(ctx: EvaluationContext, value: object) -> int:
    return len(text_or_empty(value, 0))


def _mid(ctx: EvaluationContext, value: object, start: object, length: object) -> str | None:
    source = text(value, 0)
    begin, size = integer(start, 1), integer(length, 2)
    if begin < 1:
        raise ArgumentError(1, f"is 1-based and must be at least 1, got {begin}")
    if size < 0:
        raise ArgumentError(2, f"must not be negative, got {size}")
    return None if source is None else source[begin - 1 : begin - 1 + size]


@functools.lru_cache(maxsize=4096)
def normalize_diacritics(value: str) -> str:
    """Replace accented Latin letters with plain ones (Zoë -> Zoe, ß -> ss, æ -> ae, ø -> oe)."""
    if value.isascii():
        return value
    out: list[str] = []
    latin = False  # strip combining marks only after a Latin letter: kana keep their dakuten
    for ch in unicodedata.normalize("NFD", value):
        if unicodedata.combining(ch):
            if not latin:
                out.append(ch)
            continue
        mapped = _SPECIAL_LETTERS.get(ch)
        if mapped is not None:
            out.append(mapped)
            latin = True
        else:
            out.append(ch)
            latin = ch.isascii() and ch.isalpha()
    return unicodedata.normalize("NFC", "".join(out))


def _normalize(ctx: EvaluationContext, value: object) -> str | None:
    source = text(value, 0)
    return None if source is None else normalize_diacritics(source)


def _pcase(ctx: EvaluationContext, value: object, separators: object = None) -> str | None:
    source = text(value, 0)
    if source is None:
        return None
    custom = text(separators, 1)
    out: list[str] = []
    start = True
    for ch in source:
        if custom is not None:
            is_separator = ch in custom
        else:
            is_separator = unicodedata.category(ch) in _TITLE_SEPARATOR_CATEGORIES
        if is_separator:
            out.append(ch)
            start = True
        else:
            out.append(ch.upper() if start else ch.lower())
            start = False
    return "".join(out)


def _split(ctx: EvaluationContext, value: object, delimiter: object) -> list[str] | None:
    source = text(value, 0)
    sep = text_or_empty(delimiter, 1)
    if not sep:
        raise ArgumentError(1, "must not be empty")
    if source is None:
        return None
    # Entra docs, Split: "PermissionSetOne, PermissionSetTwo" -> ["PermissionSetOne",
    # "PermissionSetTwo"]: the documented output has no leading space, so items are trimmed.
    return [item.strip() for item in source.split(sep)]


def _strip_spaces(ctx: EvaluationContext, value: object) -> str | None:
    source = text(value, 0)
    return None if source is None else source.replace(" ", "")


def _culture(culture: object) -> str:
    name = text(culture, 1)
    if name is None or name == "":
        return ""  # invariant culture
    if not _CULTURE.fullmatch(name):
        raise ArgumentError(1, f"must be a culture name like en-US or ja-JP, got {name!r}")
    return name.split("-")[0].lower()


def _to_lower(ctx: EvaluationContext, value: object, culture: object = None) -> str | None:
    source, language = text(value, 0), _culture(culture)
    if source is None:
        return None
    if language in ("tr", "az"):  # Turkish casing: I -> ı, İ -> i
        source = source.replace("I", "ı").replace("İ", "i")
    return source.lower()


def _to_upper(ctx: EvaluationContext, value: object, culture: object = None) -> str | None:
    source, language = text(value, 0), _culture(culture)
    if source is None:
        return None
    if language in ("tr", "az"):
        source = source.replace("i", "İ")
    return source.upper()


def _word(ctx: EvaluationContext, value: object, number: object, delimiters: object) -> str:
    # Entra docs, Word: number < 1, a null string or too few words all give "".
    source = text_or_empty(value, 0)
    index = integer(number, 1)
    chars = text_or_empty(delimiters, 2)
    if index < 1 or not source:
        return ""
    words = re.split("[" + re.escape(chars) + "]", source) if chars else [source]
    words = [w for w in words if w]
    return words[index - 1] if index <= len(words) else ""


def _redact(ctx: EvaluationContext, value: object) -> str | None:
    source = text(value, 0)
    return None if source is None else Redacted(source)


SPECS = (
    make_spec("Append", "source, suffix", "Append suffix to the end of source.", _append,
              example='Append("John.Doe@contoso.com", ".test") -> John.Doe@contoso.com.test'),
    make_spec("ConvertToBase64", "source", "Base64 of the string's UTF-16LE (Unicode) bytes.",
              _base64, example='ConvertToBase64("Hello world!") -> SABlAGwAbABvACAAdwBvAHIAbABkACEA'),
    make_spec("ConvertToUTF8Hex", "source", "Upper-case hex of the string's UTF-8 bytes.",
              _utf8_hex, example='ConvertToUTF8Hex("Hello world!") -> 48656C6C6F20776F726C6421'),
    make_spec("CStr", "value", "Convert a number, reference or boolean to a string.", _cstr),
    make_spec("InStr", "value1, value2, start?, compareType?",
              "1-based position of value2 in value1 (0 if absent); vbTextCompare ignores case.",
              _instr, example='InStr("repEated", "e", 3, vbBinaryCompare) -> 7'),
    make_spec("Join", "separator, source...",
              "Join values with a separator; multi-valued sources expand, empty values are skipped.",
              _join, example='Join(", ", "", "Doe", "John") -> Doe, John'),
    make_spec("Left", "String, NumChars",
              "The first NumChars characters (0 gives \"\", negative gives the whole string).",
              _left, example='Left("John Doe", 3) -> Joh'),
    make_spec("Len", "String", "Length of the string (or of a number's digits); NULL gives 0.",
              _len, example='Len("John Doe") -> 8'),
    make_spec("Mid", "source, start, length",
              "Substring from the 1-based start, at most length characters.", _mid,
              example='Mid("John", 1, 3) -> Joh'),
    make_spec("NormalizeDiacritics", "source",
              "Replace accented letters with plain ones (ß -> ss, æ -> ae, ø -> oe).", _normalize,
              example='NormalizeDiacritics("Zoë") -> Zoe'),
    make_spec("PCase", "source, wordSeparators?",
              "Proper case: first letter of each word upper, the rest lower.", _pcase,
              example='PCase("PINTO-DE\'SILVA", " \'-") -> Pinto-De\'Silva'),
    make_spec("Redact", "value",
              "The value itself, shown as [Redact] in provisioning logs.", _redact),
    make_spec("Split", "source, delimiter", "Split a string into a multi-valued attribute.",
              _split, example='Split("a,b", ",") -> ["a", "b"]'),
    make_spec("StripSpaces", "source", "Remove every space character.", _strip_spaces),
    make_spec("ToLower", "source, culture?", "Lower-case (invariant culture unless given).",
              _to_lower),
    make_spec("ToUpper", "source, culture?", "Upper-case (invariant culture unless given).",
              _to_upper),
    make_spec("Word", "String, WordNumber, Delimiters",
              "The WordNumber-th word, words being split at any delimiter character.", _word,
              example='Word("The quick brown fox", 3, " ") -> brown'),
)  # fmt: skip
