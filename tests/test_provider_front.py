"""The provider's WSGI front answers the /Users endpoints without Flask, and answers them as
Flask does: the same requests sent through the front and straight to Flask get the same
statuses, headers, bodies and request-log rows; whatever the front cannot answer alike it
hands to Flask untouched."""

from __future__ import annotations

import io
import itertools
import json
import re
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox.config import Settings
from sandbox.provider import create_app
from sandbox.provider.front import ScimFront
from sandbox.provider.nulab import NulabRules, nulab_schema
from sandbox.provider.org import Organization
from sandbox.store import Store
from tests.conftest import CORE, assert_scim_error, patch_body
from tests.nulab_org import add_member

BASE = "/scim/v2"
NOW = datetime(2026, 2, 5, 9, 40, 8, 209000, tzinfo=UTC)
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def nulab_app(tmp_path, name: str, *, through_front: bool):
    settings = Settings(db_path=str(tmp_path / f"{name}.db"))
    store = Store(settings.db_path)
    owner = add_member(
        store, "owner@example.com", role="ADMIN", language="ja", timezone="Asia/Tokyo"
    )
    seeded = {owner: "OWNER", add_member(store, "taken@example.com"): "TAKEN"}
    counter = itertools.count(1)
    app = create_app(
        store,
        settings,
        rules=NulabRules(Organization(store)),
        schema=nulab_schema(),
        clock=lambda: NOW,
        new_id=lambda: f"00000000-0000-4000-8000-{next(counter):012d}",
    )
    if not through_front:  # Flask's own entry, the front left out
        app.wsgi_app = app.wsgi_app.flask
    ctx = app.extensions["sandbox"]
    ctx.credentials.set_enabled(True)
    token = ctx.credentials.issue("2026-01-01T00:00:00.000Z", owner)
    return app, store, token, seeded


def alike(value: Any, seeded: dict[str, str]) -> Any:
    """`value` with what differs between two databases by design (the seeded members' ids
    and the times they were stored) written as placeholders."""
    text = value.decode() if isinstance(value, bytes) else json.dumps(value)
    for user_id, name in seeded.items():
        text = text.replace(user_id, name)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "TIME", text)


def full_user(name: str, **extra: Any) -> dict:
    return {
        "schemas": [CORE, ENTERPRISE],
        "externalId": name,
        "userName": f"{name}@example.com",
        "active": True,
        "displayName": f"{name.title()} Person",
        "name": {"givenName": name.title(), "familyName": "Person"},
        "emails": [{"primary": True, "type": "work", "value": f"{name}@example.com"}],
        "preferredLanguage": "en-US",
        "roles": [{"primary": "True", "value": "USER"}],
        ENTERPRISE: {"department": "R&D"},
        **extra,
    }


ID1 = "00000000-0000-4000-8000-000000000001"
ID2 = "00000000-0000-4000-8000-000000000002"

REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/Users", {"json": full_user("ann")}),
    ("POST", "/Users", {"json": full_user("bob", timezone="Mars/Olympus")}),  # notes
    ("POST", "/Users", {"json": full_user("ann")}),  # 409
    ("POST", "/Users", {"data": b'{"userName": ', "content_type": "application/scim+json"}),
    ("POST", "/Users", {"data": b"[1, 2]", "content_type": "application/scim+json"}),
    ("POST", "/Users", {"json": {"schemas": [CORE]}}),  # no userName
    ("POST", "/Users", {"json": full_user("jos\u00e9")}),  # non-ASCII in the body
    ("GET", "/Users", {"query_string": {"filter": 'userName eq "ann@example.com"'}}),
    ("GET", "/Users", {"query_string": {"filter": 'userName eq "nobody@example.com"'}}),
    ("GET", "/Users", {"query_string": {"filter": "userName eq"}}),  # 400 invalidFilter
    ("GET", "/Users", {"query_string": "filter=userName%20eq%20%22ann%40example.com%22&filter=x"}),
    ("GET", "/Users", {"query_string": {"startIndex": "x"}}),
    (
        "GET",
        "/Users",
        {"query_string": {"count": "1", "sortBy": "userName", "attributes": "userName"}},
    ),
    ("GET", "/Users", {"query_string": "filter=userName+eq+%22%FF%22"}),  # invalid UTF-8
    ("GET", "/Users", {}),
    ("GET", f"/Users/{ID1}", {}),
    ("GET", f"/Users/{ID1}", {"query_string": {"excludedAttributes": "emails,name"}}),
    ("GET", f"/Users/{ID1}", {"headers": {"If-None-Match": 'W/"1"'}}),  # 304
    ("GET", "/Users/no-such-id", {}),
    (
        "PATCH",
        f"/Users/{ID1}",
        {"json": patch_body({"op": "replace", "path": "displayName", "value": "A"})},
    ),
    (
        "PATCH",
        f"/Users/{ID1}",
        {"json": patch_body({"op": "Replace", "value": {"active": "False"}})},
    ),
    ("PATCH", f"/Users/{ID1}", {"json": patch_body({"op": "remove", "path": "userName"})}),  # 400
    (
        "PATCH",
        f"/Users/{ID1}",
        {
            "json": patch_body({"op": "add", "path": "title", "value": "T"}),
            "headers": {"If-Match": 'W/"99"'},
        },
    ),  # 412
    ("PATCH", f"/Users/{ID1}", {"data": b"", "content_type": "application/scim+json"}),
    ("PUT", f"/Users/{ID2}", {"json": full_user("bob", displayName="Robert")}),
    ("DELETE", f"/Users/{ID2}", {}),
    ("DELETE", f"/Users/{ID2}", {}),  # 404
    ("GET", "/Users", {"headers": {"Authorization": "Bearer wrong"}}),  # 401
    ("POST", "/Users", {"json": full_user("cy"), "headers": {"Authorization": "Basic abc"}}),
    ("GET", "/Users/.search", {}),  # Flask's: a 405 or 404
    ("POST", "/Users/.search", {"json": {"filter": 'userName eq "ann@example.com"'}}),
    ("HEAD", "/Users", {}),
    ("POST", f"/Users/{ID1}", {"json": {}}),  # 405 with Allow
    ("GET", "/Users/", {}),
    ("GET", "//Users", {}),
    ("GET", "/ServiceProviderConfig", {}),
    ("POST", "/Users", {"json": full_user("dee"), "headers": {"Host": "SCIM.Example:"}}),
    ("POST", "/Users", {"json": full_user("eve"), "headers": {"Host": "[::1]:8000"}}),
    ("POST", "/Users", {"data": b"x" * 2_000_000, "content_type": "application/scim+json"}),
]


def exchange(client, token: str, method: str, path: str, options: dict[str, Any]):
    headers = {"Authorization": f"Bearer {token}", **options.pop("headers", {})}
    return client.open(f"{BASE}{path}" if path.startswith("/") and path[:2] != "//" else BASE + path,
                       method=method, headers=headers, **options)  # fmt: skip


def logged(store: Store) -> list[dict[str, Any]]:
    rows = store.query("SELECT * FROM request_log ORDER BY seq")
    keep = ("method", "path", "query", "status", "request_headers", "request_body",
            "response_headers", "response_body", "notes")  # fmt: skip
    return [{k: row[k] for k in keep} for row in rows]


def test_the_front_and_flask_answer_every_request_alike(tmp_path):
    answered = {}
    for through_front in (True, False):
        app, store, token, seeded = nulab_app(
            tmp_path, str(through_front), through_front=through_front
        )
        client = app.test_client()
        replies = []
        for method, path, options in REQUESTS:
            response = exchange(client, token, method, path, dict(options))
            replies.append((method, path, response.status_code, list(response.headers),
                            alike(response.get_data(), seeded)))  # fmt: skip
        app.extensions["sandbox"].request_log.flush()
        answered[through_front] = (replies, alike(logged(store), seeded))
        app.extensions["sandbox"].request_log.close()
        store.close()
    (front, front_log), (flask, flask_log) = answered[True], answered[False]
    for ours, theirs in zip(front, flask, strict=True):
        assert ours == theirs
    assert front_log == flask_log
    statuses = [status for _, _, status, _, _ in front]
    assert statuses == [  # each request did what it is there for
        201, 201, 409, 400, 400, 400, 201,
        200, 200, 400, 200, 400, 200, 200, 200,
        200, 200, 304, 404,
        200, 200, 400, 412, 400,
        200, 204, 404,
        401, 401,
        404, 200, 200, 405, 404, 404, 200, 201, 201, 413,
    ]  # fmt: skip


class Recorder:
    """Flask's entry, recording what reaches it."""

    def __init__(self, flask):
        self.flask = flask
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        self.paths.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return self.flask(environ, start_response)


@pytest.fixture
def recorded(app, client):
    front = app.wsgi_app
    assert isinstance(front, ScimFront)
    front.flask = Recorder(front.flask)
    return front.flask


def test_the_users_endpoints_are_answered_without_flask(client, recorded):
    created = client.post(f"{BASE}/Users", json={"schemas": [CORE], "userName": "a@example.com"})
    assert created.status_code == 201
    user = f"{BASE}/Users/{created.get_json()['id']}"
    assert (
        client.get(
            f"{BASE}/Users", query_string={"filter": 'userName eq "a@example.com"'}
        ).status_code
        == 200
    )
    assert client.get(user).status_code == 200
    op = {"op": "replace", "path": "displayName", "value": "A"}
    assert client.patch(user, json=patch_body(op)).status_code == 200
    assert (
        client.put(user, json={"schemas": [CORE], "userName": "a@example.com"}).status_code == 200
    )
    assert client.delete(user).status_code == 204
    assert_scim_error(client.get(user), 404)
    assert recorded.paths == []


def test_what_the_front_cannot_answer_alike_goes_to_flask(client, recorded, app):
    client.get(f"{BASE}/ServiceProviderConfig")
    client.head(f"{BASE}/Users")
    client.post(f"{BASE}/Users/.search", json={})
    client.get(f"{BASE}/Users", data=b"{}")  # a GET with a body
    client.get(f"{BASE}/Users/jos\u00e9")  # not ASCII
    app.extensions["sandbox"].faults.add(path="/Groups*", status=503)
    client.get(f"{BASE}/Users")  # a fault rule in force, whatever its path
    assert recorded.paths == [
        f"GET {BASE}/ServiceProviderConfig",
        f"HEAD {BASE}/Users",
        f"POST {BASE}/Users/.search",
        f"GET {BASE}/Users",
        f"GET {BASE}/Users/jos\u00c3\u00a9",  # the WSGI environ's Latin-1 form
        f"GET {BASE}/Users",
    ]


def test_a_fault_rule_still_comes_first(client):
    client.application.extensions["sandbox"].faults.add(path="/Users", status=503, retry_after=7)
    response = client.post(f"{BASE}/Users", json={"schemas": [CORE], "userName": "a@example.com"})
    assert_scim_error(response, 503)
    assert response.headers["Retry-After"] == "7"
    assert json.loads(response.headers["X-Sandbox-Notes"])[0].startswith("injected fault #1")


def wsgi(app, method: str, path: str, body: bytes, length: str | None, token: str, **over: Any):
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": True,
        "wsgi.multiprocess": False, "wsgi.run_once": False,
        "HTTP_AUTHORIZATION": f"Bearer {token}", "CONTENT_TYPE": "application/scim+json",
        "wsgi.input_terminated": True,  # as granian marks every request's input
    }  # fmt: skip
    if length is not None:  # None: a chunked body, read to its end
        environ["CONTENT_LENGTH"] = length
    environ.update(over)
    environ = {k: v for k, v in environ.items() if v is not None}  # None: left out
    answer: dict[str, Any] = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=headers)

    answer["body"] = b"".join(app(environ, start_response))
    return answer


USER = json.dumps({"schemas": [CORE], "userName": "body@example.com"}).encode()


@pytest.fixture(params=[True, False], ids=["front", "flask"])
def entry(request, app):
    """The app answered by the front, or (a fault rule in force elsewhere) by Flask."""
    if not request.param:
        app.extensions["sandbox"].faults.add(path="/Nothing*", latency_ms=1)
    return app


@pytest.mark.parametrize(
    "sent, length",
    [(USER, str(len(USER) + 50)), (USER[:20], "100"), (USER, "abc"), (USER, "-1")],
    ids=["complete-json-short-of-its-length", "cut-short", "length-no-number", "negative"],
)
def test_a_body_short_of_its_length_or_a_bad_length_is_a_400_and_nothing_is_stored(
    entry, token, sent, length
):
    answer = wsgi(entry, "POST", f"{BASE}/Users", sent, length, token)
    assert answer["status"].startswith("400"), answer
    assert json.loads(answer["body"])["status"] == "400"
    assert entry.extensions["sandbox"].store.scalar("SELECT count(*) FROM users") == 0


def test_a_chunked_body_is_read_to_its_end_and_logged(entry, token):
    answer = wsgi(entry, "POST", f"{BASE}/Users", USER, None, token)
    assert answer["status"].startswith("201"), answer
    logged = entry.extensions["sandbox"].request_log.entries()
    assert logged[-1]["request_body"] == USER.decode()


def test_a_chunked_body_over_the_limit_is_a_413_not_cut_and_applied(entry, token):
    limit = entry.extensions["sandbox"].settings.max_payload_bytes
    over = USER + b" " * (limit - len(USER)) + b"GARBAGE"  # its first `limit` bytes: a user
    answer = wsgi(entry, "POST", f"{BASE}/Users", over, None, token)
    assert answer["status"].startswith("413"), answer
    assert json.loads(answer["body"])["scimType"] == "tooMany"
    assert entry.extensions["sandbox"].store.scalar("SELECT count(*) FROM users") == 0


def test_a_bug_in_a_handler_is_a_plain_500_logged_with_its_traceback(client, app, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    app.extensions["sandbox"].users.create = broken
    response = client.post(f"{BASE}/Users", json={"schemas": [CORE], "userName": "b@example.com"})
    error = assert_scim_error(response, 500)
    assert error["detail"] == "internal error: RuntimeError"
    assert "a bug" not in response.get_data(as_text=True)
    record = next(
        r for r in caplog.records if r.getMessage() == "unhandled error in the SCIM provider"
    )
    assert record.exc_info and record.exc_info[1].args == ("a bug",)
    log = app.extensions["sandbox"].request_log.entries()
    assert [(e["method"], e["status"]) for e in log] == [("POST", 500)]


@pytest.mark.parametrize("host", ["h:abc", "a:1:2", "[::1", "a..b", ".a", "a" * 64, "h:123456"])
@pytest.mark.parametrize("through_front", [True, False])
def test_a_host_header_that_is_no_host_is_a_400_on_every_endpoint(app, client, host, through_front):
    if not through_front:  # a fault rule in force: the front would hand the request to Flask
        app.extensions["sandbox"].faults.add(path="/Nothing*", latency_ms=1)
    body = {"schemas": [CORE], "userName": "host@example.com"}
    created = client.post(f"{BASE}/Users", json=body, headers={"Host": host})
    assert "Host header" in assert_scim_error(created, 400)["detail"]
    discovery = client.get(f"{BASE}/ServiceProviderConfig", headers={"Host": host})
    assert_scim_error(discovery, 400)
    assert app.extensions["sandbox"].store.scalar("SELECT count(*) FROM users") == 0
    logged = app.extensions["sandbox"].request_log.entries()
    assert [(e["method"], e["status"]) for e in logged] == [("POST", 400), ("GET", 400)]


@pytest.mark.parametrize("host", [None, ""], ids=["absent", "empty"])  # granian: "" for both
def test_an_http11_request_without_a_host_is_a_400_and_an_http10_one_is_served(entry, token, host):
    for method, path, body in [("POST", "/Users", USER), ("GET", "/ServiceProviderConfig", b"")]:
        length = str(len(body)) if body else None
        answer = wsgi(entry, method, BASE + path, body, length, token, HTTP_HOST=host)
        assert answer["status"].startswith("400"), answer
        assert "must carry a Host header" in json.loads(answer["body"])["detail"]
    assert entry.extensions["sandbox"].store.scalar("SELECT count(*) FROM users") == 0
    old = wsgi(entry, "POST", f"{BASE}/Users", USER, str(len(USER)), token,
               HTTP_HOST=host, SERVER_PROTOCOL="HTTP/1.0")  # fmt: skip
    assert old["status"].startswith("201"), old
    assert json.loads(old["body"])["meta"]["location"].startswith("http://127.0.0.1:8000/")
    logged = entry.extensions["sandbox"].request_log.entries()
    assert [(e["method"], e["status"]) for e in logged] == [("POST", 400), ("GET", 400),
                                                            ("POST", 201)]  # fmt: skip


@pytest.mark.parametrize(
    "path", [f"/{BASE}/Users", f"{BASE}//Users", f"/{BASE}/ServiceProviderConfig"]
)
def test_a_path_with_an_empty_segment_is_a_404_a_leading_one_too(entry, token, path):
    # Werkzeug's router merges a leading "//": unrefused, "//scim/v2/Users" was served
    for method, body in [("GET", b""), ("POST", USER)]:
        answer = wsgi(entry, method, path, body, str(len(body)) if body else None, token)
        assert answer["status"].startswith("404"), answer
        assert json.loads(answer["body"])["detail"] == "no such resource or endpoint"
    assert entry.extensions["sandbox"].store.scalar("SELECT count(*) FROM users") == 0
    logged = entry.extensions["sandbox"].request_log.entries()
    assert [(e["method"], e["path"], e["status"]) for e in logged] == [
        ("GET", path, 404), ("POST", path, 404)]  # fmt: skip


def test_only_the_readiness_probe_itself_is_left_out_of_the_request_log(entry, token):
    # the header alone does not keep a client's requests out of the log
    probe = {"HTTP_X_SANDBOX_READINESS": "1"}
    assert wsgi(entry, "GET", "/", b"", None, token, HTTP_AUTHORIZATION=None, **probe)[
        "status"
    ].startswith("404")  # the probe: any answer is the server serving
    created = wsgi(entry, "POST", f"{BASE}/Users", USER, str(len(USER)), token, **probe)
    assert created["status"].startswith("201"), created
    wsgi(entry, "GET", f"{BASE}/Users", b"", None, token, **probe)
    wsgi(entry, "GET", "/", b"", None, token, **probe)  # with credentials: no probe
    logged = entry.extensions["sandbox"].request_log.entries()
    assert [(e["method"], e["path"]) for e in logged] == [
        ("POST", f"{BASE}/Users"), ("GET", f"{BASE}/Users"), ("GET", "/")]  # fmt: skip


def test_the_location_of_a_201_is_its_meta_location_as_the_client_named_the_host(client):
    body = {"schemas": [CORE], "userName": "loc@example.com"}
    created = client.post(f"{BASE}/Users", json=body, headers={"Host": "SCIM.Example:"})
    assert created.headers["Location"] == created.get_json()["meta"]["location"]
    assert created.headers["Location"].startswith("http://SCIM.Example:/scim/v2/Users/")
