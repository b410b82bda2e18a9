"""Screen behaviours: refusals as notifications, mapping validation, the expression playground,
paging, the token shown once, help."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Label, Select, Static

from sandbox.engine.tenant.seed import seed_tenant
from sandbox.runtime import Sandbox
from tests.tui.pilot import go, settle
from tui.app import SandboxApp
from tui.screens.dialogs import ConfirmDialog, MessageDialog
from tui.screens.help import HelpScreen
from tui.screens.mapping_dialog import MappingDialog


def notifications(app: SandboxApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


async def test_a_refused_action_is_a_notification_with_the_reason(app: SandboxApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")  # restore a user who is not in the recycle bin
        await settle(pilot)
        assert ("dennis.boone@contoso.onmicrosoft.com is not in the recycle bin", "error") in (
            notifications(app)
        )
        assert app.is_running


async def test_the_mapping_dialog_shows_why_a_mapping_is_refused(app: SandboxApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await go(pilot, "4")
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, MappingDialog)
        dialog.query_one("#kind", Select).value = "Expression"
        dialog.query_one("#target", Input).value = "nickName"  # a target with no mapping yet
        dialog.query_one("#source", Input).value = 'Join(" ", [givenName]'
        await pilot.click("#ok")
        await settle(pilot)
        assert app.screen is dialog  # stays open
        error = str(dialog.query_one("#error", Label).render())
        assert "nickName: invalid expression at column" in error
        dialog.query_one("#source", Input).value = 'Join(" ", [givenName], [jobTitle])'
        await pilot.click("#ok")
        await settle(pilot)
        assert not isinstance(app.screen, MappingDialog)
        nick = next(m for m in app.sandbox.engine.config().user_mappings if m.target == "nickName")
        assert nick.source == 'Join(" ", [givenName], [jobTitle])'


async def test_the_playground_evaluates_as_you_type_and_marks_the_error_column(
    app: SandboxApp,
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await go(pilot, "4")
        expression = app.screen.query_one("#pg-expression", Input)
        expression.focus()
        await pilot.press(*'Join(" ", [givenName], [surname])')
        await settle(pilot)
        assert str(app.screen.query_one("#pg-result").render()) == "= Dennis Boone"
        expression.value = 'Left([surname], "x")'
        await settle(pilot)
        result = str(app.screen.query_one("#pg-result").render()).splitlines()
        caret = result[1].index("^")
        assert result[0] == 'Left([surname], "x")' and caret == result[0].index('"x"')
        # The user's app roles are what a cycle sees.
        user = app.screen.query_one("#pg-user", Input)
        user.value = "tyler.cole@contoso.onmicrosoft.com"
        app.sandbox.engine.app.assign(user.value, "ADMIN")
        await pilot.click("#pg-user")
        await pilot.press("enter")
        await settle(pilot)
        expression.value = "SingleAppRoleAssignment([appRoleAssignments])"
        await settle(pilot)
        assert str(app.screen.query_one("#pg-result").render()) == "= ADMIN"


async def test_directory_reads_one_page_at_a_time_and_searches(sandbox: Sandbox) -> None:
    seed_tenant(sandbox.engine.directory, seed=3, users=250, replace=True)
    app = SandboxApp(sandbox, scheduler=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        users = app.screen.query_one("#users", DataTable)
        pager = app.screen.query_one("#pager", Label)
        assert users.row_count == 100
        assert str(pager.render()) == "1-100 of 250  page 1/3"
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert str(pager.render()) == "201-250 of 250  page 3/3"
        await pilot.press("slash", *"guest")
        await settle(pilot)
        assert users.row_count == int(str(pager.render()).split(" of ")[1].split()[0]) < 100


async def test_the_first_screen_paints_with_its_data_before_any_worker_runs(
    sandbox: Sandbox,
) -> None:
    app = SandboxApp(sandbox, scheduler=False)
    async with app.run_test(size=(120, 40)):
        # No pause and no wait for workers: the page was read on the UI thread at mount.
        assert not [w for w in app.workers if w.group == "load"]
        users = app.screen.query_one("#users", DataTable)
        assert users.row_count == min(100, sandbox.engine.directory.count())
        assert str(app.screen.query_one("#pager", Label).render()).startswith("1-")


async def test_an_issued_token_is_shown_once_and_can_go_to_the_engine(app: SandboxApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await go(pilot, "6")
        await pilot.press("i")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.click("#ok")
        await settle(pilot)
        assert isinstance(app.screen, MessageDialog)
        token = str(app.screen.query_one("#text").render()).splitlines()[0]
        assert not app.sandbox.engine.test_connection().ok  # the old token stopped working
        await pilot.click("#use")
        await settle(pilot)
        assert app.sandbox.engine.config().secret_token == token
        assert app.sandbox.engine.test_connection().ok


async def test_test_connection_with_a_stale_token_says_how_to_enter_the_new_one(
    app: SandboxApp,
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await go(pilot, "6")
        await pilot.press("i")
        await pilot.click("#ok")
        await settle(pilot)
        await pilot.click("#ok")  # Close: the token is not entered in the engine
        await settle(pilot)
        await go(pilot, "3")
        await pilot.press("t")
        await settle(pilot)
        failed = [m for m, severity in notifications(app) if severity == "error"]
        assert any("invalid credentials" in m and "Use in engine" in m for m in failed), failed


async def test_help_lists_what_the_screen_does_and_its_keys(app: SandboxApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Soft-delete" in app.screen.text and "recycle bin" in app.screen.text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_a_cycle_shows_its_phase_beside_the_bar_and_hides_it_when_done(
    app: SandboxApp,
) -> None:
    app.sandbox.engine.app.assign_all_users()  # the seeded tenant has managers: references
    async with app.run_test(size=(120, 40)) as pilot:
        await go(pilot, "3")
        screen = app.screen
        label = screen.query_one("#progress-phase", Static)
        assert not label.display
        shown: list[tuple[str, bool, str]] = []
        forward = screen.show_progress  # type: ignore[attr-defined]

        def watch(done: int, total: int, phase: str = "") -> None:
            forward(done, total, phase)
            shown.append((phase, label.display, str(label.render())))

        screen.show_progress = watch  # type: ignore[attr-defined]
        await pilot.press("n")
        await settle(pilot)
        phases = [phase for phase, _shown, _text in shown if phase]
        assert phases[0] == "users" and phases[-1] == "manager references"
        assert all(visible for phase, visible, _text in shown if phase)
        assert any(text.startswith("users: ") and " of " in text for _p, _v, text in shown)
        assert not label.display  # the cycle ended: the bar stands alone again


async def test_the_filter_parser_is_loaded_after_the_first_paint(app: SandboxApp) -> None:
    from sandbox.provider.syntax import _parse_template

    _parse_template.cache_clear()
    app.warm_up_delay_s = 0  # at once rather than after the first paint
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.workers.wait_for_complete()
        # the first cycle's matching filter will not pay for loading the parser
        assert _parse_template.cache_info().currsize >= 1


async def test_activity_shows_the_graph_calls_as_a_side_of_their_own(app: SandboxApp) -> None:
    from sandbox.graph import GraphContext, create_graph_app

    graph = create_graph_app(GraphContext(app.sandbox.engine)).test_client()
    assert graph.get("/v1.0/servicePrincipals").status_code == 200
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "5")
        app.sandbox.flush_logs()
        pressed = []
        for _ in range(4):  # all, engine, provider, graph
            await pilot.press("s")
            await settle(pilot)
            await pilot.pause(0.6)  # the next poll of the request log
            table = app.screen.query_one("#http", DataTable)
            sides = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
            pressed.append((str(app.screen.query_one("#side", Label).render()), sides))
        assert pressed[2][0] == "graph side" and pressed[2][1] == {"graph"}
        assert pressed[3][0] == "all sides" and "graph" in pressed[3][1]
