"""Provides the two ways the provider is served: granian worker processes, or an embedded thread.

`sandbox serve` uses granian (a Rust HTTP server running the WSGI app in worker processes,
so both cores work and connections stay alive); the TUI and tests embed waitress in a
thread of their own process, which a multi-process server cannot do.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask

from sandbox.config import Settings


def default_workers() -> int:
    """One worker process per core: with keep-alive, more only adds lock contention."""
    return max(1, os.cpu_count() or 1)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app() -> WsgiApp:
    """The app factory each server worker calls after it starts (settings from SANDBOX_*)."""
    from sandbox.provider.syntax import preload
    from sandbox.runtime import build_provider, open_store

    settings = Settings.from_env()
    app = build_provider(open_store(settings), settings)
    preload()  # before the first request, not during it
    return whole_bodies(app)


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


def run_server(settings: Settings, workers: int) -> None:
    """Serve the provider with granian until interrupted; each worker builds its own app."""
    from granian import Granian

    # Workers read the settings from the environment, the one way they are passed down.
    os.environ["SANDBOX_DB_PATH"] = os.path.abspath(settings.db_path)
    os.environ["SANDBOX_PATCH_STATUS"] = str(settings.patch_status)
    os.environ["SANDBOX_MAX_RESULTS"] = str(settings.max_results)
    os.environ["SANDBOX_RULES"] = settings.rules
    Granian(
        "sandbox.server:wsgi_app",
        factory=True,
        address=settings.host,
        port=settings.port,
        respawn_failed_workers=True,
        **granian_options(workers),
    ).serve()


class EmbeddedServer:
    """A waitress server in a daemon thread; `port=0` picks a free port."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, threads: int = 4):
        from waitress.server import create_server

        self._server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="sandbox",
            clear_untrusted_proxy_headers=True,
        )
        self.host = host
        self.port: int = self._server.effective_port  # type: ignore[union-attr]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's root URL, e.g. http://127.0.0.1:8000."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmbeddedServer:
        """Start serving in the background."""
        self._thread = threading.Thread(target=self._server.run, name="scim-server", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop accepting connections and end the thread.

        The sockets are closed from inside the server's own loop (through its trigger):
        closing them from another thread races the loop (EBADF) and leaves kept-alive
        connections spinning.
        """
        from waitress import wasyncore

        server = self._server
        server.task_dispatcher.shutdown()
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        if self._thread is not None:
            self._thread.join(timeout)
