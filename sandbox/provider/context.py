"""Provides ProviderContext: the provider's collaborators, and the one way its exchanges are
logged, whichever entry (the WSGI front or Flask) answered them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.config import Settings
from sandbox.provider.auth import Credentials
from sandbox.provider.faults import Faults
from sandbox.provider.rules import OrgRules
from sandbox.provider.schema import UserSchema
from sandbox.provider.users import UserRepository
from sandbox.requestlog import Exchange, RequestLog, environ_headers, is_readiness_probe
from sandbox.store import Store


@dataclass
class ProviderContext:
    """The collaborators the handlers use, reachable as app.extensions["sandbox"]."""

    store: Store
    settings: Settings
    schema: UserSchema
    users: UserRepository
    credentials: Credentials
    rules: OrgRules
    faults: Faults
    request_log: RequestLog
    clock: Callable[[], datetime]

    def log_exchange(
        self,
        environ: Mapping[str, Any],
        *,
        path: str,
        status: int,
        started: float,
        received_ns: int,
        request_body: bytes | None,
        response_headers: Iterable[tuple[str, str]],
        response_body: bytes | None,
        notes: list[str],
    ) -> None:
        """Log one exchange as the provider saw it (not the readiness probe's). Raw pieces
        only: the log formats and redacts them off the request path. `started` is the
        perf_counter reading when the request arrived, `received_ns` the wall clock's (the
        log's order across processes, requestlog.HAPPENED)."""
        if is_readiness_probe(environ):  # no exchange of the engine or of a client
            return
        self.request_log.append(
            Exchange(
                at=self.clock(),
                side="provider",
                method=environ["REQUEST_METHOD"].upper(),
                path=path,
                query=environ.get("QUERY_STRING", ""),
                status=status,
                latency_ms=(time.perf_counter() - started) * 1000,
                request_headers=environ_headers(environ),
                request_body=request_body,
                response_headers=list(response_headers),
                response_body=response_body,
                notes=list(notes),
                ord=received_ns or time.time_ns(),
            )
        )


NOTES_HEADER = "X-Sandbox-Notes"
"""What the organization's rules did to a request, sent back to the client as JSON."""


def notes_header(notes: list[str]) -> str:
    """The X-Sandbox-Notes value: JSON with non-ASCII escaped (a header is Latin-1 text)."""
    return json.dumps(notes)
