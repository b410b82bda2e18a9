"""Provides the wire <-> stored conversion of User resources: validation, coercion, projection.

Incoming payloads are checked against the schema definitions and normalized: canonical
attribute names, booleans as booleans (Entra sends "True"/"False" strings), nulls and empty
lists dropped (RFC 7643 §2.5: unassigned), read-only attributes ignored (RFC 7644 §3.3).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sandbox import jsontext
from sandbox.errors import ScimError
from sandbox.provider.schema import Attribute, UserSchema
from sandbox.provider.wirejson import loads_or_none
from sandbox.scim_names import CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA

TRUE_STRINGS = {"true": True, "false": False}


def coerce_boolean(value: Any, where: str) -> bool:
    """A JSON boolean, or the strings "True"/"False" in any case (Entra's PATCH and primary)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_STRINGS:
        return TRUE_STRINGS[value.strip().lower()]
    raise ScimError(400, f"{where} must be a boolean, got {json.dumps(value)}", "invalidValue")


def _coerce_scalar(attribute: Attribute, value: Any, where: str) -> Any:
    kind = attribute.type
    if kind == "boolean":
        return coerce_boolean(value, where)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScimError(400, f"{where} must be an integer", "invalidValue")
        return value
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScimError(400, f"{where} must be a number", "invalidValue")
        return value
    if not isinstance(value, str):
        raise ScimError(
            400, f"{where} must be a string, got {json.dumps(value)[:80]}", "invalidValue"
        )
    return value


def _unwrap_role(item: Any) -> Any:
    """Entra's PATCH of roles sends each role as stringified JSON inside `value` (reference 5.5)."""
    if isinstance(item, dict):
        raw = item.get("value")
        if isinstance(raw, str) and raw.lstrip().startswith("{"):
            parsed = loads_or_none(raw)  # strict: no NaN, deep nesting or lone surrogates
            if isinstance(parsed, dict) and "value" in parsed:
                merged = {k: v for k, v in item.items() if k != "value"}
                merged["value"] = parsed["value"]
                if parsed.get("displayName") and "display" not in merged:
                    merged["display"] = parsed["displayName"]
                return merged
    elif isinstance(item, str) and item.lstrip().startswith("{"):
        return _unwrap_role({"value": item})
    return item


def _manager(value: Any) -> Any:
    """Entra's manager forms: a plain id string (real traffic), "" to clear it, or the older
    documented `[{"$ref": ..., "value": id}]` list (docs/entra-behaviour.md §2.4)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        value = {"value": value}
    if isinstance(value, dict) and value.get("value") in ("", None) and not value.get("$ref"):
        return None
    return value


def coerce_value(attribute: Attribute, value: Any, where: str, *, multi: bool | None = None) -> Any:
    """Check and normalize a value for `attribute`; returns None for an unassigned value.

    `multi=False` asks for one element of a multi-valued attribute.
    """
    if value is None:
        return None
    is_multi = attribute.multi_valued if multi is None else multi
    if is_multi:
        if isinstance(value, dict | str) and attribute.type == "complex":
            value = [value]  # lenient: one object where a list is due
        if not isinstance(value, list):
            raise ScimError(400, f"{where} must be a list", "invalidValue")
        items = []
        for i, item in enumerate(value):
            coerced = coerce_value(attribute, item, f"{where}[{i}]", multi=False)
            if coerced not in (None, {}) and coerced not in items:
                items.append(coerced)
        return items or None
    if attribute.type != "complex":
        return _coerce_scalar(attribute, value, where)
    if attribute.name == "roles":
        value = _unwrap_role(value)
    if attribute.name == "manager":
        value = _manager(value)
        if value is None:
            return None
    if not isinstance(value, dict):
        raise ScimError(400, f"{where} must be an object", "invalidValue")
    out: dict[str, Any] = {}
    for key, sub_value in value.items():
        sub = attribute.sub(key)
        if sub is None or sub.mutability == "readOnly":
            continue
        coerced = coerce_value(sub, sub_value, f"{where}.{sub.name}")
        if coerced is not None:
            out[sub.name] = coerced
    return out or None


def check_primary(attribute: Attribute, items: list[dict[str, Any]]) -> None:
    """RFC 7643 §2.4: primary=true appears no more than once in a multi-valued attribute."""
    if sum(1 for item in items if isinstance(item, dict) and item.get("primary") is True) > 1:
        raise ScimError(
            400, f"{attribute.name}: more than one value has primary=true", "invalidValue"
        )


def normalize_payload(
    schema: UserSchema, payload: Any, *, notes: list[str] | None = None
) -> dict[str, Any]:
    """Validate a POST/PUT body and return the stored document (no id, no meta)."""
    if not isinstance(payload, dict):
        raise ScimError(400, "the request body must be a JSON object", "invalidSyntax")
    schemas = payload.get("schemas")
    if schemas is not None:
        if not isinstance(schemas, list) or not all(isinstance(s, str) for s in schemas):
            raise ScimError(400, "schemas must be a list of URIs", "invalidSyntax")
        if CORE_USER_SCHEMA.lower() not in {s.lower() for s in schemas}:
            raise ScimError(400, f"schemas must include {CORE_USER_SCHEMA}", "invalidValue")
    doc: dict[str, Any] = {}
    for key, value in payload.items():
        if key.lower() in ("schemas", "meta", "id"):
            continue
        if key.lower() == ENTERPRISE_USER_SCHEMA.lower():
            if value is None:
                continue
            if not isinstance(value, dict):
                raise ScimError(400, f"{ENTERPRISE_USER_SCHEMA} must be an object", "invalidValue")
            for sub_key, sub_value in value.items():
                set_attribute(
                    schema, doc, sub_key, sub_value, uri=ENTERPRISE_USER_SCHEMA, notes=notes
                )
            continue
        uri = None
        name = key
        if key.lower().startswith(CORE_USER_SCHEMA.lower() + ":"):
            uri, name = CORE_USER_SCHEMA, key[len(CORE_USER_SCHEMA) + 1 :]
        set_attribute(schema, doc, name, value, uri=uri, notes=notes)
    if not doc.get("userName"):
        raise ScimError(400, "userName is required", "invalidValue")
    for attribute in schema.core:
        if attribute.required and attribute.name not in doc:
            raise ScimError(400, f"{attribute.name} is required", "invalidValue")
    doc.setdefault("active", True)
    return doc


def set_attribute(
    schema: UserSchema,
    doc: dict[str, Any],
    name: str,
    value: Any,
    *,
    uri: str | None = None,
    notes: list[str] | None = None,
) -> None:
    """Set a top-level attribute in a stored document (extension ones under their URN)."""
    attribute = schema.find(name, uri)
    if attribute is None:
        if notes is not None:
            notes.append(f"ignored unknown attribute {name!r}")
        return
    if attribute.mutability == "readOnly":
        return
    coerced = coerce_value(attribute, value, attribute.name)
    if attribute.multi_valued and coerced:
        check_primary(attribute, coerced)
    container = doc
    if attribute.schema == ENTERPRISE_USER_SCHEMA:
        container = doc.setdefault(ENTERPRISE_USER_SCHEMA, {})
    if coerced is None:
        container.pop(attribute.name, None)
    else:
        container[attribute.name] = coerced
    if attribute.schema == ENTERPRISE_USER_SCHEMA and not container:
        doc.pop(ENTERPRISE_USER_SCHEMA, None)


def render(doc: dict[str, Any], row_meta: dict[str, Any], location: str) -> dict[str, Any]:
    """The wire resource: schemas, id, the stored attributes and meta (RFC 7643 §3.1)."""
    schemas = [CORE_USER_SCHEMA]
    if ENTERPRISE_USER_SCHEMA in doc:
        schemas.append(ENTERPRISE_USER_SCHEMA)
    resource: dict[str, Any] = {"schemas": schemas, "id": row_meta["id"]}
    for key, value in doc.items():
        if key != "password":  # returned: never
            resource[key] = value
    resource["meta"] = {
        "resourceType": "User",
        "created": row_meta["created"],
        "lastModified": row_meta["last_modified"],
        "version": etag(row_meta["version"]),
        "location": location,
    }
    return resource


def etag(version: int) -> str:
    """The weak entity tag of a resource version (RFC 7644 §3.14)."""
    return f'W/"{version}"'


def _split(paths: Iterable[str]) -> list[tuple[str, str | None]]:
    """Turn attribute names (possibly URN-qualified or dotted) into (top, sub) pairs."""
    out = []
    for raw in paths:
        path = raw.strip()
        if not path:
            continue
        lowered = path.lower()
        for urn in (ENTERPRISE_USER_SCHEMA, CORE_USER_SCHEMA):
            if lowered.startswith(urn.lower() + ":"):
                path = path[len(urn) + 1 :]
                if urn == ENTERPRISE_USER_SCHEMA:
                    path = f"{ENTERPRISE_USER_SCHEMA}.{path}"
                break
            if lowered == urn.lower():
                path = ENTERPRISE_USER_SCHEMA if urn == ENTERPRISE_USER_SCHEMA else ""
                break
        if not path:
            continue
        if path.startswith(ENTERPRISE_USER_SCHEMA):
            rest = (
                path[len(ENTERPRISE_USER_SCHEMA) + 1 :]
                if len(path) > len(ENTERPRISE_USER_SCHEMA)
                else None
            )
            out.append((ENTERPRISE_USER_SCHEMA, rest))
            continue
        top, _, sub = path.partition(".")
        out.append((top, sub or None))
    return out


ALWAYS_RETURNED = {"id", "schemas", "meta", "username"}
"""Attributes returned whatever `attributes` asks (RFC 7643 §7 returned=always; userName too)."""


def project(resource: dict[str, Any], attributes: list[str], excluded: list[str]) -> dict[str, Any]:
    """Apply RFC 7644 §3.9 `attributes` / `excludedAttributes` to a rendered resource."""
    if attributes:
        wanted = _split(attributes)
        out: dict[str, Any] = {}
        for key, value in resource.items():
            if key.lower() in ALWAYS_RETURNED:
                out[key] = value
                continue
            subs = [sub for top, sub in wanted if top.lower() == key.lower()]
            if not subs:
                continue
            if None in subs or not isinstance(value, dict | list):
                out[key] = value
                continue
            if isinstance(value, dict):
                lowered = {s.split(".")[0].lower() for s in subs if s}
                picked = {k: v for k, v in value.items() if k.lower() in lowered}
                if picked:
                    out[key] = picked
            else:
                lowered = {s.lower() for s in subs if s}
                items = [{k: v for k, v in i.items() if k.lower() in lowered} for i in value]
                items = [i for i in items if i]
                if items:
                    out[key] = items
        resource = out
    if excluded:
        for top, sub in _split(excluded):
            for key in list(resource):
                if key.lower() != top.lower() or key.lower() in ALWAYS_RETURNED:
                    continue
                if sub is None:
                    del resource[key]
                elif isinstance(resource[key], dict):
                    resource[key] = {
                        k: v for k, v in resource[key].items() if k.lower() != sub.lower()
                    }
                elif isinstance(resource[key], list):
                    resource[key] = [
                        {k: v for k, v in i.items() if k.lower() != sub.lower()}
                        for i in resource[key]
                    ]
    if "schemas" in resource and ENTERPRISE_USER_SCHEMA in resource.get("schemas", []):
        if ENTERPRISE_USER_SCHEMA not in resource:
            resource["schemas"] = [s for s in resource["schemas"] if s != ENTERPRISE_USER_SCHEMA]
    return resource


def multi_value_rows(schema: UserSchema, user_id: str, doc: dict[str, Any]) -> list[tuple]:
    """Rows for the user_values index: one per value of each multi-valued attribute, as
    (attr, value_norm, user_id, n, type_norm, value, is_primary, item)."""
    rows = []
    for attribute in schema.core:
        if not attribute.multi_valued:
            continue
        value_def = attribute.sub("value")
        fold = value_def is not None and not value_def.case_exact
        for n, item in enumerate(doc.get(attribute.name, ())):
            if not isinstance(item, dict):
                continue
            value = item.get("value")
            value = value if isinstance(value, str) else None
            kind = item.get("type")
            rows.append(
                (
                    attribute.name,
                    "" if value is None else (value.casefold() if fold else value),
                    user_id,
                    n,
                    kind.casefold() if isinstance(kind, str) else None,
                    value,
                    1 if item.get("primary") is True else 0,
                    jsontext.dumps(item),
                )
            )
    return rows
