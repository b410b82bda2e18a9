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
