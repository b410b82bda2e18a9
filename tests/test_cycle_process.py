"""`sandbox up`'s cycles run by a child process (sandbox/cycle_process.py): the UI's process
keeps its interpreter lock for the keys a user presses. The child sees what this process
changed, answers with the cycle's report and progress, refuses while another cycle runs, and
ends with the sandbox."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.config import Settings
from sandbox.engine.sync.service import CycleRunningError
from sandbox.runtime import Sandbox
from tests.test_provider_process import alive, all_gone


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox.open(Settings(db_path=str(tmp_path / "sandbox.db"), workers=1), port=0)
    sandbox.engine.app.assign_all_users()
    yield sandbox
    sandbox.close()


def test_a_sandbox_on_a_database_file_runs_its_cycles_in_a_child_process(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sandbox.cycle_worker is not None

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cycle ran in the UI's process")

    monkeypatch.setattr(sandbox.engine, "sync", not_here)
    heard: list[tuple[int, int, str]] = []
    report = sandbox.run_cycle(lambda done, total, phase: heard.append((done, total, phase)))
    assert report["kind"] == "initial"
    assigned = len(sandbox.engine.app.assigned_user_ids())
    assert report["counts"]["created"] == assigned > 0  # type: ignore[index]
    assert sandbox.store.scalar("SELECT count(*) FROM users") >= assigned  # the provider's
    pid = sandbox.cycle_worker.pid
    assert pid is not None and pid != os.getpid() and alive(pid)
    assert heard and heard[-1][0] == heard[-1][1]  # the phase's last count is always told
    assert sandbox.engine.state().last_cycle_id == report["id"]  # the state it saved


def test_a_change_made_here_before_the_cycle_is_what_the_child_sends(sandbox: Sandbox) -> None:
    sandbox.run_cycle()
    user = sandbox.engine.directory.users()[0]
    sandbox.engine.directory.edit_user(user.id, department="Cycle process check")
    report = sandbox.run_cycle()
    assert report["kind"] == "incremental"
    assert report["counts"]["updated"] == 1  # type: ignore[index]
    sandbox.flush_logs()
    sent = sandbox.engine.request_log.entries(limit=50, side="engine")
    assert any("Cycle process check" in (e.get("request_body") or "") for e in sent)


def test_a_cycle_running_elsewhere_refuses_the_childs_with_its_pid(sandbox: Sandbox) -> None:
    with sandbox.engine.one_cycle(), pytest.raises(CycleRunningError) as refused:
        sandbox.run_cycle()
    assert refused.value.pid == os.getpid()
    assert sandbox.engine.state().last_cycle_id is None  # nothing ran
    assert sandbox.run_cycle()["kind"] == "initial"  # the child is still there for the next


def test_a_killed_cycle_process_is_started_again_by_the_next_cycle(sandbox: Sandbox) -> None:
    sandbox.run_cycle()
    assert sandbox.cycle_worker is not None
    first = sandbox.cycle_worker.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while sandbox.cycle_worker.running:  # reaped once all its threads have ended
        assert time.monotonic() < deadline, "the killed cycle process still runs"
        time.sleep(0.05)
    assert sandbox.run_cycle()["kind"] == "incremental"
    assert sandbox.cycle_worker.pid not in (None, first)


def test_closing_the_sandbox_ends_the_cycle_process(sandbox: Sandbox) -> None:
    sandbox.run_cycle()
    assert sandbox.cycle_worker is not None
    pid = sandbox.cycle_worker.pid
    assert pid is not None and alive(pid)
    sandbox.close()
    assert all_gone([pid])


def test_a_sandbox_without_a_database_file_runs_its_cycles_here(tmp_path: Path) -> None:
    sandbox = Sandbox.open(Settings(db_path=str(tmp_path / "t.db")), in_thread=True, port=0)
    try:
        assert sandbox.cycle_worker is None
        sandbox.engine.app.assign_all_users()
        assert sandbox.run_cycle()["kind"] == "initial"
    finally:
        sandbox.close()
