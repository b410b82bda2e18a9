"""Provides DirectoryScreen: the mock tenant's users (search, pages, lifecycle) and groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import ScreenResume
from textual.widgets import DataTable, Input, Label, TabbedContent, TabPane

from sandbox.engine.tenant.model import DirectoryGroup, DirectoryUser
from tui.screens.base import SandboxScreen, columns, fitted, row
from tui.screens.dialogs import AssignDialog, ConfirmDialog, PromptDialog
from tui.screens.user_dialog import UserDialog
from tui.widgets.suggest import PrincipalSuggester

PAGE_SIZE = 100
"""Users read per page: a 100k-user tenant costs one page, never the whole table."""


@dataclass(frozen=True)
class DirectoryPage:
    """One page of users, the total matching the search, and the groups with the members
    of the group in view."""

    users: list[DirectoryUser]
    total: int
    offset: int
    groups: list[DirectoryGroup]
    members: list[DirectoryUser]
    group_id: str | None
    seen: tuple[int, int] = (0, -1)
    """(the sandbox, the directory's last change) when the page was read."""


def sign_in(user: DirectoryUser) -> str:
    return "allowed" if user.account_enabled else "blocked"


class DirectoryScreen(SandboxScreen):
    """Tenant users and groups."""

    MODE = "directory"
    FIRST_LOAD_INLINE = True  # the app's first screen: one page of users and the groups
    HELP = """\
**Directory**: the mock Entra tenant. Users are read a page at a time; type in the filter box
to search UPN, mail and display name. Block sign-in, soft delete (recycle bin), restore and hard
delete are recorded as changes that the next incremental cycle reads. The Groups tab shows the
security groups and the direct members of the highlighted one.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "toggle_tab", "Users/Groups"),
        Binding("slash", "search", "Filter", key_display="/"),
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("b", "block", "Block/unblock"),
        Binding("d", "soft_delete", "Soft-delete"),
        Binding("r", "restore", "Restore"),
        Binding("D", "hard_delete", "Hard-delete"),
        Binding("A", "assign", "Assign"),
        Binding("right_square_bracket", "page(1)", "Next page", key_display="]"),
        Binding("left_square_bracket", "page(-1)", "Prev page", key_display="["),
        Binding("m", "add_member", "Add member"),
        Binding("x", "remove_member", "Remove member"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.page_offset = 0
        self.search = ""
        self.group_id: str | None = None
        self.show_members = False
        """Whether the Groups tab is shown: only then are the group's members loaded."""
        self.users: dict[str, DirectoryUser] = {}
        self.groups: dict[str, DirectoryGroup] = {}
        """The groups on screen, by objectId."""
        self.members: dict[str, DirectoryUser] = {}
        """The direct members on screen of the group in view, by objectId."""
        self.seen: tuple[int, int] | None = None
        """What the page on screen was read from: (the sandbox, the directory's last change)."""

    def body(self) -> ComposeResult:
        with TabbedContent(id="directory-tabs"):
            with TabPane("Users", id="users-tab"):
                with Horizontal(classes="toolbar"):
                    yield Input(placeholder="filter: UPN, mail or name", id="search", compact=True)
                    yield Label("", id="pager", classes="pager")
                yield from fitted("users", zebra_stripes=True)
            with TabPane("Groups", id="groups-tab"):
                with Vertical():
                    yield from fitted("groups")
                    yield Label("Members", classes="section")
                    yield from fitted("members")

    def on_mount(self) -> None:
        columns(
            self.query_one("#users", DataTable),
            ("userPrincipalName", 24),
            ("displayName", 8),
            ("sign-in", None),
            ("deleted", 7),
            ("mail", 8),
            ("type", None),
            ("department", 6),
        )
        columns(
            self.query_one("#groups", DataTable),
            ("group", None),
            ("members", None),
            ("description", 10),
        )
        columns(
            self.query_one("#members", DataTable), ("userPrincipalName", 24), ("displayName", 8)
        )

    # -- data ----------------------------------------------------------------------------

    def current(self) -> tuple[int, int]:
        """The sandbox shown and its directory's last change (one indexed read)."""
        return id(self.sandbox), self.sandbox.engine.directory.last_change_seq()

    def on_screen_resume(self, event: ScreenResume | None = None) -> None:
        # Shown again with nothing changed since its page was read (a cycle only reads the
        # directory): the page on screen is current, and a 10k-user cycle running in the
        # background does not make the switch wait for a read. Otherwise SandboxScreen's
        # handler (Textual runs it after this one) reads it again.
        if event is not None and self.seen is not None and self.seen == self.current():
            event.prevent_default()
        elif event is None:
            super().on_screen_resume()

    def load(self) -> DirectoryPage:
        seen = self.current()  # before reading: a change made meanwhile reloads next time
        directory = self.sandbox.engine.directory
        total = directory.count(self.search or None)
        offset = min(self.page_offset, max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE))
        users = directory.users(self.search or None, limit=PAGE_SIZE, offset=offset)
        groups = directory.groups()
        group_id = (
            self.group_id
            if any(g.id == self.group_id for g in groups)
            else (groups[0].id if groups else None)
        )
        members = directory.members(group_id) if group_id and self.show_members else []
        return DirectoryPage(users, total, offset, groups, members, group_id, seen)

    def show(self, data: DirectoryPage) -> None:
        self.seen = data.seen
        self.page_offset = data.offset
        self.users = {u.id: u for u in data.users}
        table = self.query_one("#users", DataTable)
        keep = table.cursor_row
        table.clear()
        for user in data.users:
            table.add_row(
                *row(
                    user.user_principal_name,
                    user.display_name,
                    sign_in(user),
                    "recycle bin" if user.deleted else "",
                    user.mail,
                    user.user_type,
                    user.department,
                ),
                key=user.id,
            )
        if data.users:
            table.move_cursor(row=min(keep, len(data.users) - 1))
        last = data.offset + len(data.users)
        pages = max(1, -(-data.total // PAGE_SIZE))
        self.query_one("#pager", Label).update(
            f"{data.offset + 1 if data.users else 0}-{last} of {data.total:,}"
            f"  page {data.offset // PAGE_SIZE + 1}/{pages}"
        )
        self.groups = {g.id: g for g in data.groups}
        self.members = {u.id: u for u in data.members}
        groups = self.query_one("#groups", DataTable)
        groups.clear()
        for group in data.groups:
            groups.add_row(
                *row(group.display_name, group.member_count, group.description), key=group.id
            )
        self.group_id = data.group_id
        if data.group_id is not None:
            groups.move_cursor(row=[g.id for g in data.groups].index(data.group_id))
        members = self.query_one("#members", DataTable)
        members.clear()
        for user in data.members:
            members.add_row(*row(user.user_principal_name, user.display_name), key=user.id)

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        self.page_offset = 0
        self.reload()

    @on(Input.Submitted, "#search")
    def _searched(self) -> None:
        self.query_one("#users", DataTable).focus()

    @on(DataTable.RowHighlighted, "#groups")
    def _group(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value != self.group_id:
            self.group_id = event.row_key.value
            self.reload()

    # -- actions -------------------------------------------------------------------------

    def selected(self) -> DirectoryUser | None:
        """The highlighted user, or None (with a hint)."""
        table = self.query_one("#users", DataTable)
        if table.row_count == 0:
            self.notify("No user selected.", severity="warning")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.users.get(str(key))

    def action_search(self) -> None:
        self.query_one(TabbedContent).active = "users-tab"
        self.query_one("#search", Input).focus()

    def action_page(self, step: int) -> None:
        self.page_offset = max(0, self.page_offset + step * PAGE_SIZE)
        self.reload()

    def action_toggle_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "groups-tab" if tabs.active == "users-tab" else "users-tab"
        self.query_one("#groups" if tabs.active == "groups-tab" else "#users").focus()

    def action_add(self) -> None:
        self.act("Added {result.user_principal_name}", self.sandbox.add_random_user)

    def action_edit(self) -> None:
        user = self.selected()
        if user is None:
            return

        def save(changes: dict[str, Any] | None) -> None:
            if changes:
                self.act(
                    f"Saved {user.user_principal_name}",
                    self.sandbox.engine.directory.edit_user,
                    user.id,
                    **changes,
                )

        self.app.push_screen(UserDialog(user.user_principal_name, user.properties()), save)

    def action_block(self) -> None:
        user = self.selected()
        if user is not None:
            blocked = user.account_enabled
            self.act(
                f"{'Blocked' if blocked else 'Unblocked'} sign-in of {user.user_principal_name}",
                self.sandbox.engine.directory.block,
                user.id,
                blocked,
            )

    def action_soft_delete(self) -> None:
        user = self.selected()
        if user is not None:
            self.act(
                f"{user.user_principal_name} moved to the recycle bin",
                self.sandbox.engine.directory.soft_delete,
                user.id,
            )

    def action_restore(self) -> None:
        user = self.selected()
        if user is not None:
            self.act(
                f"{user.user_principal_name} restored",
                self.sandbox.engine.directory.restore,
                user.id,
            )

    def action_hard_delete(self) -> None:
        user = self.selected()
        if user is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.act(
                    f"{user.user_principal_name} deleted for good",
                    self.sandbox.engine.directory.hard_delete,
                    user.id,
                )

        self.app.push_screen(
            ConfirmDialog(
                f"Delete {user.user_principal_name} for good, with its memberships and "
                "assignments?",
                ok="Delete",
            ),
            confirmed,
        )

    def action_assign(self) -> None:
        user = self.selected()
        if user is None:
            return

        def assign(choice: tuple[str, str] | None) -> None:
            if choice:
                self.act(
                    f"Assigned {choice[0]} the role {choice[1]}",
                    self.sandbox.engine.app.assign,
                    *choice,
                )

        self.app.push_screen(
            AssignDialog(user.user_principal_name, fixed=False, suggester=self._suggester()), assign
        )

    def _suggester(self, users_only: bool = False) -> PrincipalSuggester:
        return PrincipalSuggester(self.sandbox.engine.directory, users_only=users_only)

    def action_add_member(self) -> None:
        group = self.group_id
        if group is None:
            return
        name = self.groups[group].display_name if group in self.groups else "the group"

        def add(user: str | None) -> None:
            if user:
                self.act(
                    f"Added {user} to {name}",
                    self.sandbox.engine.directory.add_member,
                    group,
                    user,
                )

        self.app.push_screen(
            PromptDialog(
                "Add a direct member (user or group)",
                placeholder="UPN, mail or group name",
                suggester=self._suggester(),
            ),
            add,
        )

    def action_remove_member(self) -> None:
        """Remove the highlighted row of the Members table from the group in view, once
        confirmed: the question names both (that table's cursor does not show while the
        groups table has the focus)."""
        members = self.query_one("#members", DataTable)
        group = self.groups.get(self.group_id or "")
        if group is None:
            self.notify("No group selected.", severity="warning")
            return
        if members.row_count == 0:
            self.notify(f"{group.display_name} has no direct user members.", severity="warning")
            return
        key = members.coordinate_to_cell_key(members.cursor_coordinate).row_key.value
        member = self.members.get(str(key))
        if member is None:
            return
        upn = member.user_principal_name

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.act(
                    f"Removed {upn} from {group.display_name}",
                    self.sandbox.engine.directory.remove_member,
                    group.id,
                    member.id,
                )

        self.app.push_screen(
            ConfirmDialog(f"Remove {upn} from {group.display_name}?", ok="Remove"), confirmed
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The group keys show (and work) on the Groups tab, the user keys on the Users tab.
        tabs = self.query(TabbedContent)
        groups = bool(tabs) and tabs.first().active == "groups-tab"
        if action in ("add_member", "remove_member"):
            return groups
        if action in (
            "search",
            "add",
            "edit",
            "block",
            "soft_delete",
            "restore",
            "hard_delete",
            "assign",
            "page",
        ):
            return not groups
        return True

    @on(TabbedContent.TabActivated)
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()
        showing = event.pane.id == "groups-tab"
        if showing and not self.show_members:
            self.show_members = True
            self.reload()
        self.show_members = showing
