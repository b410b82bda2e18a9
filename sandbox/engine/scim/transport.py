"""Provides KeepAliveTransport: the engine's HTTP/1.1 transport for httpx, one keep-alive
connection per thread and origin, requests written as bytes and responses parsed by httptools.

httpx stays the engine's client (requests, responses, timeouts, errors, and the WSGI
transport of the in-process world); only the wire layer changes. httpx's default transport
(httpcore with the pure-Python h11 parser and a pool shared under one lock) cost about half
of the engine's CPU time in an initial cycle, and the standard library's http.client (which
parses every response's headers with the email package) still about a fifth: the engine, one
process whose threads share the interpreter lock, is the limit of a cycle on a small machine.
httptools (llhttp, the parser Node.js uses, behind uvicorn) parses a response for a few
microseconds. Each engine thread sends one request at a time, so a connection per thread is
the whole pool: no lock, no queue.

What it does not do: proxies (with a proxy variable in the environment the engine uses httpx's
own transport through it), HTTP/2 (Entra speaks HTTP/1.1) and HEAD (Entra sends none).
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import threading
import urllib.request
import weakref
from collections.abc import Mapping

import httptools
import httpx

from sandbox import jsontext

DEFAULT_TIMEOUT_S = 30.0

Timeouts = Mapping[str, float | None]
"""httpx's timeout extension: connect, read, write and pool, in seconds."""

RETRIED_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
"""Idempotent methods (RFC 9110 §9.2.2): sent again on a new connection when a kept-alive one
turns out to be closed and gives no byte of an answer. Any method is sent again when the
closed connection refused the request itself (nothing of it can have been read)."""


def proxy_for(url: str) -> str | None:
    """The proxy the environment sets for `url` (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, less
    NO_PROXY), or None; with one, httpx's own transport goes through it."""
    proxies = urllib.request.getproxies()
    if not proxies:
        return None
    parsed = httpx.URL(url)
    if urllib.request.proxy_bypass(parsed.host):
        return None
    return proxies.get(parsed.scheme) or proxies.get("all") or None


def default_ssl_context() -> ssl.SSLContext:
    """Certificates verified as httpx verifies them: against SSL_CERT_FILE / SSL_CERT_DIR when
    the environment sets them (a private CA in front of a test endpoint), else certifi's
    bundle. Entra itself only trusts public CAs."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    import certifi  # httpx's own dependency: the bundle it verifies with

    return ssl.create_default_context(cafile=certifi.where())


RECEIVE_BYTES = 65536
"""Read size of one recv: an engine response (a user, a page of 100) usually fits in one."""


class _Response:
    """httptools' callbacks for one response: status, headers, body; 1xx answers skipped."""

    __slots__ = (
        "parser",
        "status",
        "reason",
        "headers",
        "body",
        "headers_done",
        "complete",
        "keep_alive",
    )

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.headers_done = False
        self.complete = False
        self.keep_alive = False

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # 100 Continue and such: the real one follows
            self.reason, self.headers, self.body, self.headers_done = b"", [], [], False
            return
        self.keep_alive = self.parser.should_keep_alive()  # read now: the parser then resets
        self.complete = True

    def framed(self) -> bool:
        """Whether the body's end is marked (a length, chunks, or none by status); if not, the
        body runs until the server closes the connection."""
        if self.status in (204, 304):
            return True
        return any(n.lower() in (b"content-length", b"transfer-encoding") for n, _ in self.headers)


class _NoAnswer(Exception):
    """The connection failed before any byte of a response came back; `unsent` when sending
    the request failed already (the server closed the connection before reading it)."""

    def __init__(self, cause: BaseException, unsent: bool) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.unsent = unsent


class WireHeaders:
    """A response's headers as httpx.Headers reads them (names case-insensitive, `items()` with
    lower-case names and a repeated header's values joined by ", ", decoded as ASCII, else
    UTF-8, else Latin-1), without building httpx's model."""

    __slots__ = ("raw", "_merged")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw
        self._merged: dict[str, str] | None = None

    def _items(self) -> dict[str, str]:
        if self._merged is None:
            encoding = _header_encoding(self.raw)
            merged: dict[str, str] = {}
            for name, value in self.raw:
                key, text = name.decode(encoding).lower(), value.decode(encoding)
                merged[key] = f"{merged[key]}, {text}" if key in merged else text
            self._merged = merged
        return self._merged

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._items().get(name.lower(), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self._items().items())


def _header_encoding(raw: list[tuple[bytes, bytes]]) -> str:
    for encoding in ("ascii", "utf-8"):
        try:
            for name, value in raw:
                name.decode(encoding)
                value.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "iso-8859-1"


class WireResponse:
    """A response as the engine reads it off its own transport: what the engine uses of
    httpx.Response (status_code, headers, content, text, json, is_success), built for a few
    microseconds where httpx's models cost tens per exchange (`KeepAliveTransport.send`)."""

    __slots__ = ("status_code", "reason_phrase", "headers", "content")

    def __init__(
        self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]], content: bytes
    ) -> None:
        self.status_code = status
        self.reason_phrase = reason
        self.headers = WireHeaders(headers)
        self.content = content

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        """The body as text, decoded as httpx decodes it (the Content-Type's charset, else
        UTF-8 with replacement)."""
        content_type = (self.headers.get("content-type") or "").lower()
        if "charset" in content_type and "utf-8" not in content_type:
            return httpx.Response(self.status_code, headers=self.headers.raw,
                                  content=self.content).text  # fmt: skip
        return self.content.decode("utf-8", "replace")

    def json(self) -> object:
        return jsontext.loads(self.content)

    def read(self) -> bytes:
        return self.content


class _Connection:
    """One HTTP/1.1 connection: a request out as bytes, the response back through httptools."""

    __slots__ = ("sock", "_buffer", "used", "__weakref__")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray(RECEIVE_BYTES)
        self.used = False
        """Whether an exchange completed on it before (a kept-alive connection)."""

    def exchange(self, head: bytes, body: bytes) -> tuple[_Response, bool]:
        """Send one request; return its response and whether the connection stays open.

        Raises _NoAnswer when the connection broke before any byte of a response arrived."""
        sock = self.sock
        try:
            sock.sendall(head + body if len(body) < RECEIVE_BYTES else head)
            if len(body) >= RECEIVE_BYTES:
                sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _NoAnswer(exc, unsent=True) from exc
        response = _Response()
        parser = response.parser
        view = memoryview(self._buffer)
        started = False
        try:
            while not response.complete:
                try:
                    received = sock.recv_into(self._buffer)
                except ConnectionResetError as exc:
                    if started:
                        raise
                    raise _NoAnswer(exc, unsent=False) from exc
                if not received:
                    if response.headers_done and not response.framed():
                        return response, False  # the body ran until the server closed
                    if not started:
                        raise _NoAnswer(
                            httptools.HttpParserError(
                                "the server closed the connection without a response"
                            ),
                            unsent=False,
                        )
                    raise httptools.HttpParserError(
                        "the server closed the connection before the response was complete"
                    )
                started = True
                parser.feed_data(view[:received])
        except httptools.HttpParserError:
            if not response.complete:
                raise
            return response, False  # bytes after the response: do not reuse the connection
        finally:
            response.parser = None  # type: ignore[assignment]  # no cycle left behind
        self.used = True
        return response, response.keep_alive

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:  # already gone
            pass


class _Connections(dict):  # type: ignore[type-arg]
    """One thread's connections by origin; they close when the thread ends (its thread-local
    data is released) instead of lingering until the garbage collector finds them."""

    def __del__(self) -> None:
        for conn in self.values():
            conn.close()


class KeepAliveTransport(httpx.BaseTransport):
    """HTTP/1.1 with keep-alive: a connection per (thread, origin), responses parsed by httptools."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._local = threading.local()
        self._lock = threading.Lock()
        # Weak: a finished thread's connection closes with it (its thread-local dict goes).
        self._open: weakref.WeakSet[_Connection] = weakref.WeakSet()

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = default_ssl_context()
        return self._ssl_context

    # -- connections -----------------------------------------------------------------------

    def _connection(self, url: httpx.URL, timeouts: Timeouts) -> _Connection:
        """This thread's open connection to the URL's origin, or a new one."""
        origin = (url.scheme, url.host, url.port)
        connections: dict[tuple[str, str, int | None], _Connection] = (
            self._local.__dict__.setdefault("connections", _Connections())
        )
        conn = connections.get(origin)
        if conn is not None and _readable(conn.sock):
            # Readable while idle: the server closed it (or sent what nobody asked for).
            self._close(connections.pop(origin))
            conn = None
        if conn is None:
            conn = self._connect(url, timeouts)
            connections[origin] = conn
            with self._lock:
                self._open.add(conn)
        return conn

    def _connect(self, url: httpx.URL, timeouts: Timeouts) -> _Connection:
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        port = url.port or (443 if url.scheme == "https" else 80)
        sock: socket.socket | None = None
        try:
            sock = socket.create_connection(
                (url.host, port), timeout=timeouts.get("connect", DEFAULT_TIMEOUT_S)
            )
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if url.scheme == "https":
                sock = self._context().wrap_socket(sock, server_hostname=url.host)
        except TimeoutError as exc:
            if sock is not None:
                sock.close()
            raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            if sock is not None:
                sock.close()
            raise httpx.ConnectError(str(exc)) from exc
        sock.settimeout(timeouts.get("read", DEFAULT_TIMEOUT_S))
        return _Connection(sock)

    def _close(self, conn: _Connection) -> None:
        conn.close()
        with self._lock:
            self._open.discard(conn)

    def _drop(self, url: httpx.URL) -> None:
        connections = self._local.__dict__.get("connections", {})
        conn = connections.pop((url.scheme, url.host, url.port), None)
        if conn is not None:
            self._close(conn)

    # -- the transport -----------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        head = _request_head(request, body)
        timeouts: Timeouts = request.extensions.get("timeout", {})
        try:
            response = self.send(request.url, request.method, head, body, timeouts)
        except httpx.TransportError as exc:
            exc.request = request
            raise
        return httpx.Response(
            response.status_code,
            headers=response.headers.raw,
            content=response.content,
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason_phrase},
        )

    def send(
        self, url: httpx.URL, method: str, head: bytes, body: bytes, timeouts: Timeouts
    ) -> WireResponse:
        """One exchange with `url`'s origin: the request's head (request line and headers, as
        `request_head` writes them) and body as bytes; the engine's own path, with no httpx
        model in between (ScimTarget). Failures are httpx's transport errors."""
        conn = self._connection(url, timeouts)
        try:
            try:
                response, keep_alive = conn.exchange(head, body)
            except _NoAnswer as failure:
                # A kept-alive connection the server closed after our idle check: send again
                # on a new one when that cannot repeat what the server did (as HTTP clients
                # do); otherwise, and on a new connection, the failure is the answer.
                self._drop(url)
                if not conn.used or not (failure.unsent or method in RETRIED_METHODS):
                    raise failure.cause from None
                conn = self._connection(url, timeouts)
                try:
                    response, keep_alive = conn.exchange(head, body)
                except _NoAnswer as again:
                    raise again.cause from None
        except TimeoutError as exc:
            self._drop(url)
            raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
        except httptools.HttpParserError as exc:  # no status line, a cut body, bad framing
            self._drop(url)
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
        except OSError as exc:  # reset, refused, broken pipe
            self._drop(url)
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        if not keep_alive:
            self._drop(url)
        return WireResponse(
            response.status, response.reason, response.headers, b"".join(response.body)
        )

    def open_connections(self) -> int:
        """How many connections are open (every thread's)."""
        with self._lock:
            return len(self._open)

    def close(self) -> None:
        """Close every connection any thread opened."""
        with self._lock:
            connections, self._open = list(self._open), weakref.WeakSet()
        for conn in connections:
            conn.close()


def request_head(method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The request line and headers as sent, from headers already checked (`header_ok`)."""
    lines = [b"%s %s HTTP/1.1" % (method.encode("ascii"), target)]
    lines.extend(name + b": " + value for name, value in headers)
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


def header_ok(name: bytes, value: bytes) -> bool:
    """Whether a header can be sent as it is: a line break would end it early and smuggle in
    another (refused, as http.client refuses it)."""
    return not (b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name or b":" in name)


def _request_head(request: httpx.Request, body: bytes) -> bytes:
    """The request line and headers as sent (httpx's own headers: Host, Content-Length...).

    A header value with a line break would end the header early and smuggle in another: refused,
    as http.client refuses it."""
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    length_sent = False
    for name, value in request.headers.raw:
        if not header_ok(name, value):
            raise httpx.LocalProtocolError(f"invalid header {name!r}", request=request)
        if name.lower() == b"content-length":
            length_sent = True
        lines.append(name + b": " + value)
    if body and not length_sent:
        lines.append(b"Content-Length: %d" % len(body))
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


def _readable(sock: socket.socket | None) -> bool:
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True
