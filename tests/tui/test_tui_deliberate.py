"""Destructive actions are deliberate: each asks first, naming what it removes, with No (the
safe choice) focused, so enter pressed without reading removes nothing; what is said after is
what happened."""

from __future__ import annotations

from textual.widgets import Button, DataTable

from tests.tui.pilot import cursor_to, go, rows, settle
from tui.app import SandboxApp
from tui.screens.dialogs import ConfirmDialog

GROUP = "Nulab Pass Users"


def recorded(app: SandboxApp) -> list[str]:
    """Every message the app notifies from now on (a toast expires after 5 s: a slow run
    would not find it in app._notifications any more)."""
    messages: list[str] = []
    notify = app.notify

    def record(message: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        messages.append(message)
        return notify(message, *args, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    return messages


async def test_removing_a_member_names_the_member_and_the_group_and_asks_first(
    app: SandboxApp,
) -> None:
    told = recorded(app)
    directory = app.sandbox.engine.directory
    group = directory.get_group(GROUP)
    first = directory.members(group.id)[0]
    upn = first.user_principal_name
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "1")
        await pilot.press("g")
        await settle(pilot)
        cursor_to(app.screen.query_one("#groups", DataTable), GROUP)
        await settle(pilot)
        assert rows(app.screen.query_one("#members", DataTable))[0][0] == upn
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.question == f"Remove {upn} from {GROUP}?"
        assert dialog.focused is dialog.query_one("#cancel", Button)
        await pilot.press("enter")  # No: nothing removed
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert first.id in {m.id for m in directory.members(group.id)}
        await pilot.press("x")
        await settle(pilot)
        await pilot.click("#ok")
        await settle(pilot)
        assert first.id not in {m.id for m in directory.members(group.id)}
        assert f"Removed {upn} from {GROUP}" in told


async def test_hard_delete_asks_with_no_focused(app: SandboxApp) -> None:
    told = recorded(app)
    directory = app.sandbox.engine.directory
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "1")
        users = app.screen.query_one("#users", DataTable)
        upn = rows(users)[0][0]
        users.focus()
        await pilot.press("D")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.focused is dialog.query_one("#cancel", Button)
        await pilot.press("enter")
        await settle(pilot)
        assert directory.find_user(upn) is not None  # kept
        assert not any("deleted for good" in m for m in told)
