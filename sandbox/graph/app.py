"""Provides create_graph_app(context, token): the Microsoft Graph v1.0 surface of the mock
Entra, a Flask app whose blueprints are mounted under /v1.0.

Every exchange goes into the shared request log with the side "graph", stamped when it was
received, so it comes before the SCIM exchanges it causes (the engine's, then the
provider's) in the order the log keeps. Without a configured token any bearer token (or
none) is accepted, as a local emulator should; with one, a request must carry it
(`Authorization: Bearer <token>`) or get Graph's 401.
"""

from __future__ import annotations

import hmac
import json
import time

from flask import Blueprint, Flask, Response, g, request

from sandbox.graph.context import GraphContext
from sandbox.graph.errors import INVALID_TOKEN, GraphError, register_error_handlers, request_ids
from sandbox.requestlog import REDACTED, Exchange, environ_headers, is_readiness_probe
from sandbox.timestamps import utc_now

API_PREFIX = "/v1.0"
"""Where the blueprints are mounted: the base URL an SDK needs is `http://HOST:PORT/v1.0`."""

SIDE = "graph"
"""The request log's side of a Graph exchange (beside "engine" and "provider")."""

MAX_BODY_BYTES = 1_048_576
"""The largest request body taken; larger ones get 413."""


def blueprints() -> tuple[Blueprint, ...]:
    """The blueprints mounted under /v1.0: one module a resource family (add yours here)."""
    from sandbox.graph import (
        audit_logs,
        directory_objects,
        groups,
        service_principals,
        synchronization,
        users,
    )

    return (
        users.bp,
        directory_objects.bp,
        groups.bp,
        service_principals.bp,
        synchronization.bp,
        audit_logs.bp,
    )


SECRET_PAIR_KEYS = frozenset({"SecretToken"})
"""Secret key/value pairs whose value the request log keeps redacted."""


def redact_body(raw: bytes | None) -> bytes | None:
    """A request body as the log keeps it: a user's passwordProfile.password and the
    SecretToken of secrets or credentials replaced, as the log does with Authorization
    headers; anything that is not a JSON object as sent."""
    if not raw:
        return raw
    try:
        body = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(body, dict):
        return raw
    changed = False
    profile = body.get("passwordProfile")
    if isinstance(profile, dict) and "password" in profile:
        body["passwordProfile"] = {**profile, "password": REDACTED}
        changed = True
    for name in ("value", "credentials"):
        pairs = body.get(name)
        if not isinstance(pairs, list):
            continue
        for pair in pairs:
            if isinstance(pair, dict) and pair.get("key") in SECRET_PAIR_KEYS and "value" in pair:
                pair["value"] = REDACTED
                changed = True
    return json.dumps(body).encode() if changed else raw


def _check_token(token: str) -> None:
    """Graph's 401 unless the request carries `token` as its bearer token."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'}
    if not header or scheme.lower() != "bearer" or not given.strip():
        raise GraphError(401, INVALID_TOKEN, "Access token is empty.", challenge)
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise GraphError(401, INVALID_TOKEN, "Access token validation failure.", challenge)


def create_graph_app(context: GraphContext, token: str | None = None) -> Flask:
    """The Graph app over `context`; `token`: the one bearer token it takes (None: any)."""
    app = Flask("sandbox.graph", static_folder=None)
    app.url_map.merge_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["graph"] = context
    for blueprint in blueprints():
        app.register_blueprint(blueprint, url_prefix=API_PREFIX)
    register_error_handlers(app)

    @app.before_request
    def _start() -> None:
        g.received_ns = time.time_ns()  # the log's order across processes
        g.started = time.perf_counter()
        if token:
            _check_token(token)

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id, client_id = request_ids()
        response.headers["request-id"] = request_id
        response.headers["client-request-id"] = client_id
        if is_readiness_probe(request.environ):  # the probe of a starting process
            return response
        started = g.get("started", time.perf_counter())
        try:
            body = request.get_data(cache=True) if request.content_length else None
        except Exception:  # a body too large or cut short is logged without it
            body = None
        context.request_log.append(
            Exchange(
                at=utc_now(),
                side=SIDE,
                method=request.method,
                path=request.path,
                query=request.environ.get("QUERY_STRING", ""),
                status=response.status_code,
                latency_ms=(time.perf_counter() - started) * 1000,
                request_headers=environ_headers(request.environ),
                request_body=redact_body(body),
                response_headers=response.headers.to_wsgi_list(),
                response_body=None if response.is_streamed else response.get_data(),
                ord=g.get("received_ns") or time.time_ns(),
            )
        )
        return response

    return app
