"""Provides SandboxScreen: a mode's screen that loads its data and runs its actions in thread
workers, and shows every refused action as a notification with the reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header
from textual.worker import get_current_worker

from sandbox.errors import SandboxError
from tui.widgets.fit_table import FitTable
from tui.widgets.footer import COMPACT_BELOW, KeysFooter
from tui.widgets.mode_bar import ModeBar

if TYPE_CHECKING:
    from sandbox.runtime import Sandbox


def row(*values: object) -> list[Text]:
    """DataTable cells as plain text: SCIM paths such as emails[type eq "work"].value and
    expressions such as Join(" ", [givenName]) must not be read as markup."""
    return [Text("" if value is None else str(value)) for value in values]


def columns(table: DataTable[Any], *spec: tuple[str, int | None]) -> None:
    """Add columns as wide as their content; on a FitTable they share the width the screen
    has, each down to its minimum (None: kept whole, for the column naming the row), so a
    long UPN or URN is cut only when the row has no room, and then shows whole below it."""
    for label, minimum in spec:
        if isinstance(table, FitTable):
            table.add_fitted(label, minimum)
        else:
            table.add_column(label)


def fitted(id: str, zebra_stripes: bool = False) -> ComposeResult:
    """A FitTable and, below it, the line that shows its highlighted row's cut values whole."""
    table = FitTable(id=id, zebra_stripes=zebra_stripes)
    yield table
    yield table.whole


def reason(error: Exception) -> str:
    """What to tell the user about a failed action: the sandbox's own message, or the kind
    of error and its text (never a traceback)."""
    if isinstance(error, SandboxError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def width_class(width: int) -> str:
    """The class a screen `width` columns wide has: -narrow (80 columns) or -wide."""
    return "-wide" if width >= COMPACT_BELOW else "-narrow"


class SandboxScreen(Screen[None]):
    """A screen of one mode. Subclasses implement `body()`, `load()` (runs in a thread and
    returns plain data) and `show(data)` (runs on the UI thread). The screen has the class
    -narrow or -wide for app.tcss (what does not fit 80 columns is laid out otherwise there)."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (COMPACT_BELOW, "-wide")]

    MODE: ClassVar[str] = ""
    """The mode name this screen is shown under (for the mode bar)."""
    HELP: ClassVar[str] = ""
    """What the screen does, in Markdown, for the help screen."""
    FIRST_LOAD_INLINE: ClassVar[bool] = False
    """Read the data on the UI thread the first time the screen shows, for a screen whose
    reads are small (a page): it then paints once, with its data. A thread worker started
    during the first layout waits for the interpreter lock between every row it reads."""

    _shown_once = False
    loads_shown = 0
    """How many times data read in a worker was put on screen (tests wait for the first)."""

    @dataclass
    class Loaded(Message):
        """A thread worker read the screen's data (what `load()` returned)."""

        data: Any

    @dataclass
    class LoadFailed(Message):
        """A thread worker could not read the screen's data: why."""

        error: str

    @dataclass
    class ActionSucceeded(Message):
        """A thread worker finished an action; `label` is told (formatted with the result)."""

        label: str
        result: Any = None
        reload: bool = True

    @dataclass
    class ActionRefused(Message):
        """The sandbox refused an action: why."""

        error: str
        reload: bool = True

    def __init__(self) -> None:
        # Its class from the start, for the terminal's width: set at the first resize, it
        # would style the whole screen a second time as it is first shown.
        super().__init__(classes=width_class(self.app.size.width))

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
        yield KeysFooter()

    def body(self) -> ComposeResult:
        """The screen's own widgets, between the mode bar and the footer."""
        yield from ()

    # -- loading -------------------------------------------------------------------------

    quiet_resume = False
    """Set by the app when a mode switch shows this screen again: its styles are current."""

    def post_message(self, message: Message) -> bool:
        # A mode switch asks Textual to apply every style of the screen again (ScreenResume's
        # refresh_styles), about 100 ms of a switch to Directory. Nothing on a screen that is
        # not shown changes its styles unnoticed: a class change applies its styles at once,
        # and a theme or CSS change is refresh_css, which switch_mode runs itself. So a
        # screen shown again by a mode switch is only refreshed; anything else (a dialog
        # closed over it) resumes as Textual does.
        if self.quiet_resume and isinstance(message, events.ScreenResume):
            self.quiet_resume = False
            message = events.ScreenResume(refresh_styles=False)
        return super().post_message(message)

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
            self.post_message(self.LoadFailed(reason(error)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(data))

    def load(self) -> Any:
        """Read what the screen shows (in a thread: database and HTTP are fine here)."""
        return None

    def show(self, data: Any) -> None:
        """Put loaded data on screen (on the UI thread)."""

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.show(message.data)
        self.loads_shown += 1

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        self.notify(message.error, severity="error")

    def show_progress(self, done: int, total: int, phase: str = "") -> None:
        """A running cycle moved on (the app forwards it to the screen showing); a screen
        that draws progress overrides this."""

    # -- actions -------------------------------------------------------------------------

    def act(
        self,
        label: str,
        fn: Callable[..., Any],
        *args: Any,
        reload: bool = True,
        outcome: Callable[[Any], Message] | None = None,
        **kwargs: Any,
    ) -> None:
        """Run `fn(*args, **kwargs)` in a thread worker; notify `label` (formatted with the
        result as `{result}`) when done, or the reason when refused; then reload. `outcome`
        makes the screen's own message of the result (one class per kind of result), posted
        when the action succeeded."""
        self._act(label, fn, args, kwargs, reload, outcome)

    @work(thread=True, group="action")
    def _act(
        self,
        label: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        reload: bool,
        outcome: Callable[[Any], Message] | None,
    ) -> None:
        try:
            result = fn(*args, **kwargs)
        except Exception as error:
            self.post_message(self.ActionRefused(reason(error), reload=reload))
            return
        self.post_message(self.ActionSucceeded(label, result, reload=reload))
        if outcome is not None:
            self.post_message(outcome(result))

    @on(ActionSucceeded)
    def _succeeded(self, message: ActionSucceeded) -> None:
        if message.label:
            self.notify(message.label.format(result=message.result))
        if message.reload:
            self.reload()

    @on(ActionRefused)
    def _refused(self, message: ActionRefused) -> None:
        self.notify(message.error, title="Refused", severity="error")
        if message.reload:
            self.reload()
