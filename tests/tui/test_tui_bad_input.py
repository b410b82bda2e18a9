"""Bad input in the UI's fields is a notification (or a line in the dialog) naming what was
wrong; the app keeps running and the stored settings are unchanged: a pasted 5,000-digit
number, a digit that is not ASCII ("²"), a target already mapped, a refused tenant URL."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Label, Select

from sandbox.engine.sync.clock import parse_duration
from sandbox.errors import SandboxError
from tests.tui.pilot import click_again, go, settle, text_of, words_in_order
from tests.tui.test_tui_controls import submit
from tui.app import SandboxApp
from tui.numbers import INT_MAX, whole_number
from tui.screens.fault_dialog import FaultDialog
from tui.screens.mapping_dialog import MappingDialog

HUGE = "9" * 5000
"""More digits than int() converts (4,300): int(HUGE) raises."""


def refusals(app: SandboxApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


def test_whole_number_takes_ascii_digits_up_to_its_maximum() -> None:
    assert whole_number(" 42 ", "x") == 42
    assert whole_number(str(INT_MAX), "x") == INT_MAX
    for text, words in (("²", "whole number"), ("-1", "whole number"), ("1e3", "whole number"),
                        ("", "whole number"), (HUGE, "at most"), (str(INT_MAX + 1), "at most"),
                        ("101", "at most 100")):  # fmt: skip
        with pytest.raises(ValueError, match=words):
            whole_number(text, "x", 100 if text == "101" else INT_MAX)


def test_a_duration_with_a_digit_that_is_not_ascii_is_the_usual_refusal() -> None:
    with pytest.raises(SandboxError, match="a duration reads like 40m"):
        parse_duration("²m")


async def test_a_huge_threshold_or_speed_is_refused_and_the_field_shows_the_setting(
    app: SandboxApp,
) -> None:
    engine = app.sandbox.engine
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        await submit(pilot, "#threshold", "7")
        assert engine.config().delete_threshold == 7
        await submit(pilot, "#threshold", HUGE)  # pasted: the app stays up
        assert engine.config().delete_threshold == 7
        assert any("the deletion threshold is at most" in m for m in refusals(app))
        assert app.screen.query_one("#threshold", Input).value == "7"
        before = engine.clock.speed
        await submit(pilot, "#speed", "999999999")  # refused by the clock: out of range
        assert engine.clock.speed == before
        assert app.screen.query_one("#speed", Input).value == f"{before:g}"
        await submit(pilot, "#speed", "1.2.3")
        assert any("not a speed: '1.2.3'" in m for m in refusals(app))
        assert app.screen.query_one("#speed", Input).value == f"{before:g}"


async def test_a_refused_tenant_url_keeps_the_typed_token(app: SandboxApp) -> None:
    engine = app.sandbox.engine
    token = engine.config().secret_token
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        app.screen.query_one("#tenant-url", Input).value = "ftp://bad"
        app.screen.query_one("#token", Input).value = "GOODTOKEN"
        await pilot.click("#save")
        await settle(pilot)
        assert refusals(app)
        assert engine.config().secret_token == token  # nothing stored
        assert app.screen.query_one("#token", Input).value == "GOODTOKEN"  # still typed
        assert app.screen.query_one("#tenant-url", Input).value == "ftp://bad"
        app.screen.query_one("#tenant-url", Input).value = "local"
        await click_again(pilot, "#save")
        await settle(pilot)
        assert engine.config().secret_token == "GOODTOKEN"
        assert app.screen.query_one("#token", Input).value == ""  # saved: never shown again


async def test_a_seat_limit_or_fault_number_that_is_no_count_is_refused(app: SandboxApp) -> None:
    org = app.sandbox.org
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "6")
        for typed in ("²", HUGE):
            await pilot.press("l")
            await submit(pilot, "#value", typed)
            assert org.seat_limit is None
        assert any("the seat limit must be a whole number, got '²'" in m for m in refusals(app))
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FaultDialog)
        dialog.query_one("#status", Select).value = "503"
        dialog.query_one("#retry", Input).value = HUGE
        await pilot.click("#ok")
        await settle(pilot)
        assert app.screen is dialog  # left open, with the reason
        assert any("Retry-After is at most" in m for m in refusals(app))
        dialog.query_one("#retry", Input).value = "90000"  # a number, over a day: the model's
        await click_again(pilot, "#ok")
        await settle(pilot)
        assert any("--retry-after is at most 86400 seconds" in m for m in refusals(app))
        assert app.sandbox.faults.list() == []


async def test_adding_a_mapping_to_a_mapped_target_is_refused_and_keeps_the_mapping(
    app: SandboxApp,
) -> None:
    engine = app.sandbox.engine
    before = {m.target: m for m in engine.config().user_mappings}["displayName"]
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "4")
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MappingDialog)
        dialog.query_one("#target", Input).value = "displayname"
        dialog.query_one("#kind", Select).value = "Constant"
        dialog.query_one("#source", Input).value = "X"
        dialog.query_one("#matching", Input).value = HUGE
        await pilot.click("#ok")
        await settle(pilot)
        error = str(dialog.query_one("#error", Label).render())
        assert "matching precedence is at most 100" in error
        dialog.query_one("#matching", Input).value = ""
        await click_again(pilot, "#ok")
        await settle(pilot)
        assert app.screen is dialog
        error = str(dialog.query_one("#error", Label).render())
        assert "displayName already has a mapping: edit it" in error
    assert {m.target: m for m in engine.config().user_mappings}["displayName"] == before


def test_a_fault_rule_beyond_the_clis_ranges_is_refused_by_the_sandbox(app: SandboxApp) -> None:
    faults = app.sandbox.faults
    with pytest.raises(SandboxError, match="--count must be between 1 and"):
        faults.add(status=500, count=10**20)
    with pytest.raises(SandboxError, match="--retry-after is at most 86400"):
        faults.add(status=429, retry_after=86401)
    assert faults.list() == []


@pytest.mark.parametrize("code", [0, 1])
def test_up_exits_with_the_uis_return_code(monkeypatch, code: int) -> None:
    # A UI that ended on an error (Textual prints the traceback and sets return_code 1) is
    # not a clean exit: a script running `sandbox up` sees it fail.
    from click.testing import CliRunner

    from sandbox.cli import cli
    from tests.tui.test_tui_scenario import HAPPY

    def run(self: SandboxApp) -> None:
        self._return_code = code

    monkeypatch.setattr(SandboxApp, "run", run)
    result = CliRunner().invoke(cli, ["up", "--scenario", str(HAPPY)])
    assert result.exit_code == code, result.output


async def test_the_flag_box_with_no_tenant_url_says_to_enter_one(app: SandboxApp) -> None:
    app.sandbox.engine.configure(tenant_url="")
    async with app.run_test(size=(140, 45)) as pilot:
        await go(pilot, "3")
        await pilot.click("#flag")
        await settle(pilot)
        assert any("enter a Tenant URL first" in m for m in refusals(app))
        assert app.sandbox.engine.config().tenant_url == ""


@pytest.mark.parametrize("size", [(160, 45), (80, 24)], ids=["160x45", "80x24"])
@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("preferedLangauge", "(checked against the local provider's /Schemas); did you mean "
         "preferredLanguage?"),
        ("USERNAME", "userName already has a mapping: edit it (e on the Mappings screen) "
         "instead of adding another"),
    ],
)  # fmt: skip
async def test_a_refused_mapping_shows_its_whole_reason_in_the_dialog(
    app: SandboxApp, size: tuple[int, int], target: str, words: str
) -> None:
    async with app.run_test(size=size) as pilot:
        await go(pilot, "4")
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MappingDialog)
        dialog.query_one("#target", Input).value = target
        dialog.query_one("#source", Input).value = "mail"
        await pilot.click("#ok")
        await settle(pilot)
        assert app.screen is dialog
        error = str(dialog.query_one("#error", Label).render())
        assert words in error
        shown = text_of(app, dialog.query_one(".dialog"))
        assert words_in_order(error, shown), shown
