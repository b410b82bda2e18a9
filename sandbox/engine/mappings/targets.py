"""Provides the target attributes a user mapping may write and the check of a target on them.

Entra's mapping editor offers only the target's attributes: here, those the target publishes
at ``/Schemas`` (RFC 7643 §7, read over HTTP through the engine's target), or, when it
publishes none or cannot be reached, the default SCIM User attributes (the core schema and
the enterprise extension, RFC 7643 §4.1 and RFC 7643 §4.3). A custom attribute can be added anyway
with ``force`` (the portal's "Edit attribute list"). Reading /Schemas and saving the edited
mapping set are the job's: `sandbox.engine.sync.mapping_edit`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sandbox.engine.mappings.paths import (
    CORE_USER_SCHEMA,
    ENTERPRISE_USER_SCHEMA,
    parse_target_path,
)
from sandbox.errors import MappingError

COMMON_ATTRIBUTES = ("externalId",)
"""Common attributes (RFC 7643 §3.1) a client may write on every resource, published or not."""

_MULTI = ("value", "display", "type", "primary")

# RFC 7643 §4.1 (core User) and RFC 7643 §4.3 (enterprise extension): (name, sub-attributes,
# multi-valued, canonical types).
_DEFAULT_USER: tuple[tuple[str, tuple[str, ...], bool, tuple[str, ...]], ...] = (
    ("userName", (), False, ()),
    ("name", ("formatted", "familyName", "givenName", "middleName", "honorificPrefix",
              "honorificSuffix"), False, ()),
    ("displayName", (), False, ()),
    ("nickName", (), False, ()),
    ("profileUrl", (), False, ()),
    ("title", (), False, ()),
    ("userType", (), False, ()),
    ("preferredLanguage", (), False, ()),
    ("locale", (), False, ()),
    ("timezone", (), False, ()),
    ("active", (), False, ()),
    ("password", (), False, ()),
    ("emails", _MULTI, True, ("work", "home", "other")),
    ("phoneNumbers", _MULTI, True, ("work", "home", "mobile", "fax", "pager", "other")),
    ("ims", _MULTI, True, ()),
    ("photos", _MULTI, True, ("photo", "thumbnail")),
    ("addresses", ("formatted", "streetAddress", "locality", "region", "postalCode", "country",
                   "type", "primary"), True, ("work", "home", "other")),
    ("groups", ("value", "$ref", "display", "type"), True, ()),
    ("entitlements", _MULTI, True, ()),
    ("roles", _MULTI, True, ()),
    ("x509Certificates", _MULTI, True, ()),
)  # fmt: skip
_DEFAULT_ENTERPRISE: tuple[tuple[str, tuple[str, ...], bool, tuple[str, ...]], ...] = (
    ("employeeNumber", (), False, ()),
    ("costCenter", (), False, ()),
    ("organization", (), False, ()),
    ("division", (), False, ()),
    ("department", (), False, ()),
    ("manager", ("value", "$ref", "displayName"), False, ()),
)

DEFAULT_ORIGIN = "the default SCIM User attributes, core and enterprise extension"


@dataclass(frozen=True, slots=True)
class TargetAttribute:
    """One attribute of a target schema, with what a mapping path can say about it."""

    schema: str
    name: str
    sub_attributes: tuple[str, ...] = ()
    multi_valued: bool = False
    types: tuple[str, ...] = ()
    """Canonical values of its `type` sub-attribute (emails: work, home, other)."""

    def paths(self) -> list[str]:
        """The target paths Entra's editor would list for it (unqualified for the core
        schema, URN-qualified for an extension)."""
        prefix = "" if self.schema == CORE_USER_SCHEMA else f"{self.schema}:"
        subs = [s for s in self.sub_attributes if s not in ("type", "primary")]
        if not self.sub_attributes or not self.multi_valued:
            out = [self.name] + [f"{self.name}.{sub}" for sub in subs]
        elif self.name == "roles":
            out = [f'{self.name}[primary eq "True"].{sub}' for sub in subs]
        else:
            out = [f'{self.name}[type eq "{kind}"].{sub}' for kind in self.types or ("work",)
                   for sub in subs]  # fmt: skip
        return [prefix + path for path in out]


@dataclass(frozen=True, slots=True)
class TargetAttributes:
    """The attributes a user mapping may target, and where they were read."""

    attributes: tuple[TargetAttribute, ...]
    origin: str
    """Which list was used: the target's /Schemas (and its URL) or the default SCIM User one."""

    def paths(self) -> list[str]:
        """Every path offered, in schema order."""
        return [*COMMON_ATTRIBUTES, *(p for a in self.attributes for p in a.paths())]

    def resolve(self, path: str) -> str:
        """TARGET spelled as the schema spells it (SCIM names are case-insensitive, RFC 7643
        §2.1); UnknownTargetAttribute, with close matches, when the schema has no such path."""
        parsed = parse_target_path(path)
        schema = (parsed.urn or CORE_USER_SCHEMA).lower()
        if parsed.urn is None and parsed.filter_attribute is None and parsed.sub_attribute is None:
            common = next((c for c in COMMON_ATTRIBUTES if c.lower() == parsed.attribute.lower()),
                          None)  # fmt: skip
            if common is not None:
                return common
        found = next((a for a in self.attributes if a.schema.lower() == schema
                      and a.name.lower() == parsed.attribute.lower()), None)  # fmt: skip
        if found is None:
            raise self._unknown(path, "the target has no such attribute")
        out = f"{parsed.urn}:" if parsed.urn else ""
        out += found.name
        if parsed.filter_attribute is not None:
            name = self._sub(found, parsed.filter_attribute, path)
            value = (parsed.filter_value or "").replace("\\", "\\\\").replace('"', '\\"')
            out += f'[{name} eq "{value}"]'
        if parsed.sub_attribute is not None:
            out += "." + self._sub(found, parsed.sub_attribute, path)
        return out

    def _sub(self, attribute: TargetAttribute, name: str, path: str) -> str:
        for sub in attribute.sub_attributes:
            if sub.lower() == name.lower():
                return sub
        if not attribute.sub_attributes:
            raise self._unknown(path, f"{attribute.name} has no sub-attributes")
        raise self._unknown(path, f"{attribute.name} has no sub-attribute {name!r}")

    def _unknown(self, path: str, why: str) -> UnknownTargetAttribute:
        return UnknownTargetAttribute(path, why, self.origin, close_matches(path, self.paths()))


class UnknownTargetAttribute(MappingError):
    """A mapping names a target attribute the target's schema does not have."""

    def __init__(self, path: str, why: str, origin: str, suggestions: list[str]) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"{path}: {why} (checked against {origin}){hint}")
        self.path = path
        self.origin = origin
        self.suggestions = suggestions


def close_matches(path: str, offered: list[str], limit: int = 3) -> list[str]:
    """The offered paths closest to `path`: the same attribute in another schema first
    (``department`` -> the enterprise ``...:User:department``), then spelling neighbours."""
    try:
        parsed = parse_target_path(path)
        name = parsed.attribute.lower()
    except MappingError:
        name = path.lower()
    by_lower = {p.lower(): p for p in offered}
    same = [p for p in offered if p.lower().rsplit(":", 1)[-1].split("[")[0].split(".")[0] == name
            and p.lower() != path.lower()]  # fmt: skip
    tails = {p.lower().rsplit(":", 1)[-1]: p for p in offered}
    near = [by_lower[m] for m in difflib.get_close_matches(path.lower(), list(by_lower), limit)]
    near += [tails[m] for m in difflib.get_close_matches(path.lower(), list(tails), limit)]
    out: list[str] = []
    for candidate in [*same, *near]:
        if candidate not in out:
            out.append(candidate)
    return out[:limit]


def default_user_attributes(why: str = "") -> TargetAttributes:
    """The default SCIM User attributes (core schema and enterprise extension)."""
    attributes = tuple(
        TargetAttribute(schema, name, subs, multi, types)
        for schema, rows in ((CORE_USER_SCHEMA, _DEFAULT_USER),
                             (ENTERPRISE_USER_SCHEMA, _DEFAULT_ENTERPRISE))
        for name, subs, multi, types in rows
    )  # fmt: skip
    return TargetAttributes(attributes, DEFAULT_ORIGIN + (f", since {why}" if why else ""))


def attributes_from_schemas(resources: list[dict[str, object]], origin: str) -> TargetAttributes:
    """The user attributes of published schema resources (the core User schema and its
    extensions; Group and the discovery schemas are left out)."""
    attributes = []
    for resource in resources:
        schema = str(resource.get("id", ""))
        lowered = schema.lower()
        if lowered != CORE_USER_SCHEMA.lower() and ":extension:" not in lowered:
            continue
        if lowered.endswith(":group"):
            continue
        listed = resource.get("attributes")
        for attribute in listed if isinstance(listed, list) else []:
            if not isinstance(attribute, dict) or not attribute.get("name"):
                continue
            subs = [s for s in attribute.get("subAttributes") or [] if isinstance(s, dict)]
            kind = next((s for s in subs if str(s.get("name", "")).lower() == "type"), {})
            attributes.append(
                TargetAttribute(
                    schema,
                    str(attribute["name"]),
                    tuple(str(s["name"]) for s in subs if s.get("name")),
                    bool(attribute.get("multiValued")),
                    tuple(str(v) for v in kind.get("canonicalValues") or ()),
                )
            )
    return TargetAttributes(tuple(attributes), origin)
