"""Provides live-server helpers: stopping an EmbeddedServer and checking it ended, `sandbox
serve` in its own process group (so a SIGKILL reaches its workers), and a bounded wait for a port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

from sandbox.server import EmbeddedServer


def stop_embedded(server: EmbeddedServer, timeout: float = 10) -> None:
    """Stop `server` and check its thread really ended."""
    server.stop(timeout)
    if server._thread is not None:
        assert not server._thread.is_alive(), "the embedded server did not stop"


def start_serve(
    db_path: str,
    port: int,
    *extra: str,
    new_session: bool = False,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start `sandbox serve` in a subprocess; return it and the token it printed once.
    `new_session`: a process group of its own, so os.killpg reaches granian's workers too.
    `env`: variables added to the server's environment."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--db", db_path, "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,
        env={**os.environ, **(env or {})},
    )
    token = ""
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "shown once" in line:
            token = line.rsplit(" ", 1)[-1].strip()
        if "Ctrl+C" in line:
            break
    wait_for_port(port)
    return proc, token


def start_serve_session(db_path: str, port: int, *extra: str) -> tuple[subprocess.Popen, str]:
    """`start_serve` in a process group of its own (for SIGKILL tests)."""
    return start_serve(db_path, port, *extra, new_session=True)


def wait_for_port(port: int, timeout: float = 30) -> None:
    """Poll (bounded) until 127.0.0.1:port accepts a connection."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def port_closed(port: int, timeout: float = 10) -> bool:
    """Poll (bounded) until nothing accepts connections on 127.0.0.1:port any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return True
        time.sleep(0.05)
    return False


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the server's whole process group (granian's workers too) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    proc.wait(timeout=15)
    if proc.stdout is not None:
        proc.stdout.close()
