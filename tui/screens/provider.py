"""Provides ProviderScreen: the Nulab organization behind the provider (members, teams),
provisioning and its token, and fault injection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Label, Static, TabbedContent, TabPane

from sandbox.provider.auth import ProvisioningState
from sandbox.provider.faults import FaultRule
from sandbox.provider.org import Member, Team
from sandbox.runtime import Effect
from tui.numbers import whole_number
from tui.screens.base import SandboxScreen, columns, fitted, row
from tui.screens.dialogs import ConfirmDialog, MessageDialog, PromptDialog
from tui.screens.fault_dialog import FaultDialog

SHOWN = 1000
"""Members listed at most."""


@dataclass(frozen=True)
class OrgView:
    """The organization as the screen shows it."""

    name: str
    state: ProvisioningState
    issuer: str | None
    seats_used: int
    seat_limit: int | None
    members: list[Member]
    teams: list[Team]
    faults: list[FaultRule]
    cycle: int | None
    """The last cycle's number (None before the first)."""
    effects: list[Effect]
    """What the provider did beyond each write of that cycle (team changes...)."""


class ProviderScreen(SandboxScreen):
    """Members, teams, the token and fault rules."""

    MODE = "provider"
    HELP = """\
**Provider**: the Nulab organization behind the SCIM provider, as its admin sees it. Members
show their label ("Provisioned Managed Account" after the first provisioning write), role,
active, language, time zone and teams; Teams show who is team admin. Issue a token (shown once)
to see the engine's requests fail with 401 until it is entered in the engine ("Use in engine").
Fault rules make matching SCIM requests fail on purpose, at once. The Teams tab lists each
team's members (★ team admin); below the tabs, what the provider did in the last cycle beyond
the writes themselves (a downgrade to guest leaves the teams that allow no guests and loses
team-admin rights). `l` sets the licence seat limit (active accounts), as `sandbox provider
seats --limit N` (empty: unlimited).
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "tab", "Members/Teams/Faults"),
        Binding("i", "issue", "Issue token"),
        Binding("k", "delete_token", "Delete token"),
        Binding("v", "enable", "Provisioning on/off"),
        Binding("l", "seats", "Seat limit"),
        Binding("f", "add_fault", "Add fault"),
        Binding("x", "clear_fault", "Clear fault"),
        Binding("X", "clear_faults", "Clear all", show=False),
    ]
    TABS = ("members-tab", "teams-tab", "faults-tab")

    @dataclass
    class TokenIssued(Message):
        """A new SCIM token was issued: shown once."""

        token: str

    def __init__(self) -> None:
        super().__init__()
        self.view: OrgView | None = None

    def body(self) -> ComposeResult:
        yield Static(id="org", classes="summary")
        with TabbedContent(id="provider-tabs"):
            with TabPane("Members", id="members-tab"):
                yield from fitted("org-members", zebra_stripes=True)
            with TabPane("Teams", id="teams-tab"):
                yield from fitted("teams")
                with VerticalScroll(id="team-scroll"):
                    yield Static(id="team-members", markup=False)
            with TabPane("Faults", id="faults-tab"):
                yield from fitted("faults")
        yield Label("", id="effects-title", classes="section")
        with VerticalScroll(id="effects-scroll"):
            yield Static(id="effects", markup=False)

    def on_mount(self) -> None:
        columns(
            self.query_one("#org-members", DataTable),
            ("email", None),
            ("role", None),
            ("active", None),
            ("label", 8),
            ("username", 8),
            ("lang", None),
            ("time zone", 8),
            ("teams", 8),
        )
        columns(
            self.query_one("#teams", DataTable),
            ("team", None),
            ("guests", None),
            ("members", None),
            ("team admins", 10),
        )
        columns(self.query_one("#faults", DataTable), ("rule", 10))

    def load(self) -> OrgView:
        sandbox = self.sandbox
        org = sandbox.org
        issuer = org.issuer()
        return OrgView(
            org.name,
            sandbox.credentials.state(),
            issuer.email if issuer else None,
            org.seats_used(),
            org.seat_limit,
            org.members(limit=SHOWN),
            org.teams(),
            sandbox.faults.list(),
            *sandbox.last_cycle_effects(),
        )

    def show(self, data: OrgView) -> None:
        self.view = data
        state = data.state
        token = f"token issued by {data.issuer or '?'}" if state.token_issued else "no token"
        seats = f"{data.seats_used}/{data.seat_limit or 'unlimited'}"
        self.query_one("#org", Static).update(
            Text.assemble(
                (data.name, "bold"),
                " · provisioning ",
                ("enabled", "green") if state.enabled else ("disabled", "bold red"),
                f" · {token} · seats {seats} · faults {len(data.faults)}",
            )
        )
        members = self.query_one("#org-members", DataTable)
        keep = members.cursor_row
        members.clear()
        for m in data.members:
            members.add_row(
                *row(
                    m.email,
                    m.role,
                    "yes" if m.active else "no",
                    m.label or f"({m.kind} account)",
                    m.username,
                    m.language,
                    m.timezone,
                    ", ".join(m.teams),
                ),
                key=m.id,
            )
        if data.members:
            members.move_cursor(row=min(keep, len(data.members) - 1))
        teams = self.query_one("#teams", DataTable)
        teams.clear()
        for t in data.teams:
            teams.add_row(
                *row(
                    t.name,
                    "yes" if t.guests_allowed else "no",
                    str(len(t.members)),
                    ", ".join(a.split("@")[0] for a in t.admins),
                ),
                key=str(t.id),
            )
        self.show_team()
        self.query_one("#effects-title", Label).update(
            "At the provider, no cycle yet"
            if data.cycle is None
            else f"At the provider, cycle #{data.cycle}"
        )
        self.query_one("#effects", Static).update(
            "\n".join(f"{e.identity} ({e.action}): " + "; ".join(e.notes) for e in data.effects)
            or ("" if data.cycle is None else "nothing beyond the writes themselves")
        )
        faults = self.query_one("#faults", DataTable)
        faults.clear()
        for rule in data.faults:
            faults.add_row(*row(rule.describe()), key=str(rule.id))

    @on(DataTable.RowHighlighted, "#teams")
    def show_team(self) -> None:
        """The highlighted team's members, whole (★: team admin)."""
        teams = self.query_one("#teams", DataTable)
        team = None
        if self.view is not None and teams.row_count:
            key = teams.coordinate_to_cell_key(teams.cursor_coordinate).row_key.value
            team = next((t for t in self.view.teams if str(t.id) == key), None)
        self.query_one("#team-members", Static).update(
            ""
            if team is None
            else f"{team.name}: "
            + (
                ", ".join(f"{'★ ' if m in team.admins else ''}{m}" for m in team.members)
                or "no members"
            )
        )

    def action_seats(self) -> None:
        def chosen(value: str | None) -> None:
            if value is None:
                return
            if value.strip().lower() in ("", "unlimited"):
                self.act("Seat limit: unlimited", self.sandbox.org.set_seat_limit, None)
            else:
                try:
                    limit = whole_number(value, "the seat limit")
                except ValueError as error:
                    self.notify(str(error), title="Refused", severity="error")
                    return
                self.act(f"Seat limit: {limit}", self.sandbox.org.set_seat_limit, limit)

        limit = self.view.seat_limit if self.view else None
        self.app.push_screen(
            PromptDialog(
                "Licence seat limit (active accounts; empty: unlimited)",
                "" if limit is None else str(limit),
                placeholder="unlimited",
                allow_empty=True,
            ),
            chosen,
        )

    def action_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = self.TABS[(self.TABS.index(tabs.active) + 1) % len(self.TABS)]

    # -- provisioning and the token ------------------------------------------------------

    def action_enable(self) -> None:
        enabled = not (self.view and self.view.state.enabled)
        self.act(
            f"User provisioning {'enabled' if enabled else 'disabled'}",
            self.sandbox.credentials.set_enabled,
            enabled,
        )

    def action_issue(self) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self.act("", self.sandbox.issue_token, outcome=self.TokenIssued)

        self.app.push_screen(
            ConfirmDialog(
                "Issue a new SCIM token? The current one stops working at once.", ok="Issue"
            ),
            confirmed,
        )

    @on(TokenIssued)
    def _issued(self, message: TokenIssued) -> None:
        token = message.token  # shown once, here

        def use(choice: str | None) -> None:
            if choice == "use":
                self.act(
                    "The engine now uses the new token",
                    self.sandbox.engine.configure,
                    secret_token=token,
                )

        self.app.push_screen(
            MessageDialog(
                "SCIM token (shown once)",
                f"{token}\n\nSCIM URL: {self.sandbox.provider_url}\n\n"
                f'curl -H "Authorization: Bearer {token}" {self.sandbox.provider_url}/Users',
                extra=("use", "Use in engine"),
            ),
            use,
        )

    def action_delete_token(self) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self.act(
                    "Token deleted: every SCIM request now gets 401",
                    self.sandbox.credentials.delete,
                )

        self.app.push_screen(ConfirmDialog("Delete the SCIM token?", ok="Delete"), confirmed)

    # -- faults --------------------------------------------------------------------------

    def action_add_fault(self) -> None:
        def add(rule: dict[str, Any] | None) -> None:
            if rule:
                self.act(
                    "Fault rule {result.id} added",
                    self.sandbox.faults.add,
                    seed=self.sandbox.settings.seed,
                    **rule,
                )

        self.app.push_screen(FaultDialog(), add)

    def action_clear_fault(self) -> None:
        faults = self.query_one("#faults", DataTable)
        if faults.row_count == 0:
            self.notify("No fault rule.", severity="warning")
            return
        self.query_one(TabbedContent).active = "faults-tab"
        key = faults.coordinate_to_cell_key(faults.cursor_coordinate).row_key.value
        self.act(f"Fault rule #{key} cleared", self.sandbox.faults.clear, int(str(key)))

    def action_clear_faults(self) -> None:
        self.act("{result} fault rule(s) cleared", self.sandbox.faults.clear)
