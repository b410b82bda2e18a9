"""Every setting the CLI configures can be set on screen: each control changes the job as the
CLI's command does (the same runtime and engine functions), and the next cycle uses it."""

from __future__ import annotations

from textual.widgets import Checkbox, DataTable, Input, Select, Static

from sandbox.engine.mappings.scoping import ScopingFilter, parse_clause
from tests.tui.pilot import click_again, go, rows, settle
from tui.app import SandboxApp
from tui.screens.dialogs import PromptDialog
from tui.screens.mapping_dialog import MappingDialog
from tui.screens.scoping_clear_dialog import ClearScopingDialog

# Tenant members the seeded organization does not have (mail = UPN): a cycle creates them.
NAOTO = "naoto.sato@contoso.onmicrosoft.com"  # Engineering
CLAIRE = "claire.kostolzin@contoso.onmicrosoft.com"  # Sales


def last_records(app: SandboxApp) -> dict[str, tuple[str, str]]:
    """The last cycle's provisioning log: identity -> (action, status)."""
    engine = app.sandbox.engine
    cycle = engine.state().last_cycle_id
    return {r.source_name: (r.action, r.status) for r in engine.logs.query(cycle_id=cycle)}


def members(app: SandboxApp) -> set[str]:
    return {m.email for m in app.sandbox.org.members(limit=1000)}


async def submit(pilot, selector: str, value: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = value
    await pilot.press("enter")
    await settle(pilot)
    pilot.app.screen.set_focus(None)  # the keys are the screen's again (n: next cycle)


async def test_the_create_action_off_skips_a_new_user_in_the_next_cycle(app: SandboxApp) -> None:
    app.sandbox.use_preset("nulab")
    app.sandbox.engine.configure(groups_enabled=False)
    app.sandbox.engine.app.assign(NAOTO, "USER")
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        await pilot.click("#action-create")
        await settle(pilot)
        config = app.sandbox.engine.config()
        assert (config.create, config.update, config.delete) == (False, True, True)
        # as `sandbox entra configure --no-create`, and the box reads off without colour
        assert str(app.screen.query_one("#action-create", Checkbox).render()).startswith("▐ ▌")
        await pilot.press("n")
        await settle(pilot)
        assert last_records(app)[NAOTO] == ("Other", "Skipped")
        assert NAOTO not in members(app)
        await pilot.click("#action-create")  # on again; a restart reads every user again
        await settle(pilot)
        assert str(app.screen.query_one("#action-create", Checkbox).render()).startswith("▐X▌")
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert last_records(app)[NAOTO] == ("Create", "Success")


async def test_the_deletion_threshold_holds_back_the_next_cycles_disables(
    app: SandboxApp,
) -> None:
    engine = app.sandbox.engine
    app.sandbox.use_preset("nulab")
    engine.configure(groups_enabled=False)
    engine.app.assign(NAOTO, "USER")
    engine.app.assign(CLAIRE, "USER")
    engine.sync(1)
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        assert engine.config().delete_threshold is None  # off by default (§8.3)
        await pilot.click("#prevent")  # on, at the threshold typed (or 500)
        await settle(pilot)
        assert engine.config().delete_threshold == 500
        await pilot.click("#prevent")  # off: as --no-delete-threshold
        await settle(pilot)
        assert engine.config().delete_threshold is None
        await pilot.click("#prevent")  # on again
        await settle(pilot)
        assert engine.config().delete_threshold == 500
        await submit(pilot, "#threshold", "1")  # as --delete-threshold 1
        assert engine.config().delete_threshold == 1
        assert app.screen.query_one("#prevent", Checkbox).value
        engine.app.unassign(NAOTO)
        engine.app.unassign(CLAIRE)
        await pilot.press("n")
        await settle(pilot)
        assert {v for v in last_records(app).values()} == {("StagedDelete", "Skipped")}


async def test_a_scoping_filter_added_on_screen_scopes_the_next_cycle(app: SandboxApp) -> None:
    engine = app.sandbox.engine
    app.sandbox.use_preset("nulab")
    engine.configure(groups_enabled=False)
    engine.app.assign(NAOTO, "USER")  # Engineering
    engine.app.assign(CLAIRE, "USER")  # Sales
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        await pilot.click("#add-filter")
        dialog = app.screen
        assert type(dialog).__name__ == "ScopingDialog"
        dialog.query_one("#attribute-0", Input).value = "department"
        dialog.query_one("#operator-0", Select).value = "EQUALS"
        dialog.query_one("#value-0", Input).value = "Sales"
        dialog.query_one("#attribute-1", Input).value = "mail"
        dialog.query_one("#operator-1", Select).value = "IS NOT NULL"
        await pilot.click("#ok")
        await settle(pilot)
        # what `sandbox entra scoping add 'department EQUALS Sales' 'mail IS NOT NULL'` saves
        wanted = ScopingFilter(
            (parse_clause("department EQUALS Sales"), parse_clause("mail IS NOT NULL"))
        )
        assert engine.config().scoping_filters == (wanted,)
        listed = str(app.screen.query_one("#scoping", Static).render())
        assert "1. department EQUALS 'Sales' AND mail IS NOT NULL" in listed
        await pilot.press("n")
        await settle(pilot)
        records = last_records(app)
        assert records[CLAIRE] == ("Create", "Success") and records[NAOTO][1] == "Skipped"
        await pilot.click("#clear-filters")
        assert isinstance(app.screen, ClearScopingDialog)
        assert app.screen.query_one("#objects", Select).value == "users"
        await pilot.click("#ok")
        await settle(pilot)
        assert engine.config().scoping_filters == ()
        await pilot.press("n")  # the next cycle is initial and every assigned user in scope
        await settle(pilot)
        assert last_records(app)[NAOTO] == ("Create", "Success")


async def test_a_scoping_clause_on_an_unknown_attribute_is_refused_in_the_dialog(
    app: SandboxApp,
) -> None:
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        await pilot.click("#add-filter")
        dialog = app.screen
        dialog.query_one("#attribute-0", Input).value = "department"
        dialog.query_one("#operator-0", Select).value = "REGEX MATCH"
        dialog.query_one("#value-0", Input).value = "("
        await pilot.click("#ok")
        await settle(pilot)
        assert app.screen is dialog
        assert "invalid regular expression" in str(dialog.query_one("#error").render())
        dialog.query_one("#attribute-0", Input).value = "departement"
        dialog.query_one("#operator-0", Select).value = "EQUALS"
        dialog.query_one("#value-0", Input).value = "Sales"
        await click_again(pilot, "#ok")  # the same button, pressed a moment ago
        await settle(pilot)
        refusals = [n.message for n in app._notifications if n.severity == "error"]
        assert any("has no attribute 'departement'; did you mean department" in m for m in refusals)
        assert app.sandbox.engine.config().scoping_filters == ()


async def test_the_seat_limit_set_on_screen_refuses_the_next_cycles_extra_account(
    app: SandboxApp,
) -> None:
    engine, org = app.sandbox.engine, app.sandbox.org
    app.sandbox.use_preset("nulab")
    engine.configure(groups_enabled=False)
    engine.app.assign(NAOTO, "USER")
    engine.app.assign(CLAIRE, "USER")
    limit = org.seats_used() + 1  # one more active account, not two
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "6")
        await pilot.press("l")
        assert isinstance(app.screen, PromptDialog)
        await submit(pilot, "#value", str(limit))
        assert org.seat_limit == limit  # as `sandbox provider seats --limit N`
        assert f"seats {limit - 1}/{limit}" in str(app.screen.query_one("#org", Static).render())
        await pilot.press("n")
        await settle(pilot)
        statuses = sorted(status for _action, status in last_records(app).values())
        assert statuses == ["Failure", "Success"]
        await pilot.press("l")
        await submit(pilot, "#value", "")  # empty: unlimited, as --unlimited
        assert org.seat_limit is None


async def test_a_group_mapping_edited_on_screen_makes_the_next_cycle_initial(
    app: SandboxApp,
) -> None:
    # The sandbox's provider (Nulab's) has no /Groups, so a group cycle stops at its first
    # request; what the engine does with the edit is the initial cycle it forces, as for
    # `configure(group_mappings=...)`.
    engine = app.sandbox.engine
    engine.configure(groups_enabled=False)
    engine.sync(1)
    assert not engine.state().initial_needed
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "4")
        await pilot.press("g")
        await settle(pilot)
        table = app.screen.query_one("#mappings", DataTable)
        assert [r[0] for r in rows(table)] == ["displayName", "externalId", "members"]
        await pilot.press("down", "e")  # externalId
        dialog = app.screen
        assert isinstance(dialog, MappingDialog) and dialog.groups
        dialog.query_one("#kind", Select).value = "Expression"
        dialog.query_one("#source", Input).value = 'Join("-", "grp", [objectId])'
        await pilot.click("#ok")
        await settle(pilot)
        saved = {m.target: m for m in engine.config().group_mappings}
        assert saved["externalId"].source == 'Join("-", "grp", [objectId])'
        assert saved["displayName"].matching_precedence == 1  # the others kept
        assert engine.config().user_mappings[0].target == "userName"  # users' untouched
        await pilot.press("n")
        await settle(pilot)
        assert engine.cycles(1)[-1]["kind"] == "initial"
        await pilot.press("x")  # externalId can go; displayName (required) cannot
        await settle(pilot)
        await pilot.click("#ok")
        await settle(pilot)
        assert [m.target for m in engine.config().group_mappings] == ["displayName", "members"]


async def test_the_clock_speed_and_an_advance_set_on_screen_move_the_next_cycle(
    app: SandboxApp,
) -> None:
    engine = app.sandbox.engine
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        await pilot.press("s")  # start: the next cycle is due now
        await settle(pilot)
        before = engine.clock.now()
        await submit(pilot, "#advance", "6h")  # as `sandbox entra clock --advance 6h`
        assert (engine.clock.now() - before).total_seconds() >= 6 * 3600
        await pilot.press("n")
        await settle(pilot)
        started = engine.cycles(1)[-1]["started"]
        assert started >= (before.replace(microsecond=0).isoformat().replace("+00:00", ""))
        await submit(pilot, "#speed", "60")  # as `sandbox entra clock --speed 60`
        assert engine.clock.speed == 60
        status = str(app.screen.query_one("#job-status", Static).render())
        assert "clock x60" in status
        assert "(in 40 s at x60)" in status or "(in 39 s at x60)" in status
