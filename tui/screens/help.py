"""Provides HelpScreen: what the current screen does and every key that works there."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen

GLOBAL_KEYS = """\
| Key | Anywhere |
|---|---|
| `1`-`7` | Directory, Assignments, Provisioning, Mappings, Activity, Provider, Scenario |
| `o` | open a shipped scenario: the UI shows its world (on Provisioning, `o` is on demand) |
| `n` | next cycle now (moves the simulated clock to it) |
| `?` | this help |
| `tab` / `shift+tab` | next / previous field |
| `ctrl+p` | command palette |
| `q` | quit |
"""


def screen_keys(screen: Screen[object]) -> str:
    """A Markdown table of the screen's own bindings."""
    rows = ["| Key | Here |", "|---|---|"]
    for binding in screen.BINDINGS:
        if isinstance(binding, Binding) and binding.description:
            key = binding.key_display or binding.key
            rows.append(f"| `{key}` | {binding.description} |")
    return "\n".join(rows) if len(rows) > 2 else ""


class HelpScreen(ModalScreen[None]):
    """The help for `screen`; escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self.text = "\n\n".join(
            part for part in (getattr(screen, "HELP", ""), screen_keys(screen), GLOBAL_KEYS) if part
        )

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it is slow to import: only on `?`

        with Vertical(classes="dialog wide help"):
            with VerticalScroll():
                yield Markdown(self.text)

    def action_close(self) -> None:
        self.dismiss(None)
