"""Provides SCIM target paths of attribute mappings and the SCIM document built from them.

A target path is what Entra's mapping editor calls the "customappsso attribute": ``userName``,
``name.givenName``, ``emails[type eq "work"].value``, ``roles[primary eq "True"].value`` or an
extension attribute ``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from sandbox.errors import MappingError
from sandbox.scim_names import CORE_GROUP_SCHEMA, CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA

ROLE_TYPE = "WindowsAzureActiveDirectoryRole"

REFERENCE_TARGETS = frozenset({f"{ENTERPRISE_USER_SCHEMA}:manager", "members"})
"""Targets holding references to other objects. Entra leaves them out of the POST and sets them
afterwards with a PATCH, once the referenced object exists in the target (§1.2 step 6, §2.3)."""

# Entra's sample POST marks the work email (and work address) primary (§2.3, create user).
_PRIMARY_ENTRIES = frozenset({("emails", "work"), ("addresses", "work")})
_URN_PREFIX = "urn:ietf:params:scim:schemas:"
_ATTR = r"[A-Za-z][A-Za-z0-9_-]*"
_PATH = re.compile(
    rf"(?P<attribute>{_ATTR})"
    rf'(?:\[\s*(?P<filter>{_ATTR})\s+(?i:eq)\s+"(?P<value>(?:[^"\\]|\\.)*)"\s*\])?'
    rf"(?:\.(?P<sub>{_ATTR}))?"
)
_URN = re.compile(r"urn:ietf:params:scim:schemas:(?:core|extension)(?::[A-Za-z0-9._-]+)+")


@dataclass(frozen=True, slots=True)
class TargetPath:
    """A parsed target path: optional schema URN, attribute, one value filter, sub-attribute."""

    urn: str | None
    attribute: str
    filter_attribute: str | None = None
    filter_value: str | None = None
    sub_attribute: str | None = None


@functools.lru_cache(maxsize=1024)
def parse_target_path(path: str) -> TargetPath:
    """Parse a SCIM target path; raise MappingError saying what is wrong with it."""
    rest, urn = path.strip(), None
    if not rest:
        raise MappingError("target attribute is empty")
    if rest.lower().startswith("urn:"):
        bracket = rest.find("[")
        cut = rest.rfind(":", 0, bracket if bracket >= 0 else len(rest))
        urn, rest = rest[:cut], rest[cut + 1 :]
        if not urn.startswith(_URN_PREFIX) or not _URN.fullmatch(urn):
            raise MappingError(
                f"target {path!r}: schema URN must look like {ENTERPRISE_USER_SCHEMA}"
            )
    match = _PATH.fullmatch(rest)
    if match is None:
        raise MappingError(
            f"target {path!r} is not a SCIM attribute path: expected attribute, "
            'attribute.subAttribute or attribute[subAttribute eq "value"].subAttribute'
        )
    if match["filter"] and not match["sub"]:
        raise MappingError(
            f"target {path!r}: a value-filtered path needs a sub-attribute, e.g. {path}.value"
        )
    value = match["value"]
    return TargetPath(
        urn=urn,
        attribute=match["attribute"],
        filter_attribute=match["filter"],
        filter_value=None if value is None else re.sub(r"\\(.)", r"\1", value),
        sub_attribute=match["sub"],
    )


def _filter_value(attribute: str, value: str) -> object:
    # Entra docs: roles[primary eq "True"] compares primary to the *string* "True", yet the
    # POST carries "primary": true, a JSON boolean.
    if attribute == "primary" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _scim_value(path: str, value: object) -> object:
    if path == "active" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"  # `active` is a JSON boolean in POST (§2.3)
    return value


def to_scim_document(
    flat: dict[str, object], *, object_type: str = "User", include_references: bool = False
) -> dict[str, object]:
    """Build the POST body from a flat ``{target path: value}`` state, the way Entra shapes it.

    Value-filtered paths become multi-valued entries carrying the filter (``type``), the work
    email is ``primary: true``, roles are forced to type WindowsAzureActiveDirectoryRole; the
    enterprise URN joins `schemas` only when an enterprise attribute is present; reference
    targets (manager, members) are left out unless `include_references`.
    """
    schemas = [CORE_GROUP_SCHEMA if object_type == "Group" else CORE_USER_SCHEMA]
    doc: dict[str, object] = {"schemas": schemas}
    for path, value in flat.items():
        if not include_references and path in REFERENCE_TARGETS:
            continue
        target = parse_target_path(path)
        container = doc
        if target.urn is not None:
            if target.urn == ENTERPRISE_USER_SCHEMA and target.urn not in schemas:
                schemas.append(target.urn)  # custom extension URNs are not listed (§5.3)
            container = doc.setdefault(target.urn, {})  # type: ignore[assignment]
        if path == "members" and isinstance(value, list):
            value = [v if isinstance(v, dict) else {"value": v} for v in value]
        if target.filter_attribute is not None:
            _set_filtered(container, target, value)
        elif target.sub_attribute is not None:
            container.setdefault(target.attribute, {})[target.sub_attribute] = value  # type: ignore[index]
        else:
            container[target.attribute] = _scim_value(path, value)
    doc["meta"] = {"resourceType": object_type}
    return doc


def _set_filtered(container: dict[str, object], target: TargetPath, value: object) -> None:
    entries = container.setdefault(target.attribute, [])
    assert isinstance(entries, list)
    key = target.filter_attribute
    wanted = _filter_value(key, target.filter_value or "")  # type: ignore[arg-type]
    entry = next((e for e in entries if isinstance(e, dict) and e.get(key) == wanted), None)
    if entry is None:
        entry = {}
        if (target.attribute, wanted) in _PRIMARY_ENTRIES:
            entry["primary"] = True
        entry[key] = wanted
        if target.attribute == "roles":
            entry["type"] = ROLE_TYPE  # Entra forces the role type (§5.4)
        entries.append(entry)
    if target.attribute == "roles" and target.sub_attribute == "type":
        return  # a mapped roles[...].type is overwritten by Entra
    entry[target.sub_attribute] = value
