"""Provides attribute mappings: the Mapping value, save-time validation, compute and diff.

The unit shared by create and update is the *flat state*: ``{target path: value}`` for one object,
e.g. ``{"userName": "ada@contoso.com", "active": "True", 'emails[type eq "work"].value': ...}``.
`compute` produces it from a directory object, `to_scim_document` turns it into a POST body, and
`diff` compares two of them into the ordered changes a PATCH carries.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from sandbox.engine.mappings.paths import (
    CORE_GROUP_SCHEMA,
    CORE_USER_SCHEMA,
    ENTERPRISE_USER_SCHEMA,
    REFERENCE_TARGETS,
    TargetPath,
    parse_target_path,
    to_scim_document,
)
from sandbox.errors import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    MappingError,
    MappingEvaluationError,
)
from sandbox.expressions import (
    IGNORE_FLOW,
    Attribute,
    Call,
    CompiledExpression,
    EvaluationContext,
    Node,
    StringLiteral,
    lower_source,
    parse,
    walk,
)

__all__ = [
    "CORE_GROUP_SCHEMA",
    "CORE_USER_SCHEMA",
    "ENTERPRISE_USER_SCHEMA",
    "ENTRA_GROUP_ATTRIBUTES",
    "ENTRA_USER_ATTRIBUTES",
    "REFERENCE_TARGETS",
    "REQUIRED_TARGETS",
    "Change",
    "FlowType",
    "Mapping",
    "MappingType",
    "apply_changes",
    "TargetPath",
    "check_source",
    "source_problem",
    "compute",
    "constant",
    "diff",
    "direct",
    "expression",
    "matching_mappings",
    "parse_target_path",
    "to_scim_document",
    "validate_mappings",
]

ENTRA_USER_ATTRIBUTES = frozenset(
    """accountEnabled appRoleAssignments city companyName country department displayName
    employeeHireDate employeeId employeeType extensionAttribute1 extensionAttribute2
    extensionAttribute3 extensionAttribute4 extensionAttribute5 facsimileTelephoneNumber givenName
    IsSoftDeleted jobTitle mail mailNickname manager mobile objectId originalUserPrincipalName
    otherMails physicalDeliveryOfficeName postalCode preferredLanguage proxyAddresses state
    streetAddress surname telephoneNumber usageLocation userPrincipalName userType""".split()
)
"""Source attributes of a sandbox tenant user (Entra property names), for save-time checks."""

ENTRA_GROUP_ATTRIBUTES = frozenset(
    "description displayName mail mailNickname members objectId".split()
)
"""Source attributes of a sandbox tenant group."""

SOURCE_ATTRIBUTES = {"User": ENTRA_USER_ATTRIBUTES, "Group": ENTRA_GROUP_ATTRIBUTES}
"""What a mapping of each object type can read: the names an edited mapping is checked on."""

REQUIRED_TARGETS = {"User": ("userName", "active"), "Group": ("displayName",)}
"""Targets a mapping set must keep (Entra's editor refuses to delete required attributes)."""


class MappingType(StrEnum):
    """How the value is obtained (Entra docs, customize-application-attributes)."""

    DIRECT = "Direct"
    CONSTANT = "Constant"
    EXPRESSION = "Expression"
    NONE = "None"
    """The target is left alone, but filled with the default value when creating."""


class FlowType(StrEnum):
    """When the mapping applies: Graph ``flowType`` (Always / ObjectAddOnly)."""

    ALWAYS = "Always"
    OBJECT_ADD_ONLY = "ObjectAddOnly"
    """"Only during object creation" in the portal."""


@dataclass(frozen=True, slots=True)
class Mapping:
    """One attribute mapping; an expression is parsed and compiled once, when it is built."""

    target: str
    source: str = ""
    type: MappingType = MappingType.DIRECT
    default: str | None = None
    """Default value if null: used on create only, never on update (Entra docs)."""
    flow: FlowType = FlowType.ALWAYS
    matching_precedence: int = 0
    """> 0 makes this a matching attribute; the lowest precedence is tried first."""
    required: bool = False
    node: Node | None = field(init=False, compare=False, repr=False)
    compiled: CompiledExpression | None = field(init=False, compare=False, repr=False)
    direct_key: str | None = field(init=False, compare=False, repr=False)
    """Lower-cased source attribute of a Direct mapping: `compute` reads it without a call."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", MappingType(self.type))
        object.__setattr__(self, "flow", FlowType(self.flow))
        node: Node | None
        if self.type is MappingType.DIRECT:
            if not self.source.strip():
                raise MappingError(f"{self.target}: a Direct mapping needs a source attribute")
            node = Attribute(self.source.strip().strip("[]"))
        elif self.type is MappingType.CONSTANT:
            node = StringLiteral(self.source)
        elif self.type is MappingType.EXPRESSION:
            try:
                node = parse(self.source)
            except ExpressionSyntaxError as exc:
                raise MappingError(
                    f"{self.target}: invalid expression at column {exc.column}: {exc.message}"
                ) from exc
        else:
            node = None
        object.__setattr__(self, "node", node)
        key = node.name.lower() if isinstance(node, Attribute) else None
        object.__setattr__(self, "direct_key", key)
        compiled = None if node is None else CompiledExpression(node, self.source)
        object.__setattr__(self, "compiled", compiled)

    @property
    def is_matching(self) -> bool:
        """True when the engine matches existing target objects on this attribute."""
        return self.matching_precedence > 0

    @property
    def create_only(self) -> bool:
        """True for "Only during object creation" mappings, skipped on update."""
        return self.flow is FlowType.OBJECT_ADD_ONLY

    @property
    def function_name(self) -> str | None:
        """The outermost function of an expression mapping (e.g. to spot role functions)."""
        return self.node.name if isinstance(self.node, Call) else None


def direct(target: str, source: str, **options: object) -> Mapping:
    """A Direct mapping: copy a source attribute."""
    return Mapping(target, source, MappingType.DIRECT, **options)  # type: ignore[arg-type]


def constant(target: str, value: str, **options: object) -> Mapping:
    """A Constant mapping: always the same value."""
    return Mapping(target, value, MappingType.CONSTANT, **options)  # type: ignore[arg-type]


def expression(target: str, text: str, **options: object) -> Mapping:
    """An Expression mapping: evaluate an Entra expression."""
    return Mapping(target, text, MappingType.EXPRESSION, **options)  # type: ignore[arg-type]


def matching_mappings(mappings: Iterable[Mapping]) -> list[Mapping]:
    """The matching attributes in the order Entra tries them (lowest precedence first)."""
    return sorted((m for m in mappings if m.is_matching), key=lambda m: m.matching_precedence)


def validate_mappings(
    mappings: Collection[Mapping],
    *,
    object_type: str = "User",
    known_attributes: Collection[str] | None = None,
) -> None:
    """Refuse a mapping set that Entra would not save; raise MappingError naming the reason.

    Checks every target path, duplicate targets, required targets (userName and active for
    users, displayName for groups), at least one matching attribute with distinct precedences,
    and -- when `known_attributes` is given -- that every source attribute exists.
    """
    if object_type not in REQUIRED_TARGETS:
        raise MappingError(f"unknown object type {object_type!r}: expected User or Group")
    seen: dict[str, str] = {}
    for mapping in mappings:
        parse_target_path(mapping.target)
        key = mapping.target.lower()
        if key in seen:
            raise MappingError(f"{mapping.target}: mapped twice")
        seen[key] = mapping.target
        _validate_source(mapping, known_attributes)
    for required in REQUIRED_TARGETS[object_type]:
        if required.lower() not in seen:
            raise MappingError(f"{required} is a required attribute and cannot be removed")
    matching = matching_mappings(mappings)
    if not matching:
        raise MappingError("at least one mapping must be a matching attribute")
    precedences = [m.matching_precedence for m in matching]
    if len(set(precedences)) != len(precedences):
        raise MappingError("matching precedences must be distinct")
    for mapping in matching:
        if mapping.type is MappingType.NONE:
            raise MappingError(f"{mapping.target}: a matching attribute needs a source")


def source_problem(source: str, kind: str, object_type: str = "User") -> str | None:
    """What is wrong with the source of a mapping being added or edited, or None: a Direct
    mapping's source must be one attribute name (`mail` or `[mail]`) and an expression's
    attributes must be ones the tenant's users (groups) have, names case-insensitive, as
    Entra's editor offers only those. The CLI, the UI's mapping dialog, scenarios and the
    mapping files of `sandbox check` all check here (stored mappings are not re-checked)."""
    known = SOURCE_ATTRIBUTES[object_type]
    kind = MappingType(kind)
    if kind is MappingType.DIRECT:
        name = source.strip()
        if name.startswith("[") and name.endswith("]"):
            name = name[1:-1].strip()
        if not name:
            return "a Direct mapping needs a source attribute"
        if "[" in name or "]" in name or "(" in name or '"' in name:
            hint = " (an expression's type is Expression)" if "(" in name else ""
            return (
                "a Direct mapping's source is one attribute name, such as mail or [mail], "
                f"got {source.strip()!r}{hint}"
            )
        return _unknown(name, known)
    if kind is MappingType.EXPRESSION:
        try:
            node = parse(source)
        except ExpressionSyntaxError as exc:
            return f"invalid expression at column {exc.column}: {exc.message}"
        except ValueError as exc:  # a number literal Python will not convert
            return f"invalid expression: {exc}"
        for found in walk(node):
            if isinstance(found, Attribute):
                problem = _unknown(found.name, known, f" at column {found.pos + 1}")
                if problem is not None:
                    return problem
    return None


def _unknown(name: str, known: Collection[str], where: str = "") -> str | None:
    by_lower = {k.lower(): k for k in known}
    if name.lower() in by_lower:
        return None
    near = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    hint = (
        f"; did you mean {', '.join(by_lower[n] for n in near)}?"
        if near
        else " (docs/expressions.md lists the source attributes)"
    )
    return f"unknown source attribute {name!r}{where}{hint}"


def check_source(target: str, source: str, kind: str, object_type: str = "User") -> None:
    """Raise MappingError naming `target` when `source_problem` finds something wrong."""
    problem = source_problem(source, kind, object_type)
    if problem is not None:
        raise MappingError(f"{target.strip()}: {problem}")


def _validate_source(mapping: Mapping, known: Collection[str] | None) -> None:
    if mapping.node is None:
        return
    for node in walk(mapping.node):
        if isinstance(node, Call) and node.name == "SelectUniqueValue":
            # Entra docs, SelectUniqueValue: supported only for Workday/SuccessFactors/API-driven
            # provisioning to on-premises AD, "isn't supported for ... other provisioning apps".
            raise MappingError(
                f"{mapping.target}: SelectUniqueValue is not supported for SCIM apps"
            )
    if known is None:
        return
    lowered = {name.lower() for name in known}
    for node in walk(mapping.node):
        if isinstance(node, Attribute) and node.name.lower() not in lowered:
            raise MappingError(f"{mapping.target}: unknown source attribute [{node.name}]")


def compute(
    mappings: Iterable[Mapping],
    user: MappingABC[str, object],
    *,
    context: EvaluationContext | None = None,
    on_create: bool = True,
) -> dict[str, object]:
    """Evaluate a mapping set for one directory object into the flat ``{target: value}`` state.

    Nulls are never produced (Entra does not flow null values); IgnoreFlowIfNullOrEmpty drops its
    target; default values fill nulls on create only; "Only during object creation" mappings are
    skipped when `on_create` is False. Raises MappingEvaluationError naming the target.
    """
    ctx = context if context is not None else EvaluationContext()
    source = lower_source(user)
    get = source.get
    flat: dict[str, object] = {}
    # The hot loop of every cycle: Direct mappings read the source inline, without a call.
    for mapping in mappings:
        if mapping.flow is _ADD_ONLY and not on_create:
            continue
        key = mapping.direct_key
        if key is not None:
            value = get(key)
            if value.__class__ is bool:  # Graph booleans read as "True"/"False"
                value = "True" if value else "False"
        elif mapping.compiled is None:  # mapping type None
            value = None
        else:
            try:
                value = mapping.compiled.run_lowered(source, ctx)
            except ExpressionEvaluationError as exc:
                raise MappingEvaluationError(
                    exc.message, exc.column, exc.expression, mapping.target
                ) from exc
        if not value:
            if value is IGNORE_FLOW:
                continue
            if value is None or value == "" or value.__class__ is list:
                if on_create and mapping.default is not None:
                    value = mapping.default
                else:
                    continue
        flat[mapping.target] = value
    return flat


_ADD_ONLY = FlowType.OBJECT_ADD_ONLY


class Change(NamedTuple):
    """One changed attribute between two flat states; `old` is None when it had no value."""

    path: str
    old: object
    new: object


def diff(
    old: MappingABC[str, object],
    new: MappingABC[str, object],
    *,
    include_removals: bool = False,
) -> list[Change]:
    """The minimal ordered changes from `old` to `new` flat state (order of `new`).

    Targets missing from `new` are not changes by default: Entra does not flow null values, and
    create-only or IgnoreFlow targets are absent from an update's state. With `include_removals`
    they are listed last with ``new=None``.
    """
    changes = [
        Change(path, old.get(path), value)
        for path, value in new.items()
        if path not in old or old[path] != value
    ]
    if include_removals:
        changes.extend(Change(path, value, None) for path, value in old.items() if path not in new)
    return changes


def apply_changes(old: MappingABC[str, object], changes: Iterable[Change]) -> dict[str, object]:
    """The flat state after `changes` were exported (removals drop the target)."""
    state = dict(old)
    for change in changes:
        if change.new is None:
            state.pop(change.path, None)
        else:
            state[change.path] = change.new
    return state
