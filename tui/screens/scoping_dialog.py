"""Provides ScopingDialog: one scoping filter (clauses joined by AND) with Entra's operators."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select

from sandbox.engine.mappings.mapping import ENTRA_USER_ATTRIBUTES
from sandbox.engine.mappings.scoping import OPERATORS, UNARY, Clause, make_clause
from sandbox.errors import SandboxError
from tui.screens.dialogs import Dialog, buttons

CLAUSES = 3
"""Clause rows offered (a row left without an attribute is not part of the filter)."""


class ScopingDialog(Dialog):
    """Add a scoping filter of `objects` (the attribute mapping it scopes, e.g. "users");
    dismisses with its clauses (each checked as `sandbox entra scoping add` checks it)."""

    def __init__(self, objects: str) -> None:
        super().__init__()
        self.objects = objects

    def compose(self) -> ComposeResult:
        attributes = SuggestFromList(sorted(ENTRA_USER_ATTRIBUTES), case_sensitive=False)
        with Vertical(classes="dialog wide"):
            yield Label(
                f"Add a scoping filter of the {self.objects}: its clauses are joined by AND, "
                "filters by OR",
                classes="question",
            )
            with Grid(classes="clauses"):
                for number in range(CLAUSES):
                    yield Input(
                        placeholder="attribute, e.g. city",  # whole at 80 columns
                        suggester=attributes,
                        id=f"attribute-{number}",
                        compact=True,
                    )
                    yield Select(
                        [(op, op) for op in OPERATORS],
                        value="EQUALS",
                        allow_blank=False,
                        id=f"operator-{number}",
                        compact=True,
                    )
                    yield Input(placeholder="value", id=f"value-{number}", compact=True)
            yield Label("", id="error", classes="error")
            yield buttons("Add")

    def clauses(self) -> list[Clause]:
        """The filled rows as clauses (make_clause refuses a bad one with the reason)."""
        found = []
        for number in range(CLAUSES):
            attribute = self.query_one(f"#attribute-{number}", Input).value.strip()
            if not attribute:
                continue
            operator = str(self.query_one(f"#operator-{number}", Select).value)
            value = "" if operator in UNARY else self.query_one(f"#value-{number}", Input).value
            found.append(make_clause(attribute, operator, value.strip()))
        return found

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        try:
            clauses = self.clauses()
        except SandboxError as error:
            self.query_one("#error", Label).update(str(error))
            return
        if not clauses:
            self.query_one("#error", Label).update("give at least one clause an attribute")
            return
        self.dismiss(clauses)
