"""Provides Call and Reply: one SCIM request as the handlers see it, and what they answer.

The handlers (sandbox.provider.handlers) know neither Flask nor the WSGI server: they read a
Call and return a Reply. The provider's WSGI front (front) hands the /Users endpoints a Call
built straight from the environ; Flask (views) builds one for every other endpoint, and for
a /Users request the front passes on. Both send a Reply, and map a failure to one, the same
way, so a request is answered alike whichever of them took it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox import jsontext
from sandbox.errors import SandboxError, ScimError
from sandbox.provider.context import ProviderContext
from sandbox.provider.wirejson import body_json
from sandbox.scim_names import ERROR, SCIM_JSON

log = logging.getLogger(__name__)

NO_BODY_STATUSES = (204, 304)
"""Statuses sent without a body, and so without Content-Type or Content-Length
(RFC 9110 §8.6, RFC 9110 §15.4.5)."""


@dataclass(slots=True)
class Call:
    """One SCIM request: its WSGI environ, query parameters (the first value of each name),
    a way to read its body, and the list the provider's notes on it go to."""

    ctx: ProviderContext
    environ: Mapping[str, Any]
    args: Mapping[str, str]
    read_body: Callable[[], bytes]
    notes: list[str] = field(default_factory=list)
    _base_url: str | None = None

    def header(self, name: str) -> str | None:
        """A request header by name (not Content-Type or Content-Length, which the environ
        keeps without the HTTP_ prefix)."""
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"))

    def json(self) -> Any:
        """The body as strict JSON (see wirejson), or 400 invalidSyntax/invalidValue."""
        return body_json(self.read_body())

    @property
    def base_url(self) -> str:
        """The absolute SCIM base URL as the client reached it (for meta.location), read
        straight from the environ."""
        if self._base_url is None:
            environ = self.environ
            host = environ.get("HTTP_HOST") or (
                f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
            )
            scheme = environ.get("wsgi.url_scheme", "http")
            self._base_url = f"{scheme}://{host}{self.ctx.settings.base_path}"
        return self._base_url


@dataclass(slots=True)
class Reply:
    """A response: status, headers and body. A reply with a body has its Content-Type as
    its first header (json_reply and error_reply write it so); the entry that sends it adds
    Content-Length."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""

    def wire_headers(self) -> list[tuple[str, str]]:
        """The headers as sent: Content-Type and Content-Length first, where there is a body."""
        if self.status in NO_BODY_STATUSES:
            return list(self.headers)
        content_type, *rest = self.headers
        return [content_type, ("Content-Length", str(len(self.body))), *rest]


def read_body(environ: Mapping[str, Any], limit: int) -> bytes:
    """The request body, read from the WSGI input: Content-Length bytes, or (a chunked body,
    the server marking its input terminated) up to its end. 413 tooMany past `limit`, 400
    when the body ends before its Content-Length or the length is no number: a request cut
    short is never applied, and a chunked one is never cut to the limit and applied."""
    declared = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if declared:
        try:
            length = int(declared)
            if length < 0:
                raise ValueError(declared)
        except ValueError:
            raise ScimError(400, f"Content-Length is not a number: {declared!r}") from None
        if length > limit:
            raise ScimError(413, "request body too large", "tooMany")
        data = stream.read(length) if length else b""
        if len(data) < length:
            raise ScimError(
                400,
                f"the body ended after {len(data)} of the {length} bytes its Content-Length gives",
            )
        return data
    if not environ.get("wsgi.input_terminated"):
        return b""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise ScimError(413, "request body too large", "tooMany")
    return b"".join(chunks)


def json_reply(body: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Reply:
    """A JSON body served as application/scim+json (RFC 7644 §3.1)."""
    return Reply(
        status, [("Content-Type", SCIM_JSON), *(headers or ())], jsontext.dumps_bytes(body)
    )


def empty_reply(status: int, headers: list[tuple[str, str]] | None = None) -> Reply:
    """A reply without a body (204, 304), so without Content-Type."""
    return Reply(status, list(headers or ()))


NO_ENDPOINT = "no such resource or endpoint"
"""The detail of a 404 for a path that names no endpoint (the front's and Flask's)."""


def error_reply(
    status: int,
    detail: str,
    scim_type: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An RFC 7644 §3.12 error body (status is a string in the body, as the RFC shows)."""
    body: dict[str, object] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return Reply(
        status,
        [("Content-Type", SCIM_JSON), *(headers or {}).items()],
        json.dumps(body).encode("utf-8"),
    )


def reply_for(exc: Exception) -> Reply:
    """The reply to a failure of a handler: a ScimError as itself, a SandboxError as 400
    invalidValue, anything else (a bug, not a user's mistake) as a plain 500, logged with
    its traceback."""
    if isinstance(exc, ScimError):
        return error_reply(exc.status, exc.detail, exc.scim_type, exc.headers)
    if isinstance(exc, SandboxError):
        return error_reply(400, exc.message, "invalidValue")
    log.error("unhandled error in the SCIM provider", exc_info=exc)
    return error_reply(500, f"internal error: {type(exc).__name__}")
