"""Provides PATCH (RFC 7644 §3.5.2) over a stored User document, in both Entra dialects.

Accepted on purpose, because Entra sends them: `op` in any case ("Replace", "add"),
booleans as "True"/"False" strings, path-less add/replace whose keys are dotted
("name.givenName") or URN-qualified, value-filtered paths that name no existing value
(`emails[type eq "work"].value`: the value is created from the filter), roles as
stringified JSON, and remove with a value list.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.errors import ScimError
from sandbox.provider.filters import MAX_FILTER_LENGTH
from sandbox.provider.resources import check_primary, coerce_boolean, coerce_value
from sandbox.provider.schema import Attribute, UserSchema
from sandbox.provider.syntax import holds_lone_surrogate, huge_number, kind, parse_path_tree
from sandbox.provider.wirejson import loads_or_none
from sandbox.scim_names import ENTERPRISE_USER_SCHEMA, PATCH_OP

MAX_OPERATIONS = 1000
"""Most operations one PATCH may carry (ServiceProviderConfig patch is unbounded in RFC)."""


def parse_patch_request(body: Any) -> list[dict[str, Any]]:
    """Check the PatchOp envelope (RFC 7644 §3.5.2) and return its operations."""
    if not isinstance(body, dict):
        raise ScimError(400, "the request body must be a JSON object", "invalidSyntax")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or PATCH_OP not in schemas:
        raise ScimError(400, f"a PATCH body must have schemas [{PATCH_OP}]", "invalidSyntax")
    operations = body.get("Operations", body.get("operations"))
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "Operations must be a non-empty list", "invalidSyntax")
    if len(operations) > MAX_OPERATIONS:
        raise ScimError(413, f"more than {MAX_OPERATIONS} operations", "tooMany")
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError(400, "each operation must be an object", "invalidSyntax")
    return operations


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars): a stored document is nothing
    else, and copy.deepcopy's memo and dispatch make it about four times slower."""
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    return value


class Patcher:
    """Applies PATCH operations to a copy of a stored document."""

    def __init__(self, schema: UserSchema, doc: dict[str, Any]) -> None:
        self.schema = schema
        self.doc = _json_copy(doc)
        self.touched: list[str] = []
        """Top-level attribute names each operation changed (for rules sitting on top)."""

    def apply(self, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Apply every operation in order; the whole PATCH fails if one does (RFC 7644 §3.5.2)."""
        for index, operation in enumerate(operations):
            raw_op = operation.get("op")
            op = raw_op.lower() if isinstance(raw_op, str) else None
            if op not in ("add", "replace", "remove"):
                raise ScimError(
                    400,
                    f"operation {index}: op must be add, replace or remove, got {raw_op!r}",
                    "invalidSyntax",
                )
            path = operation.get("path")
            has_value = "value" in operation
            value = operation.get("value")
            if path is not None and not isinstance(path, str):
                raise ScimError(400, f"operation {index}: path must be a string", "invalidPath")
            if not path:
                if op == "remove":
                    raise ScimError(400, "remove needs a path", "noTarget")
                if not isinstance(value, dict):
                    raise ScimError(
                        400,
                        f"operation {index}: {op} without a path needs an object value",
                        "invalidValue",
                    )
                self._pathless(op, value)
                continue
            if op != "remove" and not has_value:
                raise ScimError(400, f"operation {index}: {op} needs a value", "invalidValue")
            self._with_path(op, path, value, has_value)
        return self.doc

    # -- path-less add/replace ---------------------------------------------------------

    def _pathless(self, op: str, value: dict[str, Any]) -> None:
        for key, item in value.items():
            if key.lower() == ENTERPRISE_USER_SCHEMA.lower():
                if not isinstance(item, dict):
                    raise ScimError(
                        400, f"{ENTERPRISE_USER_SCHEMA} must be an object", "invalidValue"
                    )
                for sub_key, sub_value in item.items():
                    if sub_key.lower() == "schemas":  # as at the top level: not an attribute
                        continue
                    self._with_path(op, f"{ENTERPRISE_USER_SCHEMA}:{sub_key}", sub_value, True)
                continue
            if key.lower() in ("schemas", "id", "meta"):
                continue
            # Keys may be dotted ("name.givenName") or URN-qualified (Entra's flag dialect)
            self._with_path(op, key, item, True)

    # -- operations with a path --------------------------------------------------------

    def _parse(self, path: str) -> Any:
        if len(path) > MAX_FILTER_LENGTH:  # a path's value filter is bounded as a filter is
            raise ScimError(400, f"path longer than {MAX_FILTER_LENGTH} characters", "invalidPath")
        if holds_lone_surrogate(path):
            raise ScimError(400, "the path holds a lone UTF-16 surrogate", "invalidPath")
        try:
            tree = parse_path_tree(path)
        except Exception as exc:
            raise ScimError(400, f"invalid path {path!r}: {exc}", "invalidPath") from None
        if huge_number(tree) is not None:
            raise ScimError(400, f"invalid path {path!r}: a number past 64 bits", "invalidPath")
        return tree

    def _resolve(self, attr_path: Any, raw: str) -> Attribute:
        attribute = self.schema.find(attr_path.attr, attr_path.uri)
        if attribute is None:
            raise ScimError(400, f"unknown attribute in path {raw!r}", "invalidPath")
        if attribute.mutability == "readOnly":
            raise ScimError(400, f"{attribute.name} is read-only", "mutability")
        return attribute

    def _container(self, attribute: Attribute, create: bool) -> dict[str, Any] | None:
        if attribute.schema == ENTERPRISE_USER_SCHEMA:
            if create:
                return self.doc.setdefault(ENTERPRISE_USER_SCHEMA, {})
            return self.doc.get(ENTERPRISE_USER_SCHEMA)
        return self.doc

    def _with_path(self, op: str, raw: str, value: Any, has_value: bool) -> None:
        if raw.strip().lower() == ENTERPRISE_USER_SCHEMA.lower():
            # RFC 7643 §3.3: an extension's attributes sit in a container named by its URN,
            # so the bare URN is a path to that container, patched as a complex attribute.
            if op == "remove":
                removed = self.doc.pop(ENTERPRISE_USER_SCHEMA, None) or {}
                self.touched.extend(removed)
            else:
                self._pathless(op, {ENTERPRISE_USER_SCHEMA: value})
            return
        node = self._parse(raw)
        if node is None:
            raise ScimError(400, f"invalid path {raw!r}", "invalidPath")
        if kind(node) in ("Comparison", "Present"):
            raise ScimError(400, f"a filter is not a path: {raw!r}", "invalidPath")
        if kind(node) == "ValuePath":
            attribute = self._resolve(node.attr_path, raw)
            if attribute.type != "complex" or not attribute.multi_valued:
                raise ScimError(400, f"{attribute.name} has no values to filter", "invalidPath")
            self._value_path(op, attribute, node.val_filter, node.sub_attr, value, has_value, raw)
        else:
            attribute = self._resolve(node, raw)
            if node.sub_attr:
                self._sub_attr(op, attribute, node.sub_attr, value, raw)
            else:
                self._attr(op, attribute, value, has_value)
        self.touched.append(attribute.name)
        self._tidy(attribute)

    def _attr(self, op: str, attribute: Attribute, value: Any, has_value: bool) -> None:
        container = self._container(attribute, create=op != "remove")
        if op == "remove":
            if container is None:
                return
            if attribute.multi_valued and has_value and value is not None:
                doomed = coerce_value(attribute, value, attribute.name) or []
                keys = {_identity(item) for item in doomed}
                kept = [i for i in container.get(attribute.name, []) if _identity(i) not in keys]
                container[attribute.name] = kept
            else:
                container.pop(attribute.name, None)
            return
        assert container is not None
        coerced = coerce_value(attribute, value, attribute.name)
        if coerced is None:
            if op == "replace":
                container.pop(attribute.name, None)
            return
        current = container.get(attribute.name)
        if attribute.multi_valued:
            if op == "add" and current:
                merged = list(current)
                for item in coerced:
                    merged = [m for m in merged if _identity(m) != _identity(item)] + [item]
                coerced = merged
            _one_primary(coerced)
            check_primary(attribute, coerced)
            container[attribute.name] = coerced
        elif attribute.type == "complex" and isinstance(current, dict):
            # RFC 7644 §3.5.2.1/3: sub-attributes not named are left unchanged
            container[attribute.name] = {**current, **coerced}
        else:
            container[attribute.name] = coerced

    def _sub_attr(self, op: str, attribute: Attribute, name: str, value: Any, raw: str) -> None:
        sub = attribute.sub(name)
        if sub is None or attribute.type != "complex":
            raise ScimError(400, f"unknown attribute in path {raw!r}", "invalidPath")
        if sub.mutability == "readOnly":
            raise ScimError(400, f"{attribute.name}.{sub.name} is read-only", "mutability")
        container = self._container(attribute, create=op != "remove")
        if container is None:
            return
        if attribute.multi_valued:
            items = container.get(attribute.name, [])
            for item in items:
                self._set_sub(op, item, sub, value, raw)
            return
        target = container.get(attribute.name)
        if op == "remove":
            if isinstance(target, dict):
                target.pop(sub.name, None)
            return
        if not isinstance(target, dict):
            target = container[attribute.name] = {}
        if attribute.name == "manager" and sub.name == "value" and isinstance(value, dict):
            value = value.get("value")
        self._set_sub(op, target, sub, value, raw)

    def _set_sub(self, op: str, item: dict[str, Any], sub: Attribute, value: Any, raw: str) -> None:
        if op == "remove":
            item.pop(sub.name, None)
            return
        coerced = coerce_value(sub, value, raw)
        if coerced is None:
            item.pop(sub.name, None)
        else:
            item[sub.name] = coerced

    def _value_path(
        self,
        op: str,
        attribute: Attribute,
        selection: Any,
        sub_name: str | None,
        value: Any,
        has_value: bool,
        raw: str,
    ) -> None:
        container = self._container(attribute, create=op != "remove")
        items: list[dict[str, Any]] = [] if container is None else container.get(attribute.name, [])
        matched = [item for item in items if matches(attribute, selection, item)]
        sub = None
        if sub_name:
            sub = attribute.sub(sub_name)
            if sub is None:
                raise ScimError(400, f"unknown attribute in path {raw!r}", "invalidPath")
        if op == "remove":
            if not matched:
                return  # nothing to remove is not an error for Entra's idempotent removes
            if sub is None:
                container[attribute.name] = [i for i in items if i not in matched]  # type: ignore[index]
            else:
                for item in matched:
                    item.pop(sub.name, None)
            return
        assert container is not None
        if not matched:
            # Entra adds (and sometimes replaces) a value through a filter that selects
            # nothing yet; build the value from the filter's equality terms.
            seed = _seed_from_filter(attribute, selection)
            if seed is None:
                raise ScimError(400, f"no value matches {raw!r}", "noTarget")
            items = list(items) + [seed]
            container[attribute.name] = items
            matched = [seed]
        for item in matched:
            if sub is not None:
                if attribute.name == "roles" and sub.name == "value":
                    value = _role_value(value)
                self._set_sub(op, item, sub, value, raw)
            else:
                coerced = coerce_value(attribute, value, raw, multi=False) or {}
                item.update(coerced)
        _one_primary(container[attribute.name], prefer=matched[-1])
        check_primary(attribute, container[attribute.name])

    def _tidy(self, attribute: Attribute) -> None:
        container = self._container(attribute, create=False)
        if container is None:
            return
        current = container.get(attribute.name)
        if attribute.multi_valued and isinstance(current, list):
            kept = [i for i in current if not (isinstance(i, dict) and _is_hollow(i))]
            current = kept
            container[attribute.name] = kept
        if current in (None, [], {}):
            container.pop(attribute.name, None)
        if attribute.schema == ENTERPRISE_USER_SCHEMA and not container:
            self.doc.pop(ENTERPRISE_USER_SCHEMA, None)


def _is_hollow(item: dict[str, Any]) -> bool:
    """A value left with only type/primary/display after a remove carries nothing."""
    return not any(k not in ("type", "primary", "display") for k in item)


def _identity(item: Any) -> Any:
    if isinstance(item, dict):
        return json.dumps({k: v for k, v in item.items() if k != "primary"}, sort_keys=True)
    return item


def _one_primary(items: list[Any], prefer: Any = None) -> None:
    """RFC 7644 §3.5.2: setting primary=true on one value clears it on the others."""
    primaries = [i for i in items if isinstance(i, dict) and i.get("primary") is True]
    if len(primaries) <= 1:
        return
    keep = prefer if prefer in primaries else primaries[-1]
    for item in primaries:
        if item is not keep:
            item["primary"] = False


def _role_value(value: Any) -> Any:
    """A role value given as stringified JSON ({"id":..,"value":"ADMIN"}) becomes its value."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        parsed = loads_or_none(value)  # strict: no NaN, deep nesting or lone surrogates
        if isinstance(parsed, dict) and "value" in parsed:
            return parsed["value"]
    return value


def _seed_from_filter(attribute: Attribute, node: Any) -> dict[str, Any] | None:
    terms = node.terms if kind(node) == "LogicalExpr" and node.op.value == "and" else (node,)
    seed: dict[str, Any] = {}
    for term in terms:
        if kind(term) != "Comparison" or term.op.value != "eq":
            return None
        sub = attribute.sub(term.attr_path.attr)
        if sub is None:
            return None
        value = term.value
        if sub.type == "boolean":
            value = coerce_boolean(value, f"{attribute.name}.{sub.name}")
        seed[sub.name] = value
    return seed


def matches(attribute: Attribute, node: Any, item: Any) -> bool:
    """Whether one value of a multi-valued attribute satisfies a value filter."""
    if not isinstance(item, dict):
        return False
    if kind(node) == "LogicalExpr":
        results = (matches(attribute, t, item) for t in node.terms)
        return all(results) if node.op.value == "and" else any(results)
    if kind(node) == "Not":
        return not matches(attribute, node.expr, item)
    if kind(node) in ("Present", "Comparison"):
        sub = attribute.sub(node.attr_path.attr)
        if sub is None:
            raise ScimError(
                400, f"{attribute.name} has no sub-attribute {node.attr_path.attr}", "invalidPath"
            )
        actual = item.get(sub.name)
        if kind(node) == "Present":
            return actual not in (None, "", [])
        return _compare(sub, actual, node.op.value, node.value)
    raise ScimError(400, "unsupported value filter", "invalidPath")


def _compare(sub: Attribute, actual: Any, op: str, expected: Any) -> bool:
    if sub.type == "boolean":
        try:
            want = coerce_boolean(expected, sub.name)  # Entra writes primary eq "True"
        except ScimError:
            return False
        have = bool(actual) if actual is not None else False
        return (have == want) if op == "eq" else (have != want) if op == "ne" else False
    if actual is None:
        return op == "ne"
    if not isinstance(actual, str) or not isinstance(expected, str):
        return (actual == expected) if op == "eq" else (actual != expected) if op == "ne" else False
    if not sub.case_exact:
        actual, expected = actual.casefold(), expected.casefold()
    return {
        "eq": actual == expected,
        "ne": actual != expected,
        "co": expected in actual,
        "sw": actual.startswith(expected),
        "ew": actual.endswith(expected),
        "gt": actual > expected,
        "ge": actual >= expected,
        "lt": actual < expected,
        "le": actual <= expected,
    }[op]


__all__ = ["Patcher", "matches", "parse_patch_request"]
