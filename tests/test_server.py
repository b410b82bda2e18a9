"""The served app: whole response bodies for granian, and what `sandbox serve` still does with
them (a normal answer in one piece, a dropped connection still dropped)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import pytest

from sandbox.provider.faults import Faults
from sandbox.server import whole_bodies
from sandbox.store import Store
from tests.conftest import free_port, start_serve
from tests.live_servers import kill_group

BASE = "/scim/v2"


class Body:
    """A WSGI body that records being closed, and can fail after some chunks."""

    def __init__(self, chunks: list[bytes], fail_after: int | None = None) -> None:
        self.chunks, self.fail_after, self.closed = chunks, fail_after, 0

    def __iter__(self) -> Iterator[bytes]:
        for n, chunk in enumerate(self.chunks):
            if n == self.fail_after:
                raise ConnectionAbortedError("cut")
            yield chunk

    def close(self) -> None:
        self.closed += 1


def app_answering(body: Body):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/scim+json")])
        return body

    return app


def test_a_body_is_handed_back_whole_in_a_list_and_closed_once():
    body = Body([b'{"a":', b"1", b"}"])
    result = whole_bodies(app_answering(body))({}, lambda status, headers: None)
    assert result == [b'{"a":1}']
    assert body.closed == 1


def test_a_body_that_fails_is_replayed_up_to_the_failure_then_fails_the_same_way():
    body = Body([b"{", b"never"], fail_after=1)
    result = whole_bodies(app_answering(body))({}, lambda status, headers: None)
    assert not isinstance(result, list)
    stream = iter(result)
    assert next(stream) == b"{"
    with pytest.raises(ConnectionAbortedError, match="cut"):
        next(stream)
    assert body.closed == 1


@pytest.mark.slow
def test_sandbox_serve_answers_whole_and_still_drops_a_connection_on_purpose(tmp_path):
    db_path = str(tmp_path / "sandbox.db")
    port = free_port()
    proc, token = start_serve(db_path, port, new_session=True)
    try:
        url, auth = f"http://127.0.0.1:{port}{BASE}", {"Authorization": f"Bearer {token}"}
        users = httpx.get(f"{url}/Users", headers=auth)
        assert users.status_code == 200 and users.json()["totalResults"] >= 1
        assert users.headers["content-length"] == str(len(users.content))
        store = Store(db_path)
        Faults(store).add(path="/Users", drop=True)
        store.close()
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/Users", headers=auth)
        assert httpx.get(f"{url}/Schemas", headers=auth).status_code == 200
    finally:
        kill_group(proc, signal.SIGTERM)


@pytest.mark.slow
def test_sandbox_serve_stopped_while_its_workers_start_still_ends(tmp_path):
    # The port opens before the workers have loaded the app: a SIGTERM now reaches workers
    # that have no handler of granian's yet (they ignored it, and the server waited forever).
    for attempt in range(2):
        proc, _ = start_serve(str(tmp_path / f"s{attempt}.db"), free_port(), new_session=True)
        kill_group(proc, signal.SIGTERM)  # waits (bounded) for the whole server to exit
        assert proc.returncode is not None
