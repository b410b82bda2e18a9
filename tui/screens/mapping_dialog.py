"""Provides MappingDialog: edit one attribute mapping; the sandbox validates it as Entra's
editor does and the reason of a refusal shows in the dialog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from sandbox.engine.mappings.mapping import Mapping
from sandbox.errors import SandboxError
from tui.numbers import whole_number
from tui.screens.base import reason
from tui.screens.dialogs import Dialog, buttons
from tui.widgets.check import Check

if TYPE_CHECKING:
    from sandbox.runtime import Sandbox

TYPES = ("Direct", "Constant", "Expression", "None")


class MappingDialog(Dialog):
    """Add (mapping None) or edit a user mapping (or a group mapping); dismisses with the
    saved target or None."""

    @dataclass
    class Outcome(Message):
        """The save worker finished: the saved target, or why the mapping was refused."""

        target: str | None
        error: str | None = None

    def __init__(self, sandbox: Sandbox, mapping: Mapping | None, groups: bool = False) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.mapping = mapping
        self.groups = groups
        """A group mapping (displayName, externalId or members) rather than a user's."""

    def compose(self) -> ComposeResult:
        m = self.mapping
        with Vertical(classes="dialog wide"):
            kind = "group mapping" if self.groups else "mapping"
            yield Label(f"Edit {kind}" if m else f"Add {kind}", classes="question")
            with Grid(classes="form"):
                yield Label("Target attribute")
                yield Input(
                    m.target if m else "",
                    id="target",
                    compact=True,
                    placeholder='e.g. phoneNumbers[type eq "work"].value',
                )
                yield Label("Mapping type")
                yield Select(
                    [(t, t) for t in TYPES],
                    value=str(m.type) if m else "Direct",
                    allow_blank=False,
                    id="kind",
                    compact=True,
                )
                yield Label("Source")
                yield Input(
                    m.source if m else "",
                    id="source",
                    compact=True,
                    placeholder="attribute, constant or expression",
                )
                yield Label("Default if null")
                yield Input((m.default or "") if m else "", id="default", compact=True)
                yield Label("Matching precedence")
                yield Input(
                    str(m.matching_precedence) if m and m.matching_precedence else "",
                    id="matching",
                    compact=True,
                    restrict=r"[0-9]*",
                    placeholder="not matching",
                )
                yield Label("Apply")
                yield Check(
                    "only during object creation",
                    m.create_only if m else False,
                    id="create-only",
                    compact=True,
                )
            yield Static(id="source-whole", classes="whole", markup=False)
            yield Label("", id="error", classes="error")
            yield buttons("Save")

    def on_mount(self) -> None:
        self._source_whole()

    @on(Input.Changed, "#source")
    def _source_whole(self) -> None:
        """The source whole below the form when its field is too narrow to show it."""
        source = self.query_one("#source", Input)
        text = source.value
        wide = source.size.width or 40
        self.query_one("#source-whole", Static).update(
            f"source: {text}" if len(text) >= wide - 1 else ""
        )

    def on_resize(self) -> None:
        self._source_whole()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        matching = self.query_one("#matching", Input).value.strip()
        try:
            precedence = whole_number(matching, "matching precedence", 100) if matching else 0
        except ValueError as error:
            self.query_one("#error", Label).update(str(error))
            return
        self.save(
            self.query_one("#target", Input).value.strip(),
            self.query_one("#source", Input).value,
            str(self.query_one("#kind", Select).value),
            self.query_one("#default", Input).value,
            self.query_one("#create-only", Checkbox).value,
            precedence,
        )

    @work(thread=True, exclusive=True)
    def save(
        self, target: str, source: str, kind: str, default: str, create_only: bool, matching: int
    ) -> None:
        """Validate and store in a thread; stay open with the reason when refused. Adding a
        mapping to a target that already has one is refused (edit that one instead): the
        sandbox's save replaces it, which Add must not do without a word."""
        try:
            if self.mapping is None:
                config = self.sandbox.engine.config()
                mapped = config.group_mappings if self.groups else config.user_mappings
                taken = next((m.target for m in mapped
                              if m.target.lower() == target.strip().lower()), None)  # fmt: skip
                if taken is not None:
                    raise SandboxError(
                        f"{taken} already has a mapping: edit it (e on the Mappings screen) "
                        "instead of adding another"
                    )
            save = self.sandbox.set_group_mapping if self.groups else self.sandbox.set_mapping
            save(
                target,
                source,
                kind,
                default=default,
                create_only=create_only,
                matching=matching,
                replacing=self.mapping.target if self.mapping else None,
            )
        except Exception as error:
            self.post_message(self.Outcome(None, reason(error)))
            return
        self.post_message(self.Outcome(target))

    def on_mapping_dialog_outcome(self, message: Outcome) -> None:
        if message.error is not None:
            self.query_one("#error", Label).update(message.error)
        else:
            self.dismiss(message.target)
