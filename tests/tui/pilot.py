"""Helpers for Pilot tests: wait for the UI's thread workers (never sleep) and read tables."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable


async def settle(pilot: Pilot[None]) -> None:
    """Let every worker finish and every message they posted be handled (twice over: a
    finished action reloads its screen in another worker)."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def go(pilot: Pilot[None], key: str) -> None:
    """Switch to a mode by its number key and wait until it has loaded."""
    await pilot.press(key)
    await settle(pilot)


def rows(table: DataTable) -> list[list[str]]:
    """The table's cells as plain strings."""
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def row_of(table: DataTable, text: str) -> list[str]:
    """The one row with a cell equal to `text`."""
    found = [r for r in rows(table) if text in r]
    assert len(found) == 1, f"{text!r} in {len(found)} rows"
    return found[0]


def cursor_to(table: DataTable, text: str) -> None:
    """Highlight the row with a cell equal to `text`."""
    for index, cells in enumerate(rows(table)):
        if text in cells:
            table.move_cursor(row=index)
            return
    raise AssertionError(f"no row with {text!r}")
