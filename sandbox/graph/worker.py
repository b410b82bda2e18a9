"""Provides wsgi_app: the Graph app each granian worker of `sandbox entra graph` (and of
`sandbox up`'s Graph process) builds, with the job's scheduler when it is asked for.

Named by string (``sandbox.graph.worker:wsgi_app``), as the provider's worker is. The
settings come from SANDBOX_* variables; the Graph token and the local provider's SCIM URL
(where the tenant URL "local" points) from the two variables below, which the command sets.
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os

from sandbox.config import Settings
from sandbox.graph.app import create_graph_app
from sandbox.graph.context import GraphContext
from sandbox.requestlog import RequestLog
from sandbox.server import WsgiApp, end_with_server, whole_bodies
from sandbox.store import Store

APP = "sandbox.graph.worker:wsgi_app"
"""The app factory granian's worker builds (this module's wsgi_app)."""

DEFAULT_PORT = 8001
"""Where the Graph surface listens unless told (beside the provider's 8000)."""

THREADS = 4
"""Threads of the one worker process that serves Graph: one process, so its lock and the
job's actions are shared by every request."""

TOKEN_ENV = "SANDBOX_GRAPH_TOKEN"
"""The one bearer token the Graph surface takes (unset or empty: any)."""

PROVIDER_URL_ENV = "SANDBOX_GRAPH_PROVIDER_URL"
"""The local provider's SCIM base URL, served by the command for the job's requests."""

SCHEDULE_ENV = "SANDBOX_GRAPH_SCHEDULE"
"""Set to 1 when this process runs the started job's cycles (`sandbox entra graph`); unset
where another process does (`sandbox up`: its terminal UI)."""


def base_url(host: str, port: int) -> str:
    """The base URL an SDK needs: `http://HOST:PORT/v1.0` (loopback shown for 0.0.0.0)."""
    from sandbox.graph.app import API_PREFIX

    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{API_PREFIX}"


def wsgi_app() -> WsgiApp:
    """The Graph app over the database the settings name, each response body whole; the
    request log's last batch is written when the worker stops (see sandbox.worker)."""
    from sandbox.engine.sync.service import Provisioning

    end_with_server()  # first: a worker must not outlive its server, even while it starts
    settings = Settings.from_env()
    store = Store(settings.db_path)
    request_log = RequestLog(store, settings.request_log_limit)
    engine = Provisioning(store, seed=settings.seed, request_log=request_log)
    engine.url_override = os.environ.get(PROVIDER_URL_ENV) or None
    multiprocessing.util.Finalize(None, request_log.close, exitpriority=10)
    atexit.register(request_log.close)
    app = create_graph_app(GraphContext(engine), os.environ.get(TOKEN_ENV) or None)
    if os.environ.get(SCHEDULE_ENV) == "1":
        from sandbox.graph.scheduler import JobScheduler

        scheduler = JobScheduler(engine).start()
        app.extensions["graph.scheduler"] = scheduler
        atexit.register(scheduler.stop)
    return whole_bodies(app)
