"""Provides MappingsScreen: the user attribute mappings (edit, add, remove, presets) and the
expression playground."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Label

from sandbox.engine.mappings.mapping import Mapping
from sandbox.expressions import EvaluationContext
from tui.screens.base import SandboxScreen, columns, fitted, reason, row
from tui.screens.dialogs import ConfirmDialog, PromptDialog
from tui.screens.mapping_dialog import MappingDialog
from tui.widgets.playground import ExpressionPlayground
from tui.widgets.suggest import PrincipalSuggester


@dataclass(frozen=True)
class MappingSet:
    """The user mappings, the preset they came from, and a first user to play with."""

    mappings: tuple[Mapping, ...]
    preset: str
    sample_user: str | None
    groups: bool = False
    """The group mappings ("Provision Microsoft Entra ID Groups") rather than the users'."""


class MappingsScreen(SandboxScreen):
    """Attribute mappings and the expression playground."""

    MODE = "mappings"
    HELP = """\
**Mappings**: the attribute mappings of "Provision Microsoft Entra ID Users". Edit one (target,
type, source, default, matching precedence, create only); a mapping Entra's editor would refuse
is refused here with the reason. Changing mappings makes the next cycle initial. `p` switches to
a preset (`nulab` is the guide's step 6). `g` shows the group mappings instead (displayName,
externalId, members), edited the same way; they apply while group provisioning is on. The playground below evaluates an expression as you
type against a tenant user (type a UPN and press enter), as a cycle would see it
(IsSoftDeleted, appRoleAssignments included); an error shows a caret under its column.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit"),
        Binding("a", "add", "Add"),
        Binding("x", "remove", "Remove"),
        Binding("p", "preset", "Preset"),
        Binding("g", "toggle_groups", "Users/Groups"),
        Binding("y", "try", "Try in playground"),
        Binding("u", "focus_user", "Playground user"),
    ]

    @dataclass
    class SourceLoaded(Message):
        """The playground user's mapping source was read (or the reason it could not be)."""

        key: str
        source: dict[str, Any] | None
        error: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.mappings: dict[str, Mapping] = {}
        self.user_key: str | None = None
        self.groups = False
        """The group mappings are shown (and edited)."""

    def body(self) -> ComposeResult:
        yield Label("", id="summary", classes="summary")
        yield from fitted("mappings", zebra_stripes=True)
        yield Label("Expression playground", classes="section")
        yield ExpressionPlayground(
            PrincipalSuggester(self.sandbox.engine.directory, users_only=True), id="playground"
        )

    def on_mount(self) -> None:
        columns(
            self.query_one(DataTable),
            ("target attribute", 24),
            ("type", None),
            ("source", 20),
            ("matching", None),
            ("apply", 6),
            ("default", 6),
        )
        engine = self.sandbox.engine
        self.query_one(ExpressionPlayground).context = EvaluationContext(
            clock=engine.clock.now,
            rng=random.Random(engine.seed),
            tenant_domain=engine.tenant_domain,
        )

    def load(self) -> MappingSet:
        config = self.sandbox.engine.config()
        sample = None
        if self.user_key is None:
            first = self.sandbox.engine.directory.users(limit=1)
            sample = first[0].user_principal_name if first else None
        if self.groups:
            return MappingSet(config.group_mappings, "groups", sample, groups=True)
        return MappingSet(config.user_mappings, config.mapping_preset, sample)

    def show(self, data: MappingSet) -> None:
        self.mappings = {m.target: m for m in data.mappings}
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for m in data.mappings:
            table.add_row(
                *row(
                    m.target,
                    str(m.type),
                    m.source,
                    str(m.matching_precedence or ""),
                    "creation only" if m.create_only else "always",
                    m.default,
                ),
                key=m.target,
            )
        if data.mappings:
            table.move_cursor(row=min(keep, len(data.mappings) - 1))
        self.query_one("#summary", Label).update(
            f"{len(data.mappings)} group mappings (g: the user mappings)"
            if data.groups
            else f"{len(data.mappings)} user mappings, preset: {data.preset} (g: the group mappings)"
        )
        key = self.user_key or data.sample_user
        if key:
            self.choose_user(key)

    # -- the playground ------------------------------------------------------------------

    def choose_user(self, key: str) -> None:
        """Read the user's mapping source in a thread, then evaluate against it."""
        self.user_key = key
        self._read_source(key)

    @work(thread=True, exclusive=True, group="source")
    def _read_source(self, key: str) -> None:
        try:
            self.post_message(self.SourceLoaded(key, self.sandbox.engine.mapping_source(key)))
        except Exception as error:
            self.post_message(self.SourceLoaded(key, None, reason(error)))

    def on_mappings_screen_source_loaded(self, message: SourceLoaded) -> None:
        if message.error:
            self.notify(message.error, severity="error")
        self.query_one(ExpressionPlayground).set_source(message.key, message.source)

    def on_expression_playground_user_chosen(
        self, message: ExpressionPlayground.UserChosen
    ) -> None:
        self.choose_user(message.key)

    def action_focus_user(self) -> None:
        self.query_one("#pg-user").focus()

    # -- editing -------------------------------------------------------------------------

    def selected(self) -> Mapping | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.mappings.get(str(key))

    def _saved(self, target: str | None) -> None:
        if target:
            self.notify(f"Saved the mapping of {target}; the next cycle is initial")
            self.reload()

    def action_edit(self) -> None:
        mapping = self.selected()
        if mapping is not None:
            self.app.push_screen(
                MappingDialog(self.sandbox, mapping, groups=self.groups), self._saved
            )

    @on(DataTable.RowSelected, "#mappings")
    def _selected(self) -> None:
        self.action_edit()

    def action_add(self) -> None:
        self.app.push_screen(MappingDialog(self.sandbox, None, groups=self.groups), self._saved)

    def action_toggle_groups(self) -> None:
        self.groups = not self.groups
        self.reload()

    def action_remove(self) -> None:
        mapping = self.selected()
        if mapping is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.act(
                    f"Removed the mapping of {mapping.target}",
                    self.sandbox.remove_group_mapping
                    if self.groups
                    else self.sandbox.remove_mapping,
                    mapping.target,
                )

        self.app.push_screen(
            ConfirmDialog(f"Remove the mapping of {mapping.target}?", ok="Remove"), confirmed
        )

    def action_preset(self) -> None:
        if self.groups:
            self.notify("The presets are user mapping sets: g shows them.", severity="warning")
            return

        def chosen(name: str | None) -> None:
            if name:
                self.act(
                    f"User mappings: the {name} preset; the next cycle is initial",
                    self.sandbox.use_preset,
                    name,
                )

        self.app.push_screen(PromptDialog("Mapping preset: default or nulab", "nulab"), chosen)

    def action_try(self) -> None:
        mapping = self.selected()
        if mapping is not None:
            text = (
                mapping.source
                if str(mapping.type) == "Expression"
                else (
                    f"[{mapping.source}]"
                    if str(mapping.type) == "Direct"
                    else f'"{mapping.source}"'
                )
            )
            self.query_one(ExpressionPlayground).set_expression(text)
