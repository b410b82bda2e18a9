"""Provides JobScheduler: the started job's cycles when `sandbox entra graph` serves it alone,
run as the terminal UI runs them, when their time comes on the simulated clock.

A started job's first cycle is due at once (Start sets it to now); the next come 40 simulated
minutes apart (a day apart in quarantine), so they follow the clock's speed: at speed 0 only
the first runs until the clock is moved (`sandbox entra clock`). One cycle runs at a time per
database (the job's cycle lease): a cycle run meanwhile by another process (the CLI's
`sandbox entra sync`) is not run twice.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from sandbox.engine.sync.service import CycleRunningError
from sandbox.errors import SandboxError

if TYPE_CHECKING:
    from sandbox.engine.sync.cycle import CycleReport
    from sandbox.engine.sync.service import Provisioning

log = logging.getLogger(__name__)

TICK_S = 1.0
"""How often the scheduler asks whether the next cycle is due (the terminal UI's pace)."""


class JobScheduler:
    """Runs the engine's due cycles from a thread of its own (`start`, `stop`), or one check
    at a time (`tick`)."""

    def __init__(self, engine: Provisioning, tick_s: float = TICK_S) -> None:
        self.engine = engine
        self.tick_s = tick_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> CycleReport | None:
        """Run the next cycle if it is due; its report, or None (not due, or another process
        runs one). A cycle that cannot run (no credentials, a disabled job) is logged."""
        if not self.engine.cycle_due():
            return None
        try:
            report = self.engine.sync(1)[0]
        except CycleRunningError:
            return None
        except SandboxError as refused:
            log.warning("the scheduled cycle did not run: %s", refused.message)
            return None
        self.engine.request_log.flush()
        return report

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick()
            except Exception:  # a broken target must not end the schedule: log it, go on
                log.exception("the scheduled cycle failed")

    def start(self) -> JobScheduler:
        """Check every `tick_s` seconds from a daemon thread (once; later calls do nothing)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="job-scheduler", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop checking (a cycle under way finishes first, up to `timeout`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
