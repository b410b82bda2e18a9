"""Provides ProvisioningScreen: the app's Provisioning blade (admin credentials, settings,
start/stop/restart, provision on demand), the job's state, the simulated clock and a chart of
the cycles so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static

from sandbox.engine.sync.clock import parse_duration, parse_time
from sandbox.engine.sync.job import JobConfig
from sandbox.engine.sync.scoping_edit import add_scoping_filter, clear_scoping_filters
from tui.numbers import whole_number
from tui.screens.base import SandboxScreen
from tui.screens.dialogs import MessageDialog
from tui.screens.on_demand_dialog import OnDemand, OnDemandDialog
from tui.screens.scoping_clear_dialog import ClearScopingDialog
from tui.screens.scoping_dialog import NewFilter, ScopingDialog, filters_text
from tui.widgets.check import Check
from tui.widgets.cycle_chart import CycleChart

if TYPE_CHECKING:
    from sandbox.engine.scim.target_errors import ConnectionResult
    from sandbox.engine.sync.service import OnDemandResult

ACTIONS = ("create", "update", "delete")
"""The target object actions, as JobConfig and `sandbox entra configure --[no-]ACTION` name them."""
DEFAULT_THRESHOLD = 500
"""The threshold "Prevent accidental deletion" starts with when none is typed (Entra's default)."""

SPEEDS = (0.0, 1.0, 60.0, 600.0, 3600.0)
"""Clock speeds offered by + and - (simulated seconds per real second)."""


@dataclass(frozen=True)
class Blade:
    """What the screen shows: configuration, status, clock speed and the cycles so far."""

    config: JobConfig
    status: dict[str, Any]
    speed: float
    cycles: list[dict[str, Any]]


def real_wait(status: dict[str, Any], speed: float) -> str:
    """When the started job's next cycle comes in real time at the clock's speed."""
    if not status["running"] or not status["next_cycle"]:
        return ""
    if speed <= 0:
        return "  (clock stopped: n runs it now)"
    wait = (parse_time(status["next_cycle"]) - parse_time(status["now"])).total_seconds() / speed
    if wait <= 0:
        return "  (due now)"
    return (
        f"  (in {wait:,.0f} s at x{speed:g})"
        if wait < 120
        else f"  (in {wait / 60:,.0f} min at x{speed:g})"
    )


def job_text(status: dict[str, Any], speed: float) -> Text:
    """The job's state in a few aligned lines."""
    text = Text()

    def line(label: str, value: str, style: str = "") -> None:
        text.append(f"{label:<14}", style="bold")
        text.append(value + "\n", style=style)

    running = " (running)" if status["running"] else " (stopped)"
    line(
        "Status", status["status"] + running, "bold red" if status["status"] == "Quarantine" else ""
    )
    if status.get("disabled"):
        line("Disabled", status["disabled"], "bold red")
    quarantine = status.get("quarantine")
    if quarantine:
        line("Quarantined", f"{quarantine['reason']}: {quarantine['error']}", "red")
        line(
            "",
            f"since {quarantine['series_began']}, next attempt "
            f"{quarantine['next_attempt'] or 'none (disabled)'}",
        )
    line("Last cycle", f"#{status['last_cycle_id'] or '-'} ended {status['last_cycle_end'] or '-'}")
    took = status.get("last_cycle_minutes")
    if took is not None:
        line("Took", f"{took:.1f} simulated minutes")
    line(
        "Next cycle",
        (status["next_cycle"] or "-")
        + ("  (initial)" if status["initial_needed"] else "")
        + real_wait(status, speed),
    )
    estimate = status.get("next_cycle_estimate")
    if estimate:
        # §1.5: Microsoft's range for its size, and (~) the engine's figure at the job's pace
        line(
            "Estimate",
            f"{estimate['objects']:,} objects: {estimate['min_minutes']:g}-"
            f"{estimate['max_minutes']:g} min (~{estimate['expected_minutes']:g})",
        )
    line("Simulated now", f"{status['now']}  clock x{speed:g}")
    line(
        "Linked users",
        f"{status['linked_users']}  escrows {status['escrows']}"
        f"  staged deletes {status['staged_deletes']}",
    )
    text.rstrip()
    return text


class ProvisioningScreen(SandboxScreen):
    """Provisioning settings, job state, clock and cycles."""

    MODE = "provisioning"
    HELP = """\
**Provisioning**: the app's Provisioning blade. Enter the tenant URL (`local` is this
sandbox's provider) and secret token, then Save and Test connection (`t`). The
`aadOptscim062020` box adds or removes the flag on the tenant URL (the SCIM 2020 PATCH
dialect). "Provision Entra ID Groups" turns the group mappings on; Scope is assigned users
and groups, or all of them. Changing scope or group provisioning makes the next cycle initial.
Target object actions say whether a cycle may create, update and delete (disable) in the app.
"Prevent accidental deletion" holds every deletion of a cycle that would delete or disable
more than the threshold (enter a number) and quarantines the job; `D` (Allow deletes) sends
them in the next cycle, `R` (Restart) forgets them and makes the next cycle initial. Scoping filters: Add filter
picks users or groups, an attribute and one of Entra's operators; a user or group outside
every filter is out of scope. Start (`s`) runs cycles 40 simulated minutes after the last
one ended while the clock flows (+/- or Speed set its speed, Advance moves it by 40m, 6h or
30d); `n` runs the next cycle now whatever the clock says. `o` provisions one user, or one
group with up to five of its members, on demand. Each object a cycle evaluates costs
simulated time (0.01-0.08 minutes, a create twice a match): the job shows how long the last
cycle took and what the next one would take. The chart stacks created, updated, disabled and
failed objects per cycle.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start"),
        Binding("x", "stop", "Stop"),
        Binding("R", "restart", "Restart"),
        Binding("t", "test", "Test connection"),
        Binding("o", "on_demand", "On demand"),
        Binding("plus", "speed(1)", "Faster", key_display="+"),
        Binding("minus", "speed(-1)", "Slower", key_display="-"),
        Binding("D", "allow_deletes", "Allow deletes", show=False),
    ]

    @dataclass
    class ConnectionTested(Message):
        """Test connection answered (ok or not, with Entra's message)."""

        result: ConnectionResult

    @dataclass
    class CredentialsSaved(Message):
        """Save stored the tenant URL (and the token, when one was typed)."""

        result: JobConfig

    @dataclass
    class ProvisionedOnDemand(Message):
        """Provision on demand ran: its record, with the steps."""

        result: OnDemandResult

    def __init__(self) -> None:
        super().__init__()
        self.config: JobConfig | None = None
        self.speed = 0.0
        self.restore: set[str] = set()
        """Fields (threshold, speed) whose refused value gives way to the setting in force at
        the next show, focused or not."""

    def body(self) -> ComposeResult:
        with Horizontal(id="blade"):
            with VerticalScroll(id="settings", classes="panel"):
                yield Label("Admin credentials", classes="section")
                with Grid(classes="form"):
                    yield Label("Tenant URL")
                    yield Input(id="tenant-url", compact=True)
                    yield Label("Secret token")
                    yield Input(id="token", password=True, compact=True, placeholder="(unchanged)")
                with Horizontal(classes="buttons"):
                    yield Button("Save", id="save", compact=True)
                    yield Button("Test connection", id="test", compact=True)
                yield Label("Settings", classes="section")
                yield Check("?aadOptscim062020 (SCIM 2020)", id="flag", compact=True)
                yield Check("Provision Entra ID Groups", id="groups-on", compact=True)
                yield Check("Skip out-of-scope deletions", id="skip", compact=True)
                with Grid(classes="form", id="scope-form"):
                    yield Label("Scope")
                    yield Select(
                        [
                            ("assigned users and groups", "assigned"),
                            ("all users and groups", "all"),
                        ],
                        id="scope",
                        allow_blank=False,
                        compact=True,
                    )
                yield Label("Target object actions", classes="section")
                with Horizontal(classes="checks"):
                    for action in ACTIONS:
                        yield Check(action.title(), id=f"action-{action}", compact=True)
                yield Label("Accidental deletions", classes="section")
                yield Check("Prevent accidental deletion", id="prevent", compact=True)
                with Grid(classes="form"):
                    yield Label("Threshold")
                    yield Input(
                        id="threshold",
                        placeholder=f"e.g. {DEFAULT_THRESHOLD} (enter)",
                        compact=True,
                        restrict=r"[0-9]*",
                    )
                yield Label("Scoping filters (users)", classes="section")
                yield Static(id="scoping", classes="scoping", markup=False)
                yield Label("Scoping filters (groups)", classes="section")
                yield Static(id="group-scoping", classes="scoping", markup=False)
                with Horizontal(classes="buttons"):
                    yield Button("Add filter", id="add-filter", compact=True)
                    yield Button("Clear filters", id="clear-filters", compact=True)
                yield Label("Simulated clock", classes="section")
                with Grid(classes="form"):
                    yield Label("Speed (x)")
                    yield Input(id="speed", compact=True, restrict=r"[0-9.]*")
                    yield Label("Advance by")
                    yield Input(id="advance", compact=True, placeholder="e.g. 40m, 6h, 30d")
            with Vertical(id="job", classes="panel"):
                yield Static(id="job-status")
                yield ProgressBar(id="progress", show_eta=False)
                phase = Static(id="progress-phase")
                phase.display = False  # shown while a cycle runs
                yield phase
                yield Label("Cycles so far", classes="section")
                yield CycleChart(id="chart")

    # -- data ----------------------------------------------------------------------------

    def load(self) -> Blade:
        engine = self.sandbox.engine
        return Blade(engine.config(), engine.status(), engine.clock.speed, engine.cycles(50))

    def show(self, data: Blade) -> None:
        self.config, self.speed = data.config, data.speed
        config = data.config
        with self.prevent(Input.Changed, Checkbox.Changed, Select.Changed):
            url = self.query_one("#tenant-url", Input)
            if not url.has_focus:
                url.value = config.tenant_url
            self.query_one("#flag", Checkbox).value = config.flag
            self.query_one("#groups-on", Checkbox).value = config.groups_enabled
            self.query_one("#skip", Checkbox).value = config.skip_out_of_scope_deletions
            self.query_one("#scope", Select).value = config.scope
            for action in ACTIONS:
                self.query_one(f"#action-{action}", Checkbox).value = getattr(config, action)
            self.query_one("#prevent", Checkbox).value = config.delete_threshold is not None
            threshold = self.query_one("#threshold", Input)
            if not threshold.has_focus or "threshold" in self.restore:
                threshold.value = (
                    "" if config.delete_threshold is None else str(config.delete_threshold)
                )
            speed = self.query_one("#speed", Input)
            if not speed.has_focus or "speed" in self.restore:
                speed.value = f"{data.speed:g}"
        self.restore.clear()
        self.query_one("#scoping", Static).update(filters_text(config.scoping_filters, "users"))
        self.query_one("#group-scoping", Static).update(
            filters_text(config.group_scoping_filters, "groups")
        )
        self.query_one("#job-status", Static).update(job_text(data.status, data.speed))
        self.query_one(CycleChart).cycles = data.cycles
        if not self.app.cycle_running:  # type: ignore[attr-defined]
            self.query_one(ProgressBar).update(total=1, progress=1 if data.cycles else 0)
            self.query_one("#progress-phase", Static).display = False

    def show_progress(self, done: int, total: int, phase: str = "") -> None:
        """A cycle's progress in its current phase (the app forwards it while this screen
        shows): its users, then the manager references it sends once the managers exist."""
        self.query_one(ProgressBar).update(total=total or None, progress=done)
        label = self.query_one("#progress-phase", Static)
        label.display = bool(phase)
        if phase:
            label.update(f"{phase}: {done:,} of {total:,}")

    # -- settings ------------------------------------------------------------------------

    @on(Button.Pressed, "#save")
    @on(Input.Submitted, "#tenant-url, #token")
    def _save(self) -> None:
        url = self.query_one("#tenant-url", Input).value.strip()
        token = self.query_one("#token", Input).value
        changes: dict[str, Any] = {"tenant_url": url}
        if token:
            changes["secret_token"] = token
        # Refused (a bad URL, a token that cannot go in a header), both fields keep what was
        # typed; saved, the token field is emptied (the token is never shown again).
        self.act(
            "Admin credentials saved",
            self.sandbox.engine.configure,
            reload=False,
            outcome=self.CredentialsSaved,
            **changes,
        )

    @on(CredentialsSaved)
    def _credentials_saved(self, message: CredentialsSaved) -> None:
        self.query_one("#token", Input).value = ""
        self.reload()

    @on(Button.Pressed, "#test")
    def action_test(self) -> None:
        self.act("", self.sandbox.test_connection, reload=False, outcome=self.ConnectionTested)

    @on(Checkbox.Changed, "#flag")
    def _flag(self, event: Checkbox.Changed) -> None:
        self.act("Tenant URL: {result.tenant_url}", self.sandbox.set_flag, event.value)

    @on(Checkbox.Changed, "#groups-on")
    def _groups(self, event: Checkbox.Changed) -> None:
        self.act(
            f"Group provisioning {'on' if event.value else 'off'}; the next cycle is initial",
            self.sandbox.engine.configure,
            groups_enabled=event.value,
        )

    @on(Checkbox.Changed, "#skip")
    def _skip(self, event: Checkbox.Changed) -> None:
        self.act(
            f"Skip out-of-scope deletions {'on' if event.value else 'off'}",
            self.sandbox.engine.configure,
            skip_out_of_scope_deletions=event.value,
        )

    @on(Select.Changed, "#scope")
    def _scope(self, event: Select.Changed) -> None:
        if self.config is not None and event.value != self.config.scope:
            self.act(
                f"Scope: {event.value}; "
                + (
                    "it takes effect after a restart (R)"
                    if event.value == "assigned" and self.config.scope == "all"
                    else "the next cycle is initial"
                ),
                self.sandbox.engine.configure,
                scope=event.value,
            )

    @on(Checkbox.Changed, "#action-create, #action-update, #action-delete")
    def _action(self, event: Checkbox.Changed) -> None:
        action = str(event.checkbox.id).removeprefix("action-")
        self.act(
            f"Target object action {action.title()} {'on' if event.value else 'off'}",
            self.sandbox.engine.configure,
            **{action: event.value},
        )

    @on(Checkbox.Changed, "#prevent")
    def _prevent(self, event: Checkbox.Changed) -> None:
        if not event.value:
            self._set_threshold(None)
            return
        typed = self.query_one("#threshold", Input).value.strip()
        self._set_threshold(typed or str(DEFAULT_THRESHOLD))

    @on(Input.Submitted, "#threshold")
    def _threshold(self, event: Input.Submitted) -> None:
        self._set_threshold(event.value.strip() or None)

    def _set_threshold(self, typed: str | None) -> None:
        """As `sandbox entra configure --delete-threshold N` (None: --no-delete-threshold); a
        refused value is told and the field shows the threshold in force again."""
        self.restore.add("threshold")  # a refused value gives way to the one in force
        try:
            value = None if typed is None else whole_number(typed, "the deletion threshold")
        except ValueError as error:
            self.notify(str(error), title="Refused", severity="error")
            self.reload()
            return
        self.act(
            "Accidental-deletion threshold: " + ("off" if value is None else str(value)),
            self.sandbox.engine.configure,
            delete_threshold=value,
        )

    @on(Button.Pressed, "#add-filter")
    def action_add_filter(self) -> None:
        def add(new: NewFilter | None) -> None:
            # As `sandbox entra scoping add [--groups] CLAUSE...`.
            if new is not None:
                kind = "group scoping filter" if new.groups else "scoping filter"
                self.act(
                    f"Added {kind}: {{result}}; the next cycle is initial",
                    add_scoping_filter,
                    self.sandbox.engine,
                    new.clauses,
                    groups=new.groups,
                )

        self.app.push_screen(ScopingDialog("users"), add)

    @on(Button.Pressed, "#clear-filters")
    def action_clear_filters(self) -> None:
        def clear(groups: bool | None) -> None:
            # As `sandbox entra scoping clear [--groups]`.
            if groups is not None:
                self.act(
                    f"{'Group scoping' if groups else 'Scoping'} filters removed; "
                    "the next cycle is initial",
                    clear_scoping_filters,
                    self.sandbox.engine,
                    groups=groups,
                )

        config = self.config or self.sandbox.engine.config()
        self.app.push_screen(
            ClearScopingDialog(config.scoping_filters, config.group_scoping_filters), clear
        )

    @on(Input.Submitted, "#speed")
    def _speed(self, event: Input.Submitted) -> None:
        self.restore.add("speed")  # a refused speed gives way to the one in force
        try:
            speed = float(event.value)
        except ValueError:
            self.notify(f"not a speed: {event.value!r}", title="Refused", severity="error")
            self.reload()
            return
        self._set_speed(speed)

    @on(Input.Submitted, "#advance")
    def _advance(self, event: Input.Submitted) -> None:
        event.input.value = ""

        def advance(text: str) -> str:
            # As `sandbox entra clock --advance DURATION`.
            clock = self.sandbox.engine.clock
            clock.advance(parse_duration(text))
            return clock.now().isoformat(timespec="seconds")

        self.act("Simulated time: {result}", advance, event.value.strip())

    # -- the job -------------------------------------------------------------------------

    def action_start(self) -> None:
        self.act("Provisioning started", self.sandbox.engine.start)

    def action_stop(self) -> None:
        self.act("Provisioning stopped", self.sandbox.engine.stop)

    def action_restart(self) -> None:
        self.act(
            "Provisioning restarted: the next cycle is initial (escrows and quarantine cleared)",
            self.sandbox.engine.restart,
        )

    def action_allow_deletes(self) -> None:
        self.act("Deletes allowed for the next cycle", self.sandbox.engine.allow_deletes)

    def action_speed(self, step: int) -> None:
        index = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - self.speed))
        self._set_speed(SPEEDS[max(0, min(len(SPEEDS) - 1, index + step))])

    def _set_speed(self, speed: float) -> None:
        """As `sandbox entra clock --speed S`."""
        self.act(f"Clock speed x{speed:g}", self.sandbox.engine.clock.set_speed, speed)

    def action_on_demand(self) -> None:
        def run(chosen: OnDemand | None) -> None:
            # As `sandbox entra pod USER`, or `sandbox entra pod GROUP --member U ...`.
            if chosen is not None:
                self.act("", self._on_demand, *chosen, outcome=self.ProvisionedOnDemand)

        groups_enabled = self.config.groups_enabled if self.config is not None else True
        self.app.push_screen(OnDemandDialog(self.sandbox.engine.directory, groups_enabled), run)

    def _on_demand(self, key: str, members: tuple[str, ...] = ()) -> Any:
        result = self.sandbox.engine.provision_on_demand(key, members)
        self.sandbox.flush_logs()
        return result

    @on(ConnectionTested)
    def _tested(self, message: ConnectionTested) -> None:
        result = message.result
        self.notify(
            result.message,
            title="Test connection",
            severity="information" if result.ok else "error",
        )

    @on(ProvisionedOnDemand)
    def _provisioned(self, message: ProvisionedOnDemand) -> None:
        # A group's chosen members first, then the group, as `sandbox entra pod` prints them.
        result = message.result
        shown = [*result.members, result.record]
        text = "\n\n".join("\n".join(record.describe()) for record in shown)
        self.app.push_screen(MessageDialog("Provision on demand", text))
