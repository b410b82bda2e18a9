"""Provides KeysFooter: the screen's keys, with `?` (help, which lists them all) first, so a
footer cut by a narrow terminal still says where the other keys are."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

COMPACT_BELOW = 120
"""Columns under which the keys are spaced tightly (more of them fit)."""


class KeysFooter(Footer):
    """A Footer whose help key comes first (the command palette is in the help, not here)."""

    def __init__(self) -> None:
        super().__init__(show_command_palette=False)
        self._shown: tuple[object, ...] | None = None
        """The keys composed last: (key, display, description, enabled, tooltip) each."""

    def _keys(self, screen: Screen[Any]) -> tuple[object, ...]:
        return tuple(
            (binding.key, self.app.get_key_display(binding), binding.description, enabled, tip)
            for (_, binding, enabled, tip) in screen.active_bindings.values()
            if binding.show
        )

    def bindings_changed(self, screen: Screen[Any]) -> None:
        # Textual recomposes the footer whenever the bindings may have changed, as on every
        # mode switch (focus moves): a new widget per key, about 25 ms of a switch. The same
        # keys are kept as they are.
        if self._shown is not None and self.children and self._keys(screen) == self._shown:
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._keys(self.screen)
        keys = list(super().compose())
        first = [k for k in keys if isinstance(k, FooterKey) and k.action == "help"]
        yield from first
        yield from (k for k in keys if k not in first)
        self.call_after_refresh(self.trim)

    def on_resize(self, event: Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
        self.trim()

    def trim(self) -> None:
        """Show the keys that fit whole, in order, and none cut: `?` lists the others."""
        used = 0
        for key in self.query(FooterKey):
            text = cell_len(key.key_display) + 1 + cell_len(key.description)
            width = text + 1 if self.compact else text + 2
            used += width
            key.display = used <= self.size.width + (1 if self.compact else 0)
