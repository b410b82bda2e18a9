"""Provides ModeBar: the row of screens (modes) with their number keys; click one to go there."""

from __future__ import annotations

from textual.events import Resize
from textual.reactive import reactive
from textual.widgets import Static

MODES = (
    ("directory", "Directory"),
    ("assignments", "Assignments"),
    ("provisioning", "Provisioning"),
    ("mappings", "Mappings"),
    ("activity", "Activity"),
    ("provider", "Provider"),
    ("scenario", "Scenario"),
)
"""Every mode in key order: key 1 is the first."""

SHORT = {"assignments": "Assign", "provisioning": "Provision"}
"""Shorter titles when all seven do not fit (80 columns)."""


class ModeBar(Static):
    """The modes with their keys, the current one highlighted. Scenario is listed while a
    scenario is loaded (`with_scenario`, set by the screen) or shown."""

    with_scenario: reactive[bool] = reactive(False)

    def __init__(self, current: str) -> None:
        super().__init__("", classes="mode-bar")
        self.current = current

    def on_mount(self) -> None:
        self.update(self.label(self.size.width))

    def on_resize(self, event: Resize) -> None:
        self.update(self.label(event.size.width))

    def watch_with_scenario(self) -> None:
        if self.is_mounted:
            self.update(self.label(self.size.width))

    def label(self, width: int) -> str:
        """The bar's markup for `width` columns."""
        shown = [
            (number, mode, title)
            for number, (mode, title) in enumerate(MODES, 1)
            if mode != "scenario" or self.with_scenario or self.current == "scenario"
        ]
        full = sum(len(f"{n} {t}") + 1 for n, _, t in shown) + 1
        parts = []
        for number, mode, title in shown:
            if full > width:
                title = SHORT.get(mode, title)
            # Padding only around the current one: the six (seven, shortened) fit in 80 columns.
            label = (
                f"[reverse bold] {number} {title} [/]"
                if mode == self.current
                else f"{number} {title}"
            )
            parts.append(f"[@click=app.switch_mode('{mode}')]{label}[/]")
        return " ".join(parts)
