"""Provides SandboxApp: the `sandbox up` terminal UI over a running Sandbox (runtime)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message

from sandbox.engine.sync.service import CycleRunningError
from sandbox.errors import SandboxError
from tui.screens.base import SandboxScreen, reason
from tui.screens.directory import DirectoryScreen

if TYPE_CHECKING:
    from sandbox.runtime import Sandbox
    from sandbox.scenarios import ScenarioSession

HEADER_ICONS = 8
"""Columns of the header taken by its icon on the left and the space kept on the right."""

SCHEDULER_TICK_S = 1.0
"""How often the app checks whether a started job's next cycle is due on the simulated clock."""

WARM_UP_DELAY_S = 1.5
"""When, after start, a thread prepares what the first cycle needs (Sandbox.warm_up: starts the
local provider's process and waits for it to answer): after the first screen has painted
(`bench/startup.py`: about 0.7-0.9 s with a 10k-user tenant), so its start does not compete
with the first paint."""


class SandboxApp(App[None]):
    """The sandbox's terminal UI: one mode per screen, the cycles run by the app itself (so a
    due cycle runs whatever screen is showing)."""

    CSS_PATH = "app.tcss"
    TITLE = "SCIM provisioning sandbox"
    # The first screen is imported with the app; the others on first use, so the app starts
    # sooner (their widgets are most of the UI's import time).
    MODES: ClassVar[dict[str, Any]] = {
        "directory": DirectoryScreen,
        "assignments": lambda: _screen("assignments", "AssignmentsScreen"),
        "provisioning": lambda: _screen("provisioning", "ProvisioningScreen"),
        "mappings": lambda: _screen("mappings", "MappingsScreen"),
        "activity": lambda: _screen("activity", "ActivityScreen"),
        "provider": lambda: _screen("provider", "ProviderScreen"),
        "scenario": lambda: _screen("scenario", "ScenarioScreen"),
    }
    DEFAULT_MODE = "directory"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('directory')", "Directory", show=False),
        Binding("2", "switch_mode('assignments')", "Assignments", show=False),
        Binding("3", "switch_mode('provisioning')", "Provisioning", show=False),
        Binding("4", "switch_mode('mappings')", "Mappings", show=False),
        Binding("5", "switch_mode('activity')", "Activity", show=False),
        Binding("6", "switch_mode('provider')", "Provider", show=False),
        Binding("7", "switch_mode('scenario')", "Scenario", show=False),
        Binding("o", "open_scenario", "Open scenario", show=False),
        Binding("n", "cycle", "Next cycle"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    @dataclass
    class CycleProgress(Message):
        """A cycle moved on: `done` of `total` objects in its current `phase`."""

        done: int
        total: int
        phase: str = ""

        def can_replace(self, message: Message) -> bool:
            # A newer count of the same cycle replaces one still queued: a busy UI shows the
            # latest figure instead of drawing every step behind it.
            return isinstance(message, SandboxApp.CycleProgress)

    @dataclass
    class CycleFinished(Message):
        """A cycle ended: its report as a dict, or the reason it could not run."""

        report: dict[str, Any] | None
        error: str | None = None
        scheduled: bool = False
        """Started by the scheduler (a tick), not by `n`."""
        refused: bool = False
        """Not run because a cycle of the job was running (CycleRunningError)."""

    @dataclass
    class ProviderStarted(Message):
        """The warm-up ended: the local provider answers, or the reason it cannot."""

        error: str | None = None

    @dataclass
    class ScenarioOpened(Message):
        """A scenario's world was built (from its file, again on a restart), or why not."""

        session: ScenarioSession | None
        error: str | None = None

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        scheduler: bool = True,
        session: ScenarioSession | None = None,
    ) -> None:
        if session is not None:  # opens on the scenario's steps
            self.DEFAULT_MODE = "scenario"  # type: ignore[misc]
        super().__init__()
        self.sandbox = sandbox
        """The running sandbox every screen reads and drives (the CLI's API)."""
        self.home: Sandbox | None = None if session is not None else sandbox
        """The database's sandbox the app started on (None when it started on a scenario):
        closing a scenario goes back to it; its provider keeps serving meanwhile, and is
        stopped when the app quits."""
        self.session = session
        """The loaded scenario (its world is `sandbox`), or None: the database's sandbox."""
        self.scheduler = scheduler
        self.cycle_running = False
        """A cycle started by this app is running (set on the UI thread before its worker)."""
        self._refusal: str | None = None
        """The last refusal told (a cycle running elsewhere), so ticks do not repeat it."""
        self.warm_up_delay_s = WARM_UP_DELAY_S
        self.provider_error: str | None = None
        """Why the local provider could not start, once the warm-up has told it."""
        self.sub_title = self.describe_target()

    def describe_target(self) -> str:
        """Where the provider listens and where the engine sends."""
        config = self.sandbox.engine.config()
        target = "local provider" if config.is_local else config.url.base
        if self.session is not None:  # the engine reaches it through the WSGI transport
            scenario = f"scenario {self.session.path.name}: its provider in process"
            if self.home is not None and self.home.server is not None:
                return f"{scenario} · the database's provider still on {self.home.provider_url}"
            return f"{scenario}, no loopback port"
        if self.provider_error is not None and self.sandbox is self.home:
            return f"local provider not running · engine -> {target}"
        if not self.sandbox.provider_ready:  # its port is shown once it answers
            return f"provider starting on a loopback port · engine -> {target}"
        graph = self.sandbox.graph_url
        shown = f" · Graph {graph}" if graph else ""
        return f"provider {self.sandbox.provider_url}{shown} · engine -> {target}"

    def compact_target(self) -> str | None:
        """The header's line for a narrow screen (80 columns): the same addresses without
        their scheme, and "engine -> provider" when the engine sends to the local one; None
        when there is nothing shorter to say."""
        config = self.sandbox.engine.config()
        if self.session is not None or not self.sandbox.provider_ready:
            return None
        if self.provider_error is not None and self.sandbox is self.home:
            return None

        def bare(url: str) -> str:
            return url.split("://", 1)[-1]

        provider = bare(self.sandbox.provider_url)
        graph = self.sandbox.graph_url
        shown = f" · Graph {bare(graph)}" if graph else ""
        if config.is_local:
            return f"engine -> provider {provider}{shown}"
        return f"provider {provider}{shown} · engine -> {bare(config.url.base)}"

    def on_mount(self) -> None:
        if self.scheduler:
            self.set_interval(SCHEDULER_TICK_S, self.check_schedule)
        # once the first screen is up (a thread importing competes for the interpreter lock
        # with the first paint): the first cycle's first request then does not wait for it
        if self.warm_up_delay_s > 0:
            self.set_timer(self.warm_up_delay_s, self.warm_up)
        else:
            self.warm_up()

    def on_unmount(self) -> None:
        # Quitting leaves no provider process behind, whoever opened the sandbox.
        if self.home is not None:
            self.home.stop_provider()

    @work(thread=True, group="warm-up")
    def warm_up(self) -> None:
        """Prepare what the first cycle needs, in a thread (Sandbox.warm_up)."""
        try:
            self.sandbox.warm_up()
        except SandboxError as error:
            self.post_message(self.ProviderStarted(str(error)))
            return
        self.post_message(self.ProviderStarted())

    def on_sandbox_app_provider_started(self, message: ProviderStarted) -> None:
        if message.error is not None:
            self.provider_error = message.error
            self.notify(message.error, title="Local provider", severity="error")
        elif self.sandbox.graph_error is not None:
            self.notify(self.sandbox.graph_error, title="Microsoft Graph", severity="warning")
        self.sub_title = self.describe_target()

    # -- cycles -------------------------------------------------------------------------

    def check_schedule(self) -> None:
        """Run the next cycle when a started job's time has come on the simulated clock (not
        in a scenario: only its steps, and `n`, run cycles there)."""
        if not self.cycle_running and self.session is None:
            self.start_cycle(scheduled=True)

    def switch_mode(self, mode: str) -> Any:
        """Show `mode`'s screen; one shown before resumes without restyling (SandboxScreen)."""
        stack = self._screen_stacks.get(mode)
        if mode != self.current_mode and stack and isinstance(stack[-1], SandboxScreen):
            stack[-1].quiet_resume = True
        return super().switch_mode(mode)

    def action_cycle(self) -> None:
        """Next cycle now: move the simulated clock to it and run it."""
        if self.cycle_running:
            self.notify("A cycle is already running.", severity="warning")
            return
        self.start_cycle(scheduled=False)

    def start_cycle(self, scheduled: bool) -> None:
        """Mark a cycle running, here on the UI thread, then run it in a worker: a tick and
        `n` (or `n` twice) between a worker's start and its first line start one cycle, not
        two. Only the CycleFinished handler clears the mark."""
        self.cycle_running = True
        self.run_cycle(scheduled)

    @work(thread=True, group="cycle")
    def run_cycle(self, scheduled: bool) -> None:
        """Run one cycle in a thread; progress and the outcome come back as messages (a
        scheduled cycle that is not due yet is CycleFinished with neither)."""
        sandbox = self.sandbox
        try:
            if scheduled and not sandbox.cycle_due():
                self.post_message(self.CycleFinished(None, scheduled=True))
                return
            self.post_message(self.CycleProgress(0, 0))

            def progress(done: int, total: int, phase: str) -> None:
                self.post_message(self.CycleProgress(done, total, phase))

            report = sandbox.run_cycle(progress)
            self.post_message(self.CycleFinished(report, scheduled=scheduled))
        except CycleRunningError as error:  # another process's cycle (or a POD here)
            self.post_message(self.CycleFinished(None, str(error), scheduled, refused=True))
        except SandboxError as error:
            self.post_message(self.CycleFinished(None, str(error), scheduled))
        except Exception as error:  # a broken target must not kill the UI: show why
            self.post_message(
                self.CycleFinished(None, f"{type(error).__name__}: {error}", scheduled)
            )

    @on(CycleProgress)
    def _cycle_progress(self, message: CycleProgress) -> None:
        if isinstance(self.screen, SandboxScreen):
            self.screen.show_progress(message.done, message.total, message.phase)

    @on(CycleFinished)
    def _cycle_finished(self, message: CycleFinished) -> None:
        self.cycle_running = False
        if message.refused:
            # Told once while the other cycle runs, not at every scheduler tick.
            if not (message.scheduled and self._refusal == message.error):
                self.notify(message.error or "", title="Cycle not run", severity="warning")
            self._refusal = message.error
            return
        if message.report is None and message.error is None:  # not due yet
            return
        self._refusal = None
        if message.error is not None:
            self.notify(message.error, title="Cycle not run", severity="error")
        elif message.report is not None:
            report = message.report
            counts = ", ".join(f"{v} {k}" for k, v in report["counts"].items() if v) or "no changes"
            quarantine = report.get("quarantine")
            self.notify(
                f"{report['kind']} cycle #{report['id']}: {counts}"
                + (f"; quarantined: {quarantine['reason']}" if quarantine else ""),
                severity="warning"
                if quarantine or report["counts"].get("failed")
                else "information",
            )
        if isinstance(self.screen, SandboxScreen):
            self.screen.reload()

    # -- scenarios -----------------------------------------------------------------------

    def action_open_scenario(self) -> None:
        """Pick a shipped scenario and switch the UI to its world."""
        from sandbox.scenarios.catalog import shipped

        def chosen(path: str | None) -> None:
            if path:
                self.open_scenario(path)

        from tui.screens.scenario_dialog import OpenScenarioDialog

        self.push_screen(OpenScenarioDialog(shipped()), chosen)

    @work(thread=True, exclusive=True, group="scenario")
    def open_scenario(self, path: str) -> None:
        """Build the scenario's world from its file in a thread (a restart opens it again)."""
        from sandbox.scenarios import ScenarioSession

        try:
            session = ScenarioSession(path)
        except Exception as error:  # a broken file is told, never raised
            self.post_message(self.ScenarioOpened(None, reason(error)))
            return
        self.post_message(self.ScenarioOpened(session))

    @on(ScenarioOpened)
    def _scenario_opened(self, message: ScenarioOpened) -> None:
        if message.session is None:
            self.notify(message.error or "", title="Scenario not opened", severity="error")
            return
        from sandbox.runtime import Sandbox

        old = self.session
        self.session = message.session
        self.sandbox = Sandbox.from_world(message.session.world)
        self.sub_title = self.describe_target()
        if old is not None:
            old.close()
        self.notify(f"{message.session.scenario.name}: {len(message.session.scenario.steps)} steps")
        if self.current_mode == "scenario" and isinstance(self.screen, SandboxScreen):
            self.screen.reload()
        else:
            self.switch_mode("scenario")

    def action_close_scenario(self) -> None:
        """Leave the scenario's world for the database's sandbox the app started on."""
        if self.session is None:
            self.notify("No scenario is open.", severity="warning")
            return
        if self.home is None:
            self.notify(
                "The UI started on this scenario (sandbox up --scenario): there is no "
                "database sandbox to go back to; quit and run `sandbox up`.",
                severity="warning",
            )
            return
        name = self.session.scenario.name
        self.session.close()
        self.session = None
        self.sandbox = self.home
        self.sub_title = self.describe_target()
        self.notify(f"Closed {name}: back to the database's sandbox")
        if isinstance(self.screen, SandboxScreen):
            self.screen.on_screen_resume()

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header's line: the title and where the provider is, or only where the provider
        is when both do not fit, and that line without the URLs' schemes when it does not fit
        alone (80 columns), so the URLs are not cut."""
        width = self.size.width - HEADER_ICONS
        if sub_title and len(title) + 3 + len(sub_title) > width:
            compact = self.compact_target() if len(sub_title) > width else None
            return Content(compact if compact is not None else sub_title)
        return super().format_title(title, sub_title)

    # -- help ---------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show the current screen's keys and what it does."""
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen))


def _screen(module: str, name: str) -> Any:
    """A screen of `tui.screens.<module>`, imported when its mode is first shown."""
    import importlib

    return getattr(importlib.import_module(f"tui.screens.{module}"), name)()
