"""Provides CycleParts: the typed collaborators one cycle runs with, and send_throttled, the one
429 loop every request of a cycle goes through.

The service builds the parts (STYLE rule 3: factories take their collaborators); the cycle and
its passes read them and never call back into the service. `Target` is what the passes need of
the SCIM client (sandbox/engine/scim/target.py's ScimTarget; tests may hand in another).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sandbox.engine.scim.target_errors import EngineExchange, TargetError
from sandbox.engine.scim.wire import Dialect
from sandbox.engine.sync.changes import ChangeFeed
from sandbox.engine.sync.clock import SimClock, format_time
from sandbox.engine.sync.duration import minutes, object_minutes
from sandbox.engine.sync.fanout import in_order
from sandbox.engine.sync.job import JobConfig, JobState
from sandbox.engine.sync.links import LinkStore
from sandbox.engine.sync.logs import ProvisioningLogs
from sandbox.engine.tenant.app import EnterpriseApp
from sandbox.engine.tenant.directory import Directory
from sandbox.expressions import EvaluationContext
from sandbox.scim_names import quarantine_reason

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[int, int, str], None]
"""progress(done, total, phase): how far the cycle is in its current phase."""

Resource = dict[str, object]
"""A SCIM resource or request body as JSON (the wire layer gives it its shape)."""

DEFAULT_RETRY_AFTER = 60.0
"""Seconds to wait on a 429 without a Retry-After header."""

SEND_ATTEMPTS = 4
"""A request throttled this many times in a row fails with its 429."""


class Target(Protocol):
    """The SCIM service provider a cycle provisions into, as the passes call it."""

    @property
    def dialect(self) -> Dialect: ...

    def marker(self) -> int: ...

    def recording(self) -> AbstractContextManager[list[EngineExchange]]: ...

    def match_user(self, attribute: str, value: str) -> Resource | None: ...

    def get_user(self, user_id: str) -> Resource: ...

    def create_user(self, doc: Resource) -> Resource: ...

    def patch_user(self, user_id: str, body: Resource) -> Resource | None: ...

    def delete_user(self, user_id: str) -> None: ...

    def find_groups(self, display_name: str) -> list[Resource]: ...

    def create_group(self, body: Resource) -> Resource: ...

    def patch_group(self, group_id: str, body: Resource) -> Resource | None: ...

    def delete_group(self, group_id: str) -> None: ...


@dataclass(frozen=True)
class CycleParts:
    """Everything one cycle (or provision on demand) reads and writes, built by the service:
    the tenant (directory, app), the job's memory (links, logs, the change feed), the simulated
    clock and seed, the target it sends to, and the configuration and state it starts from."""

    clock: SimClock
    seed: int
    tenant_domain: str
    directory: Directory
    app: EnterpriseApp
    links: LinkStore
    logs: ProvisioningLogs
    changes: ChangeFeed
    target: Target
    config: JobConfig
    state: JobState


@dataclass(frozen=True)
class CycleRun:
    """What the passes of one cycle share: its parts, its number and kind, the evaluation
    context its expressions draw their randomness from, and who hears its progress."""

    parts: CycleParts
    id: int
    kind: str
    """"initial", "incremental", or "pod" (provision on demand)."""
    context: EvaluationContext
    on_demand: bool = False
    progress: Progress | None = None

    @property
    def incremental(self) -> bool:
        """An incremental cycle exports the diff against what it exported last (§1.3)."""
        return self.kind == "incremental"

    def now(self) -> datetime:
        return self.parts.clock.now()

    def now_text(self) -> str:
        return format_time(self.parts.clock.now())

    def spend(self, *, created: bool = False, members: int = 0) -> float:
        """Spend one object's simulated time (§1.5): a match, or a create, plus a match for
        each group member; the minutes spent. Provision on demand spends none."""
        if self.on_demand:
            return 0.0
        config, seed = self.parts.config, self.parts.seed
        cost = object_minutes(config, seed, created=created) + members * object_minutes(
            config, seed
        )
        self.parts.clock.elapse(minutes(cost))
        return cost

    def send(self, request: Callable[[], R]) -> R:
        """One request through the cycle's 429 loop."""
        return send_throttled(self.parts.clock, request)

    def map(self, fn: Callable[[T], R], items: list[T], phase: str) -> list[R]:
        """`fn` over `items` in order, on the cycle's request concurrency (one at a time for
        provision on demand), reported as `phase`."""
        workers = 1 if self.on_demand else self.parts.config.max_concurrency
        progress = self.progress
        if progress is None:
            return in_order(fn, items, workers, None)
        return in_order(fn, items, workers, lambda done, total: progress(done, total, phase))


class Quarantined(Exception):
    """Raised inside a cycle to stop it: the job goes to quarantine with this reason."""

    def __init__(self, reason: str, error: str) -> None:
        super().__init__(error)
        self.reason = reason
        self.error = error

    @classmethod
    def by(cls, error: TargetError) -> Quarantined:
        """The stop a quarantining target error means (§8.2): a 401 is a credential failure."""
        return cls(quarantine_reason(error.status), error.reason)


def send_throttled(clock: SimClock, request: Callable[[], R]) -> R:
    """Send one request; a 429 waits Retry-After on the simulated clock and sends it again
    (§2.8, §10), users' requests and groups' alike."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            return request()
        except TargetError as error:
            if not error.retryable or attempt == SEND_ATTEMPTS - 1:
                raise
            clock.advance(timedelta(seconds=error.retry_after or DEFAULT_RETRY_AFTER))
    raise AssertionError("unreachable")
