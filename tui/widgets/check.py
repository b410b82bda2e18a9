"""Provides Check: a checkbox whose box reads on or off without colour (a projector or a
monochrome terminal shows the difference)."""

from __future__ import annotations

from textual.widgets import Checkbox


class Check(Checkbox):
    """▐X▌ when on, ▐ ▌ when off (Textual's Checkbox shows X in both, only coloured)."""

    @property  # type: ignore[override]
    def BUTTON_INNER(self) -> str:  # noqa: N802 (the name Textual's ToggleButton reads)
        return "X" if self.value else " "
