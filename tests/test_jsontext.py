"""sandbox.jsontext: orjson where its answer is the standard library's, the standard library
everywhere else."""

from __future__ import annotations

import json

import pytest

from sandbox import jsontext

USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "Émilie.Dubois@contoso.example",
    "active": True,
    "name": {"givenName": "Émilie", "familyName": "杜"},
    "emails": [{"value": "e@contoso.example", "primary": True}],
    "count": 2**63 - 1,
    "ratio": 0.1,
    "nothing": None,
    "controls": "tab\there\x00\x1f\x7f\u2028",
}


def stdlib_compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize(
    "value",
    [USER, [], {}, "", 0, -(2**63), 2**64 - 1, [1.5, -0.0, 1e300], ("a", "b")],
    ids=[
        "user",
        "empty list",
        "empty object",
        "empty string",
        "zero",
        "int64 min",
        "uint64 max",
        "floats",
        "tuple",
    ],  # fmt: skip
)
def test_dumps_writes_what_the_standard_library_writes(value: object) -> None:
    assert jsontext.dumps(value) == stdlib_compact(value)
    assert jsontext.dumps_bytes(value) == stdlib_compact(value).encode("utf-8")


@pytest.mark.parametrize(
    "value",
    [{"big": 2**64}, {"small": -(2**63) - 1}, {"huge": 10**400}, {1: "int key"}],
    ids=["2**64", "-2**63-1", "10**400", "an integer key"],
)
def test_dumps_falls_back_to_the_standard_library_where_orjson_refuses(value: object) -> None:
    assert jsontext.dumps(value) == stdlib_compact(value)


def test_dumps_keeps_a_lone_surrogate_as_the_standard_library_does() -> None:
    assert jsontext.dumps({"name": "a\ud800b"}) == stdlib_compact({"name": "a\ud800b"})
    with pytest.raises(UnicodeEncodeError):
        jsontext.dumps_bytes({"name": "a\ud800b"})


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(USER).encode(),
        stdlib_compact(USER),
        b'{"a":1,"a":2}',  # the last duplicate wins in both
        b' [1, 2.5e-3, -0, "\\ud83d\\ude00"] ',
        b'{"n":9223372036854775807}',
        b'{"n":18446744073709551615}',
        b'{"n":18446744073709551616}',  # orjson alone reads this as a float
        b'{"n":-9223372036854775809}',  # and this
        b'{"n":' + b"1" * 400 + b"}",
        b'{"id":"1234567890123456789012"}',  # 19 digits in a row, in a string
    ],
)
def test_loads_reads_what_the_standard_library_reads(raw: bytes | str) -> None:
    value = jsontext.loads(raw)
    assert value == json.loads(raw)
    assert repr(value) == repr(json.loads(raw))  # ints stay ints, floats floats


@pytest.mark.parametrize(
    "raw",
    [b"\xef\xbb\xbf{}", b'{"a":NaN}', b'{"a":1e400}', b'"\\ud800"', b"[" * 2000 + b"]" * 2000],
    ids=["a BOM", "NaN", "1e400", "a lone surrogate", "2,000 levels"],
)
def test_loads_hands_what_orjson_refuses_to_the_fallback(raw: bytes) -> None:
    handed: list[object] = []

    def fallback(text: bytes | str) -> str:
        handed.append(text)
        return "read by the fallback"

    assert jsontext.loads(raw, fallback) == "read by the fallback"
    assert handed == [raw]


def test_loads_takes_a_string_holding_a_lone_surrogate_to_the_fallback() -> None:
    raw = '"a\ud800"'
    assert jsontext.loads(raw, lambda text: ("fallback", text)) == ("fallback", raw)


@pytest.mark.parametrize(
    ("raw", "by_fallback"),
    [
        (b'{"n":' + b"1" * 18 + b"}", False),
        (b'{"n":' + b"1" * 19 + b"}", True),
        (b'{"id":"x' + b"9" * 19 + b'x"}', True),  # in a string too: the check reads bytes
        (b'{"id":"' + b"12345678-" * 6 + b'"}', False),  # many short runs
        ('{"n":"' + "\u0661" * 30 + '"}', False),  # Arabic-Indic digits are not ASCII digits
    ],
    ids=["18 digits", "19 digits", "19 in a string", "short runs", "non-ASCII digits"],
)
def test_loads_leaves_to_the_standard_library_exactly_text_with_19_digits_in_a_row(
    raw: bytes | str, by_fallback: bool
) -> None:
    handed: list[object] = []

    def fallback(text: bytes | str) -> object:
        handed.append(text)
        return json.loads(text)

    assert jsontext.loads(raw, fallback) == json.loads(raw)
    assert bool(handed) is by_fallback
