"""Provides the read-backs: a SCIM resource's value at an attribute path, compared with what
Entra sent (RFC 7644 §3.10 attribute notation, RFC 7644 §3.5.2 value filters)."""

from __future__ import annotations

import re

_FILTERED = re.compile(
    r'^(?P<attr>[\w$-]+)\[(?P<sub>[\w$-]+) eq "(?P<value>[^"]*)"\](?:\.(?P<rest>[\w$-]+))?$'
)


def _key(doc: dict[str, object], name: str) -> object:
    """A member of `doc`, its name compared case-insensitively (RFC 7643 §2.1)."""
    for key, value in doc.items():
        if key.lower() == name.lower():
            return value
    return None


def value_at(resource: dict[str, object], path: str) -> object:
    """The value of `resource` at `path` (None when absent): `a`, `a.b`, `a[t eq "x"].b`,
    and any of them after a schema URN (`urn:...:User:department`)."""
    doc: object = resource
    if path.lower().startswith("urn:"):
        urn, _, path = path.rpartition(":")
        doc = _key(resource, urn)
        if not isinstance(doc, dict):
            return None
    if not isinstance(doc, dict):
        return None
    filtered = _FILTERED.match(path)
    if filtered:
        items = _key(doc, filtered["attr"])
        if not isinstance(items, list):
            return None
        for item in items:
            if isinstance(item, dict) and same(_key(item, filtered["sub"]), filtered["value"]):
                return _key(item, filtered["rest"]) if filtered["rest"] else item
        return None
    head, _, rest = path.partition(".")
    value = _key(doc, head)
    if rest:
        return _key(value, rest) if isinstance(value, dict) else None
    return value


def leaf_name(path: str) -> str:
    """The top-level attribute a path writes, lower case: `urn:...:User:manager` is manager,
    `emails[type eq "work"].value` emails, `name.givenName` name."""
    return path.rpartition(":")[2].split("[")[0].split(".")[0].lower()


def plain(value: object) -> str:
    """A value as text to compare: booleans and their strings alike, case folded."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value).strip().casefold()


def same(got: object, sent: object) -> bool:
    """Whether a read-back value is what was sent (Entra's "True" is true; case-insensitive)."""
    return plain(got) == plain(sent)


_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})+$")
"""A folded language tag of two subtags or more, its language of two or three letters
(RFC 5646 §2.1 and RFC 5646 §2.2.1)."""


def kept_as_canonical(got: object, sent: object, canonical: set[str]) -> bool:
    """Whether `got` is the endpoint's canonical form of `sent`: one of the attribute's
    (folded) canonicalValues that is the value sent itself, compared case-insensitively
    with `_` and `-` alike (`EN_us` for `en-US`), or, for a language tag, the tag with
    subtags dropped from its end (`ja-JP` kept as `ja`: RFC 4647 §3.4's lookup). Another
    canonical value (the one the attribute had before an update) is not kept."""
    folded = plain(got)
    if not folded or folded not in canonical:
        return False
    kept, given = folded.replace("_", "-"), plain(sent).replace("_", "-")
    return kept == given or (
        _LANGUAGE_TAG.match(given) is not None and given.startswith(kept + "-")
    )


def _user_schemas(schemas: object) -> list[dict[str, object]]:
    """The schemas of a /Schemas answer that can describe a user's attributes: all but the
    group ones (a Group schema's displayName is not the User's, RFC 7643 §8.7.1)."""
    resources = schemas.get("Resources") if isinstance(schemas, dict) else None
    return [
        schema
        for schema in (resources if isinstance(resources, list) else [])
        if isinstance(schema, dict) and not str(schema.get("id", "")).lower().endswith(":group")
    ]


def _attributes(schema: dict[str, object]) -> list[dict[str, object]]:
    attributes = schema.get("attributes")
    return [a for a in attributes if isinstance(a, dict)] if isinstance(attributes, list) else []


def immutable_attributes(schemas: object) -> set[str]:
    """The user attribute names (lower case) a /Schemas answer marks immutable or readOnly:
    an endpoint that documents an attribute as set on creation only is not failed for
    keeping it on update."""
    return {
        str(attribute.get("name", "")).lower()
        for schema in _user_schemas(schemas)
        for attribute in _attributes(schema)
        if attribute.get("mutability") in ("immutable", "readOnly")
    }


def canonical_values(schemas: object) -> dict[str, set[str]]:
    """User attribute name (lower case) -> the canonicalValues a /Schemas answer gives it
    (folded), for `kept_as_canonical`."""
    out: dict[str, set[str]] = {}
    for schema in _user_schemas(schemas):
        for attribute in _attributes(schema):
            values = attribute.get("canonicalValues")
            if isinstance(values, list) and values:
                out[str(attribute.get("name", "")).lower()] = {plain(v) for v in values}
    return out


def listed(body: object) -> tuple[int, list[dict[str, object]]] | None:
    """A ListResponse's totalResults and Resources (None: not a ListResponse)."""
    if not isinstance(body, dict):
        return None
    total = _key(body, "totalResults")
    resources = _key(body, "Resources")
    if not isinstance(total, int):
        return None
    items = [r for r in resources if isinstance(r, dict)] if isinstance(resources, list) else []
    return total, items
