"""Provides OnDemandDialog: provision on demand of a user, or of a group with up to five of its
direct members picked (Entra: "search for a user ... Alternatively, you can search for a group
and pick up to five users", §1.6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label
from textual.widgets.selection_list import Selection

from sandbox.engine.sync.service import ON_DEMAND_GROUP_MEMBERS, on_demand_refusal
from tui.screens.base import reason
from tui.screens.dialogs import Dialog, buttons
from tui.widgets.pick_list import PickList
from tui.widgets.suggest import PrincipalSuggester

if TYPE_CHECKING:
    from sandbox.engine.tenant.directory import Directory
    from sandbox.engine.tenant.model import DirectoryGroup, DirectoryUser


class OnDemand(NamedTuple):
    """What the dialog dismisses with: the arguments of `Provisioning.provision_on_demand`."""

    key: str
    """The user's UPN or mail as typed, or the group's objectId."""
    members: tuple[str, ...] = ()
    """For a group, the objectIds of the members picked (one to five), as `--member`."""


@dataclass(frozen=True)
class Found:
    """What the name typed is: a user, a group and its direct members, or nothing (why)."""

    key: str
    user: DirectoryUser | None = None
    group: DirectoryGroup | None = None
    members: tuple[DirectoryUser, ...] = ()
    error: str = ""


def look_up(directory: Directory, key: str) -> Found:
    """A user by objectId, UPN or mail first (as provision on demand reads its key), then a
    group by objectId or name with its direct members."""
    user = directory.find_user(key)
    if user is not None:
        return Found(key, user=user)
    group = directory.find_group(key)
    if group is None:
        return Found(key, error=f"no user (objectId, UPN or mail) or group (id or name) {key!r}")
    return Found(key, group=group, members=tuple(directory.members(group.id)))


def member_prompt(user: DirectoryUser) -> Text:
    """A member's line: its UPN, and why it cannot be picked when it cannot (on-demand
    provisioning does not take users disabled or deleted in Entra, §1.6)."""
    if user.deleted:
        return Text.assemble(user.user_principal_name, (" (soft-deleted)", "dim"))
    if not user.account_enabled:
        return Text.assemble(user.user_principal_name, (" (blocked)", "dim"))
    return Text(user.user_principal_name)


class OnDemandDialog(Dialog):
    """Ask for a user or a group; for a group, list its direct members to pick up to five
    (all of them picked when five or fewer can be). Dismisses with an OnDemand, or None."""

    @dataclass
    class LookedUp(Message):
        """The name typed was looked up in the tenant (in a thread)."""

        found: Found

    def __init__(self, directory: Directory, groups_enabled: bool = True) -> None:
        super().__init__()
        self.directory = directory
        self.groups_enabled = groups_enabled
        """Group provisioning is on (the engine refuses a group otherwise; said here first)."""
        self.group: DirectoryGroup | None = None
        """The group whose members are listed, once looked up."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="on-demand"):
            yield Label("Provision on demand: which user or group?", classes="question")
            yield Input(
                placeholder="UPN, mail or group name",
                suggester=PrincipalSuggester(self.directory),
                id="principal",
            )
            members = Label("", id="members-label")
            members.display = False
            yield members
            picks = PickList(id="members", compact=True)
            picks.display = False
            yield picks
            yield buttons("Provision")

    def on_mount(self) -> None:
        self.query_one("#principal", Input).focus()

    # -- the name ------------------------------------------------------------------------

    @on(Input.Submitted, "#principal")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        key = self.query_one("#principal", Input).value.strip()
        if self.group is not None:
            self._provision_group()
        elif key:
            self._look_up(key)

    @on(Input.Changed, "#principal")
    def _retyped(self) -> None:
        # Another name: its members are not this group's.
        if self.group is not None:
            self.group = None
            self.query_one("#members-label").display = False
            self.query_one("#members", PickList).display = False

    @work(thread=True, exclusive=True, group="on-demand")
    def _look_up(self, key: str) -> None:
        try:
            found = look_up(self.directory, key)
        except Exception as error:  # shown, never raised: the dialog stays open
            found = Found(key, error=reason(error))
        self.post_message(self.LookedUp(found))

    @on(LookedUp)
    def _looked_up(self, message: LookedUp) -> None:
        found = message.found
        if found.user is not None:
            self.dismiss(OnDemand(found.key))
            return
        if found.group is None:
            self._refuse(found.error)
            return
        name = found.group.display_name
        if not self.groups_enabled:
            self._refuse(
                f"{name} is a group and group provisioning is off: tick Provision Entra ID "
                "Groups first to provision a group on demand"
            )
            return
        if not found.members:
            self._refuse(
                f"group {name!r} has no members: provision on demand of a group takes one to "
                f"{ON_DEMAND_GROUP_MEMBERS} of its direct members (add one on the Directory "
                "screen, m)"
            )
            return
        self._list_members(found.group, found.members)

    def _refuse(self, text: str) -> None:
        self.notify(text, title="Refused", severity="error")

    # -- the group's members -------------------------------------------------------------

    def _list_members(self, group: DirectoryGroup, members: tuple[DirectoryUser, ...]) -> None:
        """Offer the group's direct members; those that can be picked are picked when they
        are five or fewer (as `sandbox entra pod GROUP` without --member takes them)."""
        self.group = group
        selectable = [m for m in members if on_demand_refusal(m) is None]
        take_all = len(selectable) <= ON_DEMAND_GROUP_MEMBERS
        picks = self.query_one("#members", PickList)
        picks.clear_options()
        picks.add_options(
            Selection(
                member_prompt(m),
                m.id,
                initial_state=take_all and on_demand_refusal(m) is None,
                disabled=on_demand_refusal(m) is not None,
            )
            for m in members
        )
        picks.highlighted = 0  # space picks from the first line on
        picks.display = True
        self.query_one("#members-label").display = True
        self._count()
        picks.focus()

    def _count(self) -> None:
        """The list's heading: the group, how many are picked, the limit."""
        assert self.group is not None
        picked = len(self.query_one("#members", PickList).selected)
        self.query_one("#members-label", Label).update(
            f"Members of {self.group.display_name}: {picked} of at most "
            f"{ON_DEMAND_GROUP_MEMBERS} picked (space picks)"
        )

    @on(PickList.SelectionToggled, "#members")
    def _toggled(self, event: PickList.SelectionToggled[str]) -> None:
        picks = event.selection_list
        value = event.selection.value
        if value in picks.selected and len(picks.selected) > ON_DEMAND_GROUP_MEMBERS:
            picks.deselect(value)  # no second toggle message
            # Microsoft Learn, On-demand provisioning: "The on-demand provisioning request API
            # can only accept a single group with up to 5 members at a time" (§1.6).
            self._refuse(
                f"provision on demand takes at most {ON_DEMAND_GROUP_MEMBERS} members of a "
                "group at a time: unpick one first"
            )
        self._count()

    def _provision_group(self) -> None:
        assert self.group is not None
        picked = tuple(self.query_one("#members", PickList).selected)
        if not picked:
            self._refuse(
                f"pick one to {ON_DEMAND_GROUP_MEMBERS} members of {self.group.display_name} "
                "to provision with it"
            )
            return
        self.dismiss(OnDemand(self.group.id, picked))
