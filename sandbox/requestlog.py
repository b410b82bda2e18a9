"""Provides RequestLog: the bounded log of HTTP exchanges (provider side and engine side).

Entries are buffered in memory and written in batches by a background thread, so logging
costs a request almost nothing; `flush()` writes at once (tests, transcripts, shutdown).
Authorization headers are redacted before an entry is even buffered.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox import jsontext
from sandbox.store import Store
from sandbox.timestamps import format_timestamp

MAX_BODY_CHARS = 65_536
"""Longest body kept per exchange; longer ones are cut with a marker."""

FLUSH_INTERVAL_S = 0.2
"""How often the background thread writes buffered entries."""

HAPPENED = "ord, seq"
"""The ORDER BY of request_log rows in the order their exchanges happened, both sides and
every process: by wall clock, then (rows of one stamp, and rows from before the clock was
kept, all 0) in the order they were written."""

REDACTED = "[redacted]"
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie"}

READINESS_HEADER = "X-Sandbox-Readiness"
"""Sent by the probe that waits for a server process (the provider's, the Graph surface's) to
answer, a GET of the root with no credentials: that request is not logged."""
READINESS_ENVIRON = "HTTP_" + READINESS_HEADER.upper().replace("-", "_")


def is_readiness_probe(environ: Mapping[str, object]) -> bool:
    """Whether a request is the readiness probe's, the one exchange the log leaves out: the
    header alone is not enough (any client could send it with its requests and keep them
    out of the log), the request must also be the probe's GET of the root, without an
    Authorization header."""
    return (
        bool(environ.get(READINESS_ENVIRON))
        and environ.get("REQUEST_METHOD") == "GET"
        and environ.get("PATH_INFO") == "/"
        and not environ.get("HTTP_AUTHORIZATION")
    )


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers with credentials replaced (the scheme of Authorization is kept)."""
    out = {}
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[name] = f"{scheme} {REDACTED}".strip()
        else:
            out[name] = value
    return out


def _text(body: str | bytes | None) -> str | None:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace") if body else None
    return body


def _cut(body: str | None) -> str | None:
    if body is None or len(body) <= MAX_BODY_CHARS:
        return body
    return body[:MAX_BODY_CHARS] + f"... [{len(body) - MAX_BODY_CHARS} more characters]"


@dataclass
class Exchange:
    """One HTTP request and its response, as the log keeps it."""

    at: Any
    """When it happened: a datetime (formatted when the entry is written) or a string."""
    side: str  # "provider" (received by the provider) or "engine" (sent by the engine)
    method: str
    path: str
    query: str
    status: int
    latency_ms: float
    request_headers: Mapping[str, str] | Iterable[tuple[str, str]]
    request_body: str | bytes | None
    response_headers: Mapping[str, str] | Iterable[tuple[str, str]]
    response_body: str | bytes | None
    notes: list[str] = field(default_factory=list)
    ord: int = field(default_factory=time.time_ns)
    """The wall clock (ns) when the engine sent the request or the provider received it: the
    order of exchanges across processes (`at` may be the simulated clock)."""

    def row(self) -> tuple[Any, ...]:
        """The request_log row; the formatting work happens here, off the request path."""
        at = self.at if isinstance(self.at, str) else format_timestamp(self.at)
        return (
            at,
            self.side,
            self.method,
            self.path,
            self.query,
            self.status,
            round(self.latency_ms, 3),
            jsontext.dumps(redact_headers(self.request_headers)),
            _cut(_text(self.request_body)),
            jsontext.dumps(redact_headers(self.response_headers)),
            _cut(_text(self.response_body)),
            jsontext.dumps(self.notes) if self.notes else None,
            self.ord,
        )


def decode_row(row: Any) -> dict[str, Any]:
    """A request_log row as a dict, its headers and notes parsed back from JSON."""
    entry = dict(row)
    for key in ("request_headers", "response_headers"):
        entry[key] = json.loads(entry[key]) if entry[key] else {}
    entry["notes"] = json.loads(entry["notes"]) if entry["notes"] else []
    return entry


class RequestLog:
    """Appends exchanges to the request_log table, keeping only the newest `limit`."""

    def __init__(self, store: Store, limit: int = 10_000, background: bool = True) -> None:
        self.store = store
        self.limit = limit
        self._buffer: list[Exchange] = []
        self._lock = threading.Lock()
        """Guards the buffer (held only to append or take it)."""
        self._flushing = threading.Lock()
        """Held by a flush from taking the buffer until its batch is written: a flush waits
        for the batch another flush (the background thread's) has taken and not written."""
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._background = background

    def append(self, exchange: Exchange) -> None:
        """Buffer one exchange; it is formatted and redacted when written."""
        with self._lock:
            self._buffer.append(exchange)
            if self._background and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)
                self._thread.start()
        if not self._background:
            self.flush()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(FLUSH_INTERVAL_S)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # a busy database must not kill the logger; retry next tick
                continue

    def flush(self) -> None:
        """Write buffered exchanges now and trim the log to its limit. When it returns, every
        exchange appended before the call is in the table, the batch the background thread
        was writing included (a reader right after a flush sees them all)."""
        with self._flushing:
            with self._lock:
                pending, self._buffer = self._buffer, []
            if not pending:
                return
            rows = [exchange.row() for exchange in pending]
            with self.store.write() as db:
                db.conn.executemany(
                    "INSERT INTO request_log (at, side, method, path, query, status, latency_ms,"
                    " request_headers, request_body, response_headers, response_body, notes,"
                    " ord) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                db.execute(
                    "DELETE FROM request_log WHERE seq <= (SELECT max(seq) FROM request_log) - ?",
                    [self.limit],
                )

    def close(self) -> None:
        """Stop the background thread after a last flush."""
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.flush()

    def entries(
        self, limit: int = 100, side: str | None = None, after: int = 0
    ) -> list[dict[str, Any]]:
        """The newest `limit` exchanges written after seq `after` (a reader's cursor: seq is
        the order rows were written in), optionally one side's, in the order they happened
        (`HAPPENED`). An entry another process wrote late has a higher seq than ones written
        before it and may have happened before them: a reader places it by its `ord`."""
        self.flush()
        where = ["seq > ?"]
        params: list[Any] = [after]
        if side:
            where.append("side = ?")
            params.append(side)
        rows = self.store.query(
            f"SELECT * FROM (SELECT * FROM request_log WHERE {' AND '.join(where)}"
            f" ORDER BY seq DESC LIMIT ?) ORDER BY {HAPPENED}",
            [*params, limit],
        )
        return [decode_row(row) for row in rows]


def environ_headers(environ: Mapping[str, object]) -> list[tuple[str, str]]:
    """A WSGI request's headers from its environ, for an Exchange (cheaper than Werkzeug's
    Headers): the HTTP_* keys, then Content-Type and Content-Length."""
    headers = [
        (key[5:].replace("_", "-").title(), str(value))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", str(environ["CONTENT_TYPE"])))
    if environ.get("CONTENT_LENGTH"):
        headers.append(("Content-Length", str(environ["CONTENT_LENGTH"])))
    return headers
