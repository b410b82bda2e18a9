"""The served app: whole response bodies for granian, and what `sandbox serve` still does with
them (a normal answer in one piece, a dropped connection still dropped)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from sandbox.config import Settings
from sandbox.provider.faults import Faults
from sandbox.requestlog import RequestLog
from sandbox.runtime import bootstrap_provider
from sandbox.server import drop_request_variables, whole_bodies
from sandbox.store import Store
from tests.conftest import free_port, start_serve
from tests.live_servers import kill_group, port_closed, stop_embedded

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


def test_a_servers_environment_keeps_no_variable_named_like_a_part_of_a_request():
    environ = {
        "HTTP_X_SHELL": "1",
        "HTTP_AUTHORIZATION": "Bearer t",
        "CONTENT_LENGTH": "5",
        "REMOTE_USER": "admin",
        "wsgi.input": "x",
        "HTTP_PROXY": "http://proxy.example:3128",
        "HTTPS_PROXY": "http://proxy.example:3128",
        "PATH": "/bin",
        "SANDBOX_DB": "s.db",
    }
    dropped = drop_request_variables(environ)
    assert set(dropped) == {
        "HTTP_X_SHELL", "HTTP_AUTHORIZATION", "CONTENT_LENGTH", "REMOTE_USER", "wsgi.input",
        "HTTP_PROXY",
    }  # fmt: skip
    # the proxy still applies to the server's own requests (the engine of the Graph surface)
    assert environ == {
        "HTTPS_PROXY": "http://proxy.example:3128",
        "PATH": "/bin",
        "SANDBOX_DB": "s.db",
        "http_proxy": "http://proxy.example:3128",
    }


def test_a_lower_case_proxy_variable_is_not_overwritten():
    environ = {"HTTP_PROXY": "http://a.example", "http_proxy": "http://b.example"}
    drop_request_variables(environ)
    assert environ == {"http_proxy": "http://b.example"}


@pytest.mark.slow
def test_sandbox_serve_takes_no_request_header_from_its_own_environment(tmp_path):
    # granian builds each request's environ over the worker's os.environ: a shell variable
    # named like a header was a header of every request, a token in HTTP_AUTHORIZATION
    # authenticated requests that sent none.
    db_path = str(tmp_path / "sandbox.db")
    store = Store(db_path)
    token = bootstrap_provider(store, Settings(db_path=db_path)).token
    store.close()
    port = free_port()
    proc, _ = start_serve(
        db_path,
        port,
        new_session=True,
        env={"HTTP_X_FROM_THE_SHELL": "leaked", "HTTP_AUTHORIZATION": f"Bearer {token}"},
    )
    try:
        url = f"http://127.0.0.1:{port}{BASE}/Users"
        anonymous = httpx.get(url)
        assert anonymous.status_code == 401, anonymous.text[:200]
        sent = httpx.get(url, headers={"Authorization": f"Bearer {token}", "X-Own": "1"})
        assert sent.status_code == 200
    finally:
        kill_group(proc, signal.SIGTERM)
    store = Store(db_path)
    logged = [e["request_headers"] for e in RequestLog(store).entries(side="provider")]
    store.close()
    assert len(logged) == 2
    assert all("X-From-The-Shell" not in headers for headers in logged), logged
    assert "Authorization" not in logged[0] and logged[1]["X-Own"] == "1"


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
        kill_group(proc, signal.SIGTERM)  # waits (bounded) for the main process to exit
        assert proc.returncode == 0  # a graceful stop, not a kill
        assert living_in_group(proc.pid) == []  # and no worker outlived it


@pytest.mark.slow
def test_sandbox_serve_killed_outright_leaves_no_worker_on_its_port(tmp_path):
    # Its granian workers, adopted by init, kept listening and answering 200 for 25+ s: the
    # next `sandbox serve` on the port was refused "port in use".
    port = free_port()
    proc, token = start_serve(str(tmp_path / "s.db"), port, "--workers", "2", new_session=True)
    try:
        answered = httpx.get(
            f"http://127.0.0.1:{port}{BASE}/Users?count=1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answered.status_code == 200
        workers = [pid for pid, _ in living_in_group(proc.pid) if pid != proc.pid]
        assert len(workers) == 2
        proc.kill()  # SIGKILL to the main process only: no stop of its workers
        proc.wait(15)
        assert port_closed(port, timeout=8)
        deadline = time.monotonic() + 10
        while living_in_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert living_in_group(proc.pid) == []
    finally:
        kill_group(proc)  # whatever is left


def living_in_group(pgid: int) -> list[tuple[int, str]]:
    """The processes of a process group that are still alive (pid, command), read from /proc;
    a zombie (exited, not reaped yet) is not alive."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                command, rest = stat.read().rsplit(")", 1)
        except OSError:  # gone while we looked
            continue
        state, _ppid, group = rest.split()[:3]
        if int(group) == pgid and state != "Z":
            alive.append((int(entry), command.split("(", 1)[1]))
    return alive


def serve_command(db_path: str, *args: str) -> subprocess.CompletedProcess:
    """`sandbox serve` run to its end (it should refuse to start)."""
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "serve", "--db", db_path, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("reuse_port", [True, False], ids=["like granian", "plain"])
def test_sandbox_serve_refuses_a_port_another_server_listens_on(tmp_path, reuse_port) -> None:
    # granian binds with SO_REUSEPORT: a second server (holding the port the same way) was
    # let in and the kernel spread requests over two databases; a plain listener made
    # granian fail with a Rust and a Python traceback after "Press Ctrl+C to stop.".
    with socket.socket() as holder:
        if reuse_port:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = serve_command(str(tmp_path / "sandbox.db"), "--port", str(port))
    assert done.returncode == 1
    assert done.stdout == ""  # no URL, no token shown once for nothing, no "Press Ctrl+C"
    assert done.stderr.splitlines() == [
        f"Error: port {port} is already in use on 127.0.0.1: stop the server holding it "
        "or choose another --port"
    ]
    assert not (tmp_path / "sandbox.db").exists()  # nothing bootstrapped, no token spent


def test_sandbox_serve_on_a_host_that_is_not_this_machine_is_one_line(tmp_path) -> None:
    # 10.255.255.1 is only bound to (which fails), never sent anything.
    done = serve_command(str(tmp_path / "sandbox.db"), "--host", "10.255.255.1")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "Error: cannot listen on 10.255.255.1 port 8000: "
        "10.255.255.1 is not an address of this machine"
    ]
    named = serve_command(str(tmp_path / "sandbox.db"), "--host", "localhost")
    assert (named.returncode, named.stdout) == (1, "")
    assert len(named.stderr.splitlines()) == 1
    assert named.stderr.startswith("Error: --host must be an IP address")


def test_a_port_left_in_time_wait_by_a_stopped_server_is_free(tmp_path) -> None:
    # The probe sets SO_REUSEADDR: connections a stopped server closed do not hold its port.
    from sandbox.server import check_address

    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server side closes first: its end waits in TIME_WAIT
        client.close()
    check_address("127.0.0.1", port)  # no ConfigError


# -- the embedded server (waitress): `sandbox up` and the CLI's local tenant URL -----------


def sandbox_cli(db_path: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args, "--db", db_path],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


@pytest.mark.slow
def test_a_cycle_against_the_local_provider_under_load_writes_nothing_of_the_server_to_stderr(
    tmp_path,
) -> None:
    # Eight engine threads against the provider's process: what its server says goes to
    # the server log beside the database, never into `sandbox entra sync`'s output.
    db = str(tmp_path / "sandbox.db")
    for args in (
        ("entra", "users", "seed", "--users", "200", "--replace"),
        ("entra", "assign", "--all-users"),
        ("entra", "configure", "--concurrency", "8"),
    ):
        assert sandbox_cli(db, *args).returncode == 0
    synced = sandbox_cli(db, "entra", "sync")
    assert synced.returncode == 0, synced.stderr
    assert "Cycle #1 (initial): created" in synced.stdout and "failed 0" in synced.stdout
    assert synced.stderr == ""
    log = (tmp_path / "sandbox.db.server.log").read_text()
    assert "provider process" in log and "Started worker-" in log  # where they went instead


def test_sandbox_up_falls_back_to_a_free_port_when_the_one_asked_for_is_taken(
    app, settings
) -> None:
    from sandbox.runtime import serve_locally

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        server = serve_locally(app, settings, taken)
        try:
            assert server.port not in (taken, 0)
            answer = httpx.get(f"{server.url}{BASE}/ServiceProviderConfig")
            assert answer.status_code == 401  # the provider, on the port it says
        finally:
            stop_embedded(server)


@pytest.mark.parametrize("port", [-1, 65536, 10**6])
def test_sandbox_up_with_a_port_that_is_not_one_is_a_config_error(app, settings, port) -> None:
    from sandbox.errors import ConfigError
    from sandbox.runtime import serve_locally

    with pytest.raises(ConfigError, match=f"--port must be between 0 and 65535, not {port}"):
        serve_locally(app, settings, port)


def test_a_worker_moves_what_it_built_out_of_the_collectors_way(tmp_path):
    settings = Settings(db_path=str(tmp_path / "sandbox.db"))
    store = Store(settings.db_path)
    bootstrap_provider(store, settings)
    store.close()
    script = (
        "import gc\n"
        "from sandbox.worker import wsgi_app\n"
        "assert gc.get_freeze_count() == 0\n"
        "app = wsgi_app()\n"
        "print(gc.get_freeze_count())\n"
    )
    env = {**os.environ, **settings.to_env()}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) > 10_000  # the app, Flask, the store and their modules
