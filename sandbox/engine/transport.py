"""Provides KeepAliveTransport: the engine's HTTP/1.1 transport for httpx, over the standard
library's http.client, with one keep-alive connection per thread and origin.

httpx stays the engine's client (requests, responses, timeouts, errors, and the WSGI
transport of the in-process world); only the wire layer changes. httpx's default transport
(httpcore with the pure-Python h11 parser and a pool shared under one lock) cost about half
of the engine's CPU time in an initial cycle, enough to make the engine, not the provider,
the limit of a cycle on a small machine. Each engine thread sends one request at a time, so
a connection per thread is the whole pool: no lock, no queue.

What it does not do: proxies (with a proxy variable in the environment the engine uses httpx's
own transport through it) and HTTP/2 (Entra speaks HTTP/1.1).
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import threading
import urllib.request
import weakref
from typing import Any

import httpx

DEFAULT_TIMEOUT_S = 30.0


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


class _Connections(dict):  # type: ignore[type-arg]
    """One thread's connections by origin; they close when the thread ends (its thread-local
    data is released) instead of lingering until the garbage collector finds them."""

    def __del__(self) -> None:
        for conn in self.values():
            conn.close()


class KeepAliveTransport(httpx.BaseTransport):
    """HTTP/1.1 with keep-alive over http.client: a connection per (thread, origin)."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._local = threading.local()
        self._lock = threading.Lock()
        # Weak: a finished thread's connection closes with it (its thread-local dict goes).
        self._open: weakref.WeakSet[http.client.HTTPConnection] = weakref.WeakSet()

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = default_ssl_context()
        return self._ssl_context

    # -- connections -----------------------------------------------------------------------

    def _connection(self, url: httpx.URL, timeouts: dict[str, Any]) -> http.client.HTTPConnection:
        """This thread's open connection to the URL's origin, or a new one."""
        origin = (url.scheme, url.host, url.port)
        connections: dict[tuple[Any, ...], http.client.HTTPConnection] = (
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

    def _connect(self, url: httpx.URL, timeouts: dict[str, Any]) -> http.client.HTTPConnection:
        connect_timeout = timeouts.get("connect", DEFAULT_TIMEOUT_S)
        conn: http.client.HTTPConnection
        if url.scheme == "https":
            conn = http.client.HTTPSConnection(
                url.host, url.port, timeout=connect_timeout, context=self._context()
            )
        elif url.scheme == "http":
            conn = http.client.HTTPConnection(url.host, url.port, timeout=connect_timeout)
        else:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            conn.close()
            raise httpx.ConnectError(str(exc)) from exc
        conn.sock.settimeout(timeouts.get("read", DEFAULT_TIMEOUT_S))
        return conn

    def _close(self, conn: http.client.HTTPConnection) -> None:
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
        url = request.url
        timeouts = request.extensions.get("timeout", {})
        body = request.read()
        conn = self._connection(url, timeouts)
        try:
            conn.putrequest(
                request.method,
                url.raw_path.decode("ascii"),
                skip_host=True,  # httpx's Host header is in the request's headers
                skip_accept_encoding=True,
            )
            for name, value in request.headers.raw:
                conn.putheader(name, value)
            conn.endheaders(body or None)
            response = conn.getresponse()
            content = response.read()
        except TimeoutError as exc:
            self._drop(url)
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except http.client.HTTPException as exc:  # no status line, a cut body, bad headers
            self._drop(url)
            raise httpx.RemoteProtocolError(
                str(exc) or type(exc).__name__, request=request
            ) from exc
        except OSError as exc:  # reset, refused, broken pipe
            self._drop(url)
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        if response.will_close:
            self._drop(url)
        return httpx.Response(
            response.status,
            headers=response.getheaders(),
            content=content,
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode()},
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


def _readable(sock: socket.socket | None) -> bool:
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True
