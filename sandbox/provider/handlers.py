"""Provides the SCIM 2.0 endpoints (RFC 7644) as functions from a Call to a Reply.

Neither Flask nor the server is seen here: the front (front) and Flask (views) route requests
to these functions after the fault rules and the bearer token have let them through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sandbox.errors import ScimError
from sandbox.provider.calls import Call, Reply, empty_reply, json_reply
from sandbox.provider.discovery import resource_types, service_provider_config
from sandbox.provider.filters import compile_filter
from sandbox.provider.patch import Patcher, parse_patch_request
from sandbox.provider.resources import etag, normalize_payload, project, render
from sandbox.provider.users import ConcurrentUpdate, StoredUser
from sandbox.provider.wirejson import INT64
from sandbox.scim_names import LIST_RESPONSE, SEARCH_REQUEST

MAX_PATCH_RETRIES = 8
"""Read-modify-write attempts when concurrent writers touch the same user."""


def authenticate(call: Call) -> None:
    """The bearer token every SCIM route, discovery included, needs (RFC 7644 §2): 401 unless
    provisioning is on and the request carries the token in force."""
    call.ctx.credentials.check(call.header("Authorization"))


def _csv(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v for v in str(value).split(",") if v.strip()]


def _int_param(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        if isinstance(value, bool):  # int(True) is 1; a SearchRequest's true is no index
            raise TypeError
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        shown = repr(value) if len(str(value)) <= 40 else f"{str(value)[:40]}..."
        raise ScimError(400, f"{name} must be an integer, got {shown}", "invalidValue") from None
    if number not in INT64:  # SQLite binds 64-bit integers only
        raise ScimError(400, f"{name} is out of range (a 64-bit integer)", "invalidValue")
    return number


def _render(call: Call, user: StoredUser) -> dict[str, Any]:
    return render(user.doc, user.meta, f"{call.base_url}/Users/{user.id}")


def _resource_reply(call: Call, user: StoredUser, status: int = 200) -> Reply:
    body = project(
        _render(call, user),
        _csv(call.args.get("attributes")),
        _csv(call.args.get("excludedAttributes")),
    )
    headers = [("ETag", etag(user.version))]
    if status == 201:
        headers.append(("Location", body["meta"]["location"]))
    return json_reply(body, status, headers)


def _check_if_match(call: Call, user: StoredUser) -> None:
    wanted = call.header("If-Match")
    if wanted and wanted.strip() != "*":
        tags = {t.strip() for t in wanted.split(",")}
        if etag(user.version) not in tags and str(user.version) not in tags:
            raise ScimError(412, f"the resource version is {etag(user.version)}, not {wanted}")


# -- /Users ---------------------------------------------------------------------------------


def _list(call: Call, params: Mapping[str, Any]) -> Reply:
    ctx = call.ctx
    where: str = ""
    sql_params: list[Any] = []
    text = params.get("filter")
    if text is not None:
        if not isinstance(text, str):
            raise ScimError(400, "filter must be a string", "invalidFilter")
        where, sql_params = compile_filter(ctx.schema, text)
    where, sql_params = ctx.rules.restrict_search(where, sql_params)
    start = max(1, _int_param(params.get("startIndex"), "startIndex", 1))
    count = min(max(0, _int_param(params.get("count"), "count", 100)), ctx.settings.max_results)
    order = params.get("sortOrder")
    if order is not None and str(order).lower() not in ("ascending", "descending"):
        raise ScimError(400, "sortOrder must be ascending or descending", "invalidValue")
    total, users = ctx.users.search(
        where,
        sql_params,
        start_index=start,
        count=count,
        sort_by=params.get("sortBy") or None,
        descending=str(order).lower() == "descending",
    )
    attributes, excluded = _csv(params.get("attributes")), _csv(params.get("excludedAttributes"))
    resources = [project(_render(call, u), attributes, excluded) for u in users]
    return json_reply(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


def list_users(call: Call) -> Reply:
    """GET /Users with filter, paging, sorting and attribute selection (RFC 7644 §3.4.2)."""
    return _list(call, call.args)


def search_users(call: Call) -> Reply:
    """POST /Users/.search with a SearchRequest body (RFC 7644 §3.4.3).

    POST /.search at the root searches every resource type; User is the only one served.
    """
    body = call.json()
    if not isinstance(body, dict):
        raise ScimError(400, "a SearchRequest must be a JSON object", "invalidSyntax")
    schemas = body.get("schemas")
    if schemas is not None and SEARCH_REQUEST not in (schemas or []):
        raise ScimError(400, f"schemas must be [{SEARCH_REQUEST}]", "invalidSyntax")
    return _list(call, body)


def create_user(call: Call) -> Reply:
    """POST /Users: 201 with the resource, Location and ETag (RFC 7644 §3.3)."""
    ctx = call.ctx
    doc = normalize_payload(ctx.schema, call.json(), notes=call.notes)
    plan = ctx.rules.plan_create(doc, call.notes)
    try:
        user = ctx.users.create(plan.doc, plan.org, plan.effects)
    except ScimError as exc:
        if exc.status == 409:  # ask the rules why the userName is taken
            raise ctx.rules.explain_conflict(plan.doc) or exc from None
        raise
    return _resource_reply(call, user, 201)


def get_user(call: Call, user_id: str) -> Reply:
    """GET /Users/{id}; If-None-Match with the current version answers 304."""
    ctx = call.ctx
    user = ctx.rules.visible(ctx.users.get(user_id))
    wanted = call.header("If-None-Match")
    if wanted and (wanted.strip() == "*" or etag(user.version) in wanted):
        return empty_reply(304, [("ETag", etag(user.version))])
    return _resource_reply(call, user)


Apply = Callable[[StoredUser, list[str]], dict[str, Any]]
"""How one method changes a user: apply(current, notes) gives the document to store. It
empties `notes` where its attempt's own notes begin (a retry starts them afresh)."""


def _update(call: Call, user_id: str, apply: Apply, *, no_content: bool = False) -> Reply:
    """Read, apply, write with the version read: PUT's and PATCH's one path.

    Each attempt re-reads the user, checks its visibility and If-Match, applies the method to
    it and lets the rules plan the write; a concurrent update between read and write starts a
    new attempt, at most MAX_PATCH_RETRIES. Answers the resource with its ETag, or (for
    `no_content`) 204 with the ETag alone.
    """
    ctx = call.ctx
    notes = call.notes
    for _ in range(MAX_PATCH_RETRIES):
        current = ctx.rules.visible(ctx.users.get(user_id))
        _check_if_match(call, current)
        plan = ctx.rules.plan_update(current, apply(current, notes), notes)
        try:
            user = ctx.users.update(current, plan.doc, plan.org, plan.effects)
        except ConcurrentUpdate:
            continue
        if no_content:
            return empty_reply(204, [("ETag", etag(user.version))])
        return _resource_reply(call, user)
    raise ConcurrentUpdate(user_id)


def replace_user(call: Call, user_id: str) -> Reply:
    """PUT /Users/{id}: replace every writable attribute (RFC 7644 §3.5.1)."""
    schema = call.ctx.schema
    payload = call.json()

    def replace(current: StoredUser, notes: list[str]) -> dict[str, Any]:
        del notes[:]  # a retry starts the notes afresh, before normalizing adds its own
        return normalize_payload(schema, payload, notes=notes)

    return _update(call, user_id, replace)


def patch_user(call: Call, user_id: str) -> Reply:
    """PATCH /Users/{id} in both Entra dialects; 200 with the resource (or 204, a setting)."""
    ctx = call.ctx
    operations = parse_patch_request(call.json())

    def patch(current: StoredUser, notes: list[str]) -> dict[str, Any]:
        doc = Patcher(ctx.schema, current.doc).apply(operations)
        if not doc.get("userName"):
            raise ScimError(400, "userName cannot be removed", "mutability")
        del notes[:]  # a retry starts the notes afresh
        return doc

    return _update(call, user_id, patch, no_content=ctx.settings.patch_status == 204)


def delete_user(call: Call, user_id: str) -> Reply:
    """DELETE /Users/{id}: 204 (RFC 7644 §3.6)."""
    ctx = call.ctx
    current = ctx.rules.visible(ctx.users.get(user_id))
    _check_if_match(call, current)
    ctx.rules.before_delete(current)
    ctx.users.delete(current)
    return empty_reply(204)


def groups(call: Call, rest: str = "") -> Reply:
    """Nulab Pass serves no /Groups: 404, so Entra's group provisioning fails as the guide warns."""
    raise ScimError(
        404,
        "Groups are not supported by this service provider; turn off group "
        "provisioning (Provision Microsoft Entra ID Groups: No)",
    )


# -- discovery ------------------------------------------------------------------------------


def _absolute(call: Call, doc: dict[str, Any]) -> dict[str, Any]:
    meta = doc.get("meta")
    if isinstance(meta, dict) and str(meta.get("location", "")).startswith("/"):
        doc = {**doc, "meta": {**meta, "location": call.base_url + meta["location"]}}
    return doc


def _listed(call: Call, resources: list[dict[str, Any]]) -> Reply:
    return json_reply(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": len(resources),
            "startIndex": 1,
            "itemsPerPage": len(resources),
            "Resources": [_absolute(call, r) for r in resources],
        }
    )


def get_service_provider_config(call: Call) -> Reply:
    """What this provider supports (RFC 7644 §4, RFC 7643 §5)."""
    return json_reply(_absolute(call, service_provider_config(call.ctx.settings)))


def list_resource_types(call: Call) -> Reply:
    """The resource types served: User only."""
    return _listed(call, resource_types())


def get_resource_type(call: Call, name: str) -> Reply:
    """One resource type by id."""
    for doc in resource_types():
        if doc["id"] == name:
            return json_reply(_absolute(call, doc))
    raise ScimError(404, f"resource type {name} not found")


def list_schemas(call: Call) -> Reply:
    """The schemas served: the core User and the enterprise extension."""
    return _listed(call, call.ctx.schema.schemas_documents())


def get_schema(call: Call, schema_id: str) -> Reply:
    """One schema by its URN."""
    for doc in call.ctx.schema.schemas_documents():
        if doc["id"] == schema_id:
            return json_reply(_absolute(call, doc))
    raise ScimError(404, f"schema {schema_id} not found")


def bulk(call: Call) -> Reply:
    """Bulk is not supported (ServiceProviderConfig says so): 501."""
    raise ScimError(501, "bulk operations are not supported by this provider")


def me(call: Call) -> Reply:
    """/Me is not supported: 501 (RFC 7644 §3.11)."""
    raise ScimError(501, "/Me is not supported by this provider")
