"""Provides stop_embedded: stopping an EmbeddedServer from the test thread without a race.

EmbeddedServer.stop() closes waitress's sockets from the caller's thread while the server
thread may be inside select() on them (EBADF in the server thread), and its loop keeps
running while kept-alive connections remain. Here the sockets are closed by the server's
own thread, through waitress's trigger, so its loop ends with an empty socket map.
"""

from __future__ import annotations

from waitress import wasyncore

from sandbox.server import EmbeddedServer


def stop_embedded(server: EmbeddedServer, timeout: float = 10) -> None:
    """Close every socket of `server` inside its own thread, then wait for the thread."""
    waitress = server._server
    waitress.task_dispatcher.shutdown()
    waitress.trigger.pull_trigger(lambda: wasyncore.close_all(waitress._map))
    if server._thread is not None:
        server._thread.join(timeout)
        assert not server._thread.is_alive(), "the embedded server did not stop"
