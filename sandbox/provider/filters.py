"""Provides filter -> SQL: a SCIM filter (parsed by scim2-models) compiled to a parameterized WHERE.

Every comparison becomes SQL over the users table or the user_values index, so a filter
is never evaluated by scanning users in Python. Case rules come from the schema:
caseExact=false attributes compare their casefold (RFC 7644 §3.4.2.2). Every leaf is
written to be 0 or 1, never NULL, so `not` negates correctly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.errors import ScimError
from sandbox.provider.schema import Attribute, UserSchema
from sandbox.provider.syntax import holds_lone_surrogate, huge_number, kind, parse_filter_tree
from sandbox.scim_names import CORE_USER_SCHEMA
from sandbox.timestamps import format_timestamp

MAX_FILTER_LENGTH = 4096
"""Longest filter accepted; longer ones get 400 invalidFilter rather than a slow parse."""

# Columns of the users table that back an attribute (and are indexed).
USER_COLUMNS = {
    "id": "users.id",
    "userName": "users.user_name_norm",
    "externalId": "users.external_id",
    "displayName": "users.display_name_norm",
    "active": "users.active",
}
META_COLUMNS = {"created": "users.created", "lastmodified": "users.last_modified"}
# Sub-attributes of a multi-valued attribute that have their own column in user_values.
VALUE_COLUMNS = {"value": "value_norm", "type": "type_norm", "primary": "is_primary"}


def parse_filter(text: str) -> Any:
    """Parse a filter with scim2-models' RFC 7644 grammar; syntax errors are 400 invalidFilter."""
    if len(text) > MAX_FILTER_LENGTH:
        raise ScimError(400, f"filter longer than {MAX_FILTER_LENGTH} characters", "invalidFilter")
    if holds_lone_surrogate(text):
        raise ScimError(400, "a filter value holds a lone UTF-16 surrogate", "invalidFilter")
    try:
        tree = parse_filter_tree(text)
    except Exception as exc:  # scim2-models raises InvalidFilterException or lark errors
        raise ScimError(400, f"invalid filter: {exc}", "invalidFilter") from None
    huge = huge_number(tree)
    if huge is not None:
        raise ScimError(400, f"invalid filter: {_number(huge)} is past 64 bits", "invalidFilter")
    return tree


def _number(value: int) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} digits)"


def _datetime_value(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ScimError(400, "a dateTime comparison needs a string value", "invalidFilter")
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ScimError(400, f"{raw!r} is not an RFC 3339 dateTime", "invalidFilter") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return format_timestamp(parsed)


@dataclass
class _Target:
    """Where a compared attribute lives in SQL, and how to compare it."""

    sql: str
    attribute: Attribute | None
    kind: str  # string, boolean, dateTime, ...
    case_exact: bool
    fold_sql: bool = False
    """True when the SQL value is stored as written and must be casefolded to compare."""


class FilterCompiler:
    """Compiles a parsed filter into (sql, params) for `SELECT ... FROM users WHERE sql`."""

    def __init__(self, schema: UserSchema) -> None:
        self.schema = schema
        self.params: list[Any] = []

    def compile(self, node: Any) -> str:
        """The WHERE clause of `node`; parameters accumulate in self.params."""
        if kind(node) == "LogicalExpr":
            joiner = f" {node.op.value.upper()} "
            return "(" + joiner.join(self.compile(term) for term in node.terms) + ")"
        if kind(node) == "Not":
            return f"(NOT {self.compile(node.expr)})"
        if kind(node) == "ValuePath":
            attribute = self._top(node.attr_path)
            if not attribute.multi_valued:
                raise ScimError(
                    400, f"{attribute.name} is not multi-valued: no [filter] on it", "invalidFilter"
                )
            inner = _ItemCompiler(attribute, self.params).compile(node.val_filter)
            return self._exists(attribute, inner)
        if kind(node) in ("Present", "Comparison"):
            return self._leaf(node)
        raise ScimError(400, "unsupported filter expression", "invalidFilter")

    # -- attribute resolution -----------------------------------------------------------

    def _top(self, path: Any) -> Attribute:
        if path.attr.lower() == "meta":
            raise ScimError(400, "meta has no values to select", "invalidFilter")
        attribute = self.schema.find(path.attr, path.uri)
        if attribute is None:
            raise ScimError(400, f"unknown attribute {path}", "invalidFilter")
        return attribute

    def _exists(self, attribute: Attribute, condition: str) -> str:
        return (
            "users.id IN (SELECT user_id FROM user_values "
            f"WHERE attr = '{attribute.name}' AND {condition})"
        )

    def _leaf(self, node: Any) -> str:
        path = node.attr_path
        if path.attr.lower() == "meta":
            return self._meta_leaf(node)
        attribute = self._top(path)
        if attribute.multi_valued:
            sub = attribute.sub(path.sub_attr or "value") if attribute.type == "complex" else None
            if sub is None:
                raise ScimError(400, f"unknown attribute {path}", "invalidFilter")
            condition = _ItemCompiler(attribute, self.params).leaf(node, sub)
            return self._exists(attribute, condition)
        if path.sub_attr:
            sub = attribute.sub(path.sub_attr)
            if sub is None or attribute.type != "complex":
                raise ScimError(400, f"unknown attribute {path}", "invalidFilter")
            target = _Target(self._json(attribute, sub.name), sub, sub.type, sub.case_exact, True)
        elif attribute.type == "complex":
            raise ScimError(
                400, f"{attribute.name} is complex: name a sub-attribute", "invalidFilter"
            )
        elif attribute.name in USER_COLUMNS:
            column = USER_COLUMNS[attribute.name]
            target = _Target(column, attribute, attribute.type, attribute.case_exact)
        else:
            target = _Target(
                self._json(attribute), attribute, attribute.type, attribute.case_exact, True
            )
        return compare(target, node, self.params)

    def _json(self, attribute: Attribute, sub: str | None = None) -> str:
        path = "$"
        if attribute.schema != CORE_USER_SCHEMA:
            path += f'."{attribute.schema}"'
        path += f'."{attribute.name}"'
        if sub:
            path += f'."{sub}"'
        return f"json_extract(users.doc, '{path}')"

    def _meta_leaf(self, node: Any) -> str:
        sub = (node.attr_path.sub_attr or "").lower()
        if sub in META_COLUMNS:
            target = _Target(META_COLUMNS[sub], None, "dateTime", True)
        elif sub == "resourcetype":
            target = _Target("'User'", None, "string", True)
        elif sub == "version":
            target = _Target("('W/\"' || users.version || '\"')", None, "string", True)
        elif sub == "location":
            raise ScimError(400, "filtering on meta.location is not supported", "invalidFilter")
        else:
            raise ScimError(400, f"unknown attribute {node.attr_path}", "invalidFilter")
        return compare(target, node, self.params)


class _ItemCompiler:
    """Compiles the filter inside `attr[...]` against the user_values row of one value."""

    def __init__(self, attribute: Attribute, params: list[Any]) -> None:
        self.attribute = attribute
        self.params = params

    def compile(self, node: Any) -> str:
        if kind(node) == "LogicalExpr":
            joiner = f" {node.op.value.upper()} "
            return "(" + joiner.join(self.compile(t) for t in node.terms) + ")"
        if kind(node) == "Not":
            return f"(NOT {self.compile(node.expr)})"
        if kind(node) in ("Present", "Comparison"):
            sub = self.attribute.sub(node.attr_path.attr)
            if sub is None or node.attr_path.sub_attr:
                raise ScimError(
                    400,
                    f"{self.attribute.name} has no sub-attribute {node.attr_path}",
                    "invalidFilter",
                )
            return self.leaf(node, sub)
        raise ScimError(400, "nested value filters are not allowed", "invalidFilter")

    def leaf(self, node: Any, sub: Attribute) -> str:
        if sub.name in VALUE_COLUMNS:
            # value_norm and type_norm hold the casefold unless the sub-attribute is caseExact
            case_exact = sub.case_exact if sub.name == "value" else False
            target = _Target(VALUE_COLUMNS[sub.name], sub, sub.type, case_exact)
        else:
            sql = f"json_extract(item, '$.\"{sub.name}\"')"
            target = _Target(sql, sub, sub.type, sub.case_exact, fold_sql=True)
        return compare(target, node, self.params)


def compare(target: _Target, node: Any, params: list[Any]) -> str:
    """One comparison (or presence test) as SQL that is 0 or 1, never NULL."""
    col = target.sql
    if target.fold_sql and not target.case_exact and target.kind not in ("boolean", "dateTime"):
        col = f"scim_fold({col})"
    if kind(node) == "Present":
        if target.kind == "boolean":
            return f"({col} IS NOT NULL)"
        return f"({col} IS NOT NULL AND {col} != '')"
    op = node.op.value
    value = node.value
    if value is None:  # `attr eq null` reads as "has no value"
        if op == "eq":
            return f"({col} IS NULL)"
        if op == "ne":
            return f"({col} IS NOT NULL)"
        raise ScimError(400, f"null cannot be compared with {op}", "invalidFilter")
    if target.kind == "boolean":
        if op not in ("eq", "ne"):
            raise ScimError(400, f"{op} is not defined for booleans", "invalidFilter")
        if not isinstance(value, bool):
            raise ScimError(400, "a boolean attribute compares with true or false", "invalidFilter")
        params.append(1 if value else 0)
        sql = f"({col} IS NOT NULL AND {col} = ?)"
        return sql if op == "eq" else f"(NOT {sql})"
    if target.kind == "dateTime":
        value = _datetime_value(value)
    elif not isinstance(value, str):
        if isinstance(value, bool | int | float):
            value = str(value).lower() if isinstance(value, bool) else str(value)
        else:
            raise ScimError(400, f"cannot compare with {value!r}", "invalidFilter")
    if not target.case_exact:
        value = value.casefold()
    if op in ("eq", "ne"):
        params.append(value)
        sql = f"({col} IS NOT NULL AND {col} = ?)"
        return sql if op == "eq" else f"(NOT {sql})"
    if op == "co":
        # instr(): exact substring, so '%' and '_' in the value are plain characters
        params.append(value)
        return f"({col} IS NOT NULL AND instr({col}, ?) > 0)"
    if op == "sw":
        params.extend([len(value), value])
        return f"({col} IS NOT NULL AND substr({col}, 1, ?) = ?)"
    if op == "ew":
        if not value:
            return f"({col} IS NOT NULL)"
        params.extend([-len(value), value])
        return f"({col} IS NOT NULL AND substr({col}, ?) = ?)"
    sql_op = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
    params.append(value)
    return f"({col} IS NOT NULL AND {col} {sql_op} ?)"


def compile_filter(schema: UserSchema, text: str) -> tuple[str, list[Any]]:
    """Parse and compile a filter: the WHERE clause and its parameters."""
    compiler = FilterCompiler(schema)
    sql = compiler.compile(parse_filter(text))
    return sql, compiler.params
