"""Provides the serve path's work budget: what the initial cycle's SCIM work costs each side
with no HTTP in between, against the HTTP floor, and the fastest such a cycle could be here.

    python bench/budget.py [--users 3000] [--concurrency 8] [--workers 0]

1. Work. The engine runs an initial cycle of `--users` assigned users (bench/engine.py's
   tenant: the default mappings, group provisioning off) against the provider in this
   process: every request the engine's wire path writes is handed, as those bytes, to the
   provider's WSGI app (its front, as granian would hand it), one request at a time. No
   HTTP, no server, no second request at once: the SCIM work of both sides, interleaved as
   in the cycle (a tight loop of one kind of request costs the provider 2-3x less: its code
   and data stay in the caches, which the engine's work between two requests evicts).
   httpx's WSGITransport would do the handing over, but through httpx's Request and
   Response models, which the engine then uses instead of its wire path (tens of us a
   request more on the engine's side): hence the transport here.
   The provider's work is its CPU inside those calls (thread CPU) and its background
   threads' (request-log batches, WAL checkpoints); the engine's, this process's CPU less it
   and less the handing over (the floor's CPU stands for what the cycle spends instead).
2. The HTTP floor of as many requests (bench/engine.py's: a bare WSGI app under the same
   server and workers, the engine's wire path, `--concurrency` at once), with the CPU its
   server and its client spent.
3. The budget: were both cores busy all the time and running side by side free, the serve
   path's cycle would take (engine work + provider work + the floor's CPU) / cores. Printed
   beside the serve path's targets: 2.5x its floor, and the 10 s share of the users.

The cycle itself (bench/engine.py) runs the two sides in separate processes at 8 requests at
once; it costs more CPU than this (cache misses, interpreter-lock hand-offs, waits), so the
budget is a lower bound: a target below it cannot be met by running the same work better,
only by doing less.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from engine import (  # noqa: E402  (bench/, the script's folder)
    TARGET_INITIAL_S,
    TARGET_SERVE_FLOOR,
    TARGET_USERS,
    _cpu,
    engine_for,
    floor_exchanges,
)

from sandbox.config import Settings  # noqa: E402
from sandbox.engine.scim.transport import KeepAliveTransport, Timeouts, WireResponse  # noqa: E402
from sandbox.provider.syntax import preload  # noqa: E402
from sandbox.requestlog import RequestLog  # noqa: E402
from sandbox.runtime import bootstrap_provider, build_provider  # noqa: E402
from sandbox.store import Store  # noqa: E402

TENANT_URL = "http://127.0.0.1:8000/scim/v2"
"""The tenant URL the engine is configured with; nothing listens there, the requests go to
the provider in process."""


def _thread_cpu(thread: threading.Thread | None) -> float:
    """A live thread's CPU seconds so far (0 for none, or one that has ended)."""
    if thread is None or thread.ident is None or not thread.is_alive():
        return 0.0
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    except (OSError, AttributeError):
        return 0.0


class InProcess(KeepAliveTransport):
    """The engine's wire path ending in the provider's WSGI app: each request's head and body
    parsed into a WSGI environ (as granian builds one) and answered in the calling thread,
    whose CPU inside the call is the provider's."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.app = app
        self.provider_cpu = 0.0
        self.handing_cpu = 0.0
        """This transport's own CPU (bytes to environ, the answer to a WireResponse), which
        the cycle does not spend: the floor's client and server CPU stand for it."""
        self.requests = 0

    def send(
        self, url: httpx.URL, method: str, head: bytes, body: bytes, timeouts: Timeouts
    ) -> WireResponse:
        entered = time.thread_time()
        request_line, *lines = head.decode("latin-1").split("\r\n")
        _, target, protocol = request_line.split(" ")
        path, _, query = target.partition("?")
        host = ""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query, "SERVER_PROTOCOL": protocol, "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "REMOTE_ADDR": "127.0.0.1",
        }  # fmt: skip
        for line in lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            key = name.strip().upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value.strip()
            else:
                environ["HTTP_" + key] = value.strip()
                host = value.strip() if key == "HOST" else host
        environ["SERVER_NAME"], _, port = host.partition(":")
        environ["SERVER_PORT"] = port or "80"
        answer: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            answer.update(status=status, headers=headers)

        started = time.thread_time()
        content = b"".join(self.app(environ, start_response))
        answered = time.thread_time()
        self.provider_cpu += answered - started
        self.requests += 1
        code, _, reason = answer["status"].partition(" ")
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer["headers"]]
        response = WireResponse(int(code), reason.encode("latin-1"), headers, content)
        self.handing_cpu += started - entered + time.thread_time() - answered
        return response


def work(folder: Path, users: int) -> tuple[int, int, float, float, float]:
    """An initial cycle against the provider in process: (users created, requests, wall
    seconds, engine CPU seconds, provider CPU seconds)."""
    db_path = str(folder / "provider.db")
    store = Store(db_path)
    settings = Settings(db_path=db_path)
    token = bootstrap_provider(store, settings).token
    assert token, "a fresh provider database issues a token"
    request_log = RequestLog(store, settings.request_log_limit)
    transport = InProcess(build_provider(store, settings, request_log=request_log))
    preload()  # as a server worker starts (sandbox/worker.py): no import in the first filter
    gc.collect()
    gc.freeze()
    engine = engine_for(folder, "engine", users, TENANT_URL, token, 1, transport=transport)
    started_cpu, started = _cpu(), time.perf_counter()
    report = engine.run_cycle()
    request_log.flush()
    wall = time.perf_counter() - started
    background = _thread_cpu(getattr(request_log, "_thread", None)) + _thread_cpu(
        getattr(getattr(store, "_checkpointer", None), "_thread", None)
    )  # a thread that has ended by now is counted as the engine's (a few us per user at most)
    total = _cpu() - started_cpu
    provider = transport.provider_cpu + background
    store.close()
    engine_cpu = total - provider - transport.handing_cpu
    return report.counts.get("created", 0), transport.requests, wall, engine_cpu, provider


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3000, help="tenant users (assigned)")
    parser.add_argument("--concurrency", type=int, default=8, help="the floor's requests at once")
    parser.add_argument("--workers", type=int, default=0, help="the floor's server workers")
    args = parser.parse_args()
    if args.users < 100 or args.concurrency < 1:
        parser.error("--users must be at least 100 and --concurrency at least 1")
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        created, requests, wall, engine_cpu, provider_cpu = work(Path(folder), args.users)
    print(f"work: an initial cycle of {created:,} users, {requests:,} requests, answered in "
          f"process one at a time: {wall:.2f} s")  # fmt: skip
    print(f"  engine   {engine_cpu / created * 1e6:6,.0f} us per user")
    print(f"  provider {provider_cpu / created * 1e6:6,.0f} us per user")
    floor, server_cpu, client_cpu = floor_exchanges(requests, args.concurrency, args.workers)
    floor_cpu = (server_cpu or 0.0) + client_cpu
    print(f"HTTP floor: {requests:,} empty exchanges, {args.concurrency} at once: {floor:.2f} s; "
          f"CPU per request: server {(server_cpu or 0) / requests * 1e6:.0f} us, "
          f"client {client_cpu / requests * 1e6:.0f} us")  # fmt: skip
    bound = (engine_cpu + provider_cpu + floor_cpu) / cores
    print(f"budget: (engine + provider + floor CPU) / {cores} cores = {bound:.2f} s, "
          f"{bound / floor:.2f}x the floor")  # fmt: skip
    target = TARGET_SERVE_FLOOR * floor
    verdict = "at or above the budget" if target >= bound else "below the budget: out of reach"
    print(f"  the serve path's targets for this many users: {TARGET_SERVE_FLOOR}x the floor = "
          f"{target:.2f} s ({verdict}); 10 s for {TARGET_USERS:,} users = "
          f"{TARGET_INITIAL_S * created / TARGET_USERS:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
