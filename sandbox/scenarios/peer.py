"""Provides create_peer_app: a small in-memory SCIM 2.0 service provider with /Users and /Groups
that accepts what Entra sends for groups, the target of scenarios that provision groups (the
Nulab provider serves no /Groups) and of the engine's group tests.

It takes Entra's group POST with the Microsoft ADSCIM schema beside the core one, member adds
with a value list, member removals both ways Entra sends them (a value list, or a
`members[value eq "id"]` path), displayName replaced with a path or path-less, DELETE, and
`filter=<attribute> eq "<value>"` on userName, externalId, id and displayName. What it does not
understand (another filter, an unknown PATCH path or op) is a 400 with SCIM error JSON, so a
test against it fails when the engine sends something else.
"""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

from flask import Flask, Response, json, request

from sandbox.engine.scim.wire import ADSCIM_GROUP_SCHEMA
from sandbox.scim_names import (
    CORE_GROUP_SCHEMA,
    CORE_USER_SCHEMA,
    ERROR,
    LIST_RESPONSE,
    PATCH_OP,
    SCIM_JSON,
)

GROUP_SCHEMAS = {CORE_GROUP_SCHEMA, ADSCIM_GROUP_SCHEMA}

_FILTER = re.compile(r'^\s*(\w+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_MEMBER_PATH = re.compile(r'^members\[value eq "((?:[^"\\]|\\.)*)"\]$', re.IGNORECASE)
_FILTERABLE = {
    "Users": ("userName", "externalId", "id"),
    "Groups": ("displayName", "externalId", "id"),
}
_CASE_FOLDED = {"userName", "displayName"}


class ScimError(Exception):
    """A SCIM error answer (RFC 7644 §3.12)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def _answer(status: int, body: object | None = None) -> Response:
    text = "" if body is None else json.dumps(body)
    return Response(text, status=status, content_type=SCIM_JSON)


def create_peer_app(seed: int = 0) -> Flask:
    """The peer's WSGI app; its resources are `app.extensions["peer"]` ({"Users": {...},
    "Groups": {...}}, by id) and its ids come from a generator seeded with `seed`."""
    app = Flask(__name__)
    stores: dict[str, dict[str, dict[str, Any]]] = {"Users": {}, "Groups": {}}
    app.extensions["peer"] = stores
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    @app.errorhandler(ScimError)
    def scim_error(error: ScimError) -> Response:
        body: dict[str, object] = {"schemas": [ERROR], "status": str(error.status)}
        if error.scim_type:
            body["scimType"] = error.scim_type
        body["detail"] = error.detail
        return _answer(error.status, body)

    @app.before_request
    def authenticate() -> None:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            raise ScimError(401, "a bearer token is required")

    def resource(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
        shown = dict(doc)
        if kind == "Groups" and "members" in request.args.get("excludedAttributes", ""):
            shown.pop("members", None)
        return shown

    def find(kind: str, resource_id: str) -> dict[str, Any]:
        doc = stores[kind].get(resource_id)
        if doc is None:
            raise ScimError(404, f"{kind[:-1]} {resource_id} not found")
        return doc

    def unique(kind: str, doc: dict[str, Any], own: str | None = None) -> None:
        key = "userName" if kind == "Users" else "displayName"
        value = str(doc.get(key, "")).casefold()
        for other in stores[kind].values():
            if other["id"] != own and str(other.get(key, "")).casefold() == value:
                raise ScimError(409, f"{key} {doc.get(key)!r} is taken", "uniqueness")

    @app.get("/scim/v2/<kind>")
    def query(kind: str) -> Response:
        if kind not in stores:
            raise ScimError(404, f"no /{kind}")
        found = list(stores[kind].values())
        text = request.args.get("filter")
        if text is not None:
            match = _FILTER.match(text)
            names = {n.lower(): n for n in _FILTERABLE[kind]}
            if match is None or match[1].lower() not in names:
                raise ScimError(400, f"unsupported filter {text!r}", "invalidFilter")
            name, value = names[match[1].lower()], json.loads(f'"{match[2]}"')
            fold = name in _CASE_FOLDED
            found = [
                d
                for d in found
                if (str(d.get(name, "")).casefold() == value.casefold())
                or (not fold and d.get(name) == value)
            ]
        shown = [resource(kind, d) for d in found]
        return _answer(
            200,
            {
                "schemas": [LIST_RESPONSE],
                "totalResults": len(shown),
                "startIndex": 1,
                "itemsPerPage": len(shown),
                "Resources": shown,
            },
        )

    @app.post("/scim/v2/<kind>")
    def create(kind: str) -> Response:
        if kind not in stores:
            raise ScimError(404, f"no /{kind}")
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise ScimError(400, "the body is not a JSON object", "invalidSyntax")
        schemas = set(body.get("schemas", []))
        wanted = GROUP_SCHEMAS if kind == "Groups" else None
        if kind == "Groups" and (CORE_GROUP_SCHEMA not in schemas or schemas - GROUP_SCHEMAS):
            raise ScimError(
                400, f"a group lists the schemas {sorted(GROUP_SCHEMAS)}", "invalidValue"
            )
        if kind == "Users" and CORE_USER_SCHEMA not in schemas:
            raise ScimError(400, "a user lists the core User schema", "invalidValue")
        key = "displayName" if wanted else "userName"
        if not body.get(key):
            raise ScimError(400, f"{key} is required", "invalidValue")
        unique(kind, body)
        doc = {k: v for k, v in body.items() if k != "meta"}
        doc["id"] = new_id()
        doc["meta"] = {"resourceType": kind[:-1]}
        if kind == "Groups":
            doc.setdefault("members", [])
        stores[kind][doc["id"]] = doc
        return _answer(201, resource(kind, doc))

    @app.get("/scim/v2/<kind>/<resource_id>")
    def read(kind: str, resource_id: str) -> Response:
        return _answer(200, resource(kind, find(kind, resource_id)))

    @app.delete("/scim/v2/<kind>/<resource_id>")
    def delete(kind: str, resource_id: str) -> Response:
        find(kind, resource_id)
        del stores[kind][resource_id]
        return _answer(204)

    @app.patch("/scim/v2/<kind>/<resource_id>")
    def patch(kind: str, resource_id: str) -> Response:
        doc = find(kind, resource_id)
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict) or body.get("schemas") != [PATCH_OP]:
            raise ScimError(400, "a PatchOp body is required", "invalidSyntax")
        changed = json.loads(json.dumps(doc))
        for operation in body.get("Operations", []):
            if kind == "Groups":
                _patch_group(changed, operation)
            else:
                _patch_user(changed, operation)
        if kind == "Groups":
            unique(kind, changed, resource_id)
        stores[kind][resource_id] = changed
        return _answer(204)

    return app


def _op(operation: dict[str, Any]) -> str:
    name = str(operation.get("op", "")).lower()
    if name not in ("add", "replace", "remove"):
        raise ScimError(400, f"unknown PATCH op {operation.get('op')!r}", "invalidSyntax")
    return name


def _patch_group(doc: dict[str, Any], operation: dict[str, Any]) -> None:
    """One op on a group: members add/remove, displayName/externalId replace."""
    op, path, value = _op(operation), operation.get("path"), operation.get("value")
    members: list[dict[str, Any]] = doc.setdefault("members", [])
    if path is None and op in ("add", "replace") and isinstance(value, dict):
        for key, item in value.items():
            _patch_group(doc, {"op": op, "path": key, "value": item})
        return
    if not isinstance(path, str):
        raise ScimError(400, "this op needs a path", "noTarget")
    filtered = _MEMBER_PATH.match(path)
    if filtered is not None and op == "remove":
        gone = json.loads(f'"{filtered[1]}"')
        doc["members"] = [m for m in members if m.get("value") != gone]
    elif path.lower() == "members" and isinstance(value, list):
        ids = [str(m.get("value")) for m in value if isinstance(m, dict) and m.get("value")]
        if len(ids) != len(value):
            raise ScimError(400, "each member needs a value", "invalidValue")
        if op == "remove":
            doc["members"] = [m for m in members if m.get("value") not in ids]
        else:
            have = {m.get("value") for m in members}
            doc["members"] = members + [{"value": i} for i in ids if i not in have]
    elif path in ("displayName", "externalId") and op in ("add", "replace"):
        if not isinstance(value, str) or not value:
            raise ScimError(400, f"{path} takes a string", "invalidValue")
        doc[path] = value
    else:
        raise ScimError(400, f"unsupported group PATCH {op} {path!r}", "invalidPath")


def _patch_user(doc: dict[str, Any], operation: dict[str, Any]) -> None:
    """One op on a user: the value stored under its path as sent (path-less: each key)."""
    op, path, value = _op(operation), operation.get("path"), operation.get("value")
    if path is None:
        if op == "remove" or not isinstance(value, dict):
            raise ScimError(400, "a path-less op takes an object value", "noTarget")
        doc.update(value)
    elif op == "remove":
        doc.pop(path, None)
    else:
        doc[path] = value
