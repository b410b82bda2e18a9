"""One cycle at a time per job: a second cycle or provision on demand on the same database,
from another thread, Store or process, is refused before it sends anything; the lease is
released however a cycle ends, and one left by a killed process is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.engine.sync.service import CycleRunningError, Provisioning
from sandbox.errors import SandboxError
from sandbox.runtime import in_process_engine
from sandbox.store import LeaseHeld, Store
from tests.engine_env import EngineEnv

REFUSED = rf"^a cycle is already running \(pid {os.getpid()}\)$"


class Gate(httpx.BaseTransport):
    """Counts the requests it passes on; while closed, holds each one until opened (a cycle
    caught mid-flight)."""

    def __init__(self, inner: httpx.BaseTransport, *, closed: bool = True) -> None:
        self.inner = inner
        self.sent = 0
        self.entered = threading.Event()
        self.opened = threading.Event()
        if not closed:
            self.opened.set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        self.entered.set()
        self.opened.wait(60)  # a safety net for a broken test, not a timing
        return self.inner.handle_request(request)


@pytest.fixture
def env(tmp_path: Path):
    environment = EngineEnv(tmp_path)
    yield environment
    environment.close()


def second_engine(env: EngineEnv) -> tuple[Provisioning, Store, Gate]:
    """Another engine on the same database file, with its own store connection."""
    store = Store(env.settings.db_path)
    engine = in_process_engine(env.settings, store)
    assert engine.transport is not None
    gate = Gate(engine.transport, closed=False)
    engine.transport = gate
    return engine, store, gate


def engine_requests(env: EngineEnv) -> int:
    env.engine.request_log.flush()
    return len(env.engine.request_log.entries(10_000, side="engine"))


def in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn()
        except BaseException as error:  # handed to the test
            out["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_a_second_cycle_on_the_same_database_is_refused_before_it_sends_a_request(env):
    ada = env.add_user("ada")
    assert env.engine.transport is not None
    held = Gate(env.engine.transport)
    env.engine.transport = held
    other, other_store, other_gate = second_engine(env)
    before = engine_requests(env)
    clock = other.clock.now()
    thread, out = in_thread(lambda: env.engine.sync(1))
    try:
        assert held.entered.wait(60)  # the first cycle is sending
        for attempt in (other.sync, other.run_cycle, lambda: other.provision_on_demand(ada)):
            with pytest.raises(CycleRunningError, match=REFUSED) as refused:
                attempt()
            assert refused.value.pid == os.getpid()
        assert other_gate.sent == 0
        assert other.clock.now() == clock  # a refused "next cycle now" moves no clock
    finally:
        held.opened.set()
        thread.join()
    assert "error" not in out, out
    (report,) = out["result"]
    assert report.counts["created"] == 1
    assert env.store.scalar("SELECT count(*) FROM cycles") == 1
    other.request_log.flush()
    assert engine_requests(env) - before == report.requests  # only the first one's requests
    other_store.close()


@pytest.mark.slow
def test_a_cycle_in_another_process_refuses_sandbox_entra_sync_in_one_line(env):
    env.add_user("ada")
    assert env.engine.transport is not None
    held = Gate(env.engine.transport)
    env.engine.transport = held
    before = engine_requests(env)
    thread, out = in_thread(env.engine.run_cycle)
    try:
        assert held.entered.wait(60)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        done = subprocess.run(
            [sys.executable, "-m", "sandbox", "--db", env.settings.db_path, "entra", "sync"],
            capture_output=True,
            text=True,
            env=environ,
            timeout=120,
            check=False,
        )
    finally:
        held.opened.set()
        thread.join()
    assert done.returncode == 1, done
    assert done.stderr == f"Error: a cycle is already running (pid {os.getpid()})\n"
    assert "Cycle #" not in done.stdout
    assert "error" not in out, out
    assert engine_requests(env) - before == out["result"].requests


def test_provision_on_demand_is_refused_while_a_cycle_runs(env):
    ada = env.add_user("ada")
    with env.engine.one_cycle():
        with pytest.raises(CycleRunningError, match=REFUSED):
            env.engine.provision_on_demand(ada)
    assert env.engine.provision_on_demand(ada).record.status == "Success"


def test_an_engine_opened_before_another_process_ran_cycles_writes_its_logs(env):
    """A long-lived engine (the terminal UI's) and `sandbox entra sync` draw log ids from the
    same seeded generator: the first must go on from what the other wrote."""
    ada = env.add_user("ada")
    other, other_store, _gate = second_engine(env)
    assert other.sync(1)[0].counts["created"] == 1
    env.engine.directory.edit_user(ada, jobTitle="Analyst")
    report = env.engine.run_cycle()
    assert report.counts["updated"] == 1
    assert len(env.engine.logs.query(source=ada)) == 2
    other_store.close()


def test_the_lease_is_released_when_a_cycle_fails(env):
    env.add_user("ada")
    lock = Path(env.settings.db_path + ".cycle.lock")
    url = env.engine.url_override
    env.engine.url_override = None  # "local" with no provider behind it: the cycle raises
    with pytest.raises(SandboxError, match="not running"):
        env.engine.run_cycle()
    assert lock.read_text() == ""
    env.engine.url_override = url
    assert env.engine.run_cycle().counts["created"] == 1


@pytest.mark.slow
def test_a_lease_left_by_a_killed_process_is_taken_over(env):
    env.add_user("ada")
    lock = Path(env.settings.db_path + ".cycle.lock")
    code = (
        "import os, signal, sys\n"
        "from sandbox.store import Store\n"
        "held = Store(sys.argv[1]).lease('cycle')\n"
        "held.__enter__()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.Popen([sys.executable, "-c", code, env.settings.db_path])
    assert killed.wait(120) == -signal.SIGKILL
    assert lock.read_text() == str(killed.pid)  # its pid is left behind; its lock is not
    holders: list[str] = []
    report = env.engine.run_cycle(lambda done, total, phase: holders.append(lock.read_text()))
    assert report.counts["created"] == 1
    assert holders and set(holders) == {str(os.getpid())}
    assert lock.read_text() == ""


def test_an_in_memory_database_has_one_holder_at_a_time():
    store = Store(":memory:")
    with store.lease("cycle"):
        with pytest.raises(LeaseHeld) as held:
            with store.lease("cycle"):
                pass
        assert held.value.pid == os.getpid()
    with store.lease("cycle"):  # released
        pass
    store.close()


def test_settings_saved_while_a_cycle_runs_are_not_overwritten_when_it_ends(env):
    env.add_user("ada")
    env.engine.start()
    assert env.engine.transport is not None
    held = Gate(env.engine.transport)
    env.engine.transport = held
    other, other_store, _ = second_engine(env)
    thread, out = in_thread(env.engine.run_cycle)
    try:
        assert held.entered.wait(60)  # the initial cycle is sending
        other.stop()  # Stop provisioning: the current cycle finishes, no new one starts
        assert other.config().scope == "assigned"
        other.configure(scope="all")  # forces the next cycle to be initial
    finally:
        held.opened.set()
        thread.join()
    assert "error" not in out, out
    assert out["result"].counts["created"] == 1
    state = env.engine.state()
    assert state.running is False  # the stop made during the cycle holds
    assert state.initial_needed is True  # and so does the change that needs an initial cycle
    assert state.last_cycle_id == out["result"].id  # what the cycle itself owns is saved
    assert state.watermark > 0
    other_store.close()
