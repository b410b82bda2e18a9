"""Provides the blueprint: Flask's routes to every SCIM endpoint (sandbox.provider.handlers).

The front (sandbox.provider.front) answers the /Users endpoints before Flask sees them;
these routes take everything else, and a /Users request the front passes on (one with a
fault rule in force, an unusual body or path), to the same handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.datastructures import Headers

from sandbox.provider import handlers
from sandbox.provider.calls import Call, Reply, read_body
from sandbox.provider.context import ProviderContext

bp = Blueprint("scim", __name__)


def provider() -> ProviderContext:
    """The ProviderContext of the running app (store, schema, users, credentials, rules...)."""
    ctx: ProviderContext = current_app.extensions["sandbox"]
    return ctx


class ScimResponse(Response):
    """A response whose Location is sent as the handler wrote it, as the front sends it (the
    resource's meta.location): Werkzeug rewrites it as a URI, which lowercases the host and
    drops an empty port."""

    def get_wsgi_headers(self, environ: Any) -> Any:
        headers = super().get_wsgi_headers(environ)
        location = self.headers.get("Location")
        if location is not None and location.isascii():
            headers["Location"] = location  # in place
        return headers


def to_response(reply: Reply) -> Response:
    """A handler's Reply as a Flask response, with the headers the front would send."""
    response = ScimResponse(reply.body or None, status=reply.status)
    response.headers = Headers(reply.wire_headers())
    return response


def _read_body() -> bytes:
    """The body as the front reads it (calls.read_body), kept for the request log."""
    body: bytes | None = g.get("request_body")
    if body is None:
        body = g.request_body = read_body(request.environ, provider().settings.max_payload_bytes)
    return body


def flask_call() -> Call:
    """The Call of the request Flask is handling."""
    return Call(
        provider(), request.environ, request.args, _read_body, g.setdefault("log_notes", [])
    )


@bp.before_request
def inject_faults_then_authenticate() -> Response | None:
    """Fault rules first (a tester's injected 401 beats a good token), then the bearer token."""
    ctx = provider()
    relative = request.path[len(ctx.settings.base_path) :] or "/"
    injected = ctx.faults.apply(request.method, relative, g.setdefault("log_notes", []))
    if injected is not None:
        return injected
    handlers.authenticate(flask_call())
    return None


def _view(handler: Callable[..., Reply]) -> Callable[..., Response]:
    def view(**params: str) -> Response:
        return to_response(handler(flask_call(), **params))

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]

ROUTES: list[tuple[str, list[str], Callable[..., Reply]]] = [
    ("/Users", ["GET"], handlers.list_users),
    ("/Users", ["POST"], handlers.create_user),
    ("/Users/.search", ["POST"], handlers.search_users),
    ("/.search", ["POST"], handlers.search_users),
    ("/Users/<user_id>", ["GET"], handlers.get_user),
    ("/Users/<user_id>", ["PUT"], handlers.replace_user),
    ("/Users/<user_id>", ["PATCH"], handlers.patch_user),
    ("/Users/<user_id>", ["DELETE"], handlers.delete_user),
    ("/Groups", ANY_METHOD, handlers.groups),
    ("/Groups/<path:rest>", ANY_METHOD, handlers.groups),
    ("/ServiceProviderConfig", ["GET"], handlers.get_service_provider_config),
    ("/ResourceTypes", ["GET"], handlers.list_resource_types),
    ("/ResourceTypes/<name>", ["GET"], handlers.get_resource_type),
    ("/Schemas", ["GET"], handlers.list_schemas),
    ("/Schemas/<path:schema_id>", ["GET"], handlers.get_schema),
    ("/Bulk", ["POST"], handlers.bulk),
    ("/Me", ANY_METHOD, handlers.me),
]
"""Every SCIM endpoint: its rule, methods and handler."""

_views: dict[Callable[..., Reply], Callable[..., Response]] = {}
for _rule, _methods, _handler in ROUTES:
    _views.setdefault(_handler, _view(_handler))
    bp.add_url_rule(_rule, _handler.__name__, _views[_handler], methods=_methods)
