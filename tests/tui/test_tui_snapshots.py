"""Snapshots of every screen and dialog at 140x45 and 80x24, on a seeded sandbox with the
simulated clock stopped (no real time, port or latency is on these screens), with the longest
real values highlighted: the default seed's longest UPN and the Nulab preset's longest
expression. Regenerate with `pytest tests/tui/test_tui_snapshots.py --snapshot-update`."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from sandbox.engine.mappings.scoping import parse_clause
from sandbox.engine.sync.scoping_edit import add_scoping_filter
from sandbox.runtime import Sandbox
from tests.tui.pilot import cursor_to, settle
from tui.app import SandboxApp

GUEST = "cindy.ortmann_gordon-smith.org#EXT#@contoso.onmicrosoft.com"
"""The default seed's longest UPN."""


def provisioned(sandbox: Sandbox) -> SandboxApp:
    """The guide's setup with two users assigned and two cycles played (initial, incremental)."""
    engine = sandbox.engine
    sandbox.use_preset("nulab")
    # one request at a time: the exchanges' numbers come in the same order on every run
    engine.configure(groups_enabled=False, max_concurrency=1)
    engine.app.assign("mary.hawkins@contoso.onmicrosoft.com", "ADMIN")
    engine.app.assign("tyler.cole@contoso.onmicrosoft.com", "USER")
    engine.app.assign(GUEST, "GUEST")
    engine.sync(1)
    engine.app.set_role("mary.hawkins@contoso.onmicrosoft.com", "GUEST")
    engine.directory.soft_delete("tyler.cole@contoso.onmicrosoft.com")
    engine.sync(1)
    return SandboxApp(sandbox, scheduler=False)


def still(screen) -> None:
    """No blinking cursor: a snapshot is taken whenever the test gets there."""
    for field in screen.query(Input):
        field.cursor_blink = False


SIZES = {"140x45": (140, 45), "80x24": (80, 24)}


def steps(mode: str, *keys: str, row: tuple[str, str] | None = None):
    """Show `mode`, highlight the row of `row` = (table id, cell text), then press `keys`."""

    async def run_before(pilot) -> None:
        await pilot.app.switch_mode(mode)
        await settle(pilot)
        screen = pilot.app.screen
        for _ in range(200):  # its data on screen (read in a worker), not half drawn
            if getattr(screen, "loads_shown", 1) or getattr(screen, "FIRST_LOAD_INLINE", 0):
                break
            await settle(pilot)
        if row is not None:
            table = pilot.app.screen.query_one(f"#{row[0]}")
            table.focus()
            cursor_to(table, row[1])
            await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if pilot.app.screen.focused is not None and not keys:
            pilot.app.screen.set_focus(None)
        still(pilot.app.screen)
        await pilot.pause()

    return run_before


SHOTS = {
    # screens
    "directory": steps("directory", row=("users", GUEST)),
    "directory-groups": steps("directory", "g"),
    "assignments": steps("assignments", row=("assignments", GUEST)),
    "provisioning": steps("provisioning"),
    "mappings": steps("mappings", row=("mappings", "timezone")),
    "mappings-groups": steps("mappings", "g"),
    "activity-logs": steps("activity", "l"),
    "provider": steps("provider"),
    "provider-teams": steps("provider", "t"),
    "help": steps("directory", "question_mark"),
    # dialogs
    "confirm-hard-delete": steps("directory", "D", row=("users", GUEST)),
    "confirm-issue-token": steps("provider", "i"),
    "assign": steps("directory", "A", row=("users", GUEST)),
    "edit-user": steps("directory", "e", row=("users", GUEST)),
    "edit-mapping": steps("mappings", "e", row=("mappings", "timezone")),
    "add-fault": steps("provider", "f"),
    "seat-limit": steps("provider", "l"),
    "on-demand": steps("provisioning", "o"),
    "open-scenario": steps("directory", "o"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("shot", SHOTS)
def test_snapshot(snap_compare, in_process: Sandbox, shot: str, size: str) -> None:
    assert snap_compare(provisioned(in_process), terminal_size=SIZES[size], run_before=SHOTS[shot])


async def press_button(pilot, selector: str) -> None:
    """Press a button of the Provisioning screen's settings (scrolled into view at 80x24)."""
    pilot.app.screen.query_one(selector).focus()
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_scoping_dialog(snap_compare, in_process: Sandbox, size: str) -> None:
    async def run_before(pilot) -> None:
        await pilot.app.switch_mode("provisioning")
        await settle(pilot)
        await press_button(pilot, "#add-filter")
        dialog = pilot.app.screen
        dialog.query_one("#attribute-0").value = "department"
        dialog.query_one("#value-0").value = "Sales"
        dialog.query_one("#attribute-1").value = "userPrincipalName"
        dialog.query_one("#operator-1").value = "ENDS_WITH"
        dialog.query_one("#value-1").value = "@contoso.onmicrosoft.com"
        dialog.set_focus(None)
        still(dialog)
        await pilot.pause()

    assert snap_compare(provisioned(in_process), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_group_scoping_dialog(snap_compare, in_process: Sandbox, size: str) -> None:
    async def run_before(pilot) -> None:
        await pilot.app.switch_mode("provisioning")
        await settle(pilot)
        await press_button(pilot, "#add-filter")
        dialog = pilot.app.screen
        dialog.query_one("#objects").value = "groups"
        await pilot.pause()
        dialog.query_one("#attribute-0").value = "displayName"
        dialog.query_one("#operator-0").value = "ENDS_WITH"
        dialog.query_one("#value-0").value = "Nulab Pass Users"
        dialog.query_one("#attribute-1").value = "description"
        dialog.query_one("#operator-1").value = "NOT REGEX MATCH"
        dialog.query_one("#value-1").value = "^Archived"
        dialog.set_focus(None)
        still(dialog)
        await pilot.pause()

    assert snap_compare(provisioned(in_process), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_clear_scoping_dialog(snap_compare, in_process: Sandbox, size: str) -> None:
    app = provisioned(in_process)
    engine = in_process.engine
    add_scoping_filter(
        engine,
        [
            parse_clause("department EQUALS Sales"),
            parse_clause(f"userPrincipalName EQUALS {GUEST}"),
        ],
    )
    add_scoping_filter(engine, [parse_clause("displayName ENDS_WITH Users")], groups=True)

    async def run_before(pilot) -> None:
        await pilot.app.switch_mode("provisioning")
        await settle(pilot)
        await press_button(pilot, "#clear-filters")
        pilot.app.screen.set_focus(None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_on_demand_group(snap_compare, in_process: Sandbox, size: str) -> None:
    """A group's members to pick: five picked, one soft-deleted (not selectable)."""
    app = provisioned(in_process)
    in_process.engine.configure(groups_enabled=True)

    async def run_before(pilot) -> None:
        await pilot.app.switch_mode("provisioning")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        pilot.app.screen.query_one("#principal").value = "Nulab Pass Users"
        await pilot.press("enter")
        await settle(pilot)
        for key in ("space", "down", "space", "down", "space", "down", "space", "down", "space"):
            await pilot.press(key)
        await settle(pilot)
        still(pilot.app.screen)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_activity(snap_compare, in_process: Sandbox, size: str) -> None:
    """The HTTP pane with the last exchange's request and response, each latency set to 1 ms
    (the only value on this screen that differs from run to run)."""
    app = provisioned(in_process)
    log = in_process.engine.request_log
    log.flush()
    with log.store.write() as db:
        db.execute("UPDATE request_log SET latency_ms = 1.0")

    async def run_before(pilot) -> None:
        await pilot.app.switch_mode("activity")
        await settle(pilot)
        pilot.app.screen.poll()
        await settle(pilot)
        still(pilot.app.screen)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)
