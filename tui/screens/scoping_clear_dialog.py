"""Provides ClearScopingDialog: remove every scoping filter of the users' or the groups' object
mapping, showing the filters it removes."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Button, Label, Select, Static

from sandbox.engine.mappings.scoping import ScopingFilter
from tui.screens.dialogs import Dialog, buttons
from tui.screens.scoping_dialog import filters_text, object_mapping_select


class ClearScopingDialog(Dialog):
    """Pick the object mapping (Users / Groups) whose scoping filters all go, as `sandbox entra
    scoping clear [--groups]`; dismisses with True for the groups', False for the users', or
    None. Remove is off for a mapping without filters."""

    def __init__(self, users: Sequence[ScopingFilter], groups: Sequence[ScopingFilter]) -> None:
        super().__init__()
        self.filters = {"users": tuple(users), "groups": tuple(groups)}
        self.objects = "groups" if groups and not users else "users"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Remove every scoping filter of an object mapping?", classes="question")
            with Grid(classes="form"):
                yield Label("Object mapping")
                yield object_mapping_select(self.objects)
            yield Static(id="removed", classes="scoping", markup=False)
            yield buttons("Remove")

    def on_mount(self) -> None:
        self._show(self.objects)

    @on(Select.Changed, "#objects")
    def _objects(self, event: Select.Changed) -> None:
        self._show(str(event.value))

    def _show(self, objects: str) -> None:
        self.objects = objects
        self.query_one("#removed", Static).update(filters_text(self.filters[objects], objects))
        self.query_one("#ok", Button).disabled = not self.filters[objects]

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.dismiss(self.objects == "groups")
