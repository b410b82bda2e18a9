"""A SCIM 2.0 resource store in memory, framework-free: what the example apps serve.

It accepts what Entra sends in both dialects: ops in any case, "True"/"False" strings,
dotted, URN-qualified and value-filtered paths, path-less replaces, the manager as a plain
id, member removal by a value list or by a `members[value eq "..."]` path. Each method
returns (HTTP status, JSON body or None).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

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

Answer = tuple[int, dict[str, Any] | None]


def error(status: int, detail: str, scim_type: str | None = None) -> Answer:
    """A SCIM error answer (RFC 7644 §3.12)."""
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return status, body


def boolean(value: Any) -> Any:
    """Entra's legacy dialect sends "True"/"False" strings for booleans."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


class Resources:
    """Users and Groups in memory."""

    def __init__(self) -> None:
        self.kinds: dict[str, dict[str, dict[str, Any]]] = {"Users": {}, "Groups": {}}

    def _matches(self, resource: dict[str, Any], attribute: str, value: str) -> bool:
        got = resource.get(attribute)
        if attribute in ("userName", "displayName"):  # caseExact false (RFC 7643)
            return isinstance(got, str) and got.lower() == value.lower()
        return got == value

    def query(self, kind: str, args: dict[str, str]) -> Answer:
        if kind not in self.kinds:
            return error(404, f"no resource type {kind}")
        items = list(self.kinds[kind].values())
        if "filter" in args:
            parsed = FILTER.match(args["filter"])
            if parsed is None:
                return error(400, "only 'attribute eq \"value\"' filters", "invalidFilter")
            attribute, value = parsed[1], parsed[2].replace('\\"', '"')
            items = [r for r in items if self._matches(r, attribute, value)]
        if "members" in args.get("excludedAttributes", ""):
            items = [{k: v for k, v in r.items() if k != "members"} for r in items]
        start = max(int(args.get("startIndex", 1)), 1)
        page = items[start - 1 : start - 1 + int(args.get("count", 100))]
        return 200, {"schemas": [LIST], "totalResults": len(items), "startIndex": start,
                     "itemsPerPage": len(page), "Resources": page}  # fmt: skip

    def create(self, kind: str, doc: dict[str, Any]) -> Answer:
        if kind not in self.kinds:
            return error(404, f"no resource type {kind}")
        key = "userName" if kind == "Users" else "displayName"
        if not doc.get(key):
            return error(400, f"{key} is required", "invalidValue")
        if any(self._matches(r, key, doc[key]) for r in self.kinds[kind].values()):
            return error(409, f"{key} {doc[key]} exists", "uniqueness")
        resource = {**doc, "id": str(uuid.uuid4()), "meta": {"resourceType": kind[:-1]}}
        if "active" in resource:
            resource["active"] = boolean(resource["active"])
        if kind == "Groups":
            resource.setdefault("members", [])
        self.kinds[kind][resource["id"]] = resource
        return 201, resource

    def read(self, kind: str, rid: str, args: dict[str, str]) -> Answer:
        resource = self.kinds.get(kind, {}).get(rid)
        if resource is None:
            return error(404, f"no {kind[:-1]} {rid}")
        if "members" in args.get("excludedAttributes", ""):
            resource = {k: v for k, v in resource.items() if k != "members"}
        return 200, resource

    def delete(self, kind: str, rid: str) -> Answer:
        if self.kinds.get(kind, {}).pop(rid, None) is None:
            return error(404, f"no {kind[:-1]} {rid}")
        return 204, None

    def patch(self, kind: str, rid: str, body: dict[str, Any]) -> Answer:
        resource = self.kinds.get(kind, {}).get(rid)
        if resource is None:
            return error(404, f"no {kind[:-1]} {rid}")
        for operation in body.get("Operations", []):
            op = str(operation.get("op", "")).lower()
            path, value = operation.get("path"), operation.get("value")
            if op not in ("add", "replace", "remove"):
                return error(400, f"unknown op {operation.get('op')}", "invalidSyntax")
            if path is None:  # path-less: a dict of attribute paths to values
                for key, item in (value or {}).items():
                    apply(resource, op, key, item)
            else:
                apply(resource, op, path, value)
        return 204, None

    @staticmethod
    def resource_types() -> Answer:
        types = [{"id": "User", "name": "User", "endpoint": "/Users", "schema": CORE},
                 {"id": "Group", "name": "Group", "endpoint": "/Groups", "schema": GROUP}]  # fmt: skip
        return 200, {"schemas": [LIST], "totalResults": 2, "Resources": types}

    @staticmethod
    def schemas() -> Answer:
        def schema(uri: str, names: tuple[str, ...]) -> dict[str, Any]:
            return {
                "id": uri,
                "attributes": [{"name": n, "mutability": "readWrite"} for n in names],
            }

        found = [schema(CORE, USER_ATTRIBUTES), schema(ENTERPRISE, ENTERPRISE_ATTRIBUTES),
                 schema(GROUP, ("displayName", "externalId", "members"))]  # fmt: skip
        return 200, {"schemas": [LIST], "totalResults": len(found), "Resources": found}

    @staticmethod
    def service_provider_config() -> Answer:
        return 200, {"patch": {"supported": True}, "filter": {"supported": True, "maxResults": 100}}


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
        elif op == "remove":
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
