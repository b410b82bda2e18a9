"""A small SCIM 2.0 service provider in Flask, enough for Entra: users and groups in memory.

The example `sandbox check` and the pytest plugin (`sandbox.testing`) are shown against.
It accepts what Entra sends in both dialects: ops in any case, "True"/"False" strings,
dotted, URN-qualified and value-filtered paths, path-less replaces, the manager as a plain
id, member removal by a value list or by a `members[value eq "..."]` path.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Flask, jsonify, request

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"

USER_ATTRIBUTES = ("userName", "externalId", "active", "displayName", "title", "emails", "name",
                   "preferredLanguage", "addresses", "phoneNumbers", "roles")  # fmt: skip
ENTERPRISE_ATTRIBUTES = ("employeeNumber", "department", "manager")

FILTER = re.compile(r'^\s*(\S+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
VALUE_PATH = re.compile(r'^(\w+)\[(\w+) eq "([^"]*)"\](?:\.(\w+))?$', re.IGNORECASE)


def error(status: int, detail: str, scim_type: str | None = None) -> Any:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    response = jsonify(body)
    response.status_code = status
    return response


def boolean(value: Any) -> Any:
    """Entra's legacy dialect sends "True"/"False" strings for booleans."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def create_app(token: str) -> Flask:
    """The app: every route needs `Authorization: Bearer <token>`."""
    app = Flask(__name__)
    resources: dict[str, dict[str, dict[str, Any]]] = {"Users": {}, "Groups": {}}

    @app.before_request
    def authenticate() -> Any:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return error(401, "invalid token")
        return None

    def listing(items: list[dict[str, Any]]) -> Any:
        start = max(int(request.args.get("startIndex", 1)), 1)
        count = int(request.args.get("count", 100))
        page = items[start - 1 : start - 1 + count]
        return jsonify(
            schemas=[LIST], totalResults=len(items), startIndex=start,
            itemsPerPage=len(page), Resources=page,
        )  # fmt: skip

    def matches(resource: dict[str, Any], attribute: str, value: str) -> bool:
        got = resource.get(attribute)
        if attribute in ("userName", "displayName"):  # caseExact false (RFC 7643)
            return isinstance(got, str) and got.lower() == value.lower()
        return got == value

    @app.get("/scim/v2/<kind>")
    def query(kind: str) -> Any:
        if kind not in resources:
            return error(404, f"no resource type {kind}")
        items = list(resources[kind].values())
        if "filter" in request.args:
            parsed = FILTER.match(request.args["filter"])
            if parsed is None:
                return error(400, "only 'attribute eq \"value\"' filters", "invalidFilter")
            attribute, value = parsed[1], parsed[2].replace('\\"', '"')
            items = [r for r in items if matches(r, attribute, value)]
        if kind == "Groups" and "members" in request.args.get("excludedAttributes", ""):
            items = [{k: v for k, v in r.items() if k != "members"} for r in items]
        return listing(items)

    @app.post("/scim/v2/<kind>")
    def create(kind: str) -> Any:
        if kind not in resources:
            return error(404, f"no resource type {kind}")
        doc = request.get_json()
        key = "userName" if kind == "Users" else "displayName"
        if not doc.get(key):
            return error(400, f"{key} is required", "invalidValue")
        if any(matches(r, key, doc[key]) for r in resources[kind].values()):
            return error(409, f"{key} {doc[key]} exists", "uniqueness")
        resource = {**doc, "id": str(uuid.uuid4()), "meta": {"resourceType": kind[:-1]}}
        if "active" in resource:
            resource["active"] = boolean(resource["active"])
        resource.setdefault("members", []) if kind == "Groups" else None
        resources[kind][resource["id"]] = resource
        return jsonify(resource), 201

    @app.get("/scim/v2/<kind>/<rid>")
    def read(kind: str, rid: str) -> Any:
        resource = resources.get(kind, {}).get(rid)
        if resource is None:
            return error(404, f"no {kind[:-1]} {rid}")
        if "members" in request.args.get("excludedAttributes", ""):
            resource = {k: v for k, v in resource.items() if k != "members"}
        return jsonify(resource)

    @app.delete("/scim/v2/<kind>/<rid>")
    def delete(kind: str, rid: str) -> Any:
        if resources.get(kind, {}).pop(rid, None) is None:
            return error(404, f"no {kind[:-1]} {rid}")
        return "", 204

    @app.patch("/scim/v2/<kind>/<rid>")
    def patch(kind: str, rid: str) -> Any:
        resource = resources.get(kind, {}).get(rid)
        if resource is None:
            return error(404, f"no {kind[:-1]} {rid}")
        for operation in request.get_json().get("Operations", []):
            op = str(operation.get("op", "")).lower()
            path, value = operation.get("path"), operation.get("value")
            if op not in ("add", "replace", "remove"):
                return error(400, f"unknown op {operation.get('op')}", "invalidSyntax")
            if path is None:  # path-less: a dict of attribute paths to values
                for key, item in (value or {}).items():
                    apply(resource, op, key, item)
            else:
                apply(resource, op, path, value)
        return "", 204

    @app.get("/scim/v2/ResourceTypes")
    def resource_types() -> Any:
        types = [{"id": "User", "name": "User", "endpoint": "/Users", "schema": CORE},
                 {"id": "Group", "name": "Group", "endpoint": "/Groups", "schema": GROUP}]  # fmt: skip
        return jsonify(schemas=[LIST], totalResults=2, Resources=types)

    @app.get("/scim/v2/Schemas")
    def schemas() -> Any:
        def schema(uri: str, names: tuple[str, ...]) -> dict[str, Any]:
            return {
                "id": uri,
                "attributes": [{"name": n, "mutability": "readWrite"} for n in names],
            }

        found = [schema(CORE, USER_ATTRIBUTES), schema(ENTERPRISE, ENTERPRISE_ATTRIBUTES),
                 schema(GROUP, ("displayName", "externalId", "members"))]  # fmt: skip
        return jsonify(schemas=[LIST], totalResults=len(found), Resources=found)

    @app.get("/scim/v2/ServiceProviderConfig")
    def service_provider_config() -> Any:
        return jsonify(patch={"supported": True}, filter={"supported": True, "maxResults": 100})

    return app


def apply(resource: dict[str, Any], op: str, path: str, value: Any) -> None:
    """One PATCH operation on `resource` (RFC 7644 §3.5.2, with Entra's forms)."""
    if path.lower().startswith(ENTERPRISE.lower() + ":"):
        extension = resource.setdefault(ENTERPRISE, {})
        name = path[len(ENTERPRISE) + 1 :]
        if name == "manager":  # a plain id, {"value": id} or [{"value": id}]
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, dict):
                value = value.get("value")
            if op == "remove" or not value:
                extension.pop("manager", None)
            else:
                extension["manager"] = {"value": value}
            return
        if op == "remove":
            extension.pop(name, None)
        else:
            extension[name] = value
        return
    if path == "members" or path.startswith("members["):
        members = resource.setdefault("members", [])
        ids = [m["value"] for m in value or []] if isinstance(value, list) else []
        filtered = VALUE_PATH.match(path)
        if filtered:
            ids = [filtered[3]]
        if op == "remove":
            resource["members"] = [m for m in members if m["value"] not in ids]
        else:
            known = {m["value"] for m in members}
            members += [{"value": i} for i in ids if i not in known]
        return
    filtered = VALUE_PATH.match(path)
    if filtered:  # emails[type eq "work"].value: select, create when missing
        attribute, key, wanted, sub = filtered.groups()
        items = resource.setdefault(attribute, [])
        item = next((i for i in items if str(i.get(key)).lower() == wanted.lower()), None)
        if op == "remove":
            if item is not None:
                items.remove(item)
            return
        if item is None:
            item = {key: boolean(wanted)}
            items.append(item)
        item[sub or "value"] = value
        return
    head, _, sub = path.partition(".")
    if sub:
        parent = resource.setdefault(head, {})
        if op == "remove":
            parent.pop(sub, None)
        else:
            parent[sub] = value
    elif op == "remove" or value in ("", None):
        resource.pop(head, None)
    else:
        resource[head] = boolean(value) if head == "active" else value


if __name__ == "__main__":  # python examples/flask_scim/app.py: http://127.0.0.1:8090/scim/v2
    import os

    create_app(os.environ.get("SCIM_TOKEN", "secret")).run(port=int(os.environ.get("PORT", 8090)))
