"""Provides ProviderProcess: the local provider served out of the engine's process, by the
server and workers of `sandbox serve` (granian, `sandbox.worker:wsgi_app`), for one command;
with `app`, another app on the same terms (`sandbox up`'s Graph surface).

The child runs in a process group of its own on a loopback port chosen before it starts; it
is stopped with SIGTERM (the whole group: granian's main process and its workers), killed
after STOP_TIMEOUT_S, and it ends by itself when the process that started it is gone (even
killed with SIGKILL). Its output goes to the server log beside the database. Run as
`python -m sandbox.provider_process`, it is that child: the settings come from SANDBOX_*
variables (`Settings.to_env`), as `sandbox serve`'s workers receive them.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO

from sandbox.config import Settings
from sandbox.errors import ConfigError
from sandbox.provider import READINESS_HEADER
from sandbox.server import (
    PARENT_PID_ENV,
    SERVER_LOG_BYTES,
    WORKER_READY,
    check_address,
    default_workers,
    end_with_parent,
    run_server,
)

READY_TIMEOUT_S = 60.0
"""How long the engine waits for the child to answer its first HTTP request."""

STOP_TIMEOUT_S = 8.0
"""How long a stop waits after SIGTERM before killing the group (granian gives its workers 5 s)."""

WORKERS_START_S = 10.0
"""How long a stop waits for workers still starting (their app not built yet) before it
signals the child: granian's worker that gets SIGTERM while it starts does not stop until
granian kills it, 5 s later, so a command that ends soon after the provider answered (`sandbox
entra test-connection`) waited those 5 s; a worker starts in about 1 s."""

APP_ENV = "SANDBOX_SERVED_APP"
THREADS_ENV = "SANDBOX_SERVED_THREADS"
"""Set in the child's environment when it serves another app than the provider (the Graph
surface of `sandbox up`): the app factory's name, and the threads of each worker."""

NICENESS_ENV = "SANDBOX_NICENESS"
"""Set in the child's environment when it runs at a lower CPU priority (`sandbox up`'s: the
terminal UI's process answers keys first while the provider serves a cycle)."""


CHILD_COMMAND = (sys.executable, "-m", "sandbox.provider_process")
"""What runs as the child (this module's `main`)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the system's pick), for a server started next."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_or_free(port: int, host: str = "127.0.0.1") -> int:
    """`port` if nothing listens on it, else a free one (`sandbox up` shows which); 0: a free
    one. A port that is not one, or that this user may not open, is a ConfigError."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {port}")
    if port == 0:
        return free_port(host)
    try:
        check_address(host, port)
    except ConfigError as exc:
        if "already in use" not in exc.message:
            raise
        return free_port(host)
    return port


def _rotate(log_path: str) -> None:
    """Keep the server log under SERVER_LOG_BYTES, one older file beside it (as the embedded
    server's rotating handler does)."""
    with contextlib.suppress(OSError):
        if os.path.getsize(log_path) > SERVER_LOG_BYTES:
            os.replace(log_path, log_path + ".1")


GRANIAN_LINE = re.compile(r"\[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] ")
"""How a line of granian's own log starts ([INFO] Granian shutdown completed, see ya!)."""


def cause_line(text: str) -> str:
    """The line of a child's output that says why it ended: the child's own error line
    (`error: ...`, a ConfigError), else the exception of the last traceback (a worker that
    failed to build its app: granian then logs its shutdown after it), else granian's last
    error, else the last line written."""
    lines = text.splitlines()
    written = [line.strip() for line in lines if line.strip()]
    if not written:
        return ""
    own = [line for line in written if line.startswith("error: ")]
    if own:
        return own[-1]
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call")]
    if starts:  # the exception is the first line after the frames that is not indented
        for line in lines[starts[-1] + 1 :]:
            if line.strip() and not line[0].isspace():
                return line.strip()
    errors = [line for line in written if line.startswith(("[ERROR] ", "[CRITICAL] "))]
    if errors:
        return errors[-1]
    return written[-1]


class ProviderProcess:
    """The provider in a child process on 127.0.0.1: same surface as EmbeddedServer (`url`,
    `start`, `stop`), plus `wait_ready`, which the engine calls before its first request.

    `start` returns at once; readiness is an HTTP request answered. Every failure to start
    (the port taken meanwhile, a child that exits or never answers) is one ConfigError
    quoting the line of the child's output that says why, and leaves no process behind.
    """

    def __init__(
        self,
        settings: Settings,
        port: int = 0,
        log_path: str | None = None,
        workers: int | None = None,
        command: list[str] | None = None,
        niceness: int = 0,
        app: str | None = None,
        threads: int = 1,
        name: str = "the local provider",
        env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.niceness = niceness
        """How much lower than this process's the child's CPU priority is (0: the same)."""
        self.app = app
        """The app factory the child serves (None: the provider's, `sandbox.worker:wsgi_app`)."""
        self.threads = threads
        self.name = name
        """What the child serves, in messages ("the local provider", "the Graph surface")."""
        self.extra_env = env or {}
        """More variables for the child's environment."""
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        self.log_path = log_path
        self.workers = workers or settings.workers or default_workers()
        self.command = command or list(CHILD_COMMAND)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0
        self._lock = threading.Lock()
        self._ready = False
        self._failure: ConfigError | None = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        """The server's root URL, e.g. http://127.0.0.1:8000."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The child's process id (its process group's too), None before start."""
        return None if self._proc is None else self._proc.pid

    @property
    def ready(self) -> bool:
        """Whether the child has answered an HTTP request."""
        return self._ready

    @property
    def started(self) -> bool:
        """Whether the child was started (it may have ended since)."""
        return self._proc is not None

    def environment(self) -> dict[str, str]:
        """The child's environment: this one, with every setting as `sandbox serve` passes
        them to its workers, on this port, and this process as its parent."""
        env = dict(os.environ)
        env.update(self.settings.to_env())
        env.update(
            {
                "SANDBOX_HOST": self.host,
                "SANDBOX_PORT": str(self.port),
                "SANDBOX_WORKERS": str(self.workers),
                PARENT_PID_ENV: str(os.getpid()),
            }
        )
        if self.niceness:
            env[NICENESS_ENV] = str(self.niceness)
        if self.app is not None:
            env[APP_ENV] = self.app
            env[THREADS_ENV] = str(self.threads)
        env.update(self.extra_env)
        return env

    def start(self) -> ProviderProcess:
        """Start the child (once; later calls do nothing) and return without waiting for it."""
        with self._lock:
            if self._proc is not None or self._stopped.is_set():
                return self
            if self.log_path is not None:
                _rotate(self.log_path)
                self._log = open(self.log_path, "a+b")  # noqa: SIM115  (closed by stop)
            else:
                self._log = tempfile.TemporaryFile()  # noqa: SIM115
            self._log_start = self._log.seek(0, os.SEEK_END)
            self._proc = subprocess.Popen(
                self.command,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                # Its own group: Ctrl+C in the terminal reaches this process only (which
                # stops the child in order), and one killpg reaches granian's workers too.
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Start the child if needed and block until it answers an HTTP request; a child
        that exits, or does not answer within `timeout`, is stopped and a ConfigError."""
        import httpx

        if self._ready:
            return
        self.start()
        with self._lock:  # one waiter polls; the others find the outcome
            if self._ready:
                return
            if self._failure is not None:
                raise self._failure
            deadline = time.monotonic() + timeout
            while True:
                if self._stopped.is_set() or self._proc is None:
                    raise ConfigError(f"{self.name} was stopped before it answered")
                status = self._proc.poll()
                if status is not None:
                    self._failure = ConfigError(
                        f"{self.name} did not start (exit status {status}): "
                        f"{cause_line(self._written()) or 'no message'}"
                    )
                    break
                try:
                    httpx.get(self.url + "/", headers={READINESS_HEADER: "1"}, timeout=1.0)
                except httpx.TransportError:
                    pass
                else:  # any answer (the root is a SCIM 404) is the provider serving
                    self._ready = True
                    return
                if time.monotonic() > deadline:
                    self._failure = ConfigError(
                        f"{self.name} did not answer on {self.url} within {timeout:g} s"
                        + (f" (see {self.log_path})" if self.log_path else "")
                    )
                    break
                self._stopped.wait(0.05)
        self.stop()
        raise self._failure

    def _written(self) -> str:
        """What the child wrote to its log since it started (its last 64 KiB)."""
        if self._log is None:
            return ""
        try:
            fd = self._log.fileno()
            start = max(self._log_start, os.fstat(fd).st_size - 65_536)
            return os.pread(fd, 65_536, start).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the child and its workers: SIGTERM to the group, SIGKILL after `timeout`.
        Safe to call more than once, from any thread, and before start."""
        self._stopped.set()
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None:
                try:
                    if self._ready:
                        self._await_workers(proc)
                finally:
                    self._end(proc, timeout)
            if self._log is not None:
                self._log.close()
                self._log = None

    def _await_workers(self, proc: subprocess.Popen[bytes]) -> None:
        """Wait until granian has logged every worker as started (WORKER_READY) (at most WORKERS_START_S, and
        not once the child has ended): one still starting would hold the stop for 5 s."""
        if self._log is None:
            return
        deadline = time.monotonic() + WORKERS_START_S
        fd = self._log.fileno()
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                written = os.fstat(fd).st_size - self._log_start
                text = os.pread(fd, min(written, 1 << 20), self._log_start)
            except OSError:
                return
            if len(WORKER_READY.findall(text)) >= self.workers:
                return
            time.sleep(0.02)

    @staticmethod
    def _end(proc: subprocess.Popen[bytes], timeout: float) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        # Whatever of the group is left (a worker still starting ignores SIGTERM): killed.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def __enter__(self) -> ProviderProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main() -> int:
    """The child: serve the provider as `sandbox serve` does, on the settings' port."""
    try:
        settings = Settings.from_env()
        parent = int(os.environ.get(PARENT_PID_ENV, "0") or 0)
        if parent:
            end_with_parent(parent)  # granian then stops its workers
        niceness = int(os.environ.get(NICENESS_ENV, "0") or 0)
        if niceness:  # granian's workers inherit it
            with contextlib.suppress(OSError):
                os.nice(niceness)
        check_address(settings.host, settings.port)
        app = os.environ.get(APP_ENV)
        what = "provider" if app is None else app
        print(
            f"{what} process {os.getpid()} serving http://{settings.host}:{settings.port}"
            f" with {settings.workers} workers",
            file=sys.stderr,
            flush=True,
        )
        if app is None:
            run_server(settings, settings.workers or default_workers())
        else:
            threads = int(os.environ.get(THREADS_ENV, "1") or 1)
            run_server(settings, settings.workers or 1, app=app, threads=threads)
    except ConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
