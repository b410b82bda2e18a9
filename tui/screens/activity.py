"""Provides ActivityScreen: the live stream of HTTP exchanges (every side) and the
provisioning logs, each with the selected item's details."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Static, TabbedContent, TabPane

from sandbox.engine.sync.logs import LogRecord
from tui.screens.base import SandboxScreen, columns, fitted, row
from tui.widgets.exchange import exchange_text, record_text

POLL_S = 0.5
"""How often the request log is polled for exchanges after the last one shown."""
KEPT = 1000
"""Exchanges kept in the table; older rows are dropped as new ones arrive."""
SIDES = (None, "engine", "provider", "graph")


class ActivityScreen(SandboxScreen):
    """HTTP exchanges and provisioning logs."""

    MODE = "activity"
    AUTO_FOCUS = "#http"  # the arrow keys move in the list from the start, not in the tabs
    HELP = """\
**Activity**: every HTTP exchange between the engine and the provider, live (the engine's side
is what Entra sends, the provider's what it received), newest at the bottom; highlight one to
see its headers and bodies (Authorization redacted). `s` shows all sides, the engine's, the
provider's, or the calls to the Microsoft Graph surface (`graph`, before the SCIM exchanges
they caused). The arrow keys move in the list at once; `z` zooms the details to the whole screen
(arrows and page keys scroll them; `z` or escape goes back). The Provisioning logs tab has one record per object and cycle (action, status,
steps, modified properties, error); filter it by user and cycle.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "toggle_tab", "HTTP/Logs"),
        Binding("s", "side", "Side"),
        Binding("f", "filter", "Filter logs"),
        Binding("z", "zoom", "Zoom details"),
        Binding("end", "latest", "Latest", show=False),
    ]

    @dataclass
    class Exchanges(Message):
        """New exchanges read from the request log (oldest first)."""

        entries: list[dict[str, Any]]
        side: str | None

    def __init__(self) -> None:
        super().__init__()
        self.last_seq = 0
        """The read cursor: the highest seq shown (seq is the order rows were written in)."""
        self.last_ord = 0
        """The latest `ord` shown (when the latest exchange shown happened)."""
        self.side: str | None = None
        self.entries: dict[int, dict[str, Any]] = {}
        self.records: dict[str, LogRecord] = {}
        self.polling = False

    def body(self) -> ComposeResult:
        with TabbedContent(id="activity-tabs"):
            with TabPane("HTTP", id="http-tab"):
                yield Label("all sides", id="side", classes="summary")
                yield from fitted("http", zebra_stripes=True)
                with VerticalScroll(id="exchange-scroll", classes="detail"):
                    yield Static(id="exchange")
            with TabPane("Provisioning logs", id="logs-tab"):
                with Horizontal(classes="toolbar"):
                    yield Label("user ")
                    yield Input(placeholder="UPN or objectId", id="log-user", compact=True)
                    yield Label(" cycle ")
                    yield Input(placeholder="#", id="log-cycle", compact=True, restrict=r"[0-9]*")
                yield from fitted("logs", zebra_stripes=True)
                with VerticalScroll(id="record-scroll", classes="detail"):
                    yield Static(id="record")

    def on_mount(self) -> None:
        columns(
            self.query_one("#http", DataTable),
            ("#", None),
            ("side", None),
            ("method", None),
            ("status", None),
            ("ms", None),
            ("path", 12),
        )
        columns(
            self.query_one("#logs", DataTable),
            ("cycle", None),
            ("identity", 20),
            ("action", None),
            ("status", None),
            ("error", 8),
            ("modified", 8),
        )
        self.set_interval(POLL_S, self.poll)

    # -- the HTTP stream -----------------------------------------------------------------

    def poll(self) -> None:
        """Read exchanges after the last one shown (only while this screen is showing)."""
        if self.is_current and not self.polling:
            self.polling = True
            self._poll(self.last_seq, self.side)

    @work(thread=True, group="poll")
    def _poll(self, after: int, side: str | None) -> None:
        try:
            self.sandbox.flush_logs()
            entries = self.sandbox.engine.request_log.entries(limit=500, side=side, after=after)
        except Exception:  # a busy database: try again next tick
            entries = []
        self.post_message(self.Exchanges(entries, side))

    def on_activity_screen_exchanges(self, message: Exchanges) -> None:
        self.polling = False
        if message.side != self.side or not message.entries:
            return
        table = self.query_one("#http", DataTable)
        follow = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        late = False
        cursor = self.last_seq  # the batch comes in the order things happened, not by seq
        for entry in message.entries:
            if entry["seq"] <= cursor or entry["seq"] in self.entries:
                continue
            # A provider process writes its batch up to FLUSH_INTERVAL_S after the engine
            # wrote the requests it answered: such a row goes in where it happened.
            late = late or entry["ord"] < self.last_ord
            self.last_ord = max(self.last_ord, entry["ord"])
            self.entries[entry["seq"]] = entry
            query = f"?{entry['query']}" if entry.get("query") else ""
            table.add_row(
                *row(
                    entry["seq"],
                    entry["side"],
                    entry["method"],
                    entry["status"],
                    f"{entry['latency_ms']:.0f}",
                    entry["path"] + query,
                ),
                key=str(entry["seq"]),
            )
            self.last_seq = max(self.last_seq, entry["seq"])
        if late:
            table.sort(key=self._happened)
        while table.row_count > KEPT:
            oldest = next(iter(table.rows))
            table.remove_row(oldest)
            self.entries.pop(int(oldest.value or 0), None)
        if follow:
            table.move_cursor(row=table.row_count - 1)

    def _happened(self, cells: list[Any]) -> tuple[int, int]:
        """A row's place in the table: when its exchange happened (requestlog.HAPPENED)."""
        seq = int(str(cells[0]))
        entry = self.entries.get(seq)
        return (entry["ord"] if entry is not None else 0, seq)

    @on(DataTable.RowHighlighted, "#http")
    def _exchange(self, event: DataTable.RowHighlighted) -> None:
        entry = self.entries.get(int(event.row_key.value or 0))
        if entry is not None:
            self.query_one("#exchange", Static).update(exchange_text(entry))

    def action_side(self) -> None:
        self.side = SIDES[(SIDES.index(self.side) + 1) % len(SIDES)]
        self.query_one("#side", Label).update(
            f"{self.side or 'all'} side" + ("s" if self.side is None else "")
        )
        self.query_one("#http", DataTable).clear()
        self.entries.clear()
        self.last_seq = 0
        self.last_ord = 0
        self.polling = False
        self.poll()

    def action_latest(self) -> None:
        table = self.query_one("#http", DataTable)
        table.move_cursor(row=table.row_count - 1)

    # -- provisioning logs ---------------------------------------------------------------

    def load(self) -> list[LogRecord]:
        user = self.query_one("#log-user", Input).value.strip() or None
        cycle = self.query_one("#log-cycle", Input).value.strip()
        return self.sandbox.engine.logs.query(
            source=user, cycle_id=int(cycle) if cycle else None, limit=500
        )

    def show(self, data: list[LogRecord]) -> None:
        self.records = {r.id: r for r in data}
        table = self.query_one("#logs", DataTable)
        table.clear()
        for r in data:
            table.add_row(
                *row(
                    str(r.cycle_id),
                    r.source_name,
                    r.action,
                    r.status,
                    r.error_code or "",
                    ", ".join(m["displayName"] for m in r.modified),
                ),
                key=r.id,
            )
        if data:
            table.move_cursor(row=len(data) - 1)
        else:
            self.query_one("#record", Static).update("no provisioning log record")
        self.poll()

    @on(DataTable.RowHighlighted, "#logs")
    def _record(self, event: DataTable.RowHighlighted) -> None:
        record = self.records.get(str(event.row_key.value))
        if record is not None:
            self.query_one("#record", Static).update(record_text(record))

    @on(Input.Submitted, "#log-user, #log-cycle")
    def _filter(self) -> None:
        self.reload()

    def action_filter(self) -> None:
        self.query_one(TabbedContent).active = "logs-tab"
        self.query_one("#log-user", Input).focus()

    def action_toggle_tab(self) -> None:
        self.minimize()
        tabs = self.query_one(TabbedContent)
        tabs.active = "logs-tab" if tabs.active == "http-tab" else "http-tab"
        self.query_one("#logs" if tabs.active == "logs-tab" else "#http").focus()

    def action_zoom(self) -> None:
        """The highlighted item's details on the whole screen, focused to scroll (or back)."""
        logs = self.query_one(TabbedContent).active == "logs-tab"
        if self.maximized is not None:
            self.minimize()
            return
        details = self.query_one("#record-scroll" if logs else "#exchange-scroll", VerticalScroll)
        self.maximized = details
        details.focus()

    def minimize(self) -> None:
        """Back from the zoomed details (z, or escape) to the list, focused."""
        zoomed = self.maximized is not None
        super().minimize()
        if zoomed:
            logs = self.query_one(TabbedContent).active == "logs-tab"
            self.query_one("#logs" if logs else "#http").focus()
