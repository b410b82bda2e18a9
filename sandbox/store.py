"""Provides Store, the one gateway to the sandbox's SQLite file: schema, migrations, transactions."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlite_utils

from sandbox.errors import StoreError, UniquenessError
from sandbox.store_schema import MIGRATIONS

BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another process's write lock before giving up."""

CHECKPOINT_INTERVAL_S = 0.25
"""How often the checkpoint thread copies committed WAL pages into the database file."""

CHECKPOINT_IDLE_S = 2.0
"""The checkpoint thread ends after this long without a write (the next write restarts it)."""

AUTOCHECKPOINT_PAGES = 10_000
"""The WAL size (pages) at which a committing writer checkpoints itself after all: only when
the checkpoint thread cannot keep up or cannot finish (a long reader)."""

_memory_names = itertools.count(1)


IN_LIST = 500
"""Values per `IN (...)` list of `in_lists` (SQLite allows 32,766 parameters a statement)."""


def in_lists(values: Sequence[str], size: int = IN_LIST) -> Iterator[tuple[list[str], str]]:
    """The distinct values in their order, `size` at a time, each chunk with the placeholders
    of its `IN (...)` list ("?, ?, ?"): how a bulk read by key is written."""
    distinct = list(dict.fromkeys(values))
    for start in range(0, len(distinct), size):
        chunk = distinct[start : start + size]
        yield chunk, ", ".join("?" * len(chunk))


class LeaseHeld(StoreError):
    """A lease of the database (see `Store.lease`) is held by someone else: `pid` (0 when
    it could not be read)."""

    def __init__(self, name: str, pid: int) -> None:
        super().__init__(f"{name} is held by process {pid or 'unknown'}")
        self.name = name
        self.pid = pid


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _why(exc: sqlite3.DatabaseError) -> str:
    """SQLite's complaint about a file, in the words a user of --db needs."""
    if "file is not a database" in str(exc):
        return "the file is not an SQLite database (it was left as it is)"
    return str(exc)


def _foreign(path: str) -> str:
    """The refusal of another application's SQLite database."""
    return (
        f"cannot open database {path}: it is an SQLite database but not a sandbox's (it has "
        "tables and no schema_version)"
    )


def _holder(fd: int) -> int:
    """The pid a held lease file names; its holder writes it just after locking, so a reader
    that comes in between waits a moment for it."""
    for _ in range(50):
        raw = os.pread(fd, 32, 0).strip()
        if raw.isdigit():
            return int(raw)
        time.sleep(0.002)
    return 0


class _Checkpointer:
    """Checkpoints a WAL database from a thread of its own.

    SQLite's default runs a checkpoint inside whichever commit crosses 1,000 WAL pages: that
    writer copies the pages and syncs the file while holding the write lock, and every
    other writer waits (35 commits of 3,000 POSTs took 0.36 s of the 0.52 s all commits
    took). PASSIVE checkpoints from this thread run beside the writers instead.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._dirty = False
        self._stopped = False
        self.checkpointed = threading.Event()
        """Set after each checkpoint this thread ran (tests wait on it)."""

    def wrote(self) -> None:
        """A transaction committed: checkpoint soon (starting the thread if it is not running)."""
        self._dirty = True
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._lock:
            if self._stopped or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            conn = self._connect()
        except Exception:
            return
        idle = 0.0
        try:
            while not self._stopped and idle < CHECKPOINT_IDLE_S:
                self._wake.wait(CHECKPOINT_INTERVAL_S)
                self._wake.clear()
                if not self._dirty:
                    idle += CHECKPOINT_INTERVAL_S
                    continue
                idle, self._dirty = 0.0, False
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    self._dirty = True  # busy or closing: try again next tick
                else:
                    self.checkpointed.set()
        finally:
            conn.close()

    def nudge(self) -> None:
        """Checkpoint now rather than at the next tick."""
        self._wake.set()

    def stop(self) -> None:
        """End the thread (SQLite checkpoints what is left when the last connection closes)."""
        with self._lock:
            self._stopped = True
            thread = self._thread
        self.nudge()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)


Transaction = sqlite_utils.Database
"""What `Store.write()` yields: the database inside one write transaction (callers outside
this module name it by this alias, so sqlite-utils stays behind the store)."""


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
            self._check_path()
            self._check_contents()
        self._local = threading.local()
        self._pid = os.getpid()
        self._leases: dict[str, threading.Lock] = {}
        """In-memory databases' leases (a file database's are OS locks beside it)."""
        self._anchor: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()
        self._lock_fd: int | None = None
        self._lock_pid = os.getpid()
        self._checkpointer = None if self._memory else _Checkpointer(self._connect)
        if self._memory:  # keeps the in-memory database alive between threads
            self._anchor = self._connect()
        try:
            self.migrate()
        except sqlite3.DatabaseError as exc:  # a damaged file: say so, write nothing
            raise StoreError(f"cannot open database {self.path}: {_why(exc)}") from None

    # -- connections ---------------------------------------------------------------------

    def _check_path(self) -> None:
        """Refuse, before SQLite touches anything, a path that cannot be the database."""
        if os.path.isdir(self.path):
            raise StoreError(f"cannot open database {self.path}: it is a directory")
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise StoreError(
                f"cannot open database {self.path}: the directory {folder} does not exist"
            )

    def _check_contents(self) -> None:
        """Refuse, before anything is written or created beside it, a file that is not an
        SQLite database or is another application's: read without a lock file of ours, with
        WAL mode untouched (a connection of `_connect` switches the file to WAL, a byte of its
        header). Read immutable when it has no -wal file (the file is then the whole
        database, and a read-only connection would leave an empty -wal and a -shm beside
        it); read-only otherwise. `migrate` checks again, under the write lock."""
        if not os.path.isfile(self.path) or os.path.getsize(self.path) == 0:
            return  # a new database
        mode = "mode=ro" if os.path.exists(self.path + "-wal") else "immutable=1"
        uri = f"file:{urllib.parse.quote(os.path.abspath(self.path))}?{mode}"
        try:
            peek = sqlite3.connect(uri, uri=True)
        except sqlite3.Error:
            return  # unreadable here: the real open says why
        try:
            names = {row[0] for row in peek.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open database {self.path}: {_why(exc)}") from None
        finally:
            peek.close()
        if names and "schema_version" not in names:
            raise StoreError(_foreign(self.path))

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
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not self._memory:
                # WAL: readers never block the writer. synchronous=NORMAL keeps every committed
                # transaction across a process crash (SIGKILL); only an OS crash may lose the
                # last. A file that is not a database fails here, on its header, unwritten.
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"cannot open database {self.path}: {_why(exc)}") from None
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
        """Close this thread's connection (and the in-memory anchor), and stop checkpointing."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = _Checkpointer(self._connect)  # a later write starts afresh
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
                if db.table_names():  # an SQLite file of another application: leave it be
                    raise StoreError(_foreign(self.path))
                db.table("schema_version").create({"version": int, "applied_at": str}, pk="version")
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
            if self._checkpointer is not None:
                self._checkpointer.wrote()

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

    # -- leases ----------------------------------------------------------------------------

    @contextmanager
    def lease(self, name: str) -> Iterator[None]:
        """Hold the lease `name` of this database for the duration, against every other
        holder: threads, other Store objects, other processes. Raises LeaseHeld (with the
        holder's pid) at once instead of waiting.

        A file database's lease is an OS lock on `<db>.<name>.lock`, which holds the pid of
        its holder while held. The OS releases it when its process ends however it ends, so a
        lease left by a killed process (its pid still in the file) is simply taken over.
        """
        if self._memory:
            lock = self._leases.setdefault(name, threading.Lock())
            if not lock.acquire(blocking=False):
                raise LeaseHeld(name, os.getpid())
            try:
                yield
            finally:
                lock.release()
            return
        # A descriptor of its own each time: flock locks belong to an open file, so two
        # holders in one process exclude each other as two processes do.
        try:
            fd = os.open(f"{self.path}.{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot take the {name} lease of {self.path}: {exc}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LeaseHeld(name, _holder(fd)) from None
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
                yield
            finally:
                os.ftruncate(fd, 0)  # released: no pid left behind
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

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
