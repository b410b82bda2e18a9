"""Provides FaultDialog: a fault injection rule for the provider (what, when, how often)."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select

from tui.numbers import whole_number
from tui.screens.dialogs import Dialog, buttons
from tui.widgets.check import Check

METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE")
STATUSES = ("", "401", "403", "404", "409", "429", "500", "502", "503")


class FaultDialog(Dialog):
    """Dismisses with the keyword arguments of `Faults.add`, or None."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Add a fault rule", classes="question")
            with Grid(classes="form"):
                yield Label("Method")
                yield Select(
                    [(m, m) for m in METHODS],
                    value="*",
                    allow_blank=False,
                    id="method",
                    compact=True,
                )
                yield Label("Path glob")
                yield Input("/Users*", id="path", compact=True)
                yield Label("Status")
                yield Select(
                    [(s or "(none)", s) for s in STATUSES],
                    value="500",
                    allow_blank=False,
                    id="status",
                    compact=True,
                )
                yield Label("Retry-After s")
                yield Input(id="retry", compact=True, restrict=r"[0-9]*")
                yield Label("Latency ms")
                yield Input(id="latency", compact=True, restrict=r"[0-9]*")
                yield Label("Drop")
                yield Check("drop the connection", id="drop", compact=True)
                yield Label("Count")
                yield Input(
                    "3", id="count", compact=True, restrict=r"[0-9]*", placeholder="every time"
                )
                yield Label("Probability")
                yield Input(
                    id="probability",
                    compact=True,
                    restrict=r"[0-9.]*",
                    placeholder="0-1, instead of count",
                )
            yield buttons("Add")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        def number(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value.strip()

        def whole(widget_id: str, what: str) -> int | None:
            return whole_number(number(widget_id), what) if number(widget_id) else None

        status = str(self.query_one("#status", Select).value)
        try:  # a pasted 5,000-digit number, or "²", is refused here, the dialog left open
            rule: dict[str, Any] = {
                "method": str(self.query_one("#method", Select).value),
                "path": self.query_one("#path", Input).value.strip() or "*",
                "status": int(status) if status else None,
                "retry_after": whole("retry", "Retry-After"),
                "latency_ms": whole("latency", "latency") or 0,
                "drop": self.query_one("#drop", Checkbox).value,
                "count": whole("count", "count"),
            }
        except ValueError as error:
            self.notify(str(error), title="Refused", severity="error")
            return
        if number("probability"):
            try:
                rule["probability"] = float(number("probability"))
            except ValueError:
                rule["probability"] = -1.0  # refused by the sandbox, with the reason
        self.dismiss(rule)
