"""`sandbox up`'s provider in a child process: the header shows its port once it answers, the
first cycle waits for it, quitting the UI leaves no process; Activity shows both sides in the
order they happened, a row written late by another process included."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable

from sandbox.config import Settings
from sandbox.provider_process import ProviderProcess
from sandbox.requestlog import Exchange
from sandbox.runtime import Sandbox
from tests.test_provider_process import alive, all_gone, provider_pids, wait_for_pids
from tests.tui.pilot import go, rows, settle
from tui.app import SandboxApp


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_path=str(tmp_path / "sandbox.db"), workers=1)


@pytest.fixture
def sandbox(settings: Settings) -> Iterator[Sandbox]:
    """A fresh sandbox as `sandbox up` opens it (its provider not started yet)."""
    sandbox = Sandbox.open(settings, port=0)
    yield sandbox
    sandbox.close()
    for pid in provider_pids(settings):  # a failed test leaves nothing running
        if alive(pid):
            import os
            import signal

            os.kill(pid, signal.SIGKILL)


async def test_the_header_shows_the_port_once_the_provider_answers_and_quitting_ends_it(
    sandbox: Sandbox, settings: Settings
) -> None:
    assert isinstance(sandbox.server, ProviderProcess) and not sandbox.server.started
    app = SandboxApp(sandbox, scheduler=False)
    app.warm_up_delay_s = 0
    async with app.run_test(size=(120, 40)) as pilot:
        assert "provider starting" in app.sub_title
        deadline = time.monotonic() + 60
        while not sandbox.provider_ready:
            assert time.monotonic() < deadline, "the provider never answered"
            await pilot.pause(0.05)
        await settle(pilot)
        assert f"provider {sandbox.provider_url}" in app.sub_title
        assert str(sandbox.server.port) in app.sub_title
        pids = await asyncio.to_thread(wait_for_pids, settings, 2)
        assert all(alive(pid) for pid in pids)
        await pilot.press("q")
    assert all_gone(pids)


async def test_the_first_cycle_waits_for_the_provider_it_starts(sandbox: Sandbox) -> None:
    app = SandboxApp(sandbox, scheduler=False)
    app.warm_up_delay_s = 60  # the cycle, not the warm-up, starts the provider
    sandbox.engine.app.assign_all_users()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("initial cycle #1: ") and "created" in m for m in messages)
        assert sandbox.provider_ready
        await pilot.press("q")


def _exchange(side: str, path: str, ord_: int) -> Exchange:
    return Exchange(
        at="2026-01-01T00:00:00.000Z", side=side, method="GET", path=path, query="",
        status=200, latency_ms=1.0, request_headers={}, request_body=None,
        response_headers={}, response_body=None, ord=ord_,
    )  # fmt: skip


async def test_activity_places_a_row_written_late_where_it_happened(in_process: Sandbox) -> None:
    log = in_process.engine.request_log
    app = SandboxApp(in_process, scheduler=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await go(pilot, "5")
        log.append(_exchange("engine", "/first", 1_000))
        log.append(_exchange("engine", "/second", 3_000))
        log.flush()
        await pilot.pause(1.2)  # two polls
        await settle(pilot)
        # another process's batch, written after the engine's: its request came in between
        log.append(_exchange("provider", "/first", 2_000))
        log.flush()
        await pilot.pause(1.2)
        await settle(pilot)
        table = app.screen.query_one("#http", DataTable)
        shown = [(cells[1], cells[5]) for cells in rows(table)]
        assert shown[-3:] == [("engine", "/first"), ("provider", "/first"), ("engine", "/second")]


async def test_activity_shows_every_row_of_a_batch_whose_order_is_not_its_writing_order(
    in_process: Sandbox,
) -> None:
    log = in_process.engine.request_log
    app = SandboxApp(in_process, scheduler=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await go(pilot, "5")
        # written in one batch before a poll: the last one written happened first
        log.append(_exchange("engine", "/a", 1_000))
        log.append(_exchange("engine", "/b", 3_000))
        log.append(_exchange("provider", "/early", 500))
        log.flush()
        await pilot.pause(1.2)
        await settle(pilot)
        table = app.screen.query_one("#http", DataTable)
        shown = [(cells[1], cells[5]) for cells in rows(table)]
        assert shown[-3:] == [("provider", "/early"), ("engine", "/a"), ("engine", "/b")]


async def test_a_cycle_runs_in_its_own_process_and_quitting_during_it_ends_that_process(
    sandbox: Sandbox, settings: Settings
) -> None:
    sandbox.engine.app.assign_all_users()
    sandbox.faults.add(method="POST", latency_ms=400)  # each create is slow: the cycle lasts
    app = SandboxApp(sandbox, scheduler=False)
    app.warm_up_delay_s = 0
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")  # Provisioning draws the cycle's progress
        await pilot.press("n")
        worker = sandbox.cycle_worker
        assert worker is not None
        deadline = time.monotonic() + 60
        label = app.screen.query_one("#progress-phase")
        while not (label.display and "of" in str(label.render())):
            assert time.monotonic() < deadline, "no progress came from the cycle process"
            await asyncio.sleep(0.05)
        pid = worker.pid
        assert pid is not None and pid != os.getpid() and alive(pid)
        assert app.cycle_running
        await pilot.press("q")
    assert all_gone([pid])


async def test_the_header_shows_the_graph_surface_once_it_answers(settings: Settings) -> None:
    import httpx

    sandbox = Sandbox.open(settings, port=0, graph_port=0)
    try:
        app = SandboxApp(sandbox, scheduler=False)
        app.warm_up_delay_s = 0
        async with app.run_test(size=(160, 40)) as pilot:
            deadline = time.monotonic() + 60
            while sandbox.graph_url is None or "Graph" not in app.sub_title:
                assert time.monotonic() < deadline, "the Graph surface never answered"
                await pilot.pause(0.05)
            assert f"Graph {sandbox.graph_url}" in app.sub_title
            answer = await asyncio.to_thread(
                httpx.get, f"{sandbox.graph_url}/servicePrincipals", timeout=10
            )
            assert answer.status_code == 200
            assert sandbox.graph is not None
            pid = sandbox.graph.pid
            await pilot.press("q")
        assert pid is not None and all_gone([pid])
    finally:
        sandbox.close()
