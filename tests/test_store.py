"""The store: schema created and migrated by code, WAL, transactions, uniqueness at the boundary."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from sandbox.errors import StoreError, UniquenessError
from sandbox.store import MIGRATIONS, Store


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
    sql = ("INSERT INTO users (id, user_name, user_name_norm, created, last_modified, version,"
           " doc) VALUES (?, ?, ?, ?, ?, ?, ?)")
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
