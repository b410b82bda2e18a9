"""Provides PickList: a SelectionList whose boxes read picked or not without colour."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList
from textual.widgets.option_list import OptionDoesNotExist


class PickList(SelectionList[str]):
    """▐X▌ before a picked line, ▐ ▌ before the others (Textual's SelectionList shows X in
    both, only coloured), as Check does for a checkbox."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        segments = list(strip)
        if (
            selection.value not in self.selected
            and len(segments) > 1
            and segments[1].text == Checkbox.BUTTON_INNER
        ):
            segments[1] = Segment(" ", segments[1].style)
        return Strip(segments, strip.cell_length)
