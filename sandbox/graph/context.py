"""Provides GraphContext: what the Graph surface's views reach the mock Entra through.

One context per app: the provisioning service (its directory, app, job, logs, clock) and the
shared request log, and a re-entrant lock that Graph's writes and the job's actions hold, so
two Graph requests served by threads of one process never interleave their reads and writes
of the tenant (the store's own transactions keep other processes consistent).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.engine.sync.service import Provisioning
    from sandbox.engine.tenant.app import EnterpriseApp
    from sandbox.engine.tenant.directory import Directory
    from sandbox.requestlog import RequestLog
    from sandbox.store import Store


@dataclass
class GraphContext:
    """The collaborators Graph's views use, reachable as app.extensions["graph"]."""

    engine: Provisioning
    """The mock Entra provisioning service (sandbox/engine/sync/service.py)."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    """Held by every view that writes, and by the job's actions (start, provision on demand...)."""

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def directory(self) -> Directory:
        return self.engine.directory

    @property
    def app(self) -> EnterpriseApp:
        return self.engine.app

    @property
    def request_log(self) -> RequestLog:
        """The log Graph's exchanges go to (side "graph"), beside the engine's SCIM ones."""
        return self.engine.request_log

    @property
    def tenant_domain(self) -> str:
        return self.engine.tenant_domain

    @contextmanager
    def locked(self) -> Iterator[GraphContext]:
        """Hold the context's lock for a block (`with context.locked(): ...`)."""
        with self.lock:
            yield self
