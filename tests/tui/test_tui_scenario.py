"""A scenario in the UI: opened with `sandbox up --scenario` or the `o` dialog, stepped through on
the Scenario screen, its world shown by every other screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from sandbox.runtime import Sandbox
from sandbox.scenarios import ScenarioSession
from tests.tui.pilot import go, row_of, rows, settle
from tui.app import SandboxApp
from tui.screens.scenario_dialog import OpenScenarioDialog

SCENARIOS = Path(__file__).resolve().parent.parent.parent / "fixtures" / "scenarios"
HAPPY = SCENARIOS / "happy-path.toml"


@pytest.fixture
def session() -> Iterator[ScenarioSession]:
    session = ScenarioSession(HAPPY)
    yield session
    session.close()


def scenario_app(session: ScenarioSession) -> SandboxApp:
    """The UI on the scenario's world, as `sandbox up --scenario` builds it."""
    return SandboxApp(Sandbox.from_world(session.world), scheduler=False, session=session)


def marks(app: SandboxApp) -> str:
    return "".join(r[0] or "." for r in rows(app.screen.query_one("#steps", DataTable)))


async def test_stepping_through_the_happy_path_to_the_end(session: ScenarioSession) -> None:
    app = scenario_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.current_mode == "scenario"
        assert "no loopback port" in app.sub_title
        assert marks(app) == "▶........."
        await pilot.press("space")
        await settle(pilot)
        assert marks(app) == "✓▶........"
        steps = len(session.scenario.steps)
        for _ in range(steps - 1):
            await pilot.press("space")
            await settle(pilot)
        assert session.done and session.result.passed
        assert marks(app) == "✓" * steps
        progress = str(app.screen.query_one("#scenario-progress", Static).render())
        assert f"{steps}/{steps} steps played" in progress and "PASS" in progress
        await pilot.press("space")  # nothing left: told, nothing raised
        await settle(pilot)
        # The provisioned members are on the Provider screen of the scenario's world.
        await go(pilot, "6")
        ada = row_of(app.screen.query_one("#org-members", DataTable), "ada@example.com")
        assert "ADMIN" in ada and "Provisioned Managed Account" in ada
        grace = row_of(app.screen.query_one("#org-members", DataTable), "grace@example.com")
        assert "Grace B. Hopper" in grace


async def test_run_the_rest_then_restart_from_the_first_step(session: ScenarioSession) -> None:
    app = scenario_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert session.done and marks(app) == "✓" * len(session.scenario.steps)
        await pilot.press("R")
        await settle(pilot)
        assert app.session is not session and app.session.position == 0
        assert marks(app).startswith("▶")
        await go(pilot, "6")  # a fresh world: nobody provisioned yet
        table = app.screen.query_one("#org-members", DataTable)
        assert [r[0] for r in rows(table)] == ["owner@example.com"]
    app.session.close()


async def test_a_failed_expectation_is_marked_and_listed(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(
        HAPPY.read_text().replace(
            'email = "alan@example.com", role = "GUEST"',
            'email = "alan@example.com", role = "USER"',
        )
    )
    session = ScenarioSession(wrong)
    app = scenario_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert marks(app)[6] == "✗"
        listed = str(app.screen.query_one("#scenario-failures", Static).render())
        assert "(step 7)" in listed and "GUEST" in listed
    session.close()


async def test_opening_a_shipped_scenario_from_the_database_sandbox_and_closing_it(
    app: SandboxApp,
) -> None:
    database = app.sandbox
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await go(pilot, "7")
        assert "No scenario loaded" in str(app.screen.query_one("#scenario-head", Static).render())
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OpenScenarioDialog)
        names = [Path(f).name for f in app.screen.files]
        index = names.index("happy-path.toml")
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert app.session is not None and app.session.path.name == "happy-path.toml"
        assert app.current_mode == "scenario"
        # The database's provider still answers on its port, and the header says so.
        assert app.sub_title == (
            "scenario happy-path.toml: its provider in process · the database's provider "
            f"still on {database.provider_url}"
        )
        await go(pilot, "1")  # the Directory now shows the scenario's tenant
        assert "ada@contoso.onmicrosoft.com" in str(rows(app.screen.query_one("#users", DataTable)))
        # and `c` on the Scenario screen goes back to the database's sandbox.
        await go(pilot, "7")
        await pilot.press("c")
        await settle(pilot)
        assert app.session is None and app.sandbox is database
        assert app.sub_title.startswith(f"provider {database.provider_url}")
        await go(pilot, "1")
        upns = str(rows(app.screen.query_one("#users", DataTable)))
        assert "dennis.boone@contoso.onmicrosoft.com" in upns
        assert "ada@contoso.onmicrosoft.com" not in upns


async def test_a_broken_scenario_file_is_a_notification(app: SandboxApp, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[step]\n")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_scenario(str(broken))
        await settle(pilot)
        assert app.session is None
        assert any("invalid TOML" in n.message for n in app._notifications)


@pytest.mark.parametrize(
    "size", [(140, 45), (100, 30), (80, 24)], ids=["140x45", "100x30", "80x24"]
)
def test_the_scenario_screen_half_way_through_the_happy_path(snap_compare, size) -> None:
    session = ScenarioSession(HAPPY)

    async def seven_steps(pilot) -> None:
        await settle(pilot)
        for _ in range(7):  # through the initial cycle and its expectations
            await pilot.press("space")
            await settle(pilot)

    try:
        assert snap_compare(scenario_app(session), terminal_size=size, run_before=seven_steps)
    finally:
        session.close()


def test_up_with_a_scenario_refuses_a_database_option_or_a_missing_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sandbox.cli import cli

    mixed = CliRunner().invoke(cli, ["up", "--scenario", str(HAPPY), "--port", "0"])
    assert mixed.exit_code == 2 and "--scenario brings its own world" in mixed.output
    missing = CliRunner().invoke(cli, ["up", "--scenario", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 1 and "cannot read" in missing.output
    assert "Traceback" not in missing.output


def progress(app: SandboxApp) -> str:
    return str(app.screen.query_one("#scenario-progress", Static).render())


async def test_nothing_is_pass_before_every_step_ran_and_every_check_held(
    session: ScenarioSession,
) -> None:
    app = scenario_app(session)
    steps = len(session.scenario.steps)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert progress(app) == f"0/{steps} steps played (next: step 1), 0 checks held so far"
        for _ in range(2):  # test-connection, then its expectation
            await pilot.press("space")
            await settle(pilot)
        assert progress(app) == f"2/{steps} steps played (next: step 3), 1 check held so far"
        await pilot.press("r")
        await settle(pilot)
        assert progress(app).endswith(f"{steps}/{steps} steps played, 12/12 checks held: PASS")


async def test_a_failed_check_is_fail_at_once_and_a_step_not_run_is_no_pass(
    tmp_path: Path,
) -> None:
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(
        HAPPY.read_text().replace(
            'connection = { ok = true, message = "The specified',
            'connection = { ok = false, message = "The specified',
        )
    )
    session = ScenarioSession(wrong)
    app = scenario_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for _ in range(2):
            await pilot.press("space")
            await settle(pilot)
        assert progress(app) == "2/10 steps played (next: step 3), 0/1 check held: FAIL (1 failure)"
    session.close()
    refused = tmp_path / "refused.toml"
    refused.write_text(
        HAPPY.read_text() + '\n[[step]]\naction = "allow-deletes"\n'  # nothing is staged
    )
    session = ScenarioSession(refused)
    app = scenario_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("r")  # runs up to the refused last step
        await settle(pilot)
        assert session.done and progress(app) == (
            "10/11 steps played, 1 not run, 12/12 checks held: FAIL (1 step not run)"
        )
    session.close()


async def test_a_scenario_with_a_wrong_field_is_a_notification_naming_it(
    app: SandboxApp, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(HAPPY.read_text().replace("users = 0", 'users = "lots"'))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_scenario(str(wrong))
        await settle(pilot)
        assert app.session is None
        assert any(
            f"{wrong}:" in n.message and "tenant.users must be an integer" in n.message
            for n in app._notifications
        )


async def test_the_open_dialog_lists_the_shipped_scenarios_from_any_directory(
    app: SandboxApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await go(pilot, "7")
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OpenScenarioDialog)
        assert sorted(Path(f).name for f in app.screen.files) == sorted(
            p.name for p in SCENARIOS.glob("*.toml")
        )


def test_the_open_dialog_shows_a_file_that_is_not_utf8_as_unreadable(tmp_path: Path) -> None:
    from tui.screens.scenario_dialog import headline

    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('name = "café"\n'.encode("latin-1"))
    assert "unreadable" in headline(latin1).plain
