"""Provides Directory: the mock Entra tenant's users and security groups, with a change log.

Every write records a row in `changes` in the same transaction, so an incremental cycle reads
exactly what happened after its watermark (`changes_since`). Users go to a recycle bin when
soft-deleted and are deleted for good after 30 days (`purge_expired`) or by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sandbox import jsontext
from sandbox.engine.tenant.groups import DirectoryGroups
from sandbox.engine.tenant.model import (
    PROPERTY_NAMES,
    RECYCLE_BIN_DAYS,
    USER_INSERT,
    Change,
    DirectoryGroup,
    DirectoryUser,
    Property,
    check_upn,
    clean_properties,
    random_id,
    user_row,
)
from sandbox.errors import NotFoundError, SandboxError
from sandbox.store import Store, Transaction, in_lists
from sandbox.timestamps import format_timestamp, utc_now

__all__ = ["Change", "Directory", "DirectoryGroup", "DirectoryUser", "PROPERTY_NAMES"]

Clock = Callable[[], datetime]


class Directory(DirectoryGroups):
    """The tenant's users and groups over the store; `clock` gives the simulated time.

    Group methods (add_group, add_member, members, ...) come from DirectoryGroups.
    """

    def __init__(
        self, store: Store, clock: Clock = utc_now, new_id: Callable[[], str] = random_id
    ) -> None:
        self.store = store
        self.clock = clock
        self.new_id = new_id

    # -- change log ------------------------------------------------------------------------

    def record_change(
        self,
        db: Transaction,
        object_type: str,
        object_id: str,
        change: str,
        detail: Mapping[str, object] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Append a `changes` row inside the caller's transaction `db`."""
        self.record_changes(db, [(object_type, object_id, change, detail or {})], at)

    def record_changes(
        self,
        db: Transaction,
        rows: Iterable[tuple[str, str, str, Mapping[str, object] | str]],
        at: datetime | None = None,
    ) -> None:
        """Append many (object_type, object_id, change, detail) rows at one time; a detail
        may come JSON-encoded already (bulk seeding)."""
        stamp = format_timestamp(at or self.clock())
        db.conn.executemany(
            "INSERT INTO changes (at, object_type, object_id, change, detail) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    stamp,
                    kind,
                    oid,
                    change,
                    detail if isinstance(detail, str) else jsontext.dumps(detail),
                )
                for kind, oid, change, detail in rows
            ],
        )

    def changes_since(
        self, seq: int = 0, limit: int | None = None, until: int | None = None
    ) -> list[Change]:
        """Every change recorded after watermark `seq` (up to `until` inclusive), oldest first."""
        sql = "SELECT * FROM changes WHERE seq > ?"
        params: list[object] = [seq]
        if until is not None:
            sql += " AND seq <= ?"
            params.append(until)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [
            Change(
                r["seq"],
                r["at"],
                r["object_type"],
                r["object_id"],
                r["change"],
                json.loads(r["detail"] or "{}"),
            )
            for r in self.store.query(sql, params)
        ]

    def last_change_seq(self) -> int:
        """The newest change's seq (0 when nothing was recorded): the next watermark."""
        return int(self.store.scalar("SELECT max(seq) FROM changes") or 0)

    # -- users -----------------------------------------------------------------------------

    def find_user(self, key: str) -> DirectoryUser | None:
        """A user by objectId, UPN or mail (case-insensitive), or None."""
        rows = self.store.query(
            "SELECT * FROM entra_users WHERE id = ? OR upn_norm = ? OR mail = ?",
            [key, key.casefold(), key],
        )
        if not rows:
            rows = self.store.query(
                "SELECT * FROM entra_users WHERE scim_fold(mail) = ?", [key.casefold()]
            )
        if not rows:
            return None
        # an id beats a UPN, which beats a mail
        best = min(rows, key=lambda r: (r["id"] != key, r["upn_norm"] != key.casefold()))
        return DirectoryUser.from_row(best)

    def user_by_id(self, object_id: str) -> DirectoryUser | None:
        """A user by objectId alone, or None: how a cycle reads the users it is given (by
        objectId), one indexed lookup where `find_user` tries UPN and mail too."""
        return self.users_by_ids([object_id]).get(object_id)

    def users_by_ids(self, object_ids: Sequence[str]) -> dict[str, DirectoryUser]:
        """Users by objectId alone (a query per IN_LIST of them): objectId -> user, for the
        ids that name one."""
        out: dict[str, DirectoryUser] = {}
        for chunk, marks in in_lists(object_ids):
            for row in self.store.query(f"SELECT * FROM entra_users WHERE id IN ({marks})", chunk):
                out[row["id"]] = DirectoryUser.from_row(row)
        return out

    def get_user(self, key: str) -> DirectoryUser:
        """A user by objectId, UPN or mail (case-insensitive); NotFoundError otherwise."""
        user = self.find_user(key)
        if user is None:
            raise NotFoundError(f"no tenant user with objectId, UPN or mail {key!r}")
        return user

    def users(
        self,
        search: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
        include_deleted: bool = True,
    ) -> list[DirectoryUser]:
        """Users in creation order; `search` matches UPN, mail or display name (contains)."""
        where, params = self._user_filter(search, include_deleted)
        sql = f"SELECT * FROM entra_users{where} ORDER BY rowid"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return [DirectoryUser.from_row(r) for r in self.store.query(sql, params)]

    def count(self, search: str | None = None, include_deleted: bool = True) -> int:
        """How many users (optionally matching `search`, optionally without the recycle bin)."""
        where, params = self._user_filter(search, include_deleted)
        return int(self.store.scalar(f"SELECT count(*) FROM entra_users{where}", params))

    @staticmethod
    def _user_filter(search: str | None, include_deleted: bool) -> tuple[str, list[str]]:
        clauses: list[str] = []
        params: list[str] = []
        if search:
            # % and _ are plain characters of what the user typed, not wildcards
            plain = search.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            needle = f"%{plain}%"
            clauses.append(
                "(upn_norm LIKE ? ESCAPE '\\' OR scim_fold(mail) LIKE ? ESCAPE '\\'"
                " OR scim_fold(display_name) LIKE ? ESCAPE '\\')"
            )
            params += [needle, needle, needle]
        if not include_deleted:
            clauses.append("deleted_at IS NULL")
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def add_user(self, **props: object) -> DirectoryUser:
        """Create a user from Entra-named properties (userPrincipalName required; `id` may be
        given). mailNickname defaults to the UPN's alias, userType to Guest for #EXT# UPNs."""
        given_id = props.pop("id", None)
        object_id = str(given_id) if given_id else self.new_id()
        values = {k: v for k, v in clean_properties(props).items() if v is not None}
        check_upn(values.get("userPrincipalName"))
        upn = str(values["userPrincipalName"])
        values.setdefault("mailNickname", upn.split("@", 1)[0])
        values.setdefault("displayName", upn.split("@", 1)[0])
        values.setdefault("accountEnabled", True)
        values.setdefault("userType", "Guest" if "#EXT#" in upn.upper() else "Member")
        with self.store.write() as db:
            if self.store.scalar("SELECT 1 FROM entra_users WHERE id = ?", [object_id]):
                raise SandboxError(f"a tenant user already has objectId {object_id}")
            self._check_unique(values, None)
            if "manager" in values:
                values["manager"] = self._manager_id(str(values["manager"]), object_id)
            values = {name: values[name] for name in PROPERTY_NAMES if name in values}
            db.execute(USER_INSERT, user_row(object_id, values, format_timestamp(self.clock())))
            self.record_change(db, "User", object_id, "add", {"userPrincipalName": upn})
        return self.get_user(object_id)

    def edit_user(self, key: str, **props: object) -> DirectoryUser:
        """Change properties (Entra names; None or "" clears one); records what changed.

        A change of accountEnabled is recorded as block/unblock, the rest as one update.
        """
        cleaned = clean_properties(props)
        with self.store.write() as db:
            user = self.get_user(key)
            if cleaned.get("manager"):
                cleaned["manager"] = self._manager_id(str(cleaned["manager"]), user.id)
            current = user.properties()
            changed = sorted(n for n, v in cleaned.items() if current.get(n) != v)
            if not changed:
                return user
            merged = {**current, **cleaned}
            self._check_unique(merged, user.id)
            self._save(db, user, merged)
            if "accountEnabled" in changed:
                change = "unblock" if merged["accountEnabled"] else "block"
                self.record_change(db, "User", user.id, change)
            rest = [n for n in changed if n != "accountEnabled"]
            if rest:
                self.record_change(db, "User", user.id, "update", {"properties": rest})
        return self.get_user(user.id)

    def block(self, key: str, blocked: bool = True) -> DirectoryUser:
        """Block sign-in (accountEnabled false) or unblock it; recorded as block/unblock."""
        return self.edit_user(key, accountEnabled=not blocked)

    def soft_delete(self, key: str) -> DirectoryUser:
        """Move a user to the recycle bin (deleted_at set); memberships and assignments stay."""
        with self.store.write() as db:
            user = self.get_user(key)
            if user.deleted:
                raise SandboxError(f"{user.user_principal_name} is already in the recycle bin")
            db.execute(
                "UPDATE entra_users SET deleted_at = ? WHERE id = ?",
                [format_timestamp(self.clock()), user.id],
            )
            self.record_change(db, "User", user.id, "softDelete")
        return self.get_user(user.id)

    def restore(self, key: str) -> DirectoryUser:
        """Bring a user back from the recycle bin."""
        with self.store.write() as db:
            user = self.get_user(key)
            if not user.deleted:
                raise SandboxError(f"{user.user_principal_name} is not in the recycle bin")
            db.execute("UPDATE entra_users SET deleted_at = NULL WHERE id = ?", [user.id])
            self.record_change(db, "User", user.id, "restore")
        return self.get_user(user.id)

    def hard_delete(self, key: str, at: datetime | None = None) -> DirectoryUser:
        """Delete a user for good: the row, its group memberships and app assignments; users
        it managed lose their manager (recorded as their update)."""
        with self.store.write() as db:
            user = self.get_user(key)
            groups = [
                r[0]
                for r in db.execute(
                    "SELECT group_id FROM entra_group_members WHERE user_id = ?", [user.id]
                )
            ]
            assignments = [
                r[0]
                for r in db.execute(
                    "SELECT role FROM app_assignments WHERE principal_id = ?", [user.id]
                )
            ]
            db.execute("DELETE FROM entra_group_members WHERE user_id = ?", [user.id])
            db.execute("DELETE FROM app_assignments WHERE principal_id = ?", [user.id])
            db.execute("DELETE FROM entra_users WHERE id = ?", [user.id])
            detail = {
                "userPrincipalName": user.user_principal_name,
                "groups": groups,
                "roles": assignments,
                "wasSoftDeleted": user.deleted,
            }
            self.record_change(db, "User", user.id, "hardDelete", detail, at)
            reports = self.store.query(
                "SELECT * FROM entra_users WHERE json_extract(props, '$.manager') = ?", [user.id]
            )
            for row in reports:
                report = DirectoryUser.from_row(row)
                props = report.properties()
                props.pop("manager")
                self._save(db, report, props)
                self.record_change(db, "User", report.id, "update", {"properties": ["manager"]}, at)
        return user

    def purge_expired(self, now: datetime | None = None) -> list[str]:
        """Hard-delete users soft-deleted 30 or more days before `now`; return their ids."""
        moment = now or self.clock()
        cutoff = format_timestamp(moment - timedelta(days=RECYCLE_BIN_DAYS))
        with self.store.write():
            ids = [
                r[0]
                for r in self.store.query(
                    "SELECT id FROM entra_users WHERE deleted_at IS NOT NULL AND deleted_at <= ? "
                    "ORDER BY deleted_at, rowid",
                    [cutoff],
                )
            ]
            for object_id in ids:
                self.hard_delete(object_id, at=moment)
        return ids

    def _save(self, db: Transaction, user: DirectoryUser, props: Mapping[str, Property]) -> None:
        props = {n: props[n] for n in PROPERTY_NAMES if props.get(n) is not None}
        row = user_row(
            user.id, props, user.created or format_timestamp(self.clock()), user.deleted_at
        )
        db.execute(
            "UPDATE entra_users SET upn = ?, upn_norm = ?, mail = ?, display_name = ?, "
            "account_enabled = ?, user_type = ?, props = ? WHERE id = ?",
            [*row[1:7], row[9], user.id],
        )

    def _check_unique(self, props: Mapping[str, Property], own_id: str | None) -> None:
        upn, mail = str(props["userPrincipalName"]), props.get("mail")
        holder = self.store.query(
            "SELECT id, upn, deleted_at FROM entra_users WHERE upn_norm = ?", [upn.casefold()]
        )
        if holder and holder[0]["id"] != own_id:
            where = " (in the recycle bin)" if holder[0]["deleted_at"] else ""
            raise SandboxError(
                f"userPrincipalName {upn} is already taken by another user{where}; UPNs are "
                "unique in the tenant (case-insensitive)"
            )
        if isinstance(mail, str) and mail:
            holder = self.store.query(
                "SELECT id, upn FROM entra_users WHERE scim_fold(mail) = ?", [mail.casefold()]
            )
            if holder and holder[0]["id"] != own_id:
                raise SandboxError(f"mail {mail} is already the mail of {holder[0]['upn']}")

    def _manager_id(self, key: str, own_id: str) -> str:
        manager = self.get_user(key)
        if manager.id == own_id:
            raise SandboxError("a user cannot be their own manager")
        return manager.id
