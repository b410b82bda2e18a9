"""Provides CycleWorker: the terminal UI's provisioning cycles run by a child process, so the
UI's own process (its event loop, the keys a user presses) does not share an interpreter lock
with the engine while a cycle runs.

The child is started once (by `sandbox up`'s warm-up, or the first cycle) and kept: it opens
the same database (`Settings.to_env`), and for each cycle it is asked for it runs
`Provisioning.sync(1)` against the local provider's URL and answers with JSON lines on its
stdout: progress (at most every PROGRESS_INTERVAL_S, and each phase's first and last count),
then the cycle's report (`CycleReport.to_dict`) or the error that stopped it. Everything a
cycle reads (job, mappings, tenant, clock) is in the database, so a change made on screen
before `n` is what the child's cycle sees, as a `sandbox entra sync` in another terminal
would. The child is `python -m sandbox.cycle_child`. It ends when its stdin
closes, at once on SIGTERM (a cycle it runs stops where it is, as a killed `sandbox entra
sync` would: each object's writes are whole, the job state is the one saved before), and by
itself when the process that started it is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO

from sandbox.config import Settings
from sandbox.errors import SandboxError

PROGRESS_INTERVAL_S = 0.1
"""How often, at most, the child reports a cycle's progress (a UI draws ten a second)."""

STOP_TIMEOUT_S = 5.0
"""How long a stop waits after SIGTERM before killing the child."""

PARENT_PID_ENV = "SANDBOX_PARENT_PID"
URL_ENV = "SANDBOX_CYCLE_PROVIDER_URL"
"""The local provider's SCIM base URL the child's engine sends to (the parent's provider)."""

PARENT_POLL_S = 0.5

NICENESS = 10
"""How much lower the child's CPU priority is than the UI's: on a machine whose cores the
cycle and the provider's workers fill, the kernel still runs the UI first when a key comes
(the cycle takes the time the UI leaves, which is nearly all of it)."""

CHILD_COMMAND = (sys.executable, "-m", "sandbox.cycle_child")

ProgressFn = Callable[[int, int, str], None]


class CycleWorkerError(SandboxError):
    """The cycle process could not run a cycle (it did not start, or ended during one)."""


class CycleRefused(SandboxError):
    """The child found a cycle of the job running already (CycleRunningError there)."""

    def __init__(self, message: str, pid: int) -> None:
        super().__init__(message)
        self.pid = pid


class CycleWorker:
    """A child process that runs the cycles of one database against one provider URL, one at a
    time; `run` blocks the calling thread (a UI worker thread) until the cycle ends."""

    def __init__(self, settings: Settings, provider_url: str) -> None:
        self.settings = settings
        self.provider_url = provider_url
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        """Held for a whole cycle (and while starting): one request on the pipe at a time."""
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        """Whether the child runs (it is started again by the next cycle when it does not)."""
        return self._proc is not None and self._proc.poll() is None

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.settings.to_env())
        env.update({URL_ENV: self.provider_url, PARENT_PID_ENV: str(os.getpid())})
        return env

    def start(self) -> CycleWorker:
        """Start the child (once; later calls do nothing); it imports the engine meanwhile."""
        with self._lock:
            self._start()
        return self

    def _start(self) -> subprocess.Popen[str]:
        if self._stopped:
            raise CycleWorkerError("the cycle process was stopped")
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:  # ended (killed): its pipes are closed here too
                _close_pipes(self._proc)
            self._proc = subprocess.Popen(
                CHILD_COMMAND,
                env=self.environment(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                bufsize=1,
                start_new_session=True,  # Ctrl+C reaches the UI, which stops the child
            )
        return self._proc

    def run(self, progress: ProgressFn | None = None) -> dict[str, object]:
        """Run the next cycle now in the child: its report as a dict. The child's refusal (a
        cycle running elsewhere) is CycleRefused; a SandboxError there (a disabled job, a
        stopped provider...) is a SandboxError with its message here."""
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write("cycle\n")
                proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                raise CycleWorkerError(self._ended(proc)) from None
            return self._answer(proc, proc.stdout, progress)

    def _answer(
        self, proc: subprocess.Popen[str], out: IO[str], progress: ProgressFn | None
    ) -> dict[str, object]:
        for line in out:
            message = json.loads(line)
            if "progress" in message:
                if progress is not None:
                    done, total, phase = message["progress"]
                    progress(int(done), int(total), str(phase))
            elif "report" in message:
                report: dict[str, object] = message["report"]
                return report
            elif message.get("refused"):
                raise CycleRefused(str(message["error"]), int(message.get("pid") or 0))
            else:
                raise SandboxError(str(message["error"]))
        raise CycleWorkerError(self._ended(proc))

    def _ended(self, proc: subprocess.Popen[str]) -> str:
        if self._stopped:
            return "the cycle process was stopped"
        status = proc.wait()
        return f"the cycle process ended during the cycle (exit status {status})"

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """End the child: stdin closed and SIGTERM, SIGKILL after `timeout`. A cycle it was
        running stops where it is, as a killed `sandbox entra sync` would (its lease is
        released with its process). Safe from any thread, more than once."""
        self._stopped = True
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.close()
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _close_pipes(proc)


def _close_pipes(proc: subprocess.Popen[str]) -> None:
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError, ValueError):
                pipe.close()
