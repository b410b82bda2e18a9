"""Provides CycleChart: one stacked bar per cycle (created, updated, disabled, failed), so the
initial cycle can be shown against the incremental ones."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

SERIES = (
    ("created", "green"),
    ("updated", "dodger_blue1"),
    ("disabled", "yellow"),
    ("failed", "red"),
)
"""What a bar stacks, in order, with its colour."""


class CycleChart(Widget):
    """The latest cycles that fit, newest at the bottom; set `cycles` (report dicts, oldest
    first) to redraw."""

    cycles: reactive[list[dict[str, Any]]] = reactive(list, layout=False)

    def render(self) -> Text:
        text = Text()
        # The legend breaks between its entries on a narrow panel (never between a square
        # and its name): the bars get the lines it leaves, so the newest cycle (the last
        # line) is always shown.
        legend, used = 1, 0
        for name, colour in SERIES:
            entry = len(name) + 2
            if used and used + 2 + entry > self.size.width:
                text.append("\n")
                legend, used = legend + 1, 0
            elif used:
                text.append("  ")
                used += 2
            text.append("■ ", style=colour)
            text.append(name, style="dim")
            used += entry
        rows = max(1, self.size.height - legend)
        shown = self.cycles[-rows:]
        if not shown:
            text.append("\nno cycle yet: press n to run one", style="dim italic")
            return text
        label_width = 14
        numbers_width = 16
        width = max(4, self.size.width - label_width - numbers_width)
        peak = max(max(sum(c["counts"].get(n, 0) for n, _ in SERIES) for c in shown), 1)
        for cycle in shown:
            counts = cycle["counts"]
            kind = {"initial": "initial", "incremental": "increm.", "pod": "on dem."}.get(
                cycle["kind"], cycle["kind"][:7]
            )
            text.append(
                f"\n#{cycle['id']:<4} {kind:<8} ", style="bold" if kind == "initial" else ""
            )
            used = 0
            for name, colour in SERIES:
                value = counts.get(name, 0)
                cells = round(value / peak * width) if value else 0
                if value and not cells:
                    cells = 1  # a non-zero count always shows
                text.append("█" * cells, style=colour)
                used += cells
            if not used:
                text.append("·", style="dim")
                used = 1
            text.append(" " * max(0, width - used + 1))
            text.append("/".join(str(counts.get(n, 0)) for n, _ in SERIES), style="dim")
        return text
