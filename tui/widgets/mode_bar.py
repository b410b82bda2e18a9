"""Provides ModeBar: the row of screens (modes) with their number keys; click one to go there."""

from __future__ import annotations

from textual.widgets import Static

MODES = (
    ("directory", "Directory"),
    ("assignments", "Assignments"),
    ("provisioning", "Provisioning"),
    ("mappings", "Mappings"),
    ("activity", "Activity"),
    ("provider", "Provider"),
)
"""Every mode in key order: key 1 is the first."""


class ModeBar(Static):
    """The modes with their keys, the current one highlighted."""

    def __init__(self, current: str) -> None:
        parts = []
        for number, (mode, title) in enumerate(MODES, 1):
            # Padding only around the current one: the six fit in 80 columns.
            label = (
                f"[reverse bold] {number} {title} [/]" if mode == current else f"{number} {title}"
            )
            parts.append(f"[@click=app.switch_mode('{mode}')]{label}[/]")
        super().__init__(" ".join(parts), classes="mode-bar")
