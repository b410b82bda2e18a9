"""Provides ExpressionPlayground: type an Entra expression and see it evaluated against a chosen
tenant user as you type, with a caret under the column of any error."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Label, Static

from sandbox.errors import ExpressionError
from sandbox.expressions import EvaluationContext, display_value, evaluate_text


def render_result(text: str, source: dict[str, Any] | None, context: EvaluationContext) -> Text:
    """The value, or the expression with a caret under the error's column and the reason."""
    if not text.strip():
        return Text('type an expression, e.g. Join(" ", [givenName], [surname])', style="dim")
    try:
        value = evaluate_text(text, source or {}, context)
    except ExpressionError as error:
        out = Text()
        if error.column >= 1:
            out.append(text + "\n")
            # No-break spaces: a line's leading blanks would be trimmed when it is drawn.
            out.append("\u00a0" * (error.column - 1) + "^", style="bold red")
            out.append(f" column {error.column}\n", style="red")
        out.append(error.message, style="red")
        return out
    return Text.assemble(("= ", "bold green"), (display_value(value), "bold"))


class ExpressionPlayground(Vertical):
    """The playground. The owner sets `source` (the chosen user's mapping source) and
    `context`; it posts UserChosen when the user field is submitted."""

    @dataclass
    class UserChosen(Message):
        """Evaluate against this user from now on (objectId, UPN or mail)."""

        key: str

    def __init__(self, suggester: Suggester | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.suggester = suggester
        self.source: dict[str, Any] | None = None
        self.context = EvaluationContext(rng=random.Random(0))

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Label("user ")
            yield Input(
                placeholder="UPN or mail (enter)",
                suggester=self.suggester,
                id="pg-user",
                compact=True,
            )
        with Horizontal(classes="toolbar"):
            yield Label("expr ")
            yield Input(placeholder="expression", id="pg-expression", compact=True)
        yield Static(id="pg-result", classes="result")

    def set_source(self, key: str, source: dict[str, Any] | None) -> None:
        """Evaluate against `source` (the user `key`) from now on."""
        self.source = source
        user = self.query_one("#pg-user", Input)
        if not user.has_focus:
            user.value = key
        self.evaluate()

    def set_expression(self, text: str) -> None:
        """Put an expression in the box (e.g. the selected mapping's) and evaluate it."""
        self.query_one("#pg-expression", Input).value = text

    @on(Input.Changed, "#pg-expression")
    def evaluate(self) -> None:
        # Pure and microseconds long: evaluated on the UI thread, as you type.
        text = self.query_one("#pg-expression", Input).value
        self.query_one("#pg-result", Static).update(render_result(text, self.source, self.context))

    @on(Input.Submitted, "#pg-user")
    def _user(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(self.UserChosen(event.value.strip()))
