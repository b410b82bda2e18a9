"""Provides Locator: the line of a table or a field in a scenario file, for error messages.

tomllib gives values without positions, so lines are found in the text: a table's header
(`[tenant]`, the Nth `[[step]]`), then a key within it, then a key inside that key's inline
table or array. What cannot be found falls back to the enclosing line (the file's first line at
worst): a message always names a line, the closest one known.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")


class Locator:
    """Lines of a scenario file's tables and keys (1-based)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, str]] = []
        """(line, dotted table name without quotes or spaces) of every table header."""
        for number, line in enumerate(self.lines, 1):
            match = _HEADER.match(line)
            if match:
                name = ".".join(p.strip().strip("\"'") for p in match.group(2).split("."))
                self.headers.append((number, name))

    def table(self, name: str, nth: int = 0) -> int | None:
        """The line of the `nth` (0-based) header of table `name`, None when absent."""
        found = [number for number, header in self.headers if header == name]
        return found[nth] if nth < len(found) else None

    def _end(self, start: int) -> int:
        """The last line before the first header after `start`."""
        return next((n - 1 for n, _ in self.headers if n > start), len(self.lines))

    def key(self, start: int, key: str, nth: int = 0, nested: bool = False) -> int:
        """The line of `key = ...` in the table whose header (or enclosing key) is on line
        `start`; `nested`: inside an inline table or array opened there, its `nth` match.
        Falls back to `start`."""
        found = self.find(start, key, nth, nested)
        return max(start, 1) if found is None else found

    def find(self, start: int, key: str, nth: int = 0, nested: bool = False) -> int | None:
        """`key`'s line as `key()` finds it, None when it is not there."""
        quoted = re.escape(key)
        if nested:
            pattern = re.compile(rf"(^|[\s{{,])([\"']?){quoted}\2\s*=")
        else:
            pattern = re.compile(rf"^\s*([\"']?){quoted}\1\s*=")
        first = start if nested else start + 1
        if start < 1:  # top-level keys sit before the first header
            first, end = 1, (self.headers[0][0] - 1 if self.headers else len(self.lines))
        else:
            end = self._end(start)
        hits = [n for n in range(first, end + 1) if pattern.search(self.lines[n - 1])]
        if not hits:
            return None
        return hits[nth] if nth < len(hits) else hits[0]
