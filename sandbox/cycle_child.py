"""The child process of CycleWorker (sandbox/cycle_process.py): run as `python -m
sandbox.cycle_child`, it opens the database the parent named (`Settings.from_env`) and runs one
cycle for each `cycle` line on its stdin, answering in JSON lines (progress, then the report or
the error). It is a module of its own so that the parent's side does not import the runtime that
imports it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

from sandbox.config import Settings
from sandbox.cycle_process import (
    NICENESS,
    PARENT_PID_ENV,
    PARENT_POLL_S,
    PROGRESS_INTERVAL_S,
    URL_ENV,
)
from sandbox.errors import SandboxError
from sandbox.runtime import open_provisioning, open_store


class _Throttled:
    """Progress written to stdout at most every PROGRESS_INTERVAL_S, and always a phase's
    first count and its last (done == total)."""

    def __init__(self, write: Callable[[dict[str, object]], None]) -> None:
        self.write = write
        self.last = 0.0
        self.phase: str | None = None

    def __call__(self, done: int, total: int, phase: str) -> None:
        now = time.monotonic()
        if phase != self.phase or done >= total or now - self.last >= PROGRESS_INTERVAL_S:
            self.phase, self.last = phase, now
            self.write({"progress": [done, total, phase]})


def _end_with_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> int:
    """The child: run one cycle for each `cycle` line on stdin, answering in JSON lines."""
    from sandbox.engine.sync.service import CycleRunningError

    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    parent = int(os.environ.get(PARENT_PID_ENV, "0") or 0)
    if parent:
        _end_with_parent(parent)
    out = sys.stdout
    lock = threading.Lock()

    def write(message: dict[str, object]) -> None:
        with lock:  # progress comes from the engine's fan-out threads
            out.write(json.dumps(message) + "\n")
            out.flush()

    settings = Settings.from_env()
    store = open_store(settings)
    engine = open_provisioning(settings, store)
    engine.url_override = os.environ[URL_ENV]
    try:
        for line in sys.stdin:
            if line.strip() != "cycle":
                continue
            try:
                report = engine.sync(1, progress=_Throttled(write))[0]
            except CycleRunningError as error:
                write({"error": str(error), "refused": True, "pid": error.pid})
            except SandboxError as error:
                write({"error": str(error)})
            except Exception as error:  # a broken target must not end the worker: say why
                write({"error": f"{type(error).__name__}: {error}"})
            else:
                engine.request_log.flush()  # Activity reads both sides as soon as it ends
                write({"report": report.to_dict()})
            engine.request_log.flush()
    finally:
        engine.request_log.close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
