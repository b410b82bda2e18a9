"""Provides Flask's error handlers: every failure leaves as RFC 7644 §3.12 SCIM error JSON,
mapped as the front maps it (calls.reply_for), and HTTP errors of Flask's own routing."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from sandbox.errors import SandboxError
from sandbox.provider.calls import NO_ENDPOINT, error_reply, reply_for
from sandbox.provider.views import to_response


def error_response(status: int, detail: str, scim_type: str | None = None) -> Response:
    """An RFC 7644 §3.12 error as a Flask response."""
    return to_response(error_reply(status, detail, scim_type))


def register_error_handlers(app: Flask) -> None:
    """Translate the sandbox's errors, HTTP errors and anything unexpected, once, here."""

    @app.errorhandler(SandboxError)
    def _sandbox(exc: SandboxError) -> Response:
        return to_response(reply_for(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        detail = {
            404: NO_ENDPOINT,
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
        return to_response(reply_for(exc))  # a bug: logged with its traceback, a plain 500
