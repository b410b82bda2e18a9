"""Provides the functions whose result comes from the context: Guid, RandomString, DefaultDomain.

They take their randomness and tenant from the EvaluationContext, so a seeded `rng` gives the same
GUIDs and random strings on every run.
"""

from __future__ import annotations

import string
import uuid

from sandbox.expressions.spec import EvaluationContext, make_spec
from sandbox.expressions.values import ArgumentError, integer, text_or_empty

RANDOM_STRING_MAX = 256
"""Longest RandomString (Entra docs, RandomString: "256 characters max")."""

# Windows password-complexity special characters (the set Entra's RandomString docs link to).
SPECIAL_CHARACTERS = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/"


def _guid(ctx: EvaluationContext) -> str:
    return str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))


def _random_string(
    ctx: EvaluationContext,
    length: object,
    min_numbers: object,
    min_special: object,
    min_capital: object,
    min_lower: object,
    avoid: object = None,
) -> str:
    size = integer(length, 0)
    if not 1 <= size <= RANDOM_STRING_MAX:
        raise ArgumentError(0, f"must be between 1 and {RANDOM_STRING_MAX}, got {size}")
    minimums = [
        integer(v, i) for i, v in enumerate((min_numbers, min_special, min_capital, min_lower), 1)
    ]
    for index, minimum in enumerate(minimums, 1):
        if minimum < 0:
            raise ArgumentError(index, f"must not be negative, got {minimum}")
    if sum(minimums) > size:
        raise ArgumentError(-1, f"the minimums add up to {sum(minimums)}, more than Length {size}")
    excluded = set(text_or_empty(avoid, 5))
    pools = [
        "".join(c for c in chars if c not in excluded)
        for chars in (
            string.digits,
            SPECIAL_CHARACTERS,
            string.ascii_uppercase,
            string.ascii_lowercase,
        )
    ]
    chars: list[str] = []
    for index, (pool, minimum) in enumerate(zip(pools, minimums, strict=True), 1):
        if minimum and not pool:
            raise ArgumentError(5, f"leaves no characters for argument {index + 1}")
        chars.extend(ctx.rng.choice(pool) for _ in range(minimum))
    # The rest comes from letters and digits, plus specials only when some were asked for.
    rest = pools[0] + pools[2] + pools[3] + (pools[1] if minimums[1] else "")
    if len(chars) < size and not rest:
        raise ArgumentError(5, "leaves no characters to fill the string with")
    chars.extend(ctx.rng.choice(rest) for _ in range(size - len(chars)))
    ctx.rng.shuffle(chars)
    return "".join(chars)


def _default_domain(ctx: EvaluationContext) -> str:
    # Entra docs, DefaultDomain: "If no default verified domain is found, the function returns
    # an error."
    if not ctx.tenant_domain:
        raise ArgumentError(-1, "the tenant has no default verified domain")
    return ctx.tenant_domain


SPECS = (
    make_spec("DefaultDomain", "", "The tenant's default verified domain.", _default_domain,
              example='Join("@", [mailNickname], DefaultDomain())'),
    make_spec("Guid", "", "A new random GUID (from the context's seeded random source).", _guid),
    make_spec("RandomString",
              "Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital, MinimumLowerCase, "
              "CharactersToAvoid?",
              "A random string of Length (at most 256) with the given minimum character classes.",
              _random_string, example="RandomString(6, 3, 0, 0, 3) -> 1a73qt"),
)  # fmt: skip
