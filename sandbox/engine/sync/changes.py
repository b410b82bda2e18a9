"""Provides ChangeFeed: which tenant users and groups a cycle looks at, read from the
directory's change log (an incremental cycle) or the whole directory (an initial one)."""

from __future__ import annotations

from sandbox.engine.tenant.directory import Directory
from sandbox.errors import SandboxError
from sandbox.store import Store

USER_CHANGE_KINDS_FOR_GROUP_MEMBERS = {"assign", "unassign", "roleChange", "hardDelete"}


class ChangeFeed:
    """The directory's changes as the provisioning job reads them."""

    def __init__(self, store: Store, directory: Directory) -> None:
        self.store = store
        self.directory = directory

    def user_ids(self) -> list[str]:
        """Every user of the directory (soft-deleted ones too)."""
        return [r[0] for r in self.store.db.execute("SELECT id FROM entra_users").fetchall()]

    def changed_ids(self, since: int, until: int) -> tuple[set[str], set[str]]:
        """Users and groups touched by the changes in (since, until], read once: users
        directly or through a group; groups by membership, assignment, deletion, or a change
        of one of their members' state."""
        users: set[str] = set()
        groups: set[str] = set()
        for change in self.directory.changes_since(since, until=until):
            if change.object_type == "Group":
                groups.add(change.object_id)
            if change.object_type == "User":
                users.add(change.object_id)
                if change.change in ("softDelete", "restore", "hardDelete", "block", "unblock"):
                    try:
                        groups.update(g.id for g in self.directory.groups_of(change.object_id))
                    except SandboxError:  # hard-deleted: its memberships went with it
                        pass
            elif change.change in ("memberAdd", "memberRemove"):
                user = change.detail.get("user")
                if isinstance(user, str) and user:
                    users.add(user)
            elif change.change in USER_CHANGE_KINDS_FOR_GROUP_MEMBERS:
                listed = change.detail.get("members")
                if isinstance(listed, list):
                    users.update(str(m) for m in listed)
                elif self.directory.find_group(change.object_id):
                    users.update(m.id for m in self.directory.members(change.object_id))
        return users, groups
