"""Cycles in the UI: one at a time whatever starts them (a scheduler tick, `n`, another
process), and a refused one is a notification."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from sandbox.engine.sync.service import Provisioning
from sandbox.runtime import Sandbox
from sandbox.store import Store
from tests.tui.pilot import settle
from tui.app import SandboxApp


def notifications(app: SandboxApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


def count_cycles(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, hold: threading.Event | None = None
) -> list[int]:
    """The cycles the app starts, one entry each (they still run, once `hold` is set)."""
    started: list[int] = []
    real = sandbox.next_cycle_now

    def counted(progress: Any = None) -> Any:
        started.append(1)
        if hold is not None:
            hold.wait(60)
        return real(progress)

    monkeypatch.setattr(sandbox, "next_cycle_now", counted)
    return started


async def test_a_scheduler_tick_and_n_start_one_cycle(
    app: SandboxApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = app.sandbox
    checking, go_on = threading.Event(), threading.Event()

    def due() -> bool:  # the tick's worker is caught asking whether the cycle is due
        checking.set()
        go_on.wait(60)
        return True

    monkeypatch.setattr(sandbox, "cycle_due", due)
    started = count_cycles(sandbox, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.check_schedule()
        await asyncio.to_thread(checking.wait, 60)
        await pilot.press("n")
        go_on.set()
        await settle(pilot)
        assert started == [1]
        assert ("A cycle is already running.", "warning") in notifications(app)


async def test_n_pressed_twice_starts_one_cycle(
    app: SandboxApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = app.sandbox
    hold = threading.Event()
    started = count_cycles(sandbox, monkeypatch, hold)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n", "n")  # the first still running
        hold.set()
        await settle(pilot)
        assert started == [1]
        assert ("A cycle is already running.", "warning") in notifications(app)
        assert sandbox.engine.store.scalar("SELECT count(*) FROM cycles") == 1


async def test_a_cycle_running_in_another_process_refuses_n_and_the_tick_says_so_once(
    app: SandboxApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = app.sandbox
    monkeypatch.setattr(sandbox, "cycle_due", lambda: True)
    other_store = Store(sandbox.settings.db_path)
    other = Provisioning(other_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        with other.one_cycle():  # as `sandbox entra sync` holds it while it runs
            await pilot.press("n")
            await settle(pilot)
            app.check_schedule()
            await settle(pilot)
            app.check_schedule()
            await settle(pilot)
        refusals = [n for n in notifications(app) if "a cycle is already running (pid" in n[0]]
        assert len(refusals) == 1 and refusals[0][1] == "warning"
        assert sandbox.engine.store.scalar("SELECT count(*) FROM cycles") == 0
        assert not app.cycle_running
        await pilot.press("n")  # the other one has ended
        await settle(pilot)
        assert sandbox.engine.store.scalar("SELECT count(*) FROM cycles") == 1
    other_store.close()
