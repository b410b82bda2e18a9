"""Provides the default path and the `sandbox up` path for bench/engine.py: one initial cycle
as a user runs it, on one database holding the tenant and the provider.

The default path is `sandbox entra sync`'s: `runtime.running_engine` with the tenant URL
"local" (the provider in a child process, `sandbox serve`'s server and workers). The `sandbox
up` path is the terminal UI's: `Sandbox.open` and `SandboxApp` under Textual's Pilot (headless,
120x40), the cycle started as `n` starts it; while it runs, the help key (`?`) is sent as the
terminal sends it every KEY_INTERVAL_S, and the time until the UI has answered it (its help
screen shown or closed) is one sample of how quickly the UI answers a key; between presses, a
screen switch (`3` Provisioning, which draws the cycle's progress, then `1` Directory) is timed
the same way. A second session on a fresh tenant presses `q` QUIT_AFTER_S into its cycle
(half the first session's cycle, when that was shorter) and times until the app has exited
(the cycle's and the provider's processes stopped); a cycle that ends before the press leaves
it unmeasured.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.config import Settings
from sandbox.engine.tenant.seed import seed_tenant
from sandbox.runtime import open_provisioning, open_sandbox, running_engine

KEY_INTERVAL_S = 0.1
"""How often the `sandbox up` path presses a key during the cycle."""

QUIT_AFTER_S = 3.0
"""How far into its cycle the quitting session presses `q`."""


@dataclass
class PathRun:
    """One path's initial cycle: its wall time, requests, and (the UI) key answer times."""

    seconds: float
    requests: int
    counts: dict[str, int]
    start_s: float
    """How long the provider's process took to answer, before the cycle (not in `seconds`)."""
    keys_ms: list[float] = field(default_factory=list)
    switches_ms: list[float] = field(default_factory=list)
    """Screen switches during the cycle (`3`, then `1`), each until the new screen showed."""
    quit_ms: float | None = None
    """`q` pressed during a cycle, until the app had exited (its child processes stopped)."""

    def p95_ms(self, samples: list[float] | None = None) -> float:
        """The 95th percentile of the key answer times (or of `samples`; 0 without any)."""
        samples = self.keys_ms if samples is None else samples
        if len(samples) < 2:
            return samples[0] if samples else 0.0
        return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def sandbox_for(folder: Path, users: int, concurrency: int, workers: int) -> Settings:
    """A fresh sandbox database as the commands make it, its tenant replaced by `users`
    seeded users, all assigned, groups off: the settings to open it with."""
    settings = Settings(db_path=str(folder / "sandbox.db"), workers=workers)
    store = open_sandbox(settings, tenant=False)
    engine = open_provisioning(settings, store)
    started = time.perf_counter()
    seed_tenant(engine.directory, seed=1, users=users, groups=0, guests=0, replace=True)
    assigned = engine.app.assign_all_users()
    engine.configure(groups_enabled=False, max_concurrency=concurrency)
    engine.request_log.close()
    store.close()
    print(
        f"  tenant: {users:,} users seeded, {assigned:,} assigned in "
        f"{time.perf_counter() - started:.1f} s (one database with the provider)",
        flush=True,
    )
    return settings


def default_path(folder: Path, users: int, concurrency: int, workers: int) -> PathRun:
    """`sandbox entra sync`'s initial cycle against the local provider."""
    settings = sandbox_for(folder, users, concurrency, workers)
    with running_engine(settings) as engine:
        started = time.perf_counter()
        assert engine.local_ready is not None, "the default path serves from a child process"
        engine.local_ready()
        start_s = time.perf_counter() - started
        started = time.perf_counter()
        report = engine.run_cycle()
        seconds = time.perf_counter() - started
    counts = {k: v for k, v in report.counts.items() if v}
    return PathRun(seconds, report.requests, counts, start_s)


def up_path(folder: Path, users: int, concurrency: int, workers: int) -> PathRun:
    """`sandbox up`'s initial cycle, started with `n`, keys pressed while it runs."""
    from sandbox.runtime import Sandbox
    from tui.app import SandboxApp

    settings = sandbox_for(folder, users, concurrency, workers)
    sandbox = Sandbox.open(settings, port=0)
    reports: list[Any] = []
    real = sandbox.run_cycle

    def kept(progress: Any = None) -> Any:  # the UI's own call, its report kept
        report = real(progress)
        reports.append(report)
        return report

    sandbox.run_cycle = kept  # type: ignore[method-assign]
    try:
        seconds, start_s, keys, switches = asyncio.run(_drive(SandboxApp(sandbox, scheduler=False)))
    finally:
        sandbox.close()
    assert reports, "the cycle did not run"
    counts = {k: v for k, v in reports[0]["counts"].items() if v}
    run = PathRun(seconds, reports[0]["requests"], counts, start_s, keys, switches)
    (folder / "quit").mkdir()
    settings = sandbox_for(folder / "quit", users, concurrency, workers)
    sandbox = Sandbox.open(settings, port=0)
    try:
        after_s = min(QUIT_AFTER_S, seconds / 2)
        run.quit_ms = asyncio.run(_quit_during_cycle(SandboxApp(sandbox, scheduler=False), after_s))
    finally:
        sandbox.close()
    return run


async def _drive(app: Any) -> tuple[float, float, list[float], list[float]]:
    """(cycle seconds, provider start seconds, key answer times in ms, screen switch times in
    ms) of one UI session."""
    app.warm_up_delay_s = 0  # the provider starts at once, as it would before a user's `n`
    keys: list[float] = []
    switches: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        started = time.perf_counter()
        while not app.sandbox.provider_ready:
            await pilot.pause(0.02)
        start_s = time.perf_counter() - started
        await pilot.pause(0.2)
        started = time.perf_counter()
        app.action_cycle()  # what `n` does (Pilot's press waits for the process to idle)
        while app.cycle_running:
            await asyncio.sleep(KEY_INTERVAL_S)
            keys.append(await _answer_ms(app))
            if not app.cycle_running:
                break
            await asyncio.sleep(KEY_INTERVAL_S)
            for key in ("3", "1"):
                pressed = time.perf_counter()
                await _send(app, key, key, app.screen)
                switches.append((time.perf_counter() - pressed) * 1000)
        seconds = time.perf_counter() - started
        await pilot.press("q")
    return seconds, start_s, keys, switches


async def _quit_during_cycle(app: Any, after_s: float) -> float | None:
    """Milliseconds from `q`, pressed `after_s` into a cycle, until the app has exited; None
    when the cycle ended first (no quit during a cycle to time)."""
    app.warm_up_delay_s = 0
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.sandbox.provider_ready:
            await pilot.pause(0.02)
        await pilot.pause(0.2)
        app.action_cycle()
        await asyncio.sleep(after_s)
        if not app.cycle_running:
            await pilot.press("q")
            return None
        pressed = time.perf_counter()
        await _send(app, "q", "q", app.screen, until_exit=True)
    return (time.perf_counter() - pressed) * 1000


async def _answer_ms(app: Any) -> float:
    """Send `?` as the terminal would and wait until the UI has answered it (its help screen
    shown): the milliseconds in between; then close the help screen (escape) and wait for
    that too, untimed. Not Pilot's `press`, which waits until the whole process is idle, so
    never while a cycle runs in it."""
    before = app.screen
    pressed = time.perf_counter()
    await _send(app, "question_mark", "?", before)
    answered = (time.perf_counter() - pressed) * 1000
    await _send(app, "escape", None, app.screen)
    return answered


async def _send(
    app: Any, name: str, char: str | None, showing: Any, until_exit: bool = False
) -> None:
    """One key from the terminal; returns once the screen is no longer `showing` (or, with
    `until_exit`, once the app has stopped running)."""
    from textual import events

    key = events.Key(name, char)
    key.set_sender(app)
    app._driver.send_message(key)
    deadline = time.perf_counter() + 30
    while app.is_running if until_exit else app.screen is showing:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the UI did not answer {name} within 30 s")
        await asyncio.sleep(0.005)  # fine enough for a 100 ms target, light on the loop
