"""Provides EnterpriseApp: the non-gallery enterprise app's app roles and its user and group
assignments (Users and groups blade), with what each user is effectively assigned.

Only direct members of an assigned group are assigned through it; nested groups are not
expanded (Entra docs, how-provisioning-works: scoping). A principal may hold several roles, as
Entra allows; SingleAppRoleAssignment then fails at evaluation, as in Entra.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sandbox.engine.tenant.directory import Directory
from sandbox.engine.tenant.model import random_id
from sandbox.errors import NotFoundError, SandboxError
from sandbox.store import Store, in_lists
from sandbox.timestamps import format_timestamp

_ROLE_NAMESPACE = uuid.UUID("6f1c6c52-3b7e-4d3e-9a51-5a0f5c1e2b7d")
"""Role ids are uuid5(namespace, value): fixed per value, the same in every sandbox."""


@dataclass(frozen=True, slots=True)
class AppRole:
    """An app role of the app (Graph appRole)."""

    id: str
    value: str
    display_name: str
    allowed_member_types: tuple[str, ...] = ("User",)
    """["User"] is the portal's "Users/Groups": groups are assigned as users are."""
    description: str = ""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict with Graph names."""
        return {
            "id": self.id,
            "value": self.value,
            "displayName": self.display_name,
            "allowedMemberTypes": list(self.allowed_member_types),
            "description": self.description,
            "isEnabled": True,
        }


def _role(value: str, display_name: str, description: str) -> AppRole:
    return AppRole(
        str(uuid.uuid5(_ROLE_NAMESPACE, value)), value, display_name, ("User",), description
    )


APP_ROLES = (
    # Guide step 4: three app roles whose values are Nulab's roles.
    _role("ADMIN", "Admin", "Nulab Pass administrator"),
    _role("USER", "User", "Nulab Pass member"),
    _role("GUEST", "Guest", "Nulab Pass guest"),
    # Every non-gallery app has Entra's default access role (reference 5.6).
    _role("msiam_access", "Default Access", "Default role of the enterprise app"),
)
"""The app's roles."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """One app role assignment of a user or group (a row of the Users and groups blade)."""

    id: str
    principal_type: str
    """"User" or "Group"."""
    principal_id: str
    role: str
    """The app role's value."""
    created: str | None = None
    principal_name: str = ""
    """The user's UPN or the group's display name (for listings)."""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "principalType": self.principal_type,
            "principalId": self.principal_id,
            "principalName": self.principal_name,
            "role": self.role,
            "created": self.created,
        }


@dataclass(frozen=True, slots=True)
class AppRoleAssignment:
    """A role a user effectively holds, directly or through a group it is a direct member of."""

    id: str
    """The app role's id."""
    value: str
    display_name: str
    via: str = "User"
    """"User" (direct) or "Group"."""
    principal_id: str = ""
    """Whose assignment grants it: the user's or the group's id."""

    def to_dict(self) -> dict[str, object]:
        """The form Entra's [appRoleAssignments] attribute carries: id, value, displayName."""
        return {"id": self.id, "value": self.value, "displayName": self.display_name}


_ASSIGNMENT_SELECT = (
    "SELECT a.id, a.principal_type, a.principal_id, a.role, a.created, "
    "coalesce(u.upn, g.display_name, '') AS name FROM app_assignments a "
    "LEFT JOIN entra_users u ON u.id = a.principal_id "
    "LEFT JOIN entra_groups g ON g.id = a.principal_id"
)


def _assignment(row: sqlite3.Row) -> Assignment:
    return Assignment(row[0], row[1], row[2], row[3], row[4], row[5])


class EnterpriseApp:
    """The enterprise app: its roles and assignments over the store."""

    def __init__(
        self,
        store: Store,
        directory: Directory,
        clock: Callable[[], datetime] | None = None,
        new_id: Callable[[], str] = random_id,
    ) -> None:
        self.store = store
        self.directory = directory
        self.clock = clock or directory.clock
        self.new_id = new_id

    # -- roles -----------------------------------------------------------------------------

    def roles(self) -> list[AppRole]:
        """The app roles: ADMIN, USER, GUEST and Default Access (msiam_access)."""
        return list(APP_ROLES)

    def role(self, name: str) -> AppRole:
        """An app role by value or display name (case-insensitive)."""
        folded = name.strip().casefold()
        for role in APP_ROLES:
            if folded in (role.value.casefold(), role.display_name.casefold()):
                return role
        allowed = ", ".join(r.value for r in APP_ROLES)
        raise NotFoundError(f"the app has no role {name!r}; its roles are {allowed}")

    # -- assignments -----------------------------------------------------------------------

    def principal(self, key: str) -> tuple[str, str, str]:
        """(type, id, name) of a user (objectId, UPN, mail) or else a group (id, name)."""
        user = self.directory.find_user(key)
        if user is not None:
            return "User", user.id, user.user_principal_name
        group = self.directory.find_group(key)
        if group is not None:
            return "Group", group.id, group.display_name
        raise NotFoundError(f"no tenant user or group {key!r}")

    def assign(self, principal: str, role: str = "USER") -> Assignment:
        """Assign a user or group a role; the same role twice is refused, another role is not."""
        app_role = self.role(role)
        with self.store.write() as db:
            kind, principal_id, name = self.principal(principal)
            if kind == "User" and self.directory.get_user(principal_id).deleted:
                raise SandboxError(f"{name} is in the recycle bin; restore it first")
            if self._roles_of(principal_id).count(app_role.value):
                raise SandboxError(f"{name} is already assigned the role {app_role.value}")
            assignment_id = self.new_id()
            db.execute(
                "INSERT INTO app_assignments (id, principal_type, principal_id, role, created) "
                "VALUES (?, ?, ?, ?, ?)",
                [assignment_id, kind, principal_id, app_role.value, format_timestamp(self.clock())],
            )
            self.directory.record_change(
                db,
                kind,
                principal_id,
                "assign",
                {"role": app_role.value, "assignment": assignment_id},
            )
        return self._get(assignment_id)

    def assign_all_users(self, role: str = "USER") -> int:
        """Assign every active user (not deleted, sign-in allowed) that lacks the role; return
        how many were assigned."""
        app_role = self.role(role)
        with self.store.write() as db:
            ids = [
                r[0]
                for r in self.store.query(
                    "SELECT id FROM entra_users u WHERE deleted_at IS NULL AND account_enabled = 1 "
                    "AND NOT EXISTS (SELECT 1 FROM app_assignments a WHERE a.principal_id = u.id "
                    "AND a.role = ?) ORDER BY rowid",
                    [app_role.value],
                )
            ]
            now = format_timestamp(self.clock())
            rows = [(self.new_id(), "User", user_id, app_role.value, now) for user_id in ids]
            db.conn.executemany(
                "INSERT INTO app_assignments (id, principal_type, principal_id, role, created) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            self.directory.record_changes(
                db, [("User", r[2], "assign", {"role": r[3], "assignment": r[0]}) for r in rows]
            )
        return len(rows)

    def unassign(self, principal: str, role: str | None = None) -> list[Assignment]:
        """Remove a principal's assignment of `role`, or all of its roles; return them."""
        with self.store.write() as db:
            kind, principal_id, name = self.principal(principal)
            value = self.role(role).value if role is not None else None
            removed = [a for a in self._of(principal_id) if value is None or a.role == value]
            if not removed:
                what = f"the role {value}" if value else "any role"
                raise NotFoundError(f"{name} is not assigned {what}")
            for a in removed:
                db.execute("DELETE FROM app_assignments WHERE id = ?", [a.id])
            self.directory.record_changes(
                db,
                [
                    (kind, principal_id, "unassign", {"role": a.role, "assignment": a.id})
                    for a in removed
                ],
            )
        return removed

    def set_role(self, principal: str, role: str) -> Assignment:
        """Replace a principal's role(s) with one role (recorded as a roleChange)."""
        app_role = self.role(role)
        with self.store.write() as db:
            kind, principal_id, name = self.principal(principal)
            current = self._of(principal_id)
            if not current:
                raise NotFoundError(f"{name} is not assigned to the app; assign it first")
            if [a.role for a in current] == [app_role.value]:
                return current[0]
            keep = next((a for a in current if a.role == app_role.value), current[0])
            for a in current:
                if a.id != keep.id:
                    db.execute("DELETE FROM app_assignments WHERE id = ?", [a.id])
            db.execute(
                "UPDATE app_assignments SET role = ? WHERE id = ?", [app_role.value, keep.id]
            )
            detail = {
                "role": app_role.value,
                "from": [a.role for a in current],
                "assignment": keep.id,
            }
            self.directory.record_change(db, kind, principal_id, "roleChange", detail)
        return self._get(keep.id)

    def assignments(self) -> list[Assignment]:
        """Every assignment, oldest first."""
        rows = self.store.db.execute(f"{_ASSIGNMENT_SELECT} ORDER BY a.rowid").fetchall()
        return [_assignment(r) for r in rows]

    def assignments_for_user(self, user_id: str) -> list[AppRoleAssignment]:
        """The roles a user effectively holds: its own assignments, then those of each assigned
        group it is a direct member of; one entry per role."""
        return self.assignments_for_users([user_id]).get(user_id, [])

    def assignments_for_users(self, user_ids: Sequence[str]) -> dict[str, list[AppRoleAssignment]]:
        """`assignments_for_user` of many users at once (a query per IN_LIST of them): user id
        -> its roles, for the users that hold one."""
        rows: list[tuple[str, str, str, str, int, int]] = []
        for chunk, marks in in_lists(user_ids):
            rows += self.store.db.execute(
                "SELECT a.principal_id AS user_id, a.role, 'User', a.principal_id, 0 AS via_group,"
                f" a.rowid AS ord FROM app_assignments a WHERE a.principal_id IN ({marks}) "
                "UNION ALL SELECT m.user_id, a.role, 'Group', a.principal_id, 1, a.rowid "
                "FROM app_assignments a JOIN entra_group_members m ON m.group_id = a.principal_id "
                f"WHERE m.user_id IN ({marks}) ORDER BY user_id, via_group, ord",
                [*chunk, *chunk],
            ).fetchall()
        out: dict[str, dict[str, AppRoleAssignment]] = {}
        for user_id, value, via, principal_id, _group, _order in rows:
            role = self.role(value)
            out.setdefault(user_id, {}).setdefault(
                value, AppRoleAssignment(role.id, role.value, role.display_name, via, principal_id)
            )
        return {user_id: list(roles.values()) for user_id, roles in out.items()}

    def is_assigned(self, user_id: str) -> bool:
        """Whether the user is assigned directly or through a group it directly belongs to."""
        return bool(
            self.store.scalar(
                "SELECT 1 FROM app_assignments WHERE principal_id = ? UNION ALL "
                "SELECT 1 FROM entra_group_members m JOIN app_assignments a "
                "ON a.principal_id = m.group_id WHERE m.user_id = ? LIMIT 1",
                [user_id, user_id],
            )
        )

    def assigned_user_ids(self) -> set[str]:
        """Users assigned directly or through an assigned group (direct members only)."""
        rows = self.store.db.execute(
            "SELECT principal_id FROM app_assignments WHERE principal_type = 'User' UNION "
            "SELECT m.user_id FROM app_assignments a JOIN entra_group_members m "
            "ON m.group_id = a.principal_id JOIN entra_users u ON u.id = m.user_id"
        ).fetchall()
        return {r[0] for r in rows}

    def assigned_group_ids(self) -> set[str]:
        """Groups assigned to the app."""
        rows = self.store.db.execute(
            "SELECT DISTINCT principal_id FROM app_assignments WHERE principal_type = 'Group'"
        ).fetchall()
        return {r[0] for r in rows}

    def _of(self, principal_id: str) -> list[Assignment]:
        rows = self.store.db.execute(
            f"{_ASSIGNMENT_SELECT} WHERE a.principal_id = ? ORDER BY a.rowid", [principal_id]
        ).fetchall()
        return [_assignment(r) for r in rows]

    def _roles_of(self, principal_id: str) -> list[str]:
        return [a.role for a in self._of(principal_id)]

    def _get(self, assignment_id: str) -> Assignment:
        row = self.store.db.execute(
            f"{_ASSIGNMENT_SELECT} WHERE a.id = ?", [assignment_id]
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no assignment {assignment_id}")
        return _assignment(row)
