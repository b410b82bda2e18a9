"""The whole trainer's story driven through the UI, over a real loopback provider: assign as
ADMIN, cycle, see the account in Provider; downgrade to GUEST and see the team effects;
soft-delete and see it inactive; toggle ?aadOptscim062020 and see the PATCH body change."""

from __future__ import annotations

import json

from textual.widgets import DataTable, Select

from tests.tui.pilot import cursor_to, go, row_of, settle
from tui.app import SandboxApp
from tui.screens.dialogs import AssignDialog, PromptDialog

UPN = "mary.hawkins@contoso.onmicrosoft.com"
EMAIL = "mary.hawkins@example.com"  # her mail, which the Nulab preset maps to userName


async def cycle(pilot) -> None:
    await pilot.press("n")
    await settle(pilot)


def patches(app: SandboxApp) -> list[dict]:
    """The engine's PATCH requests the Activity screen received, oldest first."""
    entries = app.screen.entries.values()  # type: ignore[attr-defined]
    return [
        json.loads(e["request_body"])
        for e in entries
        if e["side"] == "engine" and e["method"] == "PATCH"
    ]


async def test_assign_downgrade_delete_and_flag_through_the_ui(app: SandboxApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # Guide step 6 and 5: the Nulab mappings, group provisioning off.
        await go(pilot, "4")
        await pilot.press("p")
        assert isinstance(app.screen, PromptDialog)
        await pilot.press("enter")  # the dialog offers "nulab"
        await settle(pilot)
        assert "preset: nulab" in str(app.screen.query_one("#summary").render())
        await go(pilot, "3")
        await pilot.click("#groups-on")
        await settle(pilot)
        assert app.sandbox.engine.config().groups_enabled is False

        # Assign her as ADMIN, run a cycle, see the provisioned account.
        await go(pilot, "2")
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, AssignDialog)
        await pilot.press(*UPN)
        dialog.query_one("#role", Select).value = "ADMIN"
        await pilot.press("enter")
        await settle(pilot)
        assert row_of(app.screen.query_one(DataTable), UPN)[2] == "ADMIN"
        await cycle(pilot)
        await go(pilot, "6")
        member = row_of(app.screen.query_one("#org-members", DataTable), EMAIL)
        assert member[1:4] == ["ADMIN", "yes", "Provisioned Managed Account"]
        assert "Engineering" in member[7]

        # Downgrade to GUEST: she leaves the teams that allow no guests and is no team admin.
        await go(pilot, "2")
        cursor_to(app.screen.query_one(DataTable), UPN)
        await pilot.press("c")
        app.screen.query_one("#role", Select).value = "GUEST"
        await pilot.click("#ok")
        await settle(pilot)
        await cycle(pilot)
        await go(pilot, "6")
        member = row_of(app.screen.query_one("#org-members", DataTable), EMAIL)
        assert member[1] == "GUEST"
        assert "Engineering" not in member[7]
        teams = app.screen.query_one("#teams", DataTable)
        assert "mary.hawkins" not in row_of(teams, "Design")[3]

        # Soft-delete her in the tenant: the next cycle deactivates the account.
        await go(pilot, "1")
        await pilot.press("slash", *"mary.hawkins", "enter")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert row_of(app.screen.query_one("#users", DataTable), UPN)[3] == "recycle bin"
        await cycle(pilot)
        await go(pilot, "6")
        assert row_of(app.screen.query_one("#org-members", DataTable), EMAIL)[2] == "no"

        # The Activity stream shows the legacy PATCH (PascalCase op, "False" string)...
        await go(pilot, "5")
        before = patches(app)[-1]
        assert before["Operations"] == [{"op": "Replace", "path": "active", "value": "False"}]

        # ... and with ?aadOptscim062020 the restore's PATCH is the 2020 dialect.
        await go(pilot, "3")
        await pilot.click("#flag")
        await settle(pilot)
        assert app.sandbox.engine.config().tenant_url == "local?aadOptscim062020"
        await go(pilot, "1")
        await pilot.press("r")
        await settle(pilot)
        await cycle(pilot)
        await go(pilot, "5")
        after = patches(app)[-1]
        assert after["Operations"][0]["op"] == "replace"
        assert after["Operations"][0]["value"] in ({"active": True}, True)
        shown = str(app.screen.query_one("#exchange").render())
        assert "PATCH" in shown and '"op": "replace"' in shown
