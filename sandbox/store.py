"""Provides Store, the one gateway to the sandbox's SQLite file: schema, migrations, transactions."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlite_utils

from sandbox.errors import StoreError, UniquenessError

BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another process's write lock before giving up."""

_memory_names = itertools.count(1)


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _schema_v1(db: sqlite_utils.Database) -> None:
    """Provider state, users with their indexed columns and multi-values, the request log."""
    db["provider_state"].create({"key": str, "value": str}, pk="key")
    db["users"].create(
        {
            "id": str,
            "user_name": str,
            "user_name_norm": str,
            "external_id": str,
            "display_name": str,
            "display_name_norm": str,
            "active": int,
            "created": str,
            "last_modified": str,
            "version": int,
            "doc": str,
        },
        pk="id",
        not_null={"user_name", "user_name_norm", "created", "last_modified", "version", "doc"},
    )
    # RFC 7643 §4.1: userName is unique and caseExact=false, so uniqueness is on its casefold.
    db["users"].create_index(["user_name_norm"], unique=True)
    db["users"].create_index(["external_id"])
    db["users"].create_index(["display_name_norm"])
    # One row per value of a multi-valued attribute (emails, phoneNumbers, roles, ...),
    # so value filters such as emails[type eq "work"].value eq "x" use an index.
    # WITHOUT ROWID with the lookup key first: one b-tree to write per value, and filters
    # (attr, value_norm) read it directly. Rows are deleted by their exact keys, which the
    # previous document gives, so no user_id index is needed.
    db.execute(
        """CREATE TABLE user_values (
            attr TEXT NOT NULL,
            value_norm TEXT NOT NULL,  -- '' when the value has no `value` (addresses)
            user_id TEXT NOT NULL REFERENCES users(id),
            n INTEGER NOT NULL,        -- position in the attribute's list
            type_norm TEXT,
            value TEXT,
            is_primary INTEGER NOT NULL,
            item TEXT NOT NULL,
            PRIMARY KEY (attr, value_norm, user_id, n)
        ) WITHOUT ROWID"""
    )
    db["request_log"].create(
        {
            "seq": int,
            "at": str,
            "side": str,
            "method": str,
            "path": str,
            "query": str,
            "status": int,
            "latency_ms": float,
            "request_headers": str,
            "request_body": str,
            "response_headers": str,
            "response_body": str,
            "notes": str,
        },
        pk="seq",
    )


def _schema_v2(db: sqlite_utils.Database) -> None:
    """The Nulab organization: member columns on users, teams and their members, fault rules."""
    users = db["users"]
    users.add_column("kind", str, not_null_default="managed")  # managed | nulab
    users.add_column("label", str)  # Managed Account | Provisioned Managed Account
    users.add_column("role", str, not_null_default="GUEST")
    users.add_column("language", str)
    users.add_column("timezone", str)
    users.add_column("org_updated", str)  # last created/updated in the organization
    db["teams"].create({"id": int, "name": str, "guests_allowed": int}, pk="id", not_null={"name"})
    db["teams"].create_index(["name"], unique=True)
    db["team_members"].create(
        {"team_id": int, "user_id": str, "is_admin": int},
        pk=("team_id", "user_id"),
        foreign_keys=[("team_id", "teams", "id"), ("user_id", "users", "id")],
    )
    db["team_members"].create_index(["user_id"])
    db["faults"].create(
        {
            "id": int,
            "method": str,
            "path": str,
            "status": int,
            "retry_after": int,
            "latency_ms": int,
            "drop_connection": int,
            "remaining": int,
            "probability": float,
            "seed": int,
            "created": str,
        },
        pk="id",
    )


def _schema_v3(db: sqlite_utils.Database) -> None:
    """The mock Entra ID: tenant directory, enterprise app, change log, provisioning job state."""
    db["entra_users"].create(
        {
            "id": str,  # objectId
            "upn": str,
            "upn_norm": str,
            "mail": str,
            "display_name": str,
            "account_enabled": int,
            "user_type": str,  # Member | Guest
            "created": str,
            "deleted_at": str,  # soft-deleted (recycle bin) when set
            "props": str,  # every Entra property, JSON
        },
        pk="id",
        not_null={"upn", "upn_norm", "props"},
    )
    db["entra_users"].create_index(["upn_norm"], unique=True)
    db["entra_users"].create_index(["mail"])
    db["entra_users"].create_index(["display_name"])
    db["entra_groups"].create(
        {"id": str, "display_name": str, "description": str, "security_enabled": int,
         "created": str, "deleted_at": str},
        pk="id",
        not_null={"display_name"},
    )
    db["entra_group_members"].create(
        {"group_id": str, "user_id": str},
        pk=("group_id", "user_id"),
    )
    db["entra_group_members"].create_index(["user_id"])
    db["app_assignments"].create(
        {"id": str, "principal_type": str, "principal_id": str, "role": str, "created": str},
        pk="id",
        not_null={"principal_type", "principal_id", "role"},
    )
    db["app_assignments"].create_index(["principal_id", "role"], unique=True)
    # Every directory or assignment change, so incremental cycles read changes since a watermark.
    db["changes"].create(
        {"seq": int, "at": str, "object_type": str, "object_id": str, "change": str,
         "detail": str},
        pk="seq",
    )
    db["engine_state"].create({"key": str, "value": str}, pk="key")
    # The connector data store: which target object each source object is linked to, and what
    # was last exported (the flat mapped state diffs are computed against).
    db["links"].create(
        {"object_type": str, "source_id": str, "target_id": str, "exported": str,
         "updated": str},
        pk=("object_type", "source_id"),
    )
    db["escrows"].create(
        {"object_type": str, "source_id": str, "attempts": int, "first_failed": str,
         "next_attempt": str, "error_code": str, "reason": str, "reference": int},
        pk=("object_type", "source_id"),
    )
    db["staged_deletes"].create(
        {"object_type": str, "source_id": str, "action": str, "cycle_id": int},
        pk=("object_type", "source_id"),
    )
    db["cycles"].create(
        {"id": int, "kind": str, "started": str, "finished": str, "status": str,
         "counts": str, "wall_ms": float},
        pk="id",
    )
    db["provisioning_log"].create(
        {"id": str, "cycle_id": int, "change_id": str, "at": str, "object_type": str,
         "source_id": str, "source_name": str, "target_id": str, "action": str, "status": str,
         "error_code": str, "reason": str, "steps": str, "modified": str, "exchanges": str,
         "duration_ms": float},
        pk="id",
    )
    db["provisioning_log"].create_index(["cycle_id"])
    db["provisioning_log"].create_index(["source_id"])


MIGRATIONS: Sequence[Callable[[sqlite_utils.Database], None]] = (
    _schema_v1,
    _schema_v2,
    _schema_v3,
)
"""Schema steps in order; the schema version is the number of steps applied."""


class Store:
    """The sandbox database: one SQLite file in WAL mode, one connection per thread.

    Every write goes through `write()`, a `BEGIN IMMEDIATE` transaction, so concurrent
    writers (threads or server processes) serialize on SQLite's lock instead of failing
    half-way. A ":memory:" path gives a private shared-cache database that lives as long
    as the Store.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._memory = path == ":memory:"
        if self._memory:
            self._uri = (
                f"file:sandbox-mem-{os.getpid()}-{next(_memory_names)}?mode=memory&cache=shared"
            )
        else:
            self._uri = path
        self._local = threading.local()
        self._pid = os.getpid()
        self._anchor: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()
        self._lock_fd: int | None = None
        self._lock_pid = os.getpid()
        if self._memory:  # keeps the in-memory database alive between threads
            self._anchor = self._connect()
        self.migrate()

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self._uri,
                uri=self._memory,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from None
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not self._memory:
            # WAL: readers never block the writer. synchronous=NORMAL keeps every committed
            # transaction across a process crash (SIGKILL); only an OS crash may lose the last.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Unicode casefold for caseExact=false comparisons (SQLite's lower() is ASCII-only).
        conn.create_function("scim_fold", 1, _fold, deterministic=True)
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's sqlite-utils Database (opened on first use, reopened after a fork)."""
        if self._pid != os.getpid():  # a forked server worker must not share the parent's
            self._local = threading.local()
            self._pid = os.getpid()
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite_utils.Database(self._connect())
            self._local.db = db
        return db

    def close(self) -> None:
        """Close this thread's connection (and the in-memory anchor)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None
        if self._lock_fd is not None and self._lock_pid == os.getpid():
            os.close(self._lock_fd)
            self._lock_fd = None
        if self._anchor is not None:
            self._anchor.close()
            self._anchor = None

    # -- schema --------------------------------------------------------------------------

    def schema_version(self) -> int:
        """How many migration steps the database has had."""
        if not self.db["schema_version"].exists():
            return 0
        row = self.db.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def migrate(self) -> None:
        """Create or upgrade the schema, one transaction per step, recorded in schema_version."""
        with self.write() as db:
            if not db["schema_version"].exists():
                db["schema_version"].create({"version": int, "applied_at": str}, pk="version")
            current = self.schema_version()
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path} has schema version {current}, newer than this sandbox "
                    f"({len(MIGRATIONS)}); upgrade the sandbox"
                )
            for version, step in enumerate(MIGRATIONS[current:], start=current + 1):
                step(db)
                db.execute(
                    "INSERT INTO schema_version VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ'))",
                    [version],
                )

    # -- transactions and queries -------------------------------------------------------

    def _writer_lock_fd(self) -> int | None:
        if self._memory:
            return None
        if self._lock_fd is None or self._lock_pid != os.getpid():
            self._lock_fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
            self._lock_pid = os.getpid()
        return self._lock_fd

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Queue writers (threads, then processes) on locks that wake them at once.

        SQLite's own busy handler sleeps and retries (1 ms, 2 ms, 5 ms...), which caps
        concurrent writes far below what one writer can do; a blocking flock hands the
        lock over as soon as it is released.
        """
        with self._write_lock:
            fd = self._writer_lock_fd()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction; commits on success, rolls back on any error.

        A uniqueness violation surfaces as UniquenessError, the store's own error.
        Nested use joins the outer transaction.
        """
        db = self.db
        if db.conn.in_transaction:
            yield db
            return
        with self._exclusive():
            yield from self._transaction(db)

    def _transaction(self, db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"database is busy: {exc}") from None
        try:
            yield db
        except sqlite3.IntegrityError as exc:
            db.conn.rollback()
            if "UNIQUE" in str(exc):
                raise UniquenessError(str(exc)) from None
            raise StoreError(f"integrity error: {exc}") from None
        except BaseException:
            if db.conn.in_transaction:
                db.conn.rollback()
            raise
        else:
            db.conn.commit()

    def query(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlite3.Row]:
        """Run a read query and return all rows as sqlite3.Row (name and index access)."""
        cursor = self.db.conn.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | dict = ()) -> Any:
        """Run a query and return the first column of the first row (None when empty)."""
        row = self.db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def integrity_check(self) -> str:
        """SQLite's PRAGMA integrity_check result ("ok" when the file is sound)."""
        return str(self.scalar("PRAGMA integrity_check"))

    # -- small key/value state -----------------------------------------------------------

    def get_state(self, key: str, default: Any = None) -> Any:
        """Read a JSON value from provider_state."""
        raw = self.scalar("SELECT value FROM provider_state WHERE key = ?", [key])
        return default if raw is None else json.loads(raw)

    def set_state(self, key: str, value: Any) -> None:
        """Write a JSON value into provider_state (inside the caller's transaction if any)."""
        with self.write() as db:
            db.execute(
                "INSERT INTO provider_state(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, json.dumps(value)],
            )
