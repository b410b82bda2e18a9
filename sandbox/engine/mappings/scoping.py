"""Provides scoping filters: which directory objects are in provisioning scope (§7).

A scoping filter is a list of clauses joined by AND; several filters are joined by OR. No
filter means everything assigned is in scope. A clause whose attribute is null or empty is
false. EQUALS, NOT EQUALS and Includes are case-sensitive, as Entra's are. REGEX MATCH takes a
.NET pattern (named groups as `(?<name>...)`) and fails, rather than hangs, past the sandbox's
time limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import regex

from sandbox.errors import MappingError, SandboxError
from sandbox.expressions import REGEX_TIME_LIMIT_S, compile_dotnet_regex


class ScopingError(MappingError):
    """A scoping clause could not be evaluated for one object (a REGEX MATCH past the time
    limit): the object fails its step, it is neither in nor out of scope."""


OPERATORS = (
    "EQUALS",
    "NOT EQUALS",
    "IS TRUE",
    "IS FALSE",
    "IS NULL",
    "IS NOT NULL",
    "REGEX MATCH",
    "NOT REGEX MATCH",
    "Greater_Than",
    "Greater_Than_OR_EQUALS",
    "Includes",
    "ENDS_WITH",
    "&",
    "!&",
)
"""Entra's scoping operators, spelled as the portal spells them."""

UNARY = {"IS TRUE", "IS FALSE", "IS NULL", "IS NOT NULL"}

UNSUPPORTED = {"appRoleAssignments", "members", "manager", "userType", "IsMemberOf"}
"""Attributes Entra's scoping filters cannot use (§7)."""


@dataclass(frozen=True)
class Clause:
    """One `attribute OPERATOR value` clause."""

    attribute: str
    operator: str
    value: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"attribute": self.attribute, "operator": self.operator, "value": self.value}

    def __str__(self) -> str:
        return f"{self.attribute} {self.operator}" + (
            "" if self.operator in UNARY else f" {self.value!r}"
        )


@dataclass(frozen=True)
class ScopingFilter:
    """Clauses joined by AND."""

    clauses: tuple[Clause, ...]

    def to_dict(self) -> list[dict[str, str]]:
        return [c.to_dict() for c in self.clauses]

    def __str__(self) -> str:
        return " AND ".join(str(c) for c in self.clauses)


def make_clause(attribute: str, operator: str, value: str = "") -> Clause:
    """Build a clause, refusing unknown operators and unsupported attributes with a reason."""
    canonical = {op.lower(): op for op in OPERATORS}.get(operator.strip().lower())
    if canonical is None:
        raise SandboxError(
            f"unknown scoping operator {operator!r}; use one of: {', '.join(OPERATORS)}"
        )
    if attribute in UNSUPPORTED:
        raise SandboxError(f"scoping filters cannot use {attribute} (Entra does not support it)")
    if canonical in ("REGEX MATCH", "NOT REGEX MATCH"):
        try:
            compile_dotnet_regex(value)
        except regex.error as exc:
            raise SandboxError(f"invalid regular expression {value!r}: {exc}") from None
    if canonical in ("Greater_Than", "Greater_Than_OR_EQUALS"):
        try:
            int(value)
        except ValueError:
            raise SandboxError(f"{canonical} compares integers only, got {value!r}") from None
    if canonical not in UNARY and value == "":
        raise SandboxError(f"{canonical} needs a value")
    return Clause(attribute, canonical, value)


def parse_clause(text: str) -> Clause:
    """Read `attribute OPERATOR [value]`, e.g. `department EQUALS Sales` or `mail IS NOT NULL`."""
    parts = text.strip().split(None, 1)
    if len(parts) < 2:
        raise SandboxError(f"a scoping clause reads 'attribute OPERATOR value', got {text!r}")
    attribute, rest = parts
    for op in sorted(OPERATORS, key=len, reverse=True):
        if rest.lower() == op.lower() or rest.lower().startswith(op.lower() + " "):
            value = rest[len(op) :].strip().strip('"')
            return make_clause(attribute, op, value)
    raise SandboxError(f"unknown scoping operator in {text!r}; use one of: {', '.join(OPERATORS)}")


def parse_scoping_filters(
    data: Iterable[Iterable[Mapping[str, object]]],
) -> tuple[ScopingFilter, ...]:
    """Stored form (a list of filters, each a list of clause dicts) back to filters."""
    return tuple(
        ScopingFilter(
            tuple(
                make_clause(str(c["attribute"]), str(c["operator"]), str(c.get("value", "")))
                for c in f
            )
        )
        for f in data
    )


def _lookup(source: Mapping[str, object], attribute: str) -> object:
    lowered = attribute.lower()
    for key, value in source.items():
        if key.lower() == lowered:
            return value
    return None


def clause_holds(clause: Clause, source: Mapping[str, object]) -> bool:
    """Evaluate one clause against a directory object's properties."""
    value = _lookup(source, clause.attribute)
    op = clause.operator
    if op == "IS NULL":
        return value in (None, "")
    if op == "IS NOT NULL":
        return value not in (None, "")
    if value in (None, ""):
        return False  # null or empty makes every other clause false
    text = str(value) if not isinstance(value, bool) else ("True" if value else "False")
    if op == "IS TRUE":
        return text.lower() == "true"
    if op == "IS FALSE":
        return text.lower() == "false"
    if op == "EQUALS":
        return text == clause.value
    if op == "NOT EQUALS":
        return text != clause.value
    if op == "Includes":
        return clause.value in text
    if op == "ENDS_WITH":
        return text.endswith(clause.value)
    if op == "&":  # Entra: true if the attribute's value exists in the input string
        return text in clause.value
    if op == "!&":
        return text not in clause.value
    if op in ("REGEX MATCH", "NOT REGEX MATCH"):
        pattern = compile_dotnet_regex(clause.value)
        try:
            found = pattern.search(text, timeout=REGEX_TIME_LIMIT_S) is not None
        except TimeoutError:
            raise ScopingError(
                f"scoping clause {clause} took longer than {REGEX_TIME_LIMIT_S:g} s on "
                f"{clause.attribute} (its pattern backtracks catastrophically)"
            ) from None
        return found if op == "REGEX MATCH" else not found
    try:
        number = int(text)
    except ValueError:
        return False
    limit = int(clause.value)
    return number > limit if op == "Greater_Than" else number >= limit


def in_scope(filters: Iterable[ScopingFilter], source: Mapping[str, object]) -> tuple[bool, str]:
    """Whether `source` passes the filters (OR of ANDs), with the reason in Entra's words."""
    filters = tuple(filters)
    if not filters:
        return True, "no scoping filter"
    for scoping in filters:
        failed = next((c for c in scoping.clauses if not clause_holds(c, source)), None)
        if failed is None:
            return True, f"passes scoping filter ({scoping})"
    return False, "does not pass any scoping filter"
