"""Provides wsgi_app: the app factory each granian worker of `sandbox serve` calls once it starts.

Its own module, so the server (which names it by string, ``sandbox.worker:wsgi_app``) never
imports the composition root that starts the server.
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing.util

from sandbox.config import Settings
from sandbox.provider.syntax import preload
from sandbox.runtime import build_provider, open_store
from sandbox.server import WsgiApp, end_with_server, whole_bodies


def wsgi_app() -> WsgiApp:
    """The provider app over the database the settings name (settings from SANDBOX_*, the one
    way `run_server` passes them down), each response body handed back whole.

    The request log's last batch is written when the worker stops: granian's workers are
    multiprocessing processes, which leave through multiprocessing's finalizers and never
    run atexit (registered as well, for a worker that is a plain process)."""
    end_with_server()  # first: a worker must not outlive its server, even while it starts
    settings = Settings.from_env()
    app = build_provider(open_store(settings), settings)
    request_log = app.extensions["sandbox"].request_log
    multiprocessing.util.Finalize(None, request_log.close, exitpriority=10)
    atexit.register(request_log.close)
    preload()  # before the first request, not during it
    # What the worker has built lives as long as it does: moved out of the collector's
    # generations (gc.freeze), the objects of the app and its imports are no longer walked by
    # every full collection, which the requests' garbage triggers now and then (in process,
    # collection time per filter GET 17-23 us -> 7-9 us, per POST 14-16 -> 3 us).
    gc.collect()
    gc.freeze()
    return whole_bodies(app)
