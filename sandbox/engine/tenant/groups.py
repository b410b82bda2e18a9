"""Provides DirectoryGroups: the tenant's security groups and their direct members (a mixin of
Directory).

A group's members are users, or other groups (nesting); only direct user members count for app
assignment: Entra does not expand nested groups (Entra docs, how-provisioning-works: "only
direct members of an explicitly assigned group are in scope"). Security groups are deleted at
once (only Microsoft 365 groups go to a recycle bin).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from sandbox.engine.tenant.model import DirectoryGroup, DirectoryUser
from sandbox.errors import NotFoundError, SandboxError
from sandbox.store import Store, Transaction
from sandbox.timestamps import format_timestamp

_GROUP_COLUMNS = (
    "g.id, g.display_name, g.description, g.created, "
    "(SELECT count(*) FROM entra_group_members m JOIN entra_users u ON u.id = m.user_id "
    "WHERE m.group_id = g.id) AS member_count"
)


def _group(row: sqlite3.Row) -> DirectoryGroup:
    return DirectoryGroup(
        id=row["id"],
        display_name=row["display_name"],
        description=row["description"] or "",
        created=row["created"],
        member_count=int(row["member_count"]),
    )


class DirectoryGroups:
    """Security groups and direct membership; mixed into Directory."""

    store: Store
    clock: Callable[[], datetime]
    new_id: Callable[[], str]

    if TYPE_CHECKING:

        def find_user(self, key: str) -> DirectoryUser | None: ...

        def record_change(
            self,
            db: Transaction,
            object_type: str,
            object_id: str,
            change: str,
            detail: Mapping[str, object] | None = None,
            at: datetime | None = None,
        ) -> None: ...

    def add_group(self, display_name: str, description: str = "") -> DirectoryGroup:
        """Create a security group; display names are unique here (case-insensitive) so a
        group can be named on the command line."""
        name = (display_name or "").strip()
        if not name:
            raise SandboxError("a group needs a display name")
        group_id = self.new_id()
        with self.store.write() as db:
            if self.find_group(name) is not None:
                raise SandboxError(f"a group named {name!r} already exists")
            db.execute(
                "INSERT INTO entra_groups (id, display_name, description, security_enabled, "
                "created) VALUES (?, ?, ?, 1, ?)",
                [group_id, name, description, format_timestamp(self.clock())],
            )
            self.record_change(db, "Group", group_id, "add", {"displayName": name})
        return self.get_group(group_id)

    def find_group(self, key: str) -> DirectoryGroup | None:
        """A group by id or display name (case-insensitive), or None."""
        rows = self.store.query(
            f"SELECT {_GROUP_COLUMNS} FROM entra_groups g "
            "WHERE g.id = ? OR scim_fold(g.display_name) = ? ORDER BY g.id = ? DESC",
            [key, key.casefold(), key],
        )
        return _group(rows[0]) if rows else None

    def get_group(self, key: str) -> DirectoryGroup:
        """A group by id or display name (case-insensitive); NotFoundError otherwise."""
        group = self.find_group(key)
        if group is None:
            raise NotFoundError(f"no group with id or display name {key!r}")
        return group

    def groups(self) -> list[DirectoryGroup]:
        """Every group, by display name."""
        rows = self.store.query(
            f"SELECT {_GROUP_COLUMNS} FROM entra_groups g ORDER BY scim_fold(g.display_name)"
        )
        return [_group(r) for r in rows]

    def members(self, group: str) -> list[DirectoryUser]:
        """The group's direct user members, in the order they were added."""
        found = self.get_group(group)
        rows = self.store.query(
            "SELECT u.* FROM entra_group_members m JOIN entra_users u ON u.id = m.user_id "
            "WHERE m.group_id = ? ORDER BY m.rowid",
            [found.id],
        )
        return [DirectoryUser.from_row(r) for r in rows]

    def member_groups(self, group: str) -> list[DirectoryGroup]:
        """Groups nested in the group (their members are not the group's members)."""
        found = self.get_group(group)
        rows = self.store.query(
            f"SELECT {_GROUP_COLUMNS} FROM entra_group_members m JOIN entra_groups g "
            "ON g.id = m.user_id WHERE m.group_id = ? ORDER BY m.rowid",
            [found.id],
        )
        return [_group(r) for r in rows]

    def groups_of(self, user: str) -> list[DirectoryGroup]:
        """The groups a user (or group) is a direct member of."""
        member_id = self._member(user)[0]
        rows = self.store.query(
            f"SELECT {_GROUP_COLUMNS} FROM entra_group_members m JOIN entra_groups g "
            "ON g.id = m.group_id WHERE m.user_id = ? ORDER BY scim_fold(g.display_name)",
            [member_id],
        )
        return [_group(r) for r in rows]

    def add_member(self, group: str, user: str) -> None:
        """Make a user (objectId, UPN or mail) a direct member of a group; a group key nests
        that group instead (its members do not become members)."""
        with self.store.write() as db:
            target = self.get_group(group)
            member_id, kind, name = self._member(user)
            if member_id == target.id:
                raise SandboxError("a group cannot be a member of itself")
            if kind == "User" and self._deleted(member_id):
                raise SandboxError(f"{name} is in the recycle bin; restore it first")
            if self.store.scalar(
                "SELECT 1 FROM entra_group_members WHERE group_id = ? AND user_id = ?",
                [target.id, member_id],
            ):
                raise SandboxError(f"{name} is already a member of {target.display_name}")
            db.execute(
                "INSERT INTO entra_group_members (group_id, user_id) VALUES (?, ?)",
                [target.id, member_id],
            )
            self.record_change(
                db, "Group", target.id, "memberAdd", _detail(target, member_id, kind)
            )

    def remove_member(self, group: str, user: str) -> None:
        """Remove a direct member (user or nested group) from a group."""
        with self.store.write() as db:
            target = self.get_group(group)
            member_id, kind, name = self._member(user)
            removed = db.execute(
                "DELETE FROM entra_group_members WHERE group_id = ? AND user_id = ?",
                [target.id, member_id],
            ).rowcount
            if not removed:
                raise NotFoundError(f"{name} is not a direct member of {target.display_name}")
            self.record_change(
                db, "Group", target.id, "memberRemove", _detail(target, member_id, kind)
            )

    def delete_group(self, group: str) -> DirectoryGroup:
        """Delete a group for good with its memberships and app assignments (security groups
        have no recycle bin)."""
        with self.store.write() as db:
            target = self.get_group(group)
            members = [
                r[0]
                for r in db.execute(
                    "SELECT m.user_id FROM entra_group_members m JOIN entra_users u "
                    "ON u.id = m.user_id WHERE m.group_id = ?",
                    [target.id],
                )
            ]
            roles = [
                r[0]
                for r in db.execute(
                    "SELECT role FROM app_assignments WHERE principal_id = ?", [target.id]
                )
            ]
            db.execute(
                "DELETE FROM entra_group_members WHERE group_id = ? OR user_id = ?",
                [target.id, target.id],
            )
            db.execute("DELETE FROM app_assignments WHERE principal_id = ?", [target.id])
            db.execute("DELETE FROM entra_groups WHERE id = ?", [target.id])
            detail = {"displayName": target.display_name, "members": members, "roles": roles}
            self.record_change(db, "Group", target.id, "hardDelete", detail)
        return target

    def _member(self, key: str) -> tuple[str, str, str]:
        """(id, "User" or "Group", name) of a user key, else a group key."""
        user = self.find_user(key)
        if user is not None:
            return user.id, "User", user.user_principal_name
        group = self.find_group(key)
        if group is not None:
            return group.id, "Group", group.display_name
        raise NotFoundError(f"no tenant user or group {key!r}")

    def _deleted(self, user_id: str) -> bool:
        return bool(
            self.store.scalar(
                "SELECT deleted_at IS NOT NULL FROM entra_users WHERE id = ?", [user_id]
            )
        )


def _detail(group: DirectoryGroup, member_id: str, kind: str) -> dict[str, object]:
    if kind == "User":
        return {"group": group.id, "user": member_id}
    return {"group": group.id, "memberGroup": member_id}
