"""Provides FitTable: a DataTable whose columns share the width the screen has (none cut while
the row has room), with a line below it that shows the highlighted row's cut values whole."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.events import Resize
from textual.widgets import DataTable, Static

MIN_WIDTH = 4
"""No column is narrower than this (its label's start stays readable)."""


def share(natural: list[int], minimum: list[int | None], room: int) -> list[int]:
    """Column widths: each its content's width when they all fit in `room`; otherwise the
    columns kept whole (minimum None) keep theirs, and of the others the narrow ones keep
    theirs while the wide ones share what is left evenly (max-min fair), none below its
    minimum."""
    if sum(natural) <= room:
        return list(natural)
    minimum = list(minimum)
    widths = _fill(natural, minimum, room)
    # The minimums do not all fit: the last columns give theirs up first (the first columns
    # name the row), down to the whole ones alone.
    for index in reversed(range(len(minimum))):
        if sum(widths) <= room:
            break
        if minimum[index] is not None and minimum[index] != MIN_WIDTH:
            minimum[index] = MIN_WIDTH
            widths = _fill(natural, minimum, room)
    return widths


def _fill(natural: list[int], minimum: list[int | None], room: int) -> list[int]:
    """Whole columns at their width, every other at its minimum, then the rest of `room`
    shared out evenly to those that want more (max-min fair)."""
    widths = [n if m is None else min(n, m) for n, m in zip(natural, minimum, strict=True)]
    rest = [i for i, m in enumerate(minimum) if m is not None and natural[i] > widths[i]]
    left, count = room - sum(widths), len(rest)
    for index in sorted(rest, key=lambda i: natural[i] - widths[i]):
        more = min(natural[index] - widths[index], max(0, left) // count)
        widths[index] += more
        left -= more
        count -= 1
    return widths


class FitTable(DataTable[Any]):
    """A row table that fits its columns to its width (on resize and as rows come in) and
    shows in `whole` (a Static the screen places below it) every value of the highlighted row
    that its column cuts."""

    def __init__(self, *, id: str, zebra_stripes: bool = False) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=zebra_stripes)
        self.minimums: dict[Any, int | None] = {}
        self._fit_pending = False
        self.whole = Static("", id=f"{id}-whole", classes="whole", markup=False)
        """The highlighted row's cut values, whole (compose it below the table)."""

    def add_fitted(self, label: str, minimum: int | None = MIN_WIDTH) -> None:
        """A column as wide as its content, down to `minimum` when space is short (None:
        kept whole, for the column that names the row)."""
        key = self.add_column(label, width=len(label))
        self.minimums[key] = minimum

    def clear(self, columns: bool = False) -> FitTable:
        # The DataTable keeps each column's widest content across a clear: the columns would
        # stay as wide as rows no longer shown (and depend on what was shown before).
        super().clear(columns)
        for column in self.columns.values():
            column.content_width = column.label.cell_len
        return self

    def add_row(self, *cells: Any, **options: Any) -> Any:
        key = super().add_row(*cells, **options)
        if not self._fit_pending:  # once for a batch of rows, as soon as they are in
            self._fit_pending = True
            self.call_later(self._fit_later)
        return key

    def _fit_later(self) -> None:
        self._fit_pending = False
        self.fit()

    def on_resize(self, event: Resize) -> None:
        self.fit()

    # The DataTable measures new rows and changed cells in these two: fit the columns to what
    # they now hold.
    def _update_column_widths(self, updated_cells: Any) -> None:
        super()._update_column_widths(updated_cells)
        self.fit()

    def _update_dimensions(self, new_rows: Any) -> None:
        super()._update_dimensions(new_rows)
        self.fit()

    def fit(self) -> None:
        """Share the width among the columns (see `share`), then show the cut values."""
        columns = list(self.columns.values())
        if not columns or not self.size.width:
            return
        padding = 2 * self.cell_padding * len(columns)
        room = self.size.width - self.styles.scrollbar_size_vertical - padding
        natural = [max(c.content_width, c.label.cell_len) for c in columns]
        for row in self._data.values():  # rows not measured yet count too
            for index, column in enumerate(columns):
                cell = row.get(column.key)
                width = cell.cell_len if isinstance(cell, Text) else len(str(cell or ""))
                natural[index] = max(natural[index], width)
        minimum = [self.minimums.get(c.key, MIN_WIDTH) for c in columns]
        widths = share(natural, minimum, max(room, len(columns) * MIN_WIDTH))
        if room > sum(widths):  # the last column takes the rest of the row
            widths[-1] += room - sum(widths)
        changed = False
        for column, width in zip(columns, widths, strict=True):
            if column.width != width or column.auto_width:
                column.width, column.auto_width = width, False
                changed = True
        if changed:
            # Rows drawn at the old widths are cached, keyed on the cursor and a count the
            # DataTable's idle step moves on: a table under a dialog gets no message after
            # this, so without a clear the rows whose key did not change stay drawn at the
            # old widths (the mappings table behind the mapping dialog at 140x45).
            self._clear_caches()
            self._require_update_dimensions = True
            self.refresh()
        self.show_whole()

    def cut_values(self) -> list[tuple[str, str]]:
        """(column label, value) of each cell of the highlighted row its column cuts."""
        if not self.row_count or not self.is_valid_row_index(self.cursor_row):
            return []
        cells = self.get_row_at(self.cursor_row)
        cut = []
        for column, cell in zip(self.columns.values(), cells, strict=False):
            text = cell if isinstance(cell, Text) else Text(str(cell))
            if text.cell_len > column.width:
                cut.append((column.label.plain, text.plain))
        return cut

    def show_whole(self) -> None:
        """Put the highlighted row's cut values in `whole` (blank when nothing is cut)."""
        self.whole.update(
            Text("  ·  ").join(
                Text.assemble((f"{label}: ", "bold"), value) for label, value in self.cut_values()
            )
        )

    def watch_cursor_coordinate(self, old: Any, new: Any) -> None:
        super().watch_cursor_coordinate(old, new)
        self.show_whole()
