"""Provides the two ways the provider is served: granian worker processes, or an embedded thread.

`sandbox serve` uses granian (a Rust HTTP server running the WSGI app in worker processes,
so both cores work and connections stay alive); the TUI and tests embed waitress in a
thread of their own process, which a multi-process server cannot do.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

from flask import Flask

from sandbox.config import Settings
from sandbox.errors import ConfigError


def default_workers() -> int:
    """One worker process per core: with keep-alive, more only adds lock contention."""
    return max(1, os.cpu_count() or 1)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


PARENT_PID_ENV = "SANDBOX_PARENT_PID"
"""Set in the environment of a command's child server: the process whose end ends it."""

PARENT_POLL_S = 0.5
"""How often a server's process checks that the process it must not outlive still runs."""


def end_with_parent(parent: int, kill_after: float | None = None) -> None:
    """End this process (as SIGTERM does) soon after `parent`, the process that started it,
    is gone: killed before it could stop this one (even with SIGKILL), which the system then
    gives another parent. With `kill_after`, this process is killed if it still runs that
    many seconds after the SIGTERM (a granian worker still building its app ignores it).

    A thread of its own that sleeps between two looks at the parent's id: nothing is done
    per request."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)
        if kill_after is not None:
            time.sleep(kill_after)
            os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def end_with_server() -> None:
    """In a granian worker: end it soon after the server's main process is gone (SIGTERM, as
    the server stops its workers, then SIGKILL after WORKERS_KILL_TIMEOUT_S, as it kills the
    ones that do not stop). A `sandbox serve` (or `sandbox entra graph`) killed outright left
    its workers serving the port, adopted by init, and the next server was refused it."""
    import multiprocessing

    parent = multiprocessing.parent_process()  # the pid it was forked by, even if gone since
    end_with_parent(parent.pid if parent and parent.pid else os.getppid(), WORKERS_KILL_TIMEOUT_S)


WORKER_READY = re.compile(rb"\bStarted worker-\d+$", re.M)
"""The line granian writes to a command's child server's log for each worker once it serves
(its app built and its signal handlers in place: a worker stopped before that ignores the
stop until granian kills it, 5 s later). Logged at granian's info level, which a command's
child server runs at (`sandbox serve` at warning)."""


CGI_VARIABLES = frozenset(
    "AUTH_TYPE CONTENT_LENGTH CONTENT_TYPE GATEWAY_INTERFACE HTTPS PATH_INFO PATH_TRANSLATED"
    " QUERY_STRING RAW_URI REMOTE_ADDR REMOTE_HOST REMOTE_IDENT REMOTE_USER REQUEST_METHOD"
    " REQUEST_URI SCRIPT_NAME SERVER_NAME SERVER_PORT SERVER_PROTOCOL SERVER_SOFTWARE".split()
)
"""The request's meta-variables of a WSGI environ (RFC 3875 §4.1 and what servers add), each
also a valid name for an environment variable."""


def is_request_variable(name: str) -> bool:
    """Whether an environment variable `name` would mean something of the request in a WSGI
    environ: a header (HTTP_*), a CGI meta-variable, a wsgi.* key."""
    return name.startswith(("HTTP_", "wsgi.")) or name in CGI_VARIABLES


def drop_request_variables(environ: MutableMapping[str, str]) -> list[str]:
    """Remove from a server's process environment (before granian starts its workers) every
    variable named like a part of a request; returns their names.

    granian builds each request's environ over a copy of the worker's os.environ, so such a
    variable reached the app as if every client had sent it: `HTTP_X_ANYTHING=1 sandbox
    serve` logged an `X-Anything` header on every request, a token in HTTP_AUTHORIZATION
    authenticated requests that carried none, CONTENT_LENGTH gave a body length no client
    sent. HTTP_PROXY, the one such name with a meaning of its own, is kept as http_proxy
    (which urllib and httpx read first) where the environment tells the two apart.
    """
    dropped = [name for name in environ if is_request_variable(name)]
    proxy = environ.get("HTTP_PROXY")
    for name in dropped:
        del environ[name]
    if proxy and os.name != "nt" and not environ.get("http_proxy"):
        environ["http_proxy"] = proxy
    return dropped


def whole_bodies(app: WsgiApp) -> WsgiApp:
    """The app with each response body handed back as one bytes object in a list.

    Werkzeug answers with an iterator; granian then takes the interpreter lock again for every
    chunk (and for the end), where a list is sent in one call: POST and filter GET about a
    tenth faster under `sandbox serve` (alternating A/B runs of bench/provider.py's load).
    A body that fails while it is produced (the drop-connection fault) is replayed as a
    stream that fails at the same point, so the server still cuts the connection there.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        result = app(environ, start_response)
        if type(result) is list and len(result) <= 1:  # the provider's front answers so
            return result
        chunks: list[bytes] = []
        try:
            for chunk in result:
                chunks.append(chunk)
        except Exception as exc:  # noqa: BLE001  (re-raised by the replay, mid-stream)
            return _replay(chunks, exc, result)
        _close(result)
        return [b"".join(chunks)]

    return wrapped


def _replay(chunks: list[bytes], failure: Exception, result: Iterable[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
        raise failure
    finally:
        _close(result)


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


WORKERS_KILL_TIMEOUT_S = 5
"""How long `sandbox serve` waits for a worker to stop after Ctrl+C or SIGTERM before killing
it. A worker stopped while it was still starting never sees the signal (granian installs its
handler only once the app is loaded) and would keep the server running forever; a killed
worker loses nothing committed (every write is a SQLite transaction)."""


def granian_options(workers: int) -> dict[str, Any]:
    """How granian serves a WSGI app here (`sandbox serve`, and the benchmark's floor apps)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels

    return {
        "interface": Interfaces.WSGI,
        "workers": workers,
        "blocking_threads": 1,
        # SCIM clients speak HTTP/1.1 (Entra does); "auto" would sniff every connection for
        # HTTP/2 as well (POST about 3 % slower in alternating A/B runs).
        "http": HTTPModes.http1,
        "websockets": False,
        "log_level": LogLevels.warning,
        "workers_kill_timeout": WORKERS_KILL_TIMEOUT_S,
    }


def exposure_warning(host: str, what: str) -> str | None:
    """The warning shown before `what` listens on `host`, when that is not a loopback
    address (None when it is): every machine that can reach this one may then use it."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # not an address: check_address refuses it with the reason
    if address.is_loopback:
        return None
    return (
        f"Warning: {host} is not a loopback address: {what} can be reached from other "
        "machines on the network, with no TLS; use it only on a network you trust, and "
        "127.0.0.1 (the default) otherwise."
    )


def check_address(host: str, port: int) -> None:
    """Refuse, as one ConfigError, an address `sandbox serve` cannot have to itself.

    granian's workers bind with SO_REUSEPORT, so a second `sandbox serve` on a port would
    start and share it with the first, the kernel spreading requests over two databases.
    A socket bound here without SO_REUSEPORT collides with any listener on the port (theirs
    included), and with nothing else: SO_REUSEADDR lets a port a stopped server left in
    TIME_WAIT be taken again. The probe is closed before granian binds.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(
            f"--host must be an IP address of this machine (127.0.0.1, 0.0.0.0, ::1...), "
            f"not {host!r}"
        ) from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port must be between 1 and 65535, not {port}")
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} is already in use on {host}: stop the server holding it "
                    "or choose another --port"
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(
                    f"cannot listen on {host} port {port}: {host} is not an address of this machine"
                ) from None
            raise ConfigError(f"cannot listen on {host} port {port}: {exc.strerror}") from None


PROVIDER_APP = "sandbox.worker:wsgi_app"
"""The app factory of the provider's workers (`sandbox serve`)."""


def run_server(settings: Settings, workers: int, app: str = PROVIDER_APP, threads: int = 1) -> None:
    """Serve the provider with granian until interrupted; each worker builds its own app
    (`app`, a factory named by string: `sandbox.worker.wsgi_app`, or the Graph surface's
    `sandbox.graph.worker.wsgi_app`) and runs it on `threads` threads.
    A bind that fails anyway (the port taken since check_address) is one ConfigError."""
    from granian import Granian

    # Workers read the settings from the environment, the one way they are passed down:
    # every one of them, so a worker's Settings.from_env() is the server's settings.
    os.environ.update(settings.to_env())
    drop_request_variables(os.environ)
    options = {**granian_options(workers), "blocking_threads": threads}
    if os.environ.get(PARENT_PID_ENV):  # a command's child: its log shows workers starting
        from granian.log import LogLevels

        options["log_level"] = LogLevels.info
    server = Granian(
        app,
        factory=True,
        address=settings.host,
        port=settings.port,
        respawn_failed_workers=True,
        **options,
    )
    try:
        server.serve()
    except SystemExit as exc:
        # Ctrl+C and `kill -TERM -PGID` signal the workers as well as the main process; a
        # worker the signal ended before its parent stopped it counts for granian as a
        # crash (exit status 1). Stopped on purpose, the server has not failed.
        if exc.code == 1 and server.interrupt_signal:
            return
        raise
    except (OSError, RuntimeError) as exc:  # granian's socket errors (with a Rust backtrace)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"cannot listen on {settings.host} port {settings.port}: {reason}"
        ) from None


SERVER_LOG_SUFFIX = ".server.log"
"""The embedded server's own log is the database's path with this added (sandbox.db.server.log)."""

SERVER_LOG_BYTES = 1_000_000
"""Size at which the embedded server's log is rotated (one older file is kept)."""


def server_log_path(db_path: str) -> str | None:
    """Where the embedded server beside `db_path` logs; None for an in-memory database."""
    if not db_path or db_path == ":memory:" or db_path.startswith("file::memory:"):
        return None
    return db_path + SERVER_LOG_SUFFIX


def _keep_waitress_off_stderr() -> logging.Logger:
    """waitress's logger, cut from the root logger (and from logging's last resort, which
    writes warnings to stderr when no handler is set): its messages would land in the
    middle of the terminal UI or a progress bar. A NullHandler stays on it for good, so no
    message falls through to the last resort while no server's log file is attached."""
    waitress_log = logging.getLogger("waitress")
    waitress_log.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in waitress_log.handlers):
        waitress_log.addHandler(logging.NullHandler())
    return waitress_log


class EmbeddedServer:
    """A waitress server in a daemon thread; `port=0` picks a free port.

    waitress's own messages (a "Task queue depth is N" warning whenever the engine has more
    requests in flight than the server has threads, a socket error) go to `log_path`, never
    to the terminal; with no `log_path` they are dropped. waitress logs through one
    process-wide logger, so with several servers in a process each log gets every message.
    """

    def __init__(
        self,
        app: Flask,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 4,
        log_path: str | None = None,
    ):
        from logging.handlers import RotatingFileHandler

        from waitress import wasyncore
        from waitress.server import create_server
        from waitress.task import ThreadedTaskDispatcher

        self._log = _keep_waitress_off_stderr()
        self._log_handler: logging.Handler | None = None
        if log_path is not None:
            handler = RotatingFileHandler(
                log_path, maxBytes=SERVER_LOG_BYTES, backupCount=1, encoding="utf-8", delay=True
            )
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            self._log_handler = handler

        # Our own socket map and dispatcher: a port refused after waitress opened its trigger
        # pipe and socket and started its threads leaves none of them behind.
        socket_map: dict[int, Any] = {}
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(threads)
        try:
            self._server = create_server(
                app,
                map=socket_map,
                _dispatcher=dispatcher,
                host=host,
                port=port,
                threads=threads,
                ident="sandbox",
                clear_untrusted_proxy_headers=True,
                # poll(), not select(): select() fails outright once the process holds a
                # descriptor numbered past 1024 (a long UI session, or many commands in one
                # process as the tests run them)
                asyncore_use_poll=True,
            )
        except BaseException:
            dispatcher.shutdown(timeout=1)
            wasyncore.close_all(socket_map)
            raise
        self.host = host
        self.port: int = self._server.effective_port  # type: ignore[union-attr]
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def url(self) -> str:
        """The server's root URL, e.g. http://127.0.0.1:8000."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmbeddedServer:
        """Start serving in the background."""
        if self._log_handler is not None:
            self._log.addHandler(self._log_handler)
        self._thread = threading.Thread(target=self._server.run, name="scim-server", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop accepting connections and end the thread (once; later calls do nothing).

        The sockets are closed from inside the server's own loop (through its trigger):
        closing them from another thread races the loop (EBADF) and leaves kept-alive
        connections spinning.
        """
        from waitress import wasyncore

        if self._stopped:  # a second stop (the UI's quit, then the command's end): nothing
            return
        self._stopped = True
        server = self._server
        server.task_dispatcher.shutdown()
        trigger = server.trigger

        def close_all() -> None:
            # A task thread still finishing (a dropped connection's) pulls the trigger once
            # more after the loop closed it: a write to a closed pipe (EBADF) in that thread.
            # Once closed, a pull has nothing left to wake.
            trigger._physical_pull = lambda: None
            wasyncore.close_all(server._map)

        trigger.pull_trigger(close_all)
        if self._thread is not None:
            self._thread.join(timeout)
        if self._log_handler is not None:
            self._log.removeHandler(self._log_handler)
            self._log_handler.close()
