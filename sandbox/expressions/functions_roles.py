"""Provides the multi-valued and app-role functions: Count, Item, RemoveDuplicates,
SingleAppRoleAssignment, AppRoleAssignmentsComplex and AssertiveAppRoleAssignmentsComplex.

An app role assignment in the source object is ``{"id", "value", "displayName"}``; a bare string
is read as a role whose value and display name are that string.
"""

from __future__ import annotations

from sandbox.expressions.spec import EvaluationContext, make_spec
from sandbox.expressions.values import ArgumentError, as_list, integer

ROLE_TYPE = "WindowsAzureActiveDirectoryRole"
"""The `type` Entra always sends for roles (Entra docs, customize-application-attributes)."""

SINGLE_ROLE_ERROR = (
    "An error occured while evaluating this function: 'SingleAppRoleAssignment.' No more than "
    "one app role assignment was expected, but this many where found: {count}"
)
"""Entra's message, typos included, when SingleAppRoleAssignment meets several roles."""


def _count(ctx: EvaluationContext, value: object) -> int:
    return len(as_list(value))


def _item(ctx: EvaluationContext, value: object, index: object) -> object:
    position = integer(index, 1)
    if position < 1:
        # Entra docs, Item: "returns the first item" for 1; "Index 0 shouldn't be used".
        raise ArgumentError(1, f"is 1-based: use 1 for the first value, got {position}")
    items = as_list(value)
    return items[position - 1] if position <= len(items) else None


def _remove_duplicates(ctx: EvaluationContext, value: object) -> object:
    if not isinstance(value, list):
        return value
    seen: list[object] = []
    for item in value:
        if item not in seen:
            seen.append(item)
    return seen


def role_assignments(value: object) -> list[dict[str, object]]:
    """Read an [appRoleAssignments] value as a list of ``{"id", "value", "displayName"}``."""
    roles: list[dict[str, object]] = []
    for item in as_list(value):
        if isinstance(item, dict):
            roles.append(item)
        elif isinstance(item, str):
            roles.append({"id": None, "value": item, "displayName": item})
        else:
            raise ArgumentError(0, f"must be app role assignments, got {item!r}")
    return roles


def _single(ctx: EvaluationContext, value: object) -> object:
    roles = role_assignments(value)
    if len(roles) > 1:
        # Entra docs, SingleAppRoleAssignment: not supported with several assignments.
        raise ArgumentError(-1, SINGLE_ROLE_ERROR.format(count=len(roles)), verbatim=True)
    return roles[0].get("value") if roles else None


def _complex(ctx: EvaluationContext, value: object) -> list[dict[str, object]]:
    # Entra docs, AppRoleAssignmentsComplex POST: every role with primary false.
    return [
        {
            "primary": False,
            "type": ROLE_TYPE,
            "displayName": r.get("displayName"),
            "value": r.get("value"),
        }
        for r in role_assignments(value)
    ]


def _assertive(ctx: EvaluationContext, value: object) -> list[dict[str, object]]:
    # Entra docs: AssertiveAppRoleAssignmentsComplex sends real objects with "display".
    return [
        {
            "primary": False,
            "type": ROLE_TYPE,
            "display": r.get("displayName"),
            "value": r.get("value"),
        }
        for r in role_assignments(value)
    ]


SPECS = (
    make_spec("AppRoleAssignmentsComplex", "[appRoleAssignments]",
              "Every assigned app role as a complex role (primary false); PATCH is add-only.",
              _complex),
    make_spec("AssertiveAppRoleAssignmentsComplex", "[appRoleAssignments]",
              "Every assigned app role as a complex role; PATCH replaces the whole list.",
              _assertive),
    make_spec("Count", "attribute", "Number of values of a multi-valued attribute.", _count),
    make_spec("Item", "attribute, index", "The index-th value (1-based) of a multi-valued attribute.",
              _item, example="Item([proxyAddresses], 1)"),
    make_spec("RemoveDuplicates", "attribute", "The multi-valued attribute with duplicates removed.",
              _remove_duplicates),
    make_spec("SingleAppRoleAssignment", "[appRoleAssignments]",
              "The value of the user's one app role; an error if there are several.", _single,
              example="SingleAppRoleAssignment([appRoleAssignments]) -> ADMIN"),
)  # fmt: skip
