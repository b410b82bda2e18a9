"""Provides the small dialogs the screens share: confirm, prompt, choose, message, assign."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Input, Label, Select, Static

ROLES = ("ADMIN", "USER", "GUEST", "msiam_access")
"""The app roles a principal can be assigned (the guide's three and Default Access)."""


def fit_width(text: str, least: int = 40, value: str = "") -> int:
    """A dialog's width for `text` on one line (with its border and padding), and for `value`
    whole in an Input (a UPN given to the dialog), between `least` and the widest a dialog
    gets; a narrower screen wraps the text instead of cutting it."""
    wanted = max(len(text), len(value) + INPUT_CHROME if value else 0)
    return max(least, min(wanted + 6, WIDEST))


WIDEST = 100
"""Columns a dialog sized to its text takes at most (then its text wraps)."""
INPUT_CHROME = 7
"""Columns an Input takes besides its value: its border, its padding, the cursor after it."""


class Dialog(ModalScreen[Any]):
    """A modal box; escape cancels (dismisses with None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def sized(self, box: Vertical, text: str, value: str = "", least: int = 40) -> Vertical:
        """`box` as wide as `text` and an Input holding `value` need (see fit_width)."""
        box.styles.width = fit_width(text, least, value)
        return box

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


def buttons(ok: str = "OK", cancel: str = "Cancel", *extra: Button) -> Horizontal:
    """The OK / (extra buttons) / Cancel row."""
    row: list[Button] = [Button(ok, id="ok", variant="primary"), *extra]
    if cancel:
        row.append(Button(cancel, id="cancel"))
    return Horizontal(*row, classes="buttons")


class ConfirmDialog(Dialog):
    """Ask a yes/no question; dismisses with True or None. No has the focus: enter pressed
    without reading keeps everything as it is (the action is taken with its own button)."""

    def __init__(self, question: str, ok: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.ok = ok

    def compose(self) -> ComposeResult:
        with self.sized(Vertical(classes="dialog"), self.question):
            yield Label(self.question, classes="question")
            yield buttons(self.ok, "No")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.dismiss(True)


class PromptDialog(Dialog):
    """Ask for one line of text; dismisses with it (stripped) or None."""

    def __init__(
        self,
        title: str,
        value: str = "",
        placeholder: str = "",
        suggester: Suggester | None = None,
        allow_empty: bool = False,
    ) -> None:
        super().__init__()
        self.allow_empty = allow_empty
        """An empty line is an answer ("" rather than None, which is cancel)."""
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.suggester = suggester

    def compose(self) -> ComposeResult:
        with self.sized(Vertical(classes="dialog"), self.title_text, self.value):
            yield Label(self.title_text, classes="question")
            yield Input(
                self.value, placeholder=self.placeholder, suggester=self.suggester, id="value"
            )
            yield buttons()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        value = self.query_one("#value", Input).value.strip()
        self.dismiss(value if value or self.allow_empty else None)


class MessageDialog(Dialog):
    """Show a text (a token shown once, provision-on-demand steps) until closed."""

    def __init__(self, title: str, text: str, extra: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.extra = extra
        """An optional second button: (id, label); dismisses with its id."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.title_text, classes="question")
            with VerticalScroll(classes="message"):
                yield Static(self.text, markup=False, id="text")
            extra = [Button(self.extra[1], id=self.extra[0])] if self.extra else []
            yield buttons("Close", "", *extra)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "cancel":
            self.dismiss(None if event.button.id == "ok" else event.button.id)


class AssignDialog(Dialog):
    """Pick a user or group and a role; dismisses with (principal, role) or None."""

    def __init__(
        self,
        principal: str = "",
        role: str = "USER",
        suggester: Suggester | None = None,
        fixed: bool = False,
    ) -> None:
        super().__init__()
        self.principal = principal
        self.role = role
        self.suggester = suggester
        self.fixed = fixed
        """The principal is given (change of role): only the role is asked."""

    def compose(self) -> ComposeResult:
        question = "Change role" if self.fixed else "Assign a user or group"
        # as wide as the dialogs are (64), wider for a long UPN: shown whole, not scrolled
        with self.sized(Vertical(classes="dialog"), question, self.principal, least=64):
            yield Label(question, classes="question")
            yield Input(
                self.principal,
                placeholder="UPN, mail or group name",
                suggester=self.suggester,
                id="principal",
                disabled=self.fixed,
            )
            yield Select([(r, r) for r in ROLES], value=self.role, allow_blank=False, id="role")
            yield buttons("Assign" if not self.fixed else "Change")

    def on_mount(self) -> None:
        self.query_one("#role" if self.fixed else "#principal").focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        principal = self.query_one("#principal", Input).value.strip()
        if principal:
            self.dismiss((principal, str(self.query_one("#role", Select).value)))
