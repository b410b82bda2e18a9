"""Provides GraphError and the Flask error handlers: every failure leaves as Graph's error JSON.

Microsoft Graph, "Microsoft Graph error responses and resource types": an error is a standard
HTTP status and `{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}`. The directory's resources (users, groups, service principals) name
their codes as the directory does: Request_BadRequest, Request_ResourceNotFound,
Request_UnsupportedQuery.
"""

from __future__ import annotations

import json
import logging
import uuid

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from sandbox.errors import NotFoundError, SandboxError
from sandbox.timestamps import utc_now

log = logging.getLogger(__name__)

GRAPH_JSON = "application/json"

BAD_REQUEST = "Request_BadRequest"
"""The directory's code for a request it cannot take (a bad body, a bad query option)."""

NOT_FOUND = "Request_ResourceNotFound"
"""The directory's code for an id that names nothing."""

UNSUPPORTED_QUERY = "Request_UnsupportedQuery"
"""The directory's code for a $filter or $orderby on a property (or with an operator) it does
not support."""

INVALID_TOKEN = "InvalidAuthenticationToken"
"""Graph's code for a missing or invalid access token (401)."""


class GraphError(SandboxError):
    """A failure to answer as Graph does: an HTTP status, Graph's error code and a message;
    `headers` go on the response (Retry-After on a 429, WWW-Authenticate on a 401)."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}


def bad_request(message: str, code: str = BAD_REQUEST) -> GraphError:
    """A 400 with the directory's code (or `code`)."""
    return GraphError(400, code, message)


def not_found(object_id: str) -> GraphError:
    """A 404 for an id that names no object, in the directory's words."""
    return GraphError(
        404,
        NOT_FOUND,
        f"Resource '{object_id}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def request_ids() -> tuple[str, str]:
    """(request-id, client-request-id) of the current request: a new GUID for the first, the
    client's `client-request-id` header echoed for the second (the first when none was sent),
    as Graph's response headers and innerError carry them."""
    if "graph_request_id" not in g:
        g.graph_request_id = str(uuid.uuid4())
    client = request.headers.get("client-request-id") or g.graph_request_id
    return g.graph_request_id, client


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """Graph's error body with its innerError (the date, request-id and client-request-id)."""
    request_id, client_id = request_ids()
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": utc_now().strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_id,
            },
        }
    }
    response = Response(json.dumps(body), status=status, mimetype=GRAPH_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


_HTTP_CODES = {
    400: ("BadRequest", "The request is malformed or incorrect."),
    404: ("UnknownResource", "Resource not found for the segment '{segment}'."),
    405: ("MethodNotAllowed", "The HTTP method '{method}' is not allowed on this resource."),
    413: ("RequestEntityTooLarge", "The request body is too large."),
    415: ("UnsupportedMediaType", "The request body must be JSON."),
}
"""Graph codes (the generic ones of its errors page) for the errors the router raises."""


def register_error_handlers(app: Flask) -> None:
    """Translate GraphError, the sandbox's own errors, HTTP errors and anything unexpected into
    Graph's error JSON, once, here."""

    @app.errorhandler(GraphError)
    def _graph(exc: GraphError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.errorhandler(NotFoundError)
    def _not_found(exc: NotFoundError) -> Response:
        return error_response(404, NOT_FOUND, exc.message)

    @app.errorhandler(SandboxError)
    def _sandbox(exc: SandboxError) -> Response:
        # a refused action (a taken UPN, a user already in the recycle bin...): the request
        # was understood and is wrong for the directory's state
        return error_response(400, BAD_REQUEST, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        segments = [s for s in request.path.split("/") if s]
        code, template = _HTTP_CODES.get(status, (exc.name.replace(" ", ""), exc.description))
        message = (template or "").format(
            segment=segments[-1] if segments else "", method=request.method
        )
        response = error_response(status, code, message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # A bug, not a client's mistake: log the traceback, answer Graph's plain 500.
        log.exception("unhandled error in the Microsoft Graph surface")
        return error_response(500, "InternalServerError", f"internal error: {type(exc).__name__}")
