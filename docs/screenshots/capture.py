"""Capture the README's screenshots of `sandbox up` (SVG, exported by the app itself).

Run from the repository root: `python docs/screenshots/capture.py`. A seeded sandbox on a
temporary database plays the guide's setup (Nulab mappings, group provisioning off, two users
assigned, an initial and an incremental cycle) with the simulated clock stopped.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from sandbox.config import Settings
from sandbox.runtime import Sandbox
from tui.app import SandboxApp

HERE = Path(__file__).resolve().parent
SIZE = (140, 45)
"""The size a trainer projects (and the snapshot tests check, with 80x24)."""


def prepared(db_path: str) -> Sandbox:
    sandbox = Sandbox.open(Settings(db_path=db_path), serve=False)
    engine = sandbox.engine
    sandbox.use_preset("nulab")
    engine.configure(groups_enabled=False)
    engine.app.assign("mary.hawkins@contoso.onmicrosoft.com", "ADMIN")
    engine.app.assign("tyler.cole@contoso.onmicrosoft.com", "USER")
    engine.app.assign("Nulab Pass Admins", "ADMIN")
    engine.sync(1)
    engine.app.set_role("mary.hawkins@contoso.onmicrosoft.com", "GUEST")
    engine.directory.soft_delete("tyler.cole@contoso.onmicrosoft.com")
    engine.sync(1)
    sandbox.set_flag(True)
    engine.directory.restore("tyler.cole@contoso.onmicrosoft.com")
    engine.sync(1)
    return sandbox


async def capture(sandbox: Sandbox) -> None:
    app = SandboxApp(sandbox, scheduler=False)
    async with app.run_test(size=SIZE) as pilot:
        for mode in (
            "directory",
            "assignments",
            "provisioning",
            "mappings",
            "activity",
            "provider",
        ):
            await app.switch_mode(mode)
            for _ in range(3):
                await pilot.pause()
                await app.workers.wait_for_complete()
            if mode == "mappings":
                await pilot.click("#pg-expression")
                await pilot.press(*'Join(" ", [givenName], [surname]')
            if mode == "activity":
                await pilot.pause(0.6)  # one poll of the request log
                await app.workers.wait_for_complete()
                await pilot.pause()
                table = app.screen.query_one("#http")
                patches = [
                    i
                    for i, r in enumerate(table.ordered_rows)
                    if str(table.get_row(r.key)[2]) == "PATCH"
                ]
                table.move_cursor(row=patches[-2] if len(patches) > 1 else 0)
            await pilot.pause()
            app.save_screenshot(f"{mode}.svg", path=str(HERE))
            print(HERE / f"{mode}.svg")


async def capture_scenario() -> None:
    """The Scenario screen, seven steps into the shipped happy path."""
    from sandbox.scenarios import ScenarioSession

    session = ScenarioSession(
        str(HERE.parent.parent / "fixtures" / "scenarios" / "happy-path.toml")
    )
    sandbox = Sandbox.from_world(session.world)
    app = SandboxApp(sandbox, session=session, scheduler=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await app.switch_mode("scenario")
            for _ in range(7):
                await pilot.press("space")
                await app.workers.wait_for_complete()
                await pilot.pause()
            app.save_screenshot("scenario.svg", path=str(HERE))
            print(HERE / "scenario.svg")
    finally:
        sandbox.close()
        session.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = prepared(str(Path(tmp) / "sandbox.db"))
        try:
            asyncio.run(capture(sandbox))
        finally:
            sandbox.close()
    asyncio.run(capture_scenario())


if __name__ == "__main__":
    main()
