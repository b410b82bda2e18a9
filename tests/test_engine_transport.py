"""The engine's keep-alive transport against a real loopback HTTP/1.1 server: connections
reused per thread, closed ones replaced, timeouts and cut connections as httpx errors."""

from __future__ import annotations

import json
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import httpx
import pytest
import trustme

from sandbox.engine.scim.target import ScimTarget
from sandbox.engine.scim.target_errors import ErrorCode
from sandbox.engine.scim.transport import KeepAliveTransport, proxy_for
from sandbox.engine.scim.wire import encode_query, filter_params


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with what it saw; a few paths misbehave on purpose."""

    protocol_version = "HTTP/1.1"
    connections = 0
    seen: list[dict] = []
    lock = threading.Lock()
    in_flight = 0
    most_in_flight = 0
    reset_done = threading.Event()
    may_reset = threading.Event()

    def setup(self) -> None:
        super().setup()
        with Recorder.lock:
            Recorder.connections += 1

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _answer(self) -> None:
        with Recorder.lock:
            Recorder.in_flight += 1
            Recorder.most_in_flight = max(Recorder.most_in_flight, Recorder.in_flight)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with Recorder.lock:
            Recorder.seen.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers),
                 "body": body.decode()}
            )  # fmt: skip
        if self.path.startswith("/slow"):
            time.sleep(1.0)
        if self.path.startswith("/hold"):  # keeps requests in flight together
            time.sleep(0.05)
        with Recorder.lock:  # done before a byte goes back: the client cannot be faster
            Recorder.in_flight -= 1
        if self.path.startswith("/drop"):  # close without a response
            self.close_connection = True
            return
        payload = json.dumps({"id": "1", "path": self.path, "body": body.decode()}).encode()
        if self._framed_otherwise(payload):
            return
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/scim+json")
        self.send_header("Content-Length", str(len(payload)))
        if self.path.startswith("/close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        if self.path.startswith("/then-close"):  # kept alive as far as the client knows
            self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(payload)
        except BrokenPipeError:  # the client gave up waiting (the timeout test)
            self.close_connection = True
        if self.path.startswith("/then-reset"):  # answered, then reset: the next send fails
            self.wfile.flush()
            Recorder.may_reset.wait(5)  # once the client has read the answer (a reset drops
            # what the client has not read yet)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()  # the socket's file objects hold it open: close them first
            self.wfile.close()
            self.connection.close()  # a reset, no FIN before it
            self.close_connection = True
            Recorder.reset_done.set()

    def _framed_otherwise(self, payload: bytes) -> bool:
        """The response framings other than Content-Length, written by hand."""
        out = self.wfile
        if self.path.startswith("/chunked"):
            out.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
            for piece in (payload[:5], payload[5:]):
                out.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            out.write(b"0\r\n\r\n")
        elif self.path.startswith("/until-close"):  # no length: the body ends with the connection
            out.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\n\r\n" + payload)
            self.close_connection = True
        elif self.path.startswith("/continue"):  # an interim answer before the real one
            out.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            out.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload))
        elif self.path.startswith("/no-content"):
            out.write(b"HTTP/1.1 204 No Content\r\nX-Note: one\r\nX-Note: two\r\n\r\n")
        else:
            return False
        out.flush()
        return True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.connections, Recorder.seen = 0, []
    Recorder.in_flight = Recorder.most_in_flight = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(transport=KeepAliveTransport(), timeout=5) as client:
        yield client


def test_one_thread_reuses_one_connection_and_bodies_and_headers_arrive(server, client):
    for n in range(20):
        response = client.post(f"{server}/Users?n={n}", content=b'{"a":1}',
                               headers={"Authorization": "Bearer t"})  # fmt: skip
        assert response.status_code == 201
        assert response.json() == {"id": "1", "path": f"/Users?n={n}", "body": '{"a":1}'}
        assert response.headers["content-type"] == "application/scim+json"
    assert Recorder.connections == 1
    first = Recorder.seen[0]["headers"]
    assert first["Authorization"] == "Bearer t" and first["Host"] == server.split("//")[1]
    assert first["Content-Length"] == "7"


def test_a_connection_the_server_closes_is_replaced(server, client):
    assert client.get(f"{server}/close").status_code == 200
    assert client.get(f"{server}/after").json()["path"] == "/after"
    assert Recorder.connections == 2


def paths_seen(prefix: str) -> list[str]:
    return [r["method"] for r in Recorder.seen if r["path"].startswith(prefix)]


def test_a_kept_connection_closed_after_the_idle_check_is_retried_for_idempotent_methods(
    server, client, monkeypatch
):
    import sandbox.engine.scim.transport as transport

    # The server closes after answering; the idle check does not see it (the race it has
    # with a server closing an idle connection just as the engine sends).
    monkeypatch.setattr(transport, "_readable", lambda sock: False)
    assert client.get(f"{server}/then-close/1").status_code == 200
    response = client.get(f"{server}/after-get")
    assert response.json()["path"] == "/after-get"  # sent again on a new connection
    assert paths_seen("/after-get") == ["GET"] and Recorder.connections == 2
    assert client.put(f"{server}/then-close/2", content=b"{}").status_code == 200
    assert client.delete(f"{server}/after-delete").status_code == 200
    assert paths_seen("/after-delete") == ["DELETE"]


def test_a_post_on_a_kept_connection_that_gives_no_answer_is_not_sent_twice(
    server, client, monkeypatch
):
    import sandbox.engine.scim.transport as transport

    monkeypatch.setattr(transport, "_readable", lambda sock: False)
    assert client.get(f"{server}/then-close").status_code == 200
    # the server may have read it before closing: a second POST could create a second user
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post(f"{server}/Users", content=b"{}")
    assert paths_seen("/Users") == []
    assert client.post(f"{server}/Users", content=b"{}").status_code == 201  # and it goes on


def test_a_post_the_closed_connection_refused_is_sent_on_a_new_one(server, client, monkeypatch):
    import sandbox.engine.scim.transport as transport

    monkeypatch.setattr(transport, "_readable", lambda sock: False)
    Recorder.reset_done.clear()
    Recorder.may_reset.clear()
    assert client.get(f"{server}/then-reset").status_code == 200
    Recorder.may_reset.set()
    assert Recorder.reset_done.wait(5)
    (kept,) = client._transport._local.connections.values()  # type: ignore[attr-defined]
    assert select.select([kept.sock], [], [], 5)[0]  # the reset has reached this side
    # the send itself fails: none of the POST reached the server, so it goes again
    assert client.post(f"{server}/Users", content=b"{}").status_code == 201
    assert paths_seen("/Users") == ["POST"] and Recorder.connections == 2


def test_every_response_framing_is_read_and_the_connection_kept_when_it_can_be(server, client):
    for path in ("/chunked", "/continue", "/chunked"):
        response = client.get(f"{server}{path}")
        assert response.status_code == 200 and response.json()["path"] == path
    empty = client.delete(f"{server}/no-content")
    assert empty.status_code == 204 and empty.content == b""
    assert empty.headers.get_list("X-Note") == ["one", "two"]
    assert empty.extensions["reason_phrase"] == b"No Content"
    assert Recorder.connections == 1  # all on one connection
    assert client.get(f"{server}/until-close").json()["path"] == "/until-close"
    assert client.get(f"{server}/after").status_code == 200
    assert Recorder.connections == 2  # the one the body ended with was replaced


def test_a_header_that_would_smuggle_another_is_refused_before_sending(server, client):
    with pytest.raises(httpx.LocalProtocolError):
        client.get(f"{server}/Users", headers={"Authorization": "Bearer t\r\nX-Admin: yes"})
    assert Recorder.seen == []


def test_threads_each_keep_their_own_connection(server, client):
    def work(n: int) -> int:
        return client.get(f"{server}/Users/{n}").status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(work, range(40))) == {200}
    assert 1 <= Recorder.connections <= 4


def test_the_engine_never_has_more_requests_in_flight_than_its_concurrency(server):
    with ScimTarget.over_http(f"{server}/hold", "t0ken", max_concurrency=2, timeout=7) as target:
        assert target.timeout == 7
        with ThreadPoolExecutor(max_workers=6) as pool:
            found = list(pool.map(lambda n: target.get_user(f"u{n}"), range(12)))
    assert len(found) == 12 and len(Recorder.seen) == 12
    assert 1 <= Recorder.most_in_flight <= 2
    assert isinstance(target.transport, KeepAliveTransport)
    assert target.transport.open_connections() == 0  # closed with the target


def test_a_slow_answer_is_a_read_timeout_and_a_dropped_one_a_protocol_error(server):
    with httpx.Client(transport=KeepAliveTransport(), timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"{server}/slow")
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"{server}/drop")
        assert paths_seen("/drop") == ["GET"]  # a new connection's failure is not retried
        assert client.get(f"{server}/fine").status_code == 200  # and it goes on
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"{server}/drop")  # on a kept connection, but the server read it
        assert paths_seen("/drop") == ["GET", "GET", "GET"]  # sent once more, then given up


def test_the_engine_reports_a_timeout_with_entras_code(server):
    with ScimTarget.over_http(f"{server}/slow", "t0ken", timeout=0.2) as target:
        assert isinstance(target.transport, KeepAliveTransport)
        result = target.test_connection()
    assert not result.ok
    assert result.error.error_code == ErrorCode.TIMEOUT


def test_a_proxy_in_the_environment_hands_the_wire_back_to_httpx(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert proxy_for("http://scim.example.com/scim/v2") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert proxy_for("https://scim.example.com/scim/v2") == "http://proxy.example:3128"
    assert proxy_for("http://scim.example.com/scim/v2") is None  # no HTTP_PROXY
    assert proxy_for("https://127.0.0.1:8000/scim/v2") is None  # NO_PROXY
    with ScimTarget.over_http("https://scim.example.com/scim/v2", "t0ken") as target:
        assert isinstance(target.transport, httpx.HTTPTransport)  # through the proxy


# -- HTTPS: certificates are verified (a private CA from trustme) -------------------------------


@pytest.fixture
def tls_server(tmp_path) -> Iterator[tuple[str, trustme.CA]]:
    ca = trustme.CA()
    Recorder.connections, Recorder.seen = 0, []
    Recorder.in_flight = Recorder.most_in_flight = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://localhost:{httpd.server_address[1]}", ca
    httpd.shutdown()
    httpd.server_close()


def test_https_with_a_trusted_certificate_keeps_its_connection(tls_server):
    url, ca = tls_server
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with httpx.Client(transport=KeepAliveTransport(ssl_context=context), timeout=5) as client:
        for n in range(5):
            assert client.get(f"{url}/Users/{n}").json()["path"] == f"/Users/{n}"
    assert Recorder.connections == 1


def test_https_with_an_unknown_ca_is_refused_and_the_engine_says_why(tls_server):
    url, _ca = tls_server
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        with httpx.Client(transport=KeepAliveTransport(), timeout=5) as client:
            client.get(f"{url}/Users")
    with ScimTarget.over_http(f"{url}/scim/v2", "t0ken", timeout=5) as target:
        result = target.test_connection()
    assert not result.ok and "CERTIFICATE_VERIFY_FAILED" in result.message
    assert Recorder.seen == []  # nothing was sent over the unverified connection


def test_ssl_cert_file_names_the_cas_to_trust(tls_server, tmp_path, monkeypatch):
    url, ca = tls_server
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with ScimTarget.over_http(f"{url}/scim/v2", "t0ken", timeout=5) as target:
        assert target.get_user("7")["path"] == "/scim/v2/Users/7"


class Delegating(httpx.BaseTransport):
    """The same keep-alive transport behind httpx's models: ScimTarget's httpx path."""

    def __init__(self) -> None:
        self.inner = KeepAliveTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class Rows:
    """A request log that keeps what the target appends."""

    def __init__(self) -> None:
        self.rows: list = []

    def append(self, exchange) -> None:
        self.rows.append(exchange)


def drive(target: ScimTarget) -> None:
    """Requests as the target's methods build them, and paths httpx would rewrite."""
    query = encode_query(filter_params("userName", 'ann "the" ö@example.com', resource="Users"))
    target._send("GET", "/Users", query)
    target._send("GET", "/Users/plain-id")
    target._send("GET", f"/Users/{quote('a b/é..', safe='')}")
    target._send("GET", "/Users/a b")  # httpx percent-encodes the space
    target._send("GET", "/Users/./x/../y")  # and removes the dot segments
    target._send("GET", "/Users", "attributes=id&x=a b")
    target._send("POST", "/Users", body={"userName": "é@example.com", "active": True})
    target._send("PATCH", "/Users/x.y", body={"Operations": [{"op": "remove", "path": "title"}]})
    target._send("DELETE", f"/Users/{quote('../x', safe='')}")


@pytest.mark.parametrize("base", ["/scim/v2", "", "/scim/", "/scim/v2?aadOptscim062020"])
def test_the_engines_wire_path_sends_and_records_what_httpxs_path_does(server, base):
    seen = {}
    for name, transport in (("wire", KeepAliveTransport()), ("httpx", Delegating())):
        Recorder.seen = []
        log = Rows()
        target = ScimTarget(transport, server + base, "t0ken", request_log=log,
                            owns_transport=True)  # fmt: skip
        assert (target._wire is not None) is (name == "wire")
        with target, target.recording() as exchanges:
            drive(target)
        seen[name] = (
            list(Recorder.seen),
            [(e.method, e.path, e.query, e.status, e.request_body, e.response_body)
             for e in exchanges],
            [(r.path, r.query, r.status, r.request_headers, r.request_body, r.response_headers,
              r.response_body) for r in log.rows],
        )  # fmt: skip
    wire, plain = seen["wire"], seen["httpx"]
    assert len(wire[0]) == 9
    assert wire[0] == plain[0]  # the same requests arrived: lines, headers in order, bodies
    assert wire[1] == plain[1]  # the same exchanges recorded
    assert [r[:5] + r[6:] for r in wire[2]] == [r[:5] + r[6:] for r in plain[2]]  # the log's
    # Response headers: the same names and values (Date may tick between the two runs).
    strip = [[(k, v) for k, v in r[5] if k != "date"] for r in wire[2]]
    assert strip == [[(k, v) for k, v in r[5] if k != "date"] for r in plain[2]]


def test_a_204_with_a_repeated_header_reads_as_httpx_reads_it(server):
    with ScimTarget.over_http(f"{server}/no-content", "t0ken") as target:
        response, _, failure = target._send("GET", "/Users")
    assert failure is None and response is not None
    expected = httpx.Response(204, headers=[(b"X-Note", b"one"), (b"X-Note", b"two")])
    assert response.status_code == 204 and response.content == b""
    assert response.headers.get("x-note") == expected.headers.get("x-note") == "one, two"
    assert response.headers.items() == list(expected.headers.items())
