"""The request log: a flush means written, whoever was writing the batch."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

from sandbox.requestlog import Exchange, RequestLog
from sandbox.store import Store


class SlowStore(Store):
    """A store whose writes from the request log's background thread wait for a gate."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.entered = threading.Event()
        self.gate = threading.Event()

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        if threading.current_thread().name == "request-log":
            self.entered.set()
            assert self.gate.wait(30), "the test never opened the gate"
        with super().write() as db:
            yield db


def exchange(path: str) -> Exchange:
    return Exchange(
        at="2026-01-01T00:00:00.000Z",
        side="provider",
        method="GET",
        path=path,
        query="",
        status=200,
        latency_ms=1.0,
        request_headers={"Authorization": "Bearer secret"},
        request_body=None,
        response_headers={},
        response_body=None,
    )


def test_a_flush_waits_for_the_batch_the_background_thread_is_writing(tmp_path) -> None:
    store = SlowStore(str(tmp_path / "sandbox.db"))
    log = RequestLog(store)
    try:
        log.append(exchange("/scim/v2/Users/1"))
        assert store.entered.wait(30)  # the background thread took the batch and is writing
        # Opened a little later, so a flush that does not wait for it returns first.
        opener = threading.Timer(0.3, store.gate.set)
        opener.start()
        log.flush()
        paths = [row["path"] for row in store.query("SELECT path FROM request_log")]
        assert paths == ["/scim/v2/Users/1"]
        opener.join()
    finally:
        store.gate.set()
        log.close()
        store.close()


def test_entries_read_after_appends_from_many_threads_are_all_there(tmp_path) -> None:
    store = Store(str(tmp_path / "sandbox.db"))
    log = RequestLog(store)
    try:

        def append_some(n: int) -> None:
            for k in range(50):
                log.append(exchange(f"/scim/v2/Users/{n}-{k}"))
                if k % 10 == 0:
                    time.sleep(0)  # let the background thread take batches meanwhile

        threads = [threading.Thread(target=append_some, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        entries = log.entries(limit=1000)
        assert len(entries) == 200
        assert {e["request_headers"]["Authorization"] for e in entries} == {"Bearer [redacted]"}
    finally:
        log.close()
        store.close()


def test_a_database_from_before_the_log_kept_its_clock_opens_with_its_order_kept(tmp_path):
    from sandbox.store_schema import MIGRATIONS

    path = str(tmp_path / "v3.db")
    old = sqlite_utils.Database(path)  # a sandbox of schema version 3, with two exchanges
    old.table("schema_version").create({"version": int, "applied_at": str}, pk="version")
    for version, step in enumerate(MIGRATIONS[:3], start=1):
        step(old)
        old.execute("INSERT INTO schema_version VALUES (?, 'then')", [version])
    for path_ in ("/old-1", "/old-2"):
        old.execute(
            "INSERT INTO request_log (at, side, method, path, query, status, latency_ms)"
            " VALUES ('2026-01-01T00:00:00.000Z', 'engine', 'GET', ?, '', 200, 1.0)",
            [path_],
        )
    old.conn.commit()
    old.close()
    store = Store(path)
    assert store.schema_version() == len(MIGRATIONS)
    log = RequestLog(store, background=False)
    log.append(exchange("/new"))
    assert [e["path"] for e in log.entries()] == ["/old-1", "/old-2", "/new"]


def test_entries_come_in_the_order_they_happened_whatever_order_they_were_written(tmp_path):
    store = Store(str(tmp_path / "a.db"))
    engine, provider = RequestLog(store, background=False), RequestLog(store, background=False)
    sent = time.time_ns()
    request = exchange("/Users")
    request.side, request.ord = "engine", sent
    received = exchange("/Users")
    received.ord = sent + 1
    provider.append(received)  # the provider's process happened to write its batch first
    engine.append(request)
    assert [e["side"] for e in engine.entries()] == ["engine", "provider"]
    assert [e["side"] for e in engine.entries(after=1)] == ["engine"]  # a reader's seq cursor
