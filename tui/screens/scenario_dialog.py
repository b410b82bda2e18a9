"""Provides OpenScenarioDialog: pick one of the shipped scenario files."""

from __future__ import annotations

import tomllib
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Label, OptionList
from textual.widgets.option_list import Option

from tui.screens.dialogs import Dialog, buttons


def headline(path: Path) -> Text:
    """A file's name and its scenario's name and description, on one or two lines."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return Text.assemble((path.name, "bold"), f"  (unreadable: {error})")
    description = " ".join(str(data.get("description", "")).split())
    return Text.assemble(
        (str(data.get("name", path.stem)), "bold"), f"  {path.name}\n", (description, "dim")
    )


class OpenScenarioDialog(Dialog):
    """The scenarios in `folder`; dismisses with the chosen file's path or None."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.files = sorted(folder.glob("*.toml"))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"Open a scenario ({self.folder.name}/)", classes="question")
            yield OptionList(
                *[Option(headline(path), id=str(path)) for path in self.files],
                id="scenario-files",
            )
            yield buttons("Open")

    def on_mount(self) -> None:
        if not self.files:
            self.notify(f"No scenario files in {self.folder}.", severity="warning")
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)
