"""The store: schema created and migrated by code, WAL, transactions, uniqueness at the boundary."""

from __future__ import annotations

import sqlite3
import threading

import pytest

import sandbox.store as store_module
from sandbox.errors import StoreError, UniquenessError
from sandbox.store import AUTOCHECKPOINT_PAGES, MIGRATIONS, Store, in_lists


def test_a_new_database_gets_every_migration_recorded(tmp_path):
    store = Store(str(tmp_path / "a.db"))
    assert store.schema_version() == len(MIGRATIONS)
    assert {"users", "user_values", "request_log", "provider_state"} <= set(store.db.table_names())


def test_reopening_a_database_does_not_migrate_twice(tmp_path):
    path = str(tmp_path / "a.db")
    Store(path).set_state("marker", 1)
    again = Store(path)
    assert again.schema_version() == len(MIGRATIONS)
    assert again.get_state("marker") == 1
    assert again.scalar("SELECT count(*) FROM schema_version") == len(MIGRATIONS)


def test_a_database_from_a_newer_sandbox_is_refused(tmp_path):
    path = str(tmp_path / "a.db")
    store = Store(path)
    with store.write() as db:
        db.execute("INSERT INTO schema_version VALUES (999, 'later')")
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_file_databases_use_wal(tmp_path):
    store = Store(str(tmp_path / "a.db"))
    assert store.scalar("PRAGMA journal_mode") == "wal"


def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    store = Store(str(tmp_path / "a.db"))
    with pytest.raises(RuntimeError):
        with store.write():
            store.set_state("half", True)
            raise RuntimeError("boom")
    assert store.get_state("half") is None


def test_integrity_errors_become_uniqueness_errors(tmp_path):
    store = Store(str(tmp_path / "a.db"))
    row = ["x", "A", "a", "t", "t", 1, "{}"]
    sql = (
        "INSERT INTO users (id, user_name, user_name_norm, created, last_modified, version,"
        " doc) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    with store.write() as db:
        db.execute(sql, row)
    with pytest.raises(UniquenessError):
        with store.write() as db:
            db.execute(sql, ["y", *row[1:]])
    assert store.scalar("SELECT count(*) FROM users") == 1


def test_memory_store_is_shared_between_threads():
    store = Store(":memory:")
    store.set_state("k", "v")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(store.get_state("k")))
    thread.start()
    thread.join()
    assert seen == ["v"]


def test_writers_in_many_threads_all_commit(tmp_path):
    store = Store(str(tmp_path / "a.db"))

    def work(n: int) -> None:
        for i in range(25):
            store.set_state(f"k{n}-{i}", i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.scalar("SELECT count(*) FROM provider_state") == 150
    assert store.integrity_check() == "ok"


def test_the_store_speaks_sqlite(tmp_path):
    path = tmp_path / "a.db"
    Store(str(path)).set_state("k", [1, 2])
    raw = sqlite3.connect(path).execute("SELECT value FROM provider_state WHERE key='k'")
    assert raw.fetchone()[0] == "[1, 2]"


def test_writers_leave_checkpoints_to_the_checkpoint_thread(tmp_path, monkeypatch):
    # SQLite's default makes the commit that crosses 1,000 WAL pages copy them into the file
    # while it holds the write lock; here commits only append to the WAL and a thread of
    # the store's own moves the pages into the database file.
    monkeypatch.setattr(store_module, "CHECKPOINT_INTERVAL_S", 60.0)  # only when nudged
    monkeypatch.setattr(store_module, "CHECKPOINT_IDLE_S", 600.0)
    path = tmp_path / "wal.db"
    store = Store(str(path))
    assert store.scalar("PRAGMA wal_autocheckpoint") == AUTOCHECKPOINT_PAGES
    with store.write() as db:
        db.execute("CREATE TABLE blobs (n INTEGER PRIMARY KEY, data BLOB)")
    checkpointer = store._checkpointer
    assert checkpointer is not None
    checkpointer.nudge()
    assert checkpointer.checkpointed.wait(10)  # the schema is in the file
    checkpointer.checkpointed.clear()
    size = path.stat().st_size
    for n in range(1_200):  # more pages than SQLite's own threshold, one commit each
        with store.write() as db:
            db.execute("INSERT INTO blobs VALUES (?, ?)", [n, bytes(2_000)])
    assert path.stat().st_size == size  # no commit checkpointed: all in the WAL
    checkpointer.nudge()
    assert checkpointer.checkpointed.wait(10)
    assert path.stat().st_size > size + 1_200 * 2_000  # moved into the file by the thread
    store.close()
    assert Store(str(path)).scalar("SELECT count(*) FROM blobs") == 1_200


def test_memory_stores_have_no_checkpoint_thread():
    store = Store(":memory:")
    with store.write() as db:
        db.execute("CREATE TABLE t (n INTEGER)")
    assert store._checkpointer is None


def test_in_lists_gives_the_distinct_values_in_order_with_their_placeholders():
    assert list(in_lists(["b", "a", "b", "c", "d"], size=2)) == [
        (["b", "a"], "?, ?"),
        (["c", "d"], "?, ?"),
    ]
    assert list(in_lists(["x"])) == [(["x"], "?")]
    assert list(in_lists([])) == []
