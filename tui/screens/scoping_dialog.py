"""Provides ScopingDialog: one scoping filter (clauses joined by AND) with Entra's operators, on
the users' or the groups' attribute mapping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select

from sandbox.engine.mappings.scoping import OPERATORS, UNARY, Clause, ScopingFilter, make_clause
from sandbox.engine.sync.scoping_edit import scoping_attributes
from sandbox.errors import SandboxError
from tui.screens.dialogs import Dialog, buttons

CLAUSES = 3
"""Clause rows offered (a row left without an attribute is not part of the filter)."""

OBJECT_MAPPINGS = (
    ("Provision Microsoft Entra ID Users", "users"),
    ("Provision Microsoft Entra ID Groups", "groups"),
)
"""The object mappings a scoping filter belongs to, by their names in Entra's portal (each has
its own Source Object Scope), and the objects they scope."""

EXAMPLES = {"users": "department", "groups": "displayName"}
"""The attribute each object mapping's placeholders offer as an example."""


class NewFilter(NamedTuple):
    """What the dialog dismisses with: the filter's clauses and the mapping it scopes."""

    groups: bool
    """The groups' object mapping (as `sandbox entra scoping add --groups`), else the users'."""
    clauses: list[Clause]


def filters_text(filters: Sequence[ScopingFilter], objects: str) -> str:
    """The filters one a line, numbered (as `sandbox entra scoping list` prints them), or what
    having none means for `objects` ("users" or "groups")."""
    kind = "group" if objects == "groups" else "user"
    return (
        "\n".join(f"{n}. {f}" for n, f in enumerate(filters, 1))
        or f"none: every assigned {kind} is in scope"
    )


def object_mapping_select(objects: str) -> Select[str]:
    """The Users / Groups object mapping choice, on `objects`."""
    return Select(
        [(name, value) for name, value in OBJECT_MAPPINGS],
        value=objects,
        allow_blank=False,
        id="objects",
        compact=True,
    )


class ScopingDialog(Dialog):
    """Add a scoping filter of `objects` ("users" or "groups": the attribute mapping it scopes,
    chosen again in the dialog); dismisses with a NewFilter (each clause checked as `sandbox
    entra scoping add` checks it; the engine checks the attributes)."""

    def __init__(self, objects: str = "users") -> None:
        super().__init__()
        self.objects = objects

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(
                "Add a scoping filter: its clauses are joined by AND, filters by OR",
                classes="question",
            )
            with Grid(classes="form"):
                yield Label("Object mapping")
                yield object_mapping_select(self.objects)
            with Grid(classes="clauses"):
                for heading in ("Attribute", "Operator", "Value"):
                    yield Label(heading, classes="heading")
                for number in range(CLAUSES):
                    yield Input(id=f"attribute-{number}", compact=True)
                    yield Select(
                        [(op, op) for op in OPERATORS],
                        value="EQUALS",
                        allow_blank=False,
                        id=f"operator-{number}",
                        compact=True,
                    )
                    yield Input(placeholder="e.g. Sales", id=f"value-{number}", compact=True)
            yield Label("", id="error", classes="error")
            yield buttons("Add")

    def on_mount(self) -> None:
        self._offer(self.objects)

    @on(Select.Changed, "#objects")
    def _objects(self, event: Select.Changed) -> None:
        self._offer(str(event.value))

    def _offer(self, objects: str) -> None:
        """Suggest and give as an example the attributes of `objects` (a group scoping filter
        reads a group's objectId, displayName, description and mailNickname)."""
        self.objects = objects
        attributes = SuggestFromList(
            sorted(scoping_attributes(objects == "groups")), case_sensitive=False
        )
        for number in range(CLAUSES):
            field = self.query_one(f"#attribute-{number}", Input)
            field.suggester = attributes
            field.placeholder = f"e.g. {EXAMPLES[objects]}"

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
        self.dismiss(NewFilter(self.objects == "groups", clauses))
