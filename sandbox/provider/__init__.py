"""Provides create_app(store, settings): the Flask SCIM 2.0 service provider (RFC 7643/7644).

Its WSGI entry is the front (sandbox.provider.front), which answers the /Users endpoints
itself and hands every other request to Flask; both route to the same handlers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from sandbox.config import Settings
from sandbox.provider.auth import Credentials
from sandbox.provider.context import NOTES_HEADER, ProviderContext, notes_header
from sandbox.provider.errors import error_response, register_error_handlers
from sandbox.provider.faults import Faults
from sandbox.provider.front import ScimFront
from sandbox.provider.rules import OrgRules
from sandbox.provider.schema import UserSchema
from sandbox.provider.users import UserRepository
from sandbox.provider.views import bp
from sandbox.requestlog import READINESS_HEADER, RequestLog
from sandbox.store import Store
from sandbox.timestamps import utc_now


def _request_body() -> bytes | None:
    """The request body for the log: as the handler read it, or (a request answered before
    its body was read) what Werkzeug reads of it; one too large or cut short is logged
    without it."""
    body: bytes | None = g.get("request_body")
    if body is not None:
        return body
    if not (request.environ.get("CONTENT_LENGTH") or request.environ.get("wsgi.input_terminated")):
        return None
    try:
        return request.get_data(cache=True)
    except HTTPException:
        return None


def create_app(
    store: Store,
    settings: Settings,
    *,
    rules: OrgRules | None = None,
    schema: UserSchema | None = None,
    clock: Callable[[], datetime] = utc_now,
    new_id: Callable[[], str] | None = None,
    request_log: RequestLog | None = None,
) -> Flask:
    """Build the provider app over `store`; every collaborator can be injected by tests."""
    app = Flask("sandbox.provider")
    # No 308 redirect (with an HTML body, before authentication) for "//" in a path: such a
    # path is a 404 in SCIM error JSON like any other unknown endpoint (RFC 7644 §3.12); the
    # front answers it, a leading "//" included, which Werkzeug's router would merge.
    app.url_map.merge_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_payload_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    schema = schema or UserSchema()
    rules = rules or OrgRules()
    ctx = ProviderContext(
        store=store,
        settings=settings,
        schema=schema,
        users=UserRepository(store, schema, clock=clock, new_id=new_id, storage=rules.storage),
        credentials=Credentials(store),
        rules=rules,
        faults=Faults(store),
        request_log=request_log or RequestLog(store, settings.request_log_limit),
        clock=clock,
    )
    app.extensions["sandbox"] = ctx
    app.register_blueprint(bp, url_prefix=settings.base_path)
    register_error_handlers(app)
    app.wsgi_app = ScimFront(app.wsgi_app, ctx)  # type: ignore[method-assign]

    @app.before_request
    def _start_timer() -> None:
        g.received_ns = time.time_ns()  # the log's order across processes (requestlog.HAPPENED)
        g.started = time.perf_counter()

    @app.after_request
    def _log_exchange(response: Response) -> Response:
        environ = request.environ
        notes = g.get("log_notes") or []
        ctx.log_exchange(
            environ,
            path=request.path,
            status=response.status_code,
            started=g.get("started", time.perf_counter()),
            received_ns=g.get("received_ns") or time.time_ns(),
            request_body=_request_body() or None,
            response_headers=response.headers.to_wsgi_list(),
            response_body=None if response.is_streamed else response.get_data(),
            notes=notes,
        )
        if notes:  # what the organization's rules did, for the client to see too
            response.headers[NOTES_HEADER] = notes_header(notes)
        return response

    @app.route("/")
    def _root() -> Response:
        return error_response(
            404,
            f"this is a SCIM 2.0 service provider; its base URL is {settings.base_path or '/'}",
        )

    return app


__all__ = ["create_app", "ProviderContext", "READINESS_HEADER"]
