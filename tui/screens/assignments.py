"""Provides AssignmentsScreen: the enterprise app's users and groups with their roles."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Label

from sandbox.engine.tenant.app import Assignment
from tui.screens.base import SandboxScreen, columns, fitted, row
from tui.screens.dialogs import AssignDialog, ConfirmDialog
from tui.widgets.suggest import PrincipalSuggester

SHOWN = 2000
"""Assignments listed at most (after `assign --all-users` a big tenant has one per user)."""


class AssignmentsScreen(SandboxScreen):
    """Users and groups assigned to the app, with their app roles."""

    MODE = "assignments"
    HELP = """\
**Assignments**: who is assigned to the enterprise app and with which app role (ADMIN, USER,
GUEST, or Default Access). Only direct members of an assigned group are in scope (nested
groups are not expanded). A principal may hold two roles; Entra allows it and the Nulab
mapping's `SingleAppRoleAssignment` then fails for it.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "assign", "Assign"),
        Binding("c", "change_role", "Change role"),
        Binding("u", "unassign", "Unassign"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.assignments: dict[str, Assignment] = {}

    def body(self) -> ComposeResult:
        yield Label("", id="summary", classes="summary")
        yield from fitted("assignments", zebra_stripes=True)

    def on_mount(self) -> None:
        columns(
            self.query_one(DataTable),
            ("type", None),
            ("user or group", 24),  # a long UPN is cut at 80 columns, and shown whole below
            ("role", None),
            ("assigned", None),
        )

    def load(self) -> list[Assignment]:
        return self.sandbox.engine.app.assignments()

    def show(self, data: list[Assignment]) -> None:
        self.assignments = {a.id: a for a in data}
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for assignment in data[:SHOWN]:
            table.add_row(
                *row(
                    assignment.principal_type,
                    assignment.principal_name,
                    assignment.role,
                    (assignment.created or "")[:16].replace("T", " "),
                ),
                key=assignment.id,
            )
        if data:
            table.move_cursor(row=min(keep, min(len(data), SHOWN) - 1))
        users = sum(a.principal_type == "User" for a in data)
        more = f" (first {SHOWN} shown)" if len(data) > SHOWN else ""
        self.query_one("#summary", Label).update(
            f"{len(data)} assignments: {users} users, {len(data) - users} groups{more}"
        )

    def selected(self) -> Assignment | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            self.notify("No assignment selected.", severity="warning")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.assignments.get(str(key))

    def action_assign(self) -> None:
        def assign(choice: tuple[str, str] | None) -> None:
            if choice:
                self.act(
                    f"Assigned {choice[0]} the role {choice[1]}",
                    self.sandbox.engine.app.assign,
                    *choice,
                )

        suggester = PrincipalSuggester(self.sandbox.engine.directory)
        self.app.push_screen(AssignDialog(suggester=suggester), assign)

    def action_change_role(self) -> None:
        assignment = self.selected()
        if assignment is None:
            return

        def change(choice: tuple[str, str] | None) -> None:
            if choice:
                self.act(
                    f"{assignment.principal_name} now has the role {choice[1]}",
                    self.sandbox.engine.app.set_role,
                    assignment.principal_id,
                    choice[1],
                )

        self.app.push_screen(
            AssignDialog(assignment.principal_name, assignment.role, fixed=True), change
        )

    def action_unassign(self) -> None:
        assignment = self.selected()
        if assignment is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.act(
                    f"Unassigned {assignment.principal_name} ({assignment.role})",
                    self.sandbox.engine.app.unassign,
                    assignment.principal_id,
                    assignment.role,
                )

        self.app.push_screen(
            ConfirmDialog(
                f"Unassign {assignment.principal_name} from the role {assignment.role}?",
                ok="Unassign",
            ),
            confirmed,
        )
