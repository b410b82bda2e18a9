"""The local provider of the default path (`sandbox entra sync`, `sandbox up`) served out of the
engine's process by `sandbox serve`'s server: started and stopped with the command, never left
running, its failures one line, the settings and the request log shared with the engine."""

from __future__ import annotations

import collections
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from sandbox import provider_process
from sandbox.cli import cli
from sandbox.config import Settings
from sandbox.errors import ConfigError
from sandbox.provider_process import ProviderProcess
from sandbox.runtime import open_sandbox, running_engine
from sandbox.server import server_log_path
from sandbox.transcripts import exchanges

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def provider_pids(settings: Settings) -> list[int]:
    """The provider's processes (granian's main process and its workers), as the server log
    names them: the process's own line, then granian's for each worker it spawns."""
    log_path = server_log_path(settings.db_path)
    assert log_path is not None
    text = Path(log_path).read_text() if os.path.exists(log_path) else ""
    found = re.findall(r"provider process (\d+)|Spawning worker-\d+ with PID: (\d+)", text)
    return [int(main or worker) for main, worker in found]


def wait_for_pids(settings: Settings, count: int, timeout: float = 60) -> list[int]:
    """Poll (bounded) until the server log names `count` provider processes."""
    deadline = time.monotonic() + timeout
    while len(pids := provider_pids(settings)) < count:
        assert time.monotonic() < deadline, f"the provider named {pids} only"
        time.sleep(0.05)
    return pids


def alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def all_gone(pids: list[int], timeout: float = 15) -> bool:
    """Poll (bounded) until none of `pids` runs (orphaned workers are reaped by init)."""
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """A fresh seeded sandbox on a file database, every tenant user assigned, its provider
    with one worker; any provider process a test leaves is killed at the end."""
    settings = Settings(db_path=str(tmp_path / "sandbox.db"), workers=1)
    store = open_sandbox(settings)
    from sandbox.runtime import open_provisioning

    engine = open_provisioning(settings, store)
    engine.app.assign_all_users()
    engine.configure(max_concurrency=8)
    engine.request_log.close()
    store.close()
    yield settings
    for pid in provider_pids(settings):
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_the_default_path_reaches_a_provider_in_another_process_gone_after(settings) -> None:
    with running_engine(settings) as engine:
        assert engine.test_connection().ok
        pids = wait_for_pids(settings, 2)
        assert os.getpid() not in pids
        assert all(alive(pid) for pid in pids)
        assert engine.url_override and engine.url_override.startswith("http://127.0.0.1:")
    assert all_gone(pids)


def test_an_exception_in_the_command_stops_the_provider_process(settings) -> None:
    with pytest.raises(RuntimeError, match="boom"), running_engine(settings) as engine:
        assert engine.test_connection().ok
        pids = wait_for_pids(settings, 2)
        raise RuntimeError("boom")
    assert all_gone(pids)


def test_a_command_ended_as_the_provider_answers_stops_every_worker_gracefully(
    settings,
) -> None:
    # Test connection ends as soon as the first worker answers, while the second may still be
    # building its app: a worker signalled then does not stop until granian kills it, 5 s
    # later. The stop waits for it to be ready instead, so nothing is killed.
    settings = Settings(db_path=settings.db_path, workers=2)
    for _ in range(3):
        with running_engine(settings) as engine:
            assert engine.test_connection().ok
    log = Path(server_log_path(settings.db_path) or "").read_text()
    assert log.count("provider process ") == 3
    assert len(re.findall(r"Started worker-\d+", log)) == 6, log
    assert "Killing worker" not in log and "refused to gracefully stop" not in log, log


@pytest.mark.slow
def test_ctrl_c_during_entra_sync_leaves_no_provider_process(settings) -> None:
    # A slow provider (every POST 300 ms late) keeps the cycle running when SIGINT comes.
    env = {**os.environ, "SANDBOX_WORKERS": "1"}
    db = ["--db", settings.db_path]
    added = subprocess.run(
        [sys.executable, "-m", "sandbox", "provider", "faults", "add", *db,
         "--method", "POST", "--latency-ms", "300"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    sync = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "entra", "sync", *db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        pids = wait_for_pids(settings, 2)
        deadline = time.monotonic() + 60
        while not _posted(settings):
            assert time.monotonic() < deadline, "the cycle never reached the provider"
            time.sleep(0.05)
        sync.send_signal(signal.SIGINT)
        _, stderr = sync.communicate(timeout=60)
    finally:
        if sync.poll() is None:
            sync.kill()
            sync.wait()
    assert "Traceback" not in stderr, stderr
    assert all_gone(pids)


def _posted(settings: Settings) -> bool:
    """Whether the provider has logged a POST (the cycle is under way)."""
    import sqlite3

    with sqlite3.connect(settings.db_path, timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM request_log WHERE side = 'provider' AND method = 'POST'"
        ).fetchone()
    return bool(row[0])


def test_the_request_log_shows_each_engine_request_before_the_providers_record_of_it(
    settings,
) -> None:
    with running_engine(settings) as engine:
        report = engine.run_cycle()
        store = engine.store
    assert report.requests > 60  # eight at a time, answered by another process
    entries = exchanges(store, "both")
    sent: collections.Counter[tuple] = collections.Counter()
    unmatched = 0
    for entry in entries:
        key = (entry["method"], entry["path"], entry["query"], entry["request_body"])
        if entry["side"] == "engine":
            sent[key] += 1
        elif sent[key]:  # the provider's record of a request the engine sent before it
            sent[key] -= 1
        else:
            unmatched += 1
    assert unmatched == 0  # no provider record comes before the request it records
    assert sum(sent.values()) == 0  # and the provider's last batch was written as it stopped
    assert sum(e["side"] == "provider" for e in entries) == report.requests


def test_the_providers_settings_reach_its_process(tmp_path: Path) -> None:
    settings = Settings(
        db_path=str(tmp_path / "sandbox.db"),
        workers=1,
        patch_status=204,
        max_results=7,
        base_path="/api/scim",
    )
    open_sandbox(settings).close()
    with running_engine(settings) as engine:
        assert engine.test_connection().ok
        base = engine.url_override
        assert base is not None and base.endswith("/api/scim")
        auth = {"Authorization": f"Bearer {engine.config().secret_token}"}
        config = httpx.get(f"{base}/ServiceProviderConfig", headers=auth).json()
        assert config["filter"]["maxResults"] == 7
        listed = httpx.get(f"{base}/Users", headers=auth).json()
        assert listed["itemsPerPage"] == 7
        user = listed["Resources"][0]["id"]
        patched = httpx.patch(
            f"{base}/Users/{user}",
            headers=auth,
            json={
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}],
            },
        )
        assert patched.status_code == 204 and patched.content == b""
        pids = wait_for_pids(settings, 2)
    assert all_gone(pids)


def test_a_taken_port_is_one_clear_error_and_leaves_no_process(settings) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        server = ProviderProcess(settings, port=taken, log_path=settings.db_path + ".server.log")
        with pytest.raises(ConfigError) as failure:
            server.wait_ready()
    message = failure.value.message
    assert "\n" not in message
    assert message.startswith("the local provider did not start (exit status 1): ")
    assert f"port {taken} is already in use" in message
    assert server.pid is None  # stopped


def test_a_child_that_exits_at_once_is_one_clear_error(settings) -> None:
    failing = [sys.executable, "-c", "import sys; print('cannot serve today', file=sys.stderr)"
               "; sys.exit(3)"]  # fmt: skip
    server = ProviderProcess(settings, command=failing)
    with pytest.raises(ConfigError, match=r"did not start \(exit status 3\): cannot serve today"):
        server.wait_ready()


def test_a_provider_that_cannot_start_is_named_by_its_cause_not_granians_shutdown(
    settings,
) -> None:
    # Its workers failed (a traceback each), then granian logged its shutdown: the error
    # quoted was "[INFO] Granian shutdown completed, see ya!", the cause only in the log.
    log_path = server_log_path(settings.db_path)
    broken = replace(settings, base_path="foo")  # not checked: Settings() is not from_env
    with pytest.raises(ConfigError) as refused:
        ProviderProcess(broken, log_path=log_path).wait_ready()
    assert "Granian" not in refused.value.message
    assert refused.value.message.startswith(
        "the local provider did not start (exit status 1): "
        "error: SANDBOX_BASE_PATH must be a path such as /scim/v2"
    )
    missing = "sandbox.no_such_module:wsgi_app"
    with pytest.raises(ConfigError) as failed:
        ProviderProcess(settings, log_path=log_path, app=missing).wait_ready()
    assert failed.value.message == (
        "the local provider did not start (exit status 1): "
        "RuntimeError: Could not import 'sandbox.no_such_module'."
    )


@pytest.mark.parametrize(
    ("written", "cause"),
    [
        (
            "[INFO] Starting granian\nerror: port 1 is taken\n[INFO] done\n",
            "error: port 1 is taken",
        ),
        (
            'Process granian-worker:\nTraceback (most recent call last):\n  File "x", line 1\n'
            "    raise ValueError('no')\nValueError: URL rule 'foo/Users' must start with a slash.\n"
            "[ERROR] Worker crash loop detected, exiting\n[INFO] Granian shutdown completed, see ya!\n",
            "ValueError: URL rule 'foo/Users' must start with a slash.",
        ),
        ("[ERROR] no socket\n[INFO] Granian shutdown completed, see ya!\n", "[ERROR] no socket"),
        ("cannot serve today\n", "cannot serve today"),
        ("", ""),
    ],
)
def test_the_cause_of_a_childs_end_is_its_error_line(written, cause) -> None:
    assert provider_process.cause_line(written) == cause


def test_a_child_that_never_answers_is_stopped_after_the_timeout(settings) -> None:
    mute = [sys.executable, "-c", "import time; time.sleep(120)"]
    server = ProviderProcess(settings, command=mute)
    server.start()
    pid = server.pid
    assert pid is not None
    with pytest.raises(ConfigError, match=r"did not answer on http://127\.0\.0\.1:\d+ within 1 s"):
        server.wait_ready(timeout=1)
    assert all_gone([pid])


def test_entra_sync_with_a_provider_that_cannot_start_is_one_line(settings, monkeypatch) -> None:
    failing = (sys.executable, "-c", "import sys; print('no socket', file=sys.stderr); sys.exit(1)")
    monkeypatch.setattr(provider_process, "CHILD_COMMAND", failing)
    result = CliRunner().invoke(cli, ["--db", settings.db_path, "entra", "sync"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.stderr.splitlines() == [
        "Error: the local provider did not start (exit status 1): no socket"
    ]


PARENT = """
import sys, time
from sandbox.config import Settings
from sandbox.provider_process import ProviderProcess
server = ProviderProcess(Settings(db_path=sys.argv[1], workers=1), log_path=sys.argv[1] + ".server.log")
server.wait_ready()
print("ready", flush=True)
time.sleep(120)
"""


@pytest.mark.slow
def test_a_provider_process_ends_when_the_command_that_started_it_is_killed(settings) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, settings.db_path], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        pids = wait_for_pids(settings, 2)
        parent.kill()  # SIGKILL: no finally, no stop()
        parent.wait(timeout=30)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdout.close()
    assert all_gone(pids, timeout=30)


def test_sandbox_up_serves_graph_from_a_second_process_stopped_with_the_provider(
    settings,
) -> None:
    from sandbox.cli.entra_graph import DEFAULT_GRAPH_PORT
    from sandbox.graph.worker import DEFAULT_PORT
    from sandbox.runtime import Sandbox

    assert DEFAULT_GRAPH_PORT == DEFAULT_PORT  # the CLI's copy of the constant
    sandbox = Sandbox.open(settings, port=0, graph_port=0)
    try:
        assert sandbox.graph is not None and sandbox.graph_url is None  # not yet started
        sandbox.warm_up()
        assert sandbox.graph_error is None
        url = sandbox.graph_url
        assert url == f"http://127.0.0.1:{sandbox.graph.port}/v1.0"
        assert sandbox.graph.port != int(sandbox.provider_url.split(":")[2].split("/")[0])
        listed = httpx.get(f"{url}/servicePrincipals", timeout=10)
        assert listed.status_code == 200 and listed.json()["value"][0]["appRoles"]
        pid = sandbox.graph.pid
        assert pid is not None and alive(pid)
    finally:
        sandbox.close()
    assert all_gone([pid])
    store_rows = open_sandbox(settings).query("SELECT path FROM request_log WHERE side = 'graph'")
    assert [r["path"] for r in store_rows] == ["/v1.0/servicePrincipals"]  # not the probe
