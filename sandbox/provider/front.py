"""Provides ScimFront: the provider's WSGI entry, answering the /Users endpoints itself.

The /Users endpoints carry nearly all of a provisioning cycle's traffic (Entra's filter GET,
POST, GET and PATCH by id). Flask's request machinery (contexts, proxies, URL matching,
hooks, Werkzeug's request and response objects) cost a POST as much CPU as the provider's
own work, so the front routes these requests to the handlers straight from the WSGI environ
and sends their Reply as it is. It passes a request on to Flask, untouched, whenever its
answer could differ from Flask's: a fault rule in force (faults apply before anything else),
another path or method (HEAD, OPTIONS, 405s), a GET or DELETE with a body, a path or query
string that is not ASCII, a script root. Whatever the endpoint, a Host header that is no
host[:port], or none in an HTTP/1.1 request, is answered 400 here, and a path with an empty
segment ("//") 404. Bodies are read as calls.read_body reads them, here and in Flask's
routes alike.
Either way the exchange is logged once, the same way (ProviderContext.log_exchange).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.http import HTTP_STATUS_CODES

from sandbox.errors import ScimError
from sandbox.provider import handlers
from sandbox.provider.calls import NO_ENDPOINT, Call, Reply, error_reply, read_body, reply_for
from sandbox.provider.context import NOTES_HEADER, ProviderContext, notes_header

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

COLLECTION: dict[str, Callable[[Call], Reply]] = {
    "GET": handlers.list_users,
    "POST": handlers.create_user,
}
"""The front's handlers of /Users, by method."""
RESOURCE: dict[str, Callable[[Call, str], Reply]] = {
    "GET": handlers.get_user,
    "PUT": handlers.replace_user,
    "PATCH": handlers.patch_user,
    "DELETE": handlers.delete_user,
}
"""The front's handlers of /Users/{id}, by method."""
WITH_BODY = ("POST", "PUT", "PATCH")

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
VALID_HOST = re.compile(rf"(?:\[[0-9A-Fa-f:.]+\]|{_LABEL}(?:\.{_LABEL})*\.?)(?::[0-9]{{0,5}})?")
"""A Host header's value (RFC 9112 §3.2, RFC 3986 §3.2.2): a name of labels (as IDNA takes
them: 1 to 63 characters, no empty one), an IPv4 address or an IP literal, and a port of
digits. Any other is answered 400 here, for every endpoint: Flask refused some (empty labels)
and failed on others with a 500 (a port not of digits, in the Location of a 201)."""

STATUS_LINES = {code: f"{code} {phrase.upper()}" for code, phrase in HTTP_STATUS_CODES.items()}
"""Status lines as Werkzeug writes them ("201 CREATED"), so both entries send the same."""


def _args(query: str) -> dict[str, str]:
    """Query parameters as Werkzeug parses them (invalid UTF-8 stays percent-encoded), the
    first value of each name."""
    args: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote"):
        args.setdefault(name, value)
    return args


class ScimFront:
    """The provider's WSGI app: /Users requests answered here, every other one by `flask`
    (the Flask app's own wsgi_app)."""

    def __init__(self, flask: WsgiApp, ctx: ProviderContext) -> None:
        self.flask = flask
        self.ctx = ctx
        self.collection = ctx.settings.base_path + "/Users"
        self.resource_prefix = self.collection + "/"
        self.max_body = ctx.settings.max_payload_bytes

    def _handler(self, method: str, path: str) -> Callable[[Call], Reply] | None:
        """The handler the request goes to here, or None for Flask."""
        if path == self.collection:
            return COLLECTION.get(method)
        if not path.startswith(self.resource_prefix):
            return None
        user_id = path[len(self.resource_prefix) :]
        # "/Users/.search" is a search (POST) or a 405 (others): Flask's routing tells them
        if not user_id or "/" in user_id or user_id.startswith("."):
            return None
        by_id = RESOURCE.get(method)
        if by_id is None:
            return None
        return lambda call: by_id(call, user_id)

    @staticmethod
    def _refused(environ: dict[str, Any], path: str) -> Reply | None:
        """The answer to a request no endpoint takes, whatever its path names, or None.

        The Host header: HTTP/1.1 requires one (RFC 9112 §3.2: "A server MUST respond with a
        400 ... to any HTTP/1.1 request message that lacks a Host header field"), and an http
        URI has no empty host (RFC 9110 §4.2.1); granian hands a missing header in as an
        empty one, so both are refused. An HTTP/1.0 request without one is served (the
        server's own name stands in, as it does in the resources' locations).
        A "//" in a path: Werkzeug's router merges a leading "//" into "/" (an inner one is
        no route of the app), so "//scim/v2/Users" would be served as "/scim/v2/Users"
        where "/scim//v2/Users" is a 404; both are 404s here, as for any other unknown path.
        """
        host = environ.get("HTTP_HOST")
        if host:
            if not VALID_HOST.fullmatch(host):
                detail = f"the Host header is not a host[:port]: {host!r} (RFC 9112 §3.2)"
                return error_reply(400, detail)
        elif environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
            detail = (
                "an HTTP/1.1 request must carry a Host header naming the server (RFC 9112 §3.2)"
            )
            return error_reply(400, detail)
        if "//" in path:
            return error_reply(404, NO_ENDPOINT)
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        received_ns = time.time_ns()
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        refused = self._refused(environ, path)
        if refused is not None:
            return self._send(environ, start_response, refused, path, started, received_ns)
        handler = self._handler(method, path)
        if (
            handler is None
            or environ.get("SCRIPT_NAME")
            or not path.isascii()
            or not query.isascii()
            or self.ctx.faults.in_force()
        ):
            return self.flask(environ, start_response)
        if method not in WITH_BODY and (environ.get("CONTENT_LENGTH") or "0") != "0":
            return self.flask(environ, start_response)  # a GET or DELETE with a body
        body = b""
        call = Call(self.ctx, environ, _args(query) if query else {}, lambda: body)
        try:
            handlers.authenticate(call)
            if method in WITH_BODY:
                body = read_body(environ, self.max_body)
            reply = handler(call)
        except Exception as exc:  # noqa: BLE001  (every failure is answered, as Flask's)
            reply = reply_for(exc)
            if not body and method in WITH_BODY:  # refused before its body was read: log it
                try:
                    body = read_body(environ, self.max_body)
                except ScimError:
                    pass  # too large or cut short: logged without it
        return self._send(
            environ, start_response, reply, path, started, received_ns, body, call.notes
        )

    def _send(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        reply: Reply,
        path: str,
        started: float,
        received_ns: int,
        body: bytes | None = None,
        notes: list[str] | None = None,
    ) -> list[bytes]:
        """Log the exchange, then send the reply (the rules' notes in X-Sandbox-Notes)."""
        headers = reply.wire_headers()
        notes = notes or []
        self.ctx.log_exchange(
            environ,
            path=path,
            status=reply.status,
            started=started,
            received_ns=received_ns,
            request_body=body or None,
            response_headers=headers,
            response_body=reply.body,
            notes=notes,
        )
        if notes:  # what the organization's rules did, for the client to see too
            headers.append((NOTES_HEADER, notes_header(notes)))
        start_response(STATUS_LINES.get(reply.status) or str(reply.status), headers)
        return [reply.body] if reply.body else []
