"""Provides ScenarioScreen: a loaded scenario's steps, played one at a time (or the rest at once),
each marked passed or failed, with the failures of its expectations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from tui.screens.base import SandboxScreen, columns, fitted, reason

if TYPE_CHECKING:
    from sandbox.scenarios import ScenarioSession, StepOutcome


def fields_text(step: dict[str, Any]) -> str:
    """A step's fields on one line, as in its file: `principal=ada@... role=ADMIN`."""
    parts = []
    for key, value in step.items():
        if key == "action":
            continue
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}={shown}")
    return "  ".join(parts)


def mark(outcome: StepOutcome | None, is_next: bool) -> Text:
    """✓ passed, ✗ failed or refused, ▶ the next step, blank for the later ones."""
    if outcome is None:
        return Text("▶" if is_next else "", style="bold")
    if outcome.passed:
        return Text("✓", style="bold green")
    return Text("✗", style="bold red")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def verdict(session: ScenarioSession) -> str | None:
    """PASS once every step ran and every check held, FAIL once a check failed (or, at the
    end, a step could not run); None while it is still open."""
    result = session.result
    if result.failures:
        return f"FAIL ({_plural(len(result.failures), 'failure')})"
    refused = sum(1 for o in session.outcomes if o.error)
    if session.done:
        return f"FAIL ({_plural(refused, 'step')} not run)" if refused else "PASS"
    return None


def progress_text(session: ScenarioSession) -> str:
    """How far the session got: steps played, checks held, and the verdict once there is one
    (never PASS before the last step)."""
    result = session.result
    total = len(session.scenario.steps)
    refused = sum(1 for o in session.outcomes if o.error)
    played = f"{result.steps}/{total} steps played"
    if not session.done:
        played += f" (next: step {session.position + 1})"
    if refused:
        played += f", {refused} not run"
    held = f"{result.held}/{_plural(result.checks, 'check')} held"
    outcome = verdict(session)
    if outcome is None:
        return f"{played}, {_plural(result.held, 'check')} held so far"
    return f"{played}, {held}: {outcome}"


class ScenarioScreen(SandboxScreen):
    """The loaded scenario and its steps."""

    MODE = "scenario"
    HELP = """\
**Scenario**: a scenario file played step by step in its own seeded world (an in-memory
sandbox; the provider has no port, the engine reaches it through the WSGI transport). Every
other screen shows that world: its tenant, organization, job, logs and HTTP exchanges, and can
be used between steps. The cursor is on the next step; each step played is marked ✓ or ✗, and
the failed expectations are listed below, as `sandbox scenario run` prints them. Open a shipped
scenario with `o`, or start with `sandbox up --scenario FILE`; `c` closes it and goes back to
the database's sandbox (whose provider kept serving on its port meanwhile).
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,enter", "step", "Next step", key_display="space"),
        Binding("r", "rest", "Run the rest"),
        Binding("R", "restart", "Restart"),
        Binding("o", "app.open_scenario", "Open scenario"),
        Binding("c", "app.close_scenario", "Close scenario"),
    ]

    @dataclass
    class Played(Message):
        """A thread worker played steps: their outcomes, or why it could not."""

        outcomes: list[StepOutcome]
        error: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.playing = False

    @property
    def session(self) -> ScenarioSession | None:
        """The app's loaded scenario."""
        return self.app.session  # type: ignore[attr-defined, no-any-return]

    def body(self) -> ComposeResult:
        yield Static(id="scenario-head", classes="head")
        yield Static(id="scenario-progress", classes="summary")
        yield from fitted("steps", zebra_stripes=True)
        yield Static(id="scenario-failures", classes="detail", markup=False)

    def on_mount(self) -> None:
        columns(
            self.query_one("#steps", DataTable),
            ("", None),
            ("#", None),
            ("action", None),
            ("fields", 10),
        )

    # -- showing (all in memory: no worker needed) ----------------------------------------

    def reload(self) -> None:
        session = self.session
        head = self.query_one("#scenario-head", Static)
        table = self.query_one("#steps", DataTable)
        failures = self.query_one("#scenario-failures", Static)
        table.clear()
        if session is None:
            head.update("No scenario loaded: press [b]o[/b] to open a shipped one.")
            self.query_one("#scenario-progress", Static).update("")
            failures.update("")
            return
        scenario = session.scenario
        description = " ".join(scenario.description.split())
        head.update(
            Text.assemble(
                (scenario.name, "bold"),
                f"  {session.path.name} · seed {scenario.seed}\n",
                (description, "italic"),
            )
        )
        self.query_one("#scenario-progress", Static).update(progress_text(session))
        for index, step in enumerate(scenario.steps):
            outcome = session.outcomes[index] if index < session.position else None
            table.add_row(
                mark(outcome, index == session.position),
                Text(str(index + 1), justify="right"),
                Text(step["action"]),
                Text(fields_text(step)),
            )
        table.move_cursor(row=min(session.position, len(scenario.steps) - 1))
        lines = []
        for outcome in session.outcomes:
            if outcome.error:
                lines.append(f"step {outcome.index + 1} not run: {outcome.error}")
            lines.extend(f"- {failure}" for failure in outcome.failures)
        failures.update("\n".join(lines) or "No failed expectation so far.")

    # -- playing --------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # enter on the focused table: the next step, wherever the cursor was moved.
        event.stop()
        self.action_step()

    def action_step(self) -> None:
        """Play the next step."""
        self._start(rest=False)

    def action_rest(self) -> None:
        """Play every remaining step (stops after one that could not run)."""
        self._start(rest=True)

    def action_restart(self) -> None:
        """Build the scenario's world again from its file and start from the first step."""
        if self.session is None:
            self.notify("No scenario loaded: press o to open one.", severity="warning")
            return
        self.app.open_scenario(str(self.session.path))  # type: ignore[attr-defined]

    def _start(self, rest: bool) -> None:
        session = self.session
        if session is None:
            self.notify("No scenario loaded: press o to open one.", severity="warning")
        elif session.done:
            self.notify("Every step has been played: R restarts.", severity="warning")
        elif not self.playing:
            self.playing = True
            self.play(session, rest)

    @work(thread=True, exclusive=True, group="step")
    def play(self, session: ScenarioSession, rest: bool) -> None:
        """Play one step, or the rest, in a thread; the outcomes come back as a message."""
        try:
            outcomes = session.run_rest() if rest else [session.next_step()]
        except Exception as error:  # told, never raised: the UI keeps running
            self.post_message(self.Played([], reason(error)))
            return
        self.post_message(self.Played(outcomes))

    def on_scenario_screen_played(self, message: Played) -> None:
        self.playing = False
        if message.error is not None:
            self.notify(message.error, title="Step not run", severity="error")
        for outcome in message.outcomes:
            if outcome.error is not None:
                self.notify(outcome.error, title="Step not run", severity="error")
            elif outcome.failures:
                self.notify(
                    f"step {outcome.index + 1}: {len(outcome.failures)} expectation(s) failed",
                    severity="warning",
                )
        session = self.session
        if session is not None and session.done and message.outcomes:
            outcome = verdict(session) or ""
            self.notify(
                f"{session.scenario.name}: {outcome}, {session.result.steps} steps, "
                f"{session.result.checks} checks",
                severity="information" if outcome == "PASS" else "warning",
            )
        self.reload()
