"""Provides the SCIM 2.0 HTTP surface (RFC 7644): /Users, /Users/.search and discovery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from sandbox import jsontext
from sandbox.errors import ScimError
from sandbox.provider.discovery import resource_types, service_provider_config
from sandbox.provider.errors import SCIM_JSON
from sandbox.provider.filters import compile_filter
from sandbox.provider.patch import Patcher, parse_patch_request
from sandbox.provider.resources import etag, normalize_payload, project, render
from sandbox.provider.users import ConcurrentUpdate, StoredUser
from sandbox.provider.wirejson import INT64, body_json
from sandbox.scim_names import LIST_RESPONSE, SEARCH_REQUEST

bp = Blueprint("scim", __name__)

MAX_PATCH_RETRIES = 8
"""Read-modify-write attempts when concurrent writers touch the same user."""


def provider() -> Any:
    """The ProviderContext of the running app (store, schema, users, credentials, rules...)."""
    return current_app.extensions["sandbox"]


class ScimResponse(Response):
    """A response whose Location, when it is already plain ASCII (our ids and the request's
    own host), is sent as it is: Werkzeug re-encodes it as an IRI on every response, a
    measurable share of a POST."""

    def get_wsgi_headers(self, environ: Any) -> Any:
        location = self.headers.get("Location")
        if location is None or not location.isascii():
            return super().get_wsgi_headers(environ)
        del self.headers["Location"]
        headers = super().get_wsgi_headers(environ)
        headers["Location"] = location
        self.headers["Location"] = location
        return headers


def scim_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON body served as application/scim+json (RFC 7644 §3.1)."""
    response = ScimResponse(
        jsontext.dumps_bytes(body),
        status=status,
        mimetype=SCIM_JSON,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def base_url() -> str:
    """The absolute SCIM base URL as the client reached it (for meta.location).

    Read straight from the WSGI environ: Werkzeug's host_url re-encodes the whole URL on
    every call, a measurable share of a request.
    """
    cached = g.get("base_url")
    if cached is None:
        environ = request.environ
        host = environ.get("HTTP_HOST") or (
            f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
        )
        cached = g.base_url = (
            f"{environ.get('wsgi.url_scheme', 'http')}://{host}{provider().settings.base_path}"
        )
    return cached


def read_json() -> Any:
    """The request body as strict JSON (see wirejson), or 400 invalidSyntax/invalidValue."""
    return body_json(request.get_data(cache=True))


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


@bp.before_request
def inject_faults_then_authenticate() -> Response | None:
    """Fault rules first (a tester's injected 401 beats a good token), then the bearer token:
    every SCIM route, discovery included, needs it (RFC 7644 §2)."""
    ctx = provider()
    relative = request.path[len(ctx.settings.base_path) :] or "/"
    injected = ctx.faults.apply(request.method, relative, g.setdefault("log_notes", []))
    if injected is not None:
        return injected
    ctx.credentials.check(request.headers.get("Authorization"))
    return None


@bp.route("/Groups", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/Groups/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def groups(rest: str = "") -> Response:
    """Nulab Pass serves no /Groups: 404, so Entra's group provisioning fails as the guide warns."""
    raise ScimError(
        404,
        "Groups are not supported by this service provider; turn off group "
        "provisioning (Provision Microsoft Entra ID Groups: No)",
    )


def _render(user: StoredUser) -> dict[str, Any]:
    return render(user.doc, user.meta, f"{base_url()}/Users/{user.id}")


def _resource_response(user: StoredUser, status: int = 200) -> Response:
    body = project(
        _render(user),
        _csv(request.args.get("attributes")),
        _csv(request.args.get("excludedAttributes")),
    )
    headers = {"ETag": etag(user.version)}
    if status == 201:
        headers["Location"] = body["meta"]["location"]
    return scim_response(body, status, headers)


def _check_if_match(user: StoredUser) -> None:
    wanted = request.headers.get("If-Match")
    if wanted and wanted.strip() != "*":
        tags = {t.strip() for t in wanted.split(",")}
        if etag(user.version) not in tags and str(user.version) not in tags:
            raise ScimError(412, f"the resource version is {etag(user.version)}, not {wanted}")


# -- /Users ---------------------------------------------------------------------------------


def _list(params: dict[str, Any]) -> Response:
    ctx = provider()
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
    resources = [project(_render(u), attributes, excluded) for u in users]
    return scim_response(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


@bp.get("/Users")
def list_users() -> Response:
    """GET /Users with filter, paging, sorting and attribute selection (RFC 7644 §3.4.2)."""
    return _list(request.args.to_dict())


@bp.post("/.search")
@bp.post("/Users/.search")
def search_users() -> Response:
    """POST /Users/.search with a SearchRequest body (RFC 7644 §3.4.3).

    POST /.search at the root searches every resource type; User is the only one served.
    """
    body = read_json()
    if not isinstance(body, dict):
        raise ScimError(400, "a SearchRequest must be a JSON object", "invalidSyntax")
    schemas = body.get("schemas")
    if schemas is not None and SEARCH_REQUEST not in (schemas or []):
        raise ScimError(400, f"schemas must be [{SEARCH_REQUEST}]", "invalidSyntax")
    return _list(body)


@bp.post("/Users")
def create_user() -> Response:
    """POST /Users: 201 with the resource, Location and ETag (RFC 7644 §3.3)."""
    ctx = provider()
    notes: list[str] = g.setdefault("log_notes", [])
    doc = normalize_payload(ctx.schema, read_json(), notes=notes)
    plan = ctx.rules.plan_create(doc, notes)
    try:
        user = ctx.users.create(plan.doc, plan.org, plan.effects)
    except ScimError as exc:
        if exc.status == 409:  # ask the rules why the userName is taken
            raise ctx.rules.explain_conflict(plan.doc) or exc from None
        raise
    return _resource_response(user, 201)


@bp.get("/Users/<user_id>")
def get_user(user_id: str) -> Response:
    """GET /Users/{id}; If-None-Match with the current version answers 304."""
    user = provider().rules.visible(provider().users.get(user_id))
    wanted = request.headers.get("If-None-Match")
    if wanted and (wanted.strip() == "*" or etag(user.version) in wanted):
        return Response(status=304, headers={"ETag": etag(user.version)})
    return _resource_response(user)


Apply = Callable[[StoredUser, list[str]], dict[str, Any]]
"""How one method changes a user: apply(current, notes) gives the document to store. It
empties `notes` where its attempt's own notes begin (a retry starts them afresh)."""


def _update(user_id: str, apply: Apply, *, no_content: bool = False) -> Response:
    """Read, apply, write with the version read: PUT's and PATCH's one path.

    Each attempt re-reads the user, checks its visibility and If-Match, applies the method to
    it and lets the rules plan the write; a concurrent update between read and write starts a
    new attempt, at most MAX_PATCH_RETRIES. Answers the resource with its ETag, or (for
    `no_content`) 204 with the ETag alone.
    """
    ctx = provider()
    notes: list[str] = g.setdefault("log_notes", [])
    for _ in range(MAX_PATCH_RETRIES):
        current = ctx.rules.visible(ctx.users.get(user_id))
        _check_if_match(current)
        plan = ctx.rules.plan_update(current, apply(current, notes), notes)
        try:
            user = ctx.users.update(current, plan.doc, plan.org, plan.effects)
        except ConcurrentUpdate:
            continue
        if no_content:
            return Response(status=204, headers={"ETag": etag(user.version)})
        return _resource_response(user)
    raise ConcurrentUpdate(user_id)


@bp.put("/Users/<user_id>")
def replace_user(user_id: str) -> Response:
    """PUT /Users/{id}: replace every writable attribute (RFC 7644 §3.5.1)."""
    schema = provider().schema
    payload = read_json()

    def replace(current: StoredUser, notes: list[str]) -> dict[str, Any]:
        del notes[:]  # a retry starts the notes afresh, before normalizing adds its own
        return normalize_payload(schema, payload, notes=notes)

    return _update(user_id, replace)


@bp.patch("/Users/<user_id>")
def patch_user(user_id: str) -> Response:
    """PATCH /Users/{id} in both Entra dialects; 200 with the resource (or 204, a setting)."""
    ctx = provider()
    operations = parse_patch_request(read_json())

    def patch(current: StoredUser, notes: list[str]) -> dict[str, Any]:
        doc = Patcher(ctx.schema, current.doc).apply(operations)
        if not doc.get("userName"):
            raise ScimError(400, "userName cannot be removed", "mutability")
        del notes[:]  # a retry starts the notes afresh
        return doc

    return _update(user_id, patch, no_content=ctx.settings.patch_status == 204)


@bp.delete("/Users/<user_id>")
def delete_user(user_id: str) -> Response:
    """DELETE /Users/{id}: 204 (RFC 7644 §3.6)."""
    ctx = provider()
    current = ctx.rules.visible(ctx.users.get(user_id))
    _check_if_match(current)
    ctx.rules.before_delete(current)
    ctx.users.delete(current)
    return Response(status=204)


# -- discovery ------------------------------------------------------------------------------


def _absolute(doc: dict[str, Any]) -> dict[str, Any]:
    meta = doc.get("meta")
    if isinstance(meta, dict) and str(meta.get("location", "")).startswith("/"):
        doc = {**doc, "meta": {**meta, "location": base_url() + meta["location"]}}
    return doc


def _listed(resources: list[dict[str, Any]]) -> Response:
    return scim_response(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": len(resources),
            "startIndex": 1,
            "itemsPerPage": len(resources),
            "Resources": [_absolute(r) for r in resources],
        }
    )


@bp.get("/ServiceProviderConfig")
def get_service_provider_config() -> Response:
    """What this provider supports (RFC 7644 §4, RFC 7643 §5)."""
    return scim_response(_absolute(service_provider_config(provider().settings)))


@bp.get("/ResourceTypes")
def list_resource_types() -> Response:
    """The resource types served: User only."""
    return _listed(resource_types())


@bp.get("/ResourceTypes/<name>")
def get_resource_type(name: str) -> Response:
    """One resource type by id."""
    for doc in resource_types():
        if doc["id"] == name:
            return scim_response(_absolute(doc))
    raise ScimError(404, f"resource type {name} not found")


@bp.get("/Schemas")
def list_schemas() -> Response:
    """The schemas served: the core User and the enterprise extension."""
    return _listed(provider().schema.schemas_documents())


@bp.get("/Schemas/<path:schema_id>")
def get_schema(schema_id: str) -> Response:
    """One schema by its URN."""
    for doc in provider().schema.schemas_documents():
        if doc["id"] == schema_id:
            return scim_response(_absolute(doc))
    raise ScimError(404, f"schema {schema_id} not found")


@bp.route("/Bulk", methods=["POST"])
def bulk() -> Response:
    """Bulk is not supported (ServiceProviderConfig says so): 501."""
    raise ScimError(501, "bulk operations are not supported by this provider")


@bp.route("/Me", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def me() -> Response:
    """/Me is not supported: 501 (RFC 7644 §3.11)."""
    raise ScimError(501, "/Me is not supported by this provider")
