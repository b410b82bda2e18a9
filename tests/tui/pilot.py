"""Helpers for Pilot tests: wait for the UI's thread workers (never sleep) and read tables."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable
from textual.worker import WorkerCancelled


async def settle(pilot: Pilot[None]) -> None:
    """Let every worker finish and every message they posted be handled (twice over: a
    finished action reloads its screen in another worker). A worker cancelled meanwhile (an
    exclusive reload replaced by a newer one) is not waited for: the next round waits for the
    one that replaced it."""
    for _ in range(3):
        await pilot.pause()
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass
    await pilot.pause()


async def click_again(pilot: Pilot[None], selector: str) -> None:
    """Click a button a second time as a user would: once the pressed look of the first click
    is over (a Button ignores clicks while it shows it, its active_effect_duration, 0.2 s, so a
    click sooner than that is lost and the test fails now and then)."""
    button = pilot.app.screen.query_one(selector)
    for _ in range(100):  # bounded: 1 s at most
        if not button.has_class("-active"):
            break
        await pilot.pause(0.01)
    await pilot.click(selector)


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


def screen_text(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The screen as the terminal shows it, one string a line (what a screenshot holds)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True, record=True,
        legacy_windows=False, safe_box=False,
    )  # fmt: skip
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text().splitlines()


def words_in_order(text: str, lines: list[str]) -> bool:
    """Whether `text` reads whole on the screen, wrapped over lines or not (borders and
    other box-drawing characters aside)."""
    drawn = "".join(" " if "\u2500" <= c <= "\u259f" else c for c in " ".join(lines))
    shown = " ".join(drawn.split())
    return " ".join(text.split()) in shown


def text_of(app, widget) -> list[str]:  # type: ignore[no-untyped-def]
    """The lines of the screen `widget` covers (a dialog, a table)."""
    region = widget.region
    lines = screen_text(app)
    return [line[region.x : region.right] for line in lines[region.y : region.bottom]]
