"""Provides SandboxScreen: a mode's screen that loads its data and runs its actions in thread
workers, and shows every refused action as a notification with the reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header
from textual.worker import get_current_worker

from sandbox.errors import SandboxError
from tui.widgets.mode_bar import ModeBar

if TYPE_CHECKING:
    from sandbox.runtime import Sandbox


def row(*values: object) -> list[Text]:
    """DataTable cells as plain text: SCIM paths such as emails[type eq "work"].value and
    expressions such as Join(" ", [givenName]) must not be read as markup."""
    return [Text("" if value is None else str(value)) for value in values]


def columns(table: DataTable, *spec: tuple[str, int | None]) -> None:
    """Add columns with fixed widths (None: as wide as the content), so one long UPN or URN
    does not push the other columns off an 80-column terminal."""
    for label, width in spec:
        table.add_column(label, width=width)


def reason(error: Exception) -> str:
    """What to tell the user about a failed action: the sandbox's own message, or the kind
    of error and its text (never a traceback)."""
    if isinstance(error, SandboxError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class SandboxScreen(Screen[None]):
    """A screen of one mode. Subclasses implement `body()`, `load()` (runs in a thread and
    returns plain data) and `show(data)` (runs on the UI thread)."""

    MODE: ClassVar[str] = ""
    """The mode name this screen is shown under (for the mode bar)."""
    HELP: ClassVar[str] = ""
    """What the screen does, in Markdown, for the help screen."""
    FIRST_LOAD_INLINE: ClassVar[bool] = False
    """Read the data on the UI thread the first time the screen shows, for a screen whose
    reads are small (a page): it then paints once, with its data. A thread worker started
    during the first layout waits for the interpreter lock between every row it reads."""

    _shown_once = False

    @dataclass
    class Loaded(Message):
        """A thread worker finished reading the screen's data."""

        data: Any

    @dataclass
    class ActionDone(Message):
        """A thread worker finished an action: its result, or why it was refused."""

        label: str
        result: Any = None
        error: str | None = None
        reload: bool = True

    @property
    def sandbox(self) -> Sandbox:
        """The running sandbox (held by the app)."""
        return self.app.sandbox  # type: ignore[attr-defined, no-any-return]

    def compose(self) -> ComposeResult:
        yield Header()
        bar = ModeBar(self.MODE)
        bar.set_reactive(ModeBar.with_scenario, self.app.session is not None)  # type: ignore[attr-defined]
        yield bar
        yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:
        """The screen's own widgets, between the mode bar and the footer."""
        yield from ()

    # -- loading -------------------------------------------------------------------------

    def on_screen_resume(self) -> None:
        # Another screen (or a cycle, or a scenario's step) may have changed what this one shows.
        for bar in self.query(ModeBar):
            bar.with_scenario = self.app.session is not None  # type: ignore[attr-defined]
        if self.FIRST_LOAD_INLINE and not self._shown_once:
            self._shown_once = True
            try:
                data = self.load()
            except Exception as error:  # shown, never raised: the UI keeps running
                self.notify(reason(error), severity="error")
                return
            self.show(data)
            return
        self.reload()

    def reload(self) -> None:
        """Read the screen's data again in a thread worker."""
        self._load()

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        try:
            data = self.load()
        except Exception as error:  # shown, never raised: the UI keeps running
            self.post_message(self.ActionDone("load", error=reason(error), reload=False))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(data))

    def load(self) -> Any:
        """Read what the screen shows (in a thread: database and HTTP are fine here)."""
        return None

    def show(self, data: Any) -> None:
        """Put loaded data on screen (on the UI thread)."""

    def on_sandbox_screen_loaded(self, message: Loaded) -> None:
        self.show(message.data)

    # -- actions -------------------------------------------------------------------------

    def act(
        self, label: str, fn: Callable[..., Any], *args: Any, reload: bool = True, **kwargs: Any
    ) -> None:
        """Run `fn(*args, **kwargs)` in a thread worker; notify `label` (formatted with the
        result as `{result}`) when done, or the reason when refused; then reload."""
        self._act(label, fn, args, kwargs, reload)

    @work(thread=True, group="action")
    def _act(
        self,
        label: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        reload: bool,
    ) -> None:
        try:
            result = fn(*args, **kwargs)
        except Exception as error:
            self.post_message(self.ActionDone(label, error=reason(error), reload=reload))
            return
        self.post_message(self.ActionDone(label, result, reload=reload))

    def on_sandbox_screen_action_done(self, message: ActionDone) -> None:
        if message.error is not None:
            self.notify(
                message.error, title="Refused" if message.label != "load" else "", severity="error"
            )
        else:
            if message.label:
                self.notify(message.label.format(result=message.result))
            self.done(message.label, message.result)
        if message.reload:
            self.reload()

    def done(self, label: str, result: Any) -> None:
        """Hook: an action succeeded (on the UI thread)."""
