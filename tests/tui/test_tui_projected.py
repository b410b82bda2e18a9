"""The UI as a class sees it projected, at 140x45 and 80x24: no sentence, value or key cut
without a way to read it whole, and state that reads without colour."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from sandbox.runtime import Sandbox
from tests.tui.pilot import cursor_to, go, screen_text, settle, text_of, words_in_order
from tests.tui.test_tui_snapshots import provisioned
from tui.app import SandboxApp
from tui.screens.dialogs import ConfirmDialog

SIZES = [(140, 45), (80, 24)]
GUEST = "cindy.ortmann_gordon-smith.org#EXT#@contoso.onmicrosoft.com"
"""The default seed's longest UPN."""
URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
NULAB_TIMEZONE = (
    'Switch([country], "Asia/Tokyo", "United States", "America/New_York", "Netherlands", '
    '"Europe/Amsterdam")'
)
"""The Nulab preset's longest expression."""


def dialog_text(app: SandboxApp) -> list[str]:
    return text_of(app, app.screen.query_one(".dialog"))


@pytest.mark.parametrize("size", SIZES, ids=["140x45", "80x24"])
async def test_a_confirm_dialog_shows_its_whole_question(app: SandboxApp, size) -> None:
    question = "Issue a new SCIM token? The current one stops working at once."
    async with app.run_test(size=size) as pilot:
        await go(pilot, "6")
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert words_in_order(question, dialog_text(app))
        await pilot.press("escape")
        await go(pilot, "1")
        users = app.screen.query_one("#users", DataTable)
        users.focus()
        cursor_to(users, GUEST)
        await pilot.press("D")
        await settle(pilot)
        assert words_in_order(
            f"Delete {GUEST} for good, with its memberships and assignments?", dialog_text(app)
        )


def test_columns_keep_what_fits_and_share_the_rest() -> None:
    from tui.widgets.fit_table import share

    # all fit: each as wide as its content
    assert share([10, 5, 20], [4, 4, 4], 40) == [10, 5, 20]
    # too wide: the narrow ones whole, the wide ones share the rest evenly
    assert share([40, 6, 60], [4, 4, 4], 60) == [27, 6, 27]
    # a column kept whole (None) never shrinks; a minimum holds while it can
    assert share([40, 6, 60], [None, 4, 30], 80) == [40, 6, 34]
    assert share([40, 6, 60], [None, 4, 30], 50) == [40, 5, 5]


async def test_rows_drawn_before_a_fit_are_drawn_again_at_its_widths() -> None:
    # The DataTable caches each row as drawn, keyed on the cursor and a count that its idle
    # step moves on; a table under a dialog gets no message after a fit, so its rows stayed
    # drawn at their old widths (the mapping dialog's 140x45 snapshot).
    from rich.text import Text
    from textual.app import App, ComposeResult

    from tui.widgets.fit_table import FitTable

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield FitTable(id="table")

    app = One()
    async with app.run_test(size=(60, 5)):
        table = app.query_one(FitTable)
        table.add_fitted("name", None)
        table.add_fitted("value", 4)
        table.add_row(Text("guest"), Text("x" * 80))
        table.add_row(Text("member"), Text("y" * 80))
        drawn = table.render_line(2).text  # drawn before the fit: at the labels' widths
        assert "y" * 40 not in drawn, drawn
        table.fit()  # what the table does next (and on a resize), with no message between
        assert "y" * 40 in table.render_line(2).text


async def test_columns_take_the_width_the_screen_has(sandbox: Sandbox) -> None:
    app = SandboxApp(sandbox, scheduler=False)
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        shown = "\n".join(screen_text(app))
        for upn in (
            "clifford.johnson@contoso.onmicrosoft.com",
            "kathryn.scott@contoso.onmicrosoft.com",
        ):
            assert upn in shown  # whole, not "...onmicrosoft.co"


@pytest.mark.parametrize("size", SIZES, ids=["140x45", "80x24"])
async def test_a_cut_value_reads_whole_below_its_table(sandbox: Sandbox, size) -> None:
    app = SandboxApp(sandbox, scheduler=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        users = app.screen.query_one("#users", DataTable)
        cursor_to(users, GUEST)
        await settle(pilot)
        assert GUEST in str(app.screen.query_one("#users-whole", Static).render())
        assert words_in_order(f"userPrincipalName: {GUEST}", screen_text(app))
        await go(pilot, "4")  # the default mappings: the enterprise extension's URNs
        cursor_to(app.screen.query_one("#mappings", DataTable), URN)
        await settle(pilot)
        assert words_in_order(URN, screen_text(app))
        app.sandbox.use_preset("nulab")
        app.screen.reload()
        await settle(pilot)
        cursor_to(app.screen.query_one("#mappings", DataTable), "timezone")
        await settle(pilot)
        assert words_in_order(NULAB_TIMEZONE, screen_text(app))


@pytest.mark.parametrize("size", SIZES, ids=["140x45", "80x24"])
async def test_every_footer_starts_with_help_and_cuts_no_key(app: SandboxApp, size) -> None:
    async with app.run_test(size=size) as pilot:
        for key in "1234567":
            await go(pilot, key)
            footer = screen_text(app)[-1]
            assert footer.split()[:2] == ["?", "Help"], footer
            for shown in app.screen.query(FooterKey):
                if shown.display:
                    assert f"{shown.key_display} {shown.description}" in footer, footer
        await go(pilot, "1")
        await pilot.press("g")  # the Groups tab's own keys
        await settle(pilot)
        footer = screen_text(app)[-1]
        assert "m Add member" in footer and "x Remove member" in footer


@pytest.mark.parametrize("size", SIZES, ids=["140x45", "80x24"])
async def test_the_provisioning_blade_reads_whole(in_process: Sandbox, size) -> None:
    app = provisioned(in_process)
    async with app.run_test(size=size) as pilot:
        await go(pilot, "3")
        settings = "\n".join(text_of(app, app.screen.query_one("#settings")))
        for text in ("(unchanged)", "assigned users and groups", "e.g. 500 (enter)"):
            assert text in settings, settings
        assert text_of(app, app.screen.query_one("#progress"))[0].rstrip().endswith("100%")


@pytest.mark.parametrize("size", SIZES, ids=["140x45", "80x24"])
async def test_a_long_upn_reads_whole_in_assignments_and_the_assign_dialog(
    in_process: Sandbox, size
) -> None:
    app = provisioned(in_process)  # the guest is assigned
    async with app.run_test(size=size) as pilot:
        await go(pilot, "2")
        table = app.screen.query_one("#assignments", DataTable)
        cursor_to(table, GUEST)
        await settle(pilot)
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no scrolling
        lines = screen_text(app)
        assert "role   assigned" in lines[3]  # every label whole
        assert words_in_order(GUEST, lines)  # in its row, or (80x24) below the table
        await go(pilot, "1")
        users = app.screen.query_one("#users", DataTable)
        users.focus()
        cursor_to(users, GUEST)
        await pilot.press("A")
        await settle(pilot)
        assert any(GUEST in line for line in dialog_text(app))


async def test_the_header_shows_the_provider_url_whole_at_80_columns(app: SandboxApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.sandbox.provider_url in screen_text(app)[0]


async def test_the_last_cycle_shows_in_the_chart_at_80x24(in_process: Sandbox) -> None:
    app = provisioned(in_process)
    in_process.engine.sync(10)  # more cycles than the chart has lines: the newest show
    async with app.run_test(size=(80, 24)) as pilot:
        await go(pilot, "3")
        chart = text_of(app, app.screen.query_one("#chart"))
        assert chart[-1].lstrip().startswith("#12   increm."), chart
        legend = " ".join(line for line in chart if "■" in line)
        for name in ("created", "updated", "disabled", "failed"):  # each with its square
            assert f"■ {name}" in legend, chart


async def test_the_provider_screen_shows_team_members_and_the_last_cycles_effects(
    in_process: Sandbox,
) -> None:
    app = provisioned(in_process)  # Mary downgraded to GUEST in cycle 2
    async with app.run_test(size=(80, 24)) as pilot:
        await go(pilot, "6")
        effects = str(app.screen.query_one("#effects", Static).render())
        assert (
            "mary.hawkins@contoso.onmicrosoft.com (Update): role downgraded from ADMIN to GUEST"
            in (" ".join(effects.split()))
        )
        assert "removed from team 'Sales' (guests not allowed)" in " ".join(effects.split())
        await pilot.press("t")  # Teams
        await settle(pilot)
        teams = app.screen.query_one("#teams", DataTable)
        cursor_to(teams, "Sales")
        await settle(pilot)
        listed = str(app.screen.query_one("#team-members", Static).render())
        sales = next(t for t in app.sandbox.org.teams() if t.name == "Sales")
        assert listed.startswith("Sales: ") and all(m in listed for m in sales.members)
        assert "mary.hawkins@example.com" not in listed
        assert f"★ {sales.admins[0]}" in listed


async def test_activity_arrows_move_in_the_list_at_once_and_z_zooms_the_details(
    in_process: Sandbox,
) -> None:
    app = provisioned(in_process)
    async with app.run_test(size=(80, 24)) as pilot:
        await go(pilot, "5")
        app.screen.poll()  # read the request log now rather than at the next tick
        await settle(pilot)
        table = app.screen.query_one("#http", DataTable)
        assert app.screen.focused is table
        last = table.cursor_row
        await pilot.press("up", "up")
        assert table.cursor_row == last - 2
        await pilot.press("z")
        details = app.screen.query_one("#exchange-scroll")
        assert app.screen.maximized is details and app.screen.focused is details
        await pilot.press("pagedown")
        await settle(pilot)
        assert details.scroll_y > 0
        await pilot.press("escape")
        assert app.screen.maximized is None and app.screen.focused is table


async def test_switching_back_to_directory_reads_nothing_when_nothing_changed(
    app: SandboxApp,
) -> None:
    # A cycle only reads the directory: while one runs (10k users), going back to Directory
    # shows its page at once instead of waiting for a read that competes with the cycle.
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        directory = app.screen
        reads: list[int] = []
        real = directory.load

        def counted():  # type: ignore[no-untyped-def]
            reads.append(1)
            return real()

        directory.load = counted  # type: ignore[method-assign]
        await go(pilot, "3")
        await pilot.press("n")  # a cycle: it changes the target, not the directory
        await settle(pilot)
        await go(pilot, "1")
        assert reads == []
        await go(pilot, "3")
        app.sandbox.engine.directory.block(GUEST)  # a change made elsewhere (the CLI...)
        await go(pilot, "1")
        assert reads == [1]
        row = next(r for r in directory.users.values() if r.user_principal_name == GUEST)
        assert not row.account_enabled
