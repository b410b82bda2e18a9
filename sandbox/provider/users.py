"""Provides UserRepository: the provider's User resources in the store (rows, indexes, versions)."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox import jsontext
from sandbox.errors import ScimError, UniquenessError
from sandbox.provider.resources import multi_value_rows
from sandbox.provider.schema import UserSchema
from sandbox.scim_names import CORE_USER_SCHEMA
from sandbox.store import Store
from sandbox.timestamps import format_timestamp, utc_now

Clock = Callable[[], datetime]


def _random_ids() -> Callable[[], str]:
    """Random version-4 UUIDs from a generator seeded once from the OS (uuid4() asks the OS
    for every id, a measurable cost per create)."""
    rng = random.Random(os.urandom(32))
    return lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))


LONE_SURROGATE = "a value holds a lone UTF-16 surrogate, which is not a character"
"""Refused at the wire (wirejson); this is the store's own refusal, should one get past it."""


class ConcurrentUpdate(ScimError):
    """The user changed between read and write; the caller re-reads and retries.

    Answered (once the retries are spent) as a 409 with no scimType: RFC 7644 §3.12's
    `uniqueness` says an attribute value is already in use, which is not what happened."""

    def __init__(self, user_id: str) -> None:
        super().__init__(409, f"User {user_id} was modified concurrently; retry")


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A User as stored: its document (no id/meta) and the meta columns."""

    id: str
    doc: dict[str, Any]
    created: str
    last_modified: str
    version: int
    org: dict[str, Any] = field(default_factory=dict)
    """The organization's own columns (see OrgStorage), by name; empty for the plain core."""

    @property
    def meta(self) -> dict[str, Any]:
        """The columns render() needs to build meta."""
        return {
            "id": self.id,
            "created": self.created,
            "last_modified": self.last_modified,
            "version": self.version,
        }


Effects = Callable[[Any, str], None]
"""Extra writes run inside a user's write transaction: effects(db, user_id)."""

_CORE_COLUMNS = frozenset(
    "id user_name user_name_norm external_id display_name display_name_norm active"
    " created last_modified version doc".split()
)
"""The users table's columns the SCIM core owns (store_schema v1)."""


@dataclass(frozen=True, slots=True)
class OrgStorage:
    """What an organization keeps beside the SCIM core's user rows; the plain core keeps nothing.

    The core reads the columns back into StoredUser.org, writes the ones a WritePlan.org
    names, and runs on_delete inside a user's DELETE, before the user's row goes (so rows
    that refer to the user can go first).
    """

    columns: tuple[str, ...] = ()
    """Columns of the users table that the organization owns (the schema holds them)."""
    on_delete: Effects | None = None
    """Writes a user's deletion makes: on_delete(db, user_id)."""

    def __post_init__(self) -> None:
        # the names go into SQL text: declared in code, never taken from a request
        for name in self.columns:
            if not name.isidentifier() or name in _CORE_COLUMNS:
                raise ValueError(f"{name!r} cannot be an organization's column")


CORE_STORAGE = OrgStorage()
"""The plain SCIM core: no columns of its own, nothing else to delete."""

SORT_COLUMNS = {
    "id": "users.id",
    "username": "users.user_name_norm",
    "externalid": "users.external_id",
    "displayname": "users.display_name_norm",
    "active": "users.active",
    "meta.created": "users.created",
    "meta.lastmodified": "users.last_modified",
}


def _row(row: Any, columns: tuple[str, ...]) -> StoredUser:
    return StoredUser(
        row[0],
        jsontext.loads(row[1]),
        row[2],
        row[3],
        row[4],
        dict(zip(columns, row[5:], strict=True)),
    )


class UserRepository:
    """Reads and writes User resources; all writes are single transactions."""

    def __init__(
        self,
        store: Store,
        schema: UserSchema,
        clock: Clock = utc_now,
        new_id: Callable[[], str] | None = None,
        storage: OrgStorage = CORE_STORAGE,
    ) -> None:
        self.store = store
        self.schema = schema
        self.clock = clock
        self.new_id = new_id or _random_ids()
        self.storage = storage
        self._multi_valued = [a.name for a in schema.core if a.multi_valued]
        self._org_columns = storage.columns
        self._select = "SELECT id, doc, created, last_modified, version"
        self._select += "".join(f", {name}" for name in storage.columns) + " FROM users"

    # -- reads ---------------------------------------------------------------------------

    def get(self, user_id: str) -> StoredUser:
        """The user with this id, or 404."""
        row = self.store.db.execute(self._select + " WHERE id = ?", [user_id]).fetchone()
        if row is None:
            raise ScimError(404, f"User {user_id} not found")
        return _row(row, self._org_columns)

    def search(
        self,
        where: str,
        params: list[Any],
        *,
        start_index: int,
        count: int,
        sort_by: str | None = None,
        descending: bool = False,
    ) -> tuple[int, list[StoredUser]]:
        """Total matches and one page of users (startIndex is 1-based, RFC 7644 §3.4.2.4)."""
        order = "users.rowid"
        if sort_by:
            key = self._sort_expression(sort_by)
            direction = "DESC" if descending else "ASC"
            order = f"{key} {direction}, users.rowid {direction}"
        where_sql = f" WHERE {where}" if where else ""
        rows: list[Any] = []
        if count > 0:
            rows = self.store.db.execute(
                f"{self._select}{where_sql} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, count, start_index - 1],
            ).fetchall()
        if start_index == 1 and len(rows) < count:
            total = len(rows)  # the page holds everything: no second query
        else:
            total = self.store.db.execute(
                f"SELECT count(*) FROM users{where_sql}", params
            ).fetchone()[0]
        columns = self._org_columns
        return total, [_row(r, columns) for r in rows]

    def _sort_expression(self, sort_by: str) -> str:
        key = sort_by.strip()
        lowered = key.lower()
        if lowered.startswith(CORE_USER_SCHEMA.lower() + ":"):
            lowered = lowered.rsplit(":", 1)[1]
            key = key.rsplit(":", 1)[1]
        if lowered in SORT_COLUMNS:
            return SORT_COLUMNS[lowered]
        top, _, sub = key.partition(".")
        attribute = self.schema.find(top)
        if attribute is None and ":" in key:
            uri, _, name = key.rpartition(":")
            attribute = self.schema.find(name, uri)
            top, sub = name, ""
        if attribute is None:
            raise ScimError(400, f"cannot sort by unknown attribute {sort_by!r}", "invalidValue")
        if attribute.multi_valued:
            # RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value
            return (
                "(SELECT scim_fold(json_extract(e.value, '$.value')) FROM "
                f"json_each(users.doc, '$.\"{attribute.name}\"') e "
                "ORDER BY json_extract(e.value, '$.primary') IS 1 DESC, e.key LIMIT 1)"
            )
        path = "$"
        if attribute.schema != CORE_USER_SCHEMA:
            path += f'."{attribute.schema}"'
        path += f'."{attribute.name}"'
        if sub:
            found = attribute.sub(sub)
            if found is None:
                raise ScimError(
                    400, f"cannot sort by unknown attribute {sort_by!r}", "invalidValue"
                )
            path += f'."{found.name}"'
        return f"scim_fold(json_extract(users.doc, '{path}'))"

    # -- writes --------------------------------------------------------------------------

    def _columns(self, doc: dict[str, Any]) -> dict[str, Any]:
        user_name = doc["userName"]
        display = doc.get("displayName")
        return {
            "user_name": user_name,
            "user_name_norm": user_name.casefold(),
            "external_id": doc.get("externalId"),
            "display_name": display,
            "display_name_norm": display.casefold() if isinstance(display, str) else None,
            "active": 1 if doc.get("active", True) else 0,
        }

    def _write_values(
        self, db: Any, user_id: str, doc: dict[str, Any], old: dict[str, Any] | None = None
    ) -> None:
        if old is not None:
            if all(old.get(a) == doc.get(a) for a in self._multi_valued):
                return  # the indexed values did not change
            self._delete_values(db, user_id, old)
        rows = multi_value_rows(self.schema, user_id, doc)
        if rows:
            db.conn.executemany(
                "INSERT INTO user_values (attr, value_norm, user_id, n, type_norm, value,"
                " is_primary, item) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def _delete_values(self, db: Any, user_id: str, doc: dict[str, Any]) -> None:
        """Remove a user's index rows by their exact keys, computed from its stored document."""
        keys = [row[:4] for row in multi_value_rows(self.schema, user_id, doc)]
        if keys:
            db.conn.executemany(
                "DELETE FROM user_values WHERE attr = ? AND value_norm = ? AND user_id = ? AND n = ?",
                keys,
            )

    def create(
        self,
        doc: dict[str, Any],
        org: dict[str, Any] | None = None,
        effects: Effects | None = None,
    ) -> StoredUser:
        """Insert a new user; 409 uniqueness when userName is taken (case-insensitively)."""
        now = format_timestamp(self.clock())
        user_id = self.new_id()
        columns = self._columns(doc)
        org = {k: v for k, v in (org or {}).items() if k in self._org_columns}
        names = ", ".join([*columns, *org])
        marks = ", ".join("?" * (len(columns) + len(org)))
        try:
            with self.store.write() as db:
                db.execute(
                    f"INSERT INTO users (id, {names}, created, last_modified, version, doc)"
                    f" VALUES (?, {marks}, ?, ?, 1, ?)",
                    [user_id, *columns.values(), *org.values(), now, now, jsontext.dumps(doc)],
                )
                self._write_values(db, user_id, doc)
                if effects is not None:
                    effects(db, user_id)
        except UniquenessError:
            raise ScimError(
                409, f"a User with userName {doc['userName']!r} already exists", "uniqueness"
            ) from None
        except UnicodeEncodeError:  # SQLite binds UTF-8 only; the transaction rolled back
            raise ScimError(400, LONE_SURROGATE, "invalidValue") from None
        return StoredUser(user_id, doc, now, now, 1, org)

    def update(
        self,
        current: StoredUser,
        doc: dict[str, Any],
        org: dict[str, Any] | None = None,
        effects: Effects | None = None,
    ) -> StoredUser:
        """Store a new document for an existing user; the version moves only if something changed.

        Only the columns whose values change are written, so untouched indexes stay as they are.
        """
        columns = self._org_columns
        org = {k: v for k, v in (org or {}).items() if k in columns and current.org.get(k) != v}
        if doc == current.doc and not org:
            return current
        now = format_timestamp(self.clock())
        changed = {
            k: v
            for k, v in self._columns(doc).items()
            if k not in _COLUMN_SOURCES
            or doc.get(_COLUMN_SOURCES[k]) != current.doc.get(_COLUMN_SOURCES[k])
        }
        changed.update(org)
        assignments = "".join(f"{name} = ?, " for name in changed)
        try:
            with self.store.write() as db:
                cursor = db.execute(
                    f"UPDATE users SET {assignments}last_modified = ?, version = version + 1,"
                    " doc = ? WHERE id = ? AND version = ?",
                    [*changed.values(), now, jsontext.dumps(doc), current.id, current.version],
                )
                if cursor.rowcount == 0:  # changed or deleted since it was read
                    raise ConcurrentUpdate(current.id)
                self._write_values(db, current.id, doc, current.doc)
                if effects is not None:
                    effects(db, current.id)
        except UniquenessError:
            raise ScimError(
                409, f"a User with userName {doc['userName']!r} already exists", "uniqueness"
            ) from None
        except UnicodeEncodeError:  # SQLite binds UTF-8 only; the transaction rolled back
            raise ScimError(400, LONE_SURROGATE, "invalidValue") from None
        return StoredUser(
            current.id, doc, current.created, now, current.version + 1, {**current.org, **org}
        )

    def delete(self, user: StoredUser) -> None:
        """Remove a user, its indexed values and what the organization's on_delete removes with
        it; 404 if it does not exist."""
        user_id = user.id
        with self.store.write() as db:
            # re-read inside the transaction: a concurrent write may have changed the values
            row = db.execute("SELECT doc FROM users WHERE id = ?", [user_id]).fetchone()
            if row is None:
                raise ScimError(404, f"User {user_id} not found")
            self._delete_values(db, user_id, jsontext.loads(row[0]))
            if self.storage.on_delete is not None:
                self.storage.on_delete(db, user_id)
            cursor = db.execute("DELETE FROM users WHERE id = ?", [user_id])
            if cursor.rowcount == 0:
                raise ScimError(404, f"User {user_id} not found")

    def count(self) -> int:
        """How many users are stored."""
        return int(self.store.scalar("SELECT count(*) FROM users"))


_COLUMN_SOURCES = {
    "user_name": "userName",
    "user_name_norm": "userName",
    "external_id": "externalId",
    "display_name": "displayName",
    "display_name_norm": "displayName",
    "active": "active",
}
"""Which document attribute each indexed column mirrors."""
