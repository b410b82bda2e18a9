"""Provides the Flask error handlers: every failure leaves as RFC 7644 §3.12 SCIM error JSON."""

from __future__ import annotations

import json
import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from sandbox.errors import SandboxError, ScimError
from sandbox.scim_names import ERROR

log = logging.getLogger(__name__)

SCIM_JSON = "application/scim+json"


def error_response(status: int, detail: str, scim_type: str | None = None) -> Response:
    """An RFC 7644 §3.12 error body (status is a string in the body, as the RFC shows)."""
    body: dict[str, object] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return Response(json.dumps(body), status=status, mimetype=SCIM_JSON)


def register_error_handlers(app: Flask) -> None:
    """Translate the sandbox's errors, HTTP errors and anything unexpected, once, here."""

    @app.errorhandler(ScimError)
    def _scim(exc: ScimError) -> Response:
        response = error_response(exc.status, exc.detail, exc.scim_type)
        for name, value in exc.headers.items():
            response.headers[name] = value
        return response

    @app.errorhandler(SandboxError)
    def _sandbox(exc: SandboxError) -> Response:
        return error_response(400, exc.message, "invalidValue")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        detail = {
            404: "no such resource or endpoint",
            405: "method not allowed on this endpoint",
            413: "request body too large",
        }.get(status, exc.description or exc.name)
        scim_type = "tooMany" if status == 413 else None
        response = error_response(status, detail, scim_type)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # A bug, not a user mistake: log the traceback, answer a plain SCIM error.
        log.exception("unhandled error in the SCIM provider")
        return error_response(500, f"internal error: {type(exc).__name__}")
