"""Provides fault injection: stored rules that make matching SCIM requests fail on purpose.

A rule matches a method (or any) and a path pattern (glob, on the path after the SCIM base,
e.g. `/Users*`), and answers a status (401, 404, 409, 429 with Retry-After, 500, 503),
adds latency, or drops the connection; for the next N requests or with a seeded
probability. Rules live in the database, so they can be changed while the server runs.
"""

from __future__ import annotations

import builtins
import fnmatch
import json
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from flask import Response

from sandbox.errors import SandboxError
from sandbox.scim_names import ERROR, SCIM_JSON
from sandbox.store import Store

FAULT_STATUSES = (401, 403, 404, 409, 429, 500, 502, 503)
"""Statuses a rule may answer."""

MAX_LATENCY_MS = 60_000
"""Longest latency a rule may add."""
MAX_COUNT = 2**31 - 1
"""The most times a rule fires (the CLI's --count range; a larger one does not fit SQLite)."""
MAX_RETRY_AFTER_S = 86_400
"""The longest Retry-After a rule sends (the CLI's --retry-after range)."""


@dataclass(frozen=True)
class FaultRule:
    """One fault rule as stored."""

    id: int
    method: str
    path: str
    status: int | None
    retry_after: int | None
    latency_ms: int
    drop_connection: bool
    remaining: int | None
    probability: float | None
    seed: int

    def describe(self) -> str:
        """One line for listings and the request log."""
        what = []
        if self.latency_ms:
            what.append(f"+{self.latency_ms} ms")
        if self.drop_connection:
            what.append("drop connection")
        if self.status:
            what.append(
                f"{self.status}" + (f" Retry-After {self.retry_after}" if self.retry_after else "")
            )
        when = (
            f"next {self.remaining}"
            if self.remaining is not None
            else f"p={self.probability}"
            if self.probability is not None
            else "always"
        )
        return f"#{self.id} {self.method} {self.path}: {', '.join(what)} ({when})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


class DropConnection(Exception):
    """Raised while streaming a response body: the server closes the connection mid-way."""


def _dropped_body() -> Iterator[bytes]:
    """Send the headers and a first byte of a longer body, then fail: the server closes the
    connection mid-response, so the client sees it dropped (no complete response)."""
    yield b"{"
    raise DropConnection("fault injection: connection dropped")


DROP_DECLARED_LENGTH = 4096
"""The Content-Length a dropped response promises and never delivers."""


class Faults:
    """Adds, lists, clears and applies fault rules."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._rngs: dict[int, tuple[random.Random, int]] = {}
        """Per rule, its seeded generator and how many numbers it has given here."""

    def add(
        self,
        *,
        method: str = "*",
        path: str = "*",
        status: int | None = None,
        retry_after: int | None = None,
        latency_ms: int = 0,
        drop: bool = False,
        count: int | None = None,
        probability: float | None = None,
        seed: int = 1,
        created: str = "",
    ) -> FaultRule:
        """Store a new rule; refuse one that does nothing or cannot be applied."""
        method = method.upper()
        if method != "*" and method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise SandboxError(f"method must be GET, POST, PUT, PATCH, DELETE or *, got {method!r}")
        if status is not None and status not in FAULT_STATUSES:
            raise SandboxError(f"status must be one of {', '.join(map(str, FAULT_STATUSES))}")
        if retry_after is not None and (status != 429 and status != 503 or retry_after < 0):
            raise SandboxError("--retry-after goes with status 429 or 503 and is >= 0 seconds")
        if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
            raise SandboxError(f"--retry-after is at most {MAX_RETRY_AFTER_S} seconds (a day)")
        if not 0 <= latency_ms <= MAX_LATENCY_MS:
            raise SandboxError(f"latency must be between 0 and {MAX_LATENCY_MS} ms")
        if status is None and not latency_ms and not drop:
            raise SandboxError("a fault needs a status, a latency or --drop")
        if drop and status is not None:
            raise SandboxError("a dropped connection has no status: give one or the other")
        if count is not None and not 1 <= count <= MAX_COUNT:
            raise SandboxError(f"--count must be between 1 and {MAX_COUNT}")
        if probability is not None and not 0 < probability <= 1:
            raise SandboxError("--probability must be in (0, 1]")
        if count is not None and probability is not None:
            raise SandboxError("give --count or --probability, not both")
        if not path.startswith(("/", "*")):
            path = "/" + path
        with self.store.write() as db:
            # Ids are never reused (a rule used up or cleared keeps its number), so `faults
            # clear N` read from an old listing can never remove another rule.
            rule_id = 1 + max(
                int(self.store.get_state("fault_seq", 0) or 0),
                int(self.store.scalar("SELECT coalesce(max(id), 0) FROM faults") or 0),
            )
            db.execute(
                "INSERT INTO faults (id, method, path, status, retry_after, latency_ms,"
                " drop_connection, remaining, probability, seed, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    rule_id,
                    method,
                    path,
                    status,
                    retry_after,
                    latency_ms,
                    1 if drop else 0,
                    count,
                    probability,
                    seed,
                    created,
                ],
            )
            self.store.set_state("fault_seq", rule_id)
        return self.get(rule_id)

    def get(self, rule_id: int) -> FaultRule:
        """One rule by id."""
        for rule in self.list():
            if rule.id == rule_id:
                return rule
        raise SandboxError(f"no fault rule #{rule_id}")

    def list(self) -> list[FaultRule]:
        """Every active rule, oldest first."""
        rows = self.store.db.execute(
            "SELECT id, method, path, status, retry_after, latency_ms, drop_connection,"
            " remaining, probability, seed FROM faults ORDER BY id"
        ).fetchall()
        return [
            FaultRule(r[0], r[1], r[2], r[3], r[4], r[5] or 0, bool(r[6]), r[7], r[8], r[9] or 1)
            for r in rows
        ]

    def clear(self, rule_id: int | None = None) -> int:
        """Remove one rule (or all); returns how many were removed."""
        with self.store.write() as db:
            if rule_id is None:
                cursor = db.execute("DELETE FROM faults")
            else:
                cursor = db.execute("DELETE FROM faults WHERE id = ?", [rule_id])
        removed = cursor.rowcount
        if rule_id is not None and removed == 0:
            raise SandboxError(f"no fault rule #{rule_id}")
        return removed

    # -- applying -----------------------------------------------------------------------

    def _fires(self, rule: FaultRule) -> bool:
        if rule.probability is not None:
            return self._draw(rule) < rule.probability
        if rule.remaining is None:
            return True
        with self.store.write() as db:  # claim one use; another process may race us
            cursor = db.execute(
                "UPDATE faults SET remaining = remaining - 1 WHERE id = ? AND remaining > 0",
                [rule.id],
            )
            if cursor.rowcount and rule.remaining <= 1:
                db.execute("DELETE FROM faults WHERE id = ? AND remaining <= 0", [rule.id])
        return bool(cursor.rowcount)

    def _draw(self, rule: FaultRule) -> float:
        """The next number of the rule's seeded sequence. Which one is claimed in the database,
        so the server's worker processes (each with a Faults of its own) share one sequence:
        the same requests fail whichever worker answers them."""
        with self.store.write() as db:
            row = db.execute(
                "UPDATE faults SET draws = draws + 1 WHERE id = ? RETURNING draws", [rule.id]
            ).fetchone()
        if row is None:  # cleared meanwhile: no fault
            return 1.0
        draws = int(row[0])
        rng, given = self._rngs.get(rule.id, (None, 0))
        if rng is None or given >= draws:  # another process drew past us: start over
            rng, given = random.Random(rule.seed), 0
        for _ in range(draws - given - 1):  # numbers other processes took
            rng.random()
        self._rngs[rule.id] = (rng, draws)
        return rng.random()

    def in_force(self) -> bool:
        """Whether any rule is in force (one query, for every request to ask first)."""
        return self.store.db.execute("SELECT 1 FROM faults LIMIT 1").fetchone() is not None

    def apply(self, method: str, path: str, notes: builtins.list[str]) -> Response | None:
        """Apply the first matching rule: sleep, then a response to send instead (or None)."""
        if not self.in_force():
            return None
        for rule in self.list():
            if rule.method not in ("*", method.upper()):
                continue
            if not fnmatch.fnmatchcase(path, rule.path):
                continue
            if not self._fires(rule):
                continue
            notes.append(f"injected fault {rule.describe()}")
            if rule.latency_ms:
                time.sleep(rule.latency_ms / 1000)
            if rule.drop_connection:
                response = Response(_dropped_body(), status=200, mimetype=SCIM_JSON)
                response.headers["Content-Length"] = str(DROP_DECLARED_LENGTH)
                return response
            if rule.status is None:
                return None  # latency only: the request then runs as usual
            body = {
                "schemas": [ERROR],
                "status": str(rule.status),
                "detail": f"fault injected by the sandbox ({rule.describe()})",
            }
            response = Response(json.dumps(body), status=rule.status, mimetype=SCIM_JSON)
            if rule.retry_after is not None:
                response.headers["Retry-After"] = str(rule.retry_after)
            if rule.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="scim"'
            return response
        return None
