"""Provides UserDialog: edit a tenant user's Entra properties."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Button, Input, Label

from tui.screens.dialogs import Dialog, buttons

EDITABLE = (
    "displayName",
    "givenName",
    "surname",
    "mail",
    "jobTitle",
    "department",
    "employeeId",
    "companyName",
    "preferredLanguage",
    "country",
    "city",
    "usageLocation",
    "manager",
)
"""The properties the dialog offers (Entra names); any other goes in the last line as P=V."""


class UserDialog(Dialog):
    """Edit properties; dismisses with the changed ones ({name: value}, "" clears) or None."""

    def __init__(self, upn: str, properties: dict[str, Any]) -> None:
        super().__init__()
        self.upn = upn
        self.properties = properties

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"Edit {self.upn}", classes="question")
            with Grid(classes="form"):
                for name in EDITABLE:
                    yield Label(name)
                    value = self.properties.get(name)
                    yield Input("" if value is None else str(value), id=f"p-{name}", compact=True)
                yield Label("other (P=V)")
                yield Input(
                    placeholder="e.g. extensionAttribute1=Contractor", id="other", compact=True
                )
            yield Label("", id="error", classes="error")
            yield buttons("Save")

    def on_mount(self) -> None:
        self.query_one("#p-displayName", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        changes: dict[str, Any] = {}
        for name in EDITABLE:
            value = self.query_one(f"#p-{name}", Input).value.strip()
            before = self.properties.get(name)
            if value != ("" if before is None else str(before)):
                changes[name] = value
        other = self.query_one("#other", Input).value.strip()
        if other:
            name, sep, value = other.partition("=")
            if not sep or not name.strip():
                self.query_one("#error", Label).update("write the other property as NAME=VALUE")
                return
            changes[name.strip()] = value.strip()
        self.dismiss(changes)
