"""Provides Cycle: one initial or incremental provisioning cycle, end to end (§1.2, §1.3).

Order of work: users (match-or-create, update, disable, delete), then the accidental-deletion
check on the disables and deletes, then groups and memberships. A credential or
SCIM-compliance failure stops the cycle and quarantines the job (§8.2); other failures are
escrowed and retried in later cycles (§8.1); the watermark moves only when the cycle ends.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sandbox.engine.mappings.mapping import Change
from sandbox.engine.mappings.paths import ENTERPRISE_USER_SCHEMA
from sandbox.engine.scim.target_errors import TargetError
from sandbox.engine.scim.wire import user_patch
from sandbox.engine.sync.clock import CYCLE_INTERVAL, QUARANTINE_INTERVAL, format_time
from sandbox.engine.sync.fanout import in_order
from sandbox.engine.sync.groups_pass import GroupProcessor
from sandbox.engine.sync.job import JobConfig, JobState, Quarantine
from sandbox.engine.sync.links import Link
from sandbox.engine.sync.logs import LogRecord
from sandbox.engine.sync.users_pass import Outcome, UserProcessor
from sandbox.expressions import EvaluationContext
from sandbox.scim_names import quarantine_reason

DEFAULT_RETRY_AFTER = 60.0
"""Seconds to wait on a 429 without a Retry-After header."""

QUARANTINE_LADDER = (timedelta(hours=6), timedelta(hours=12), timedelta(hours=24))
"""Retries of a quarantined job: +6 h, +12 h, +24 h, then every 24 h (§8.2)."""

ESCROW_PROPORTION = 0.4
ESCROW_TOTAL = 40_000


PHASE_USERS = "users"
PHASE_REFERENCES = "manager references"
"""The phases a cycle reports progress in: its users (a lookup and a create or an update
each), then the manager PATCHes sent once the managers exist (§1.2 step 6)."""

Progress = Callable[[int, int, str], None]
"""progress(done, total, phase): how far the cycle is in its current phase."""


class Quarantined(Exception):
    """Raised inside a cycle to stop it: the job goes to quarantine with this reason."""

    def __init__(self, reason: str, error: str) -> None:
        super().__init__(error)
        self.reason = reason
        self.error = error


@dataclass
class CycleReport:
    """What one cycle did: counts per outcome, requests, duration, the job afterwards."""

    id: int
    kind: str
    started: str
    finished: str = ""
    counts: Counter = field(default_factory=Counter)
    requests: int = 0
    wall_ms: float = 0.0
    quarantine: Quarantine | None = None
    staged: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id, "kind": self.kind, "started": self.started, "finished": self.finished,
            "counts": {k: self.counts.get(k, 0) for k in
                       ("created", "updated", "disabled", "deleted", "skipped", "failed")},
            "staged": self.staged, "requests": self.requests, "wall_ms": round(self.wall_ms, 1),
            "quarantine": None if self.quarantine is None else self.quarantine.__dict__,
        }


class Cycle:
    """One run over the tenant; `engine` is the Provisioning service holding the parts."""

    def __init__(self, engine: Any, target: Any, config: JobConfig, state: JobState, *,
                 kind: str, on_demand: bool = False,
                 progress: Progress | None = None) -> None:
        self.engine = engine
        self.target = target
        self.config = config
        self.state = state
        self.started_from = state
        """The job state as the cycle found it (settings changed while it runs are kept)."""
        self.kind = kind
        self.on_demand = on_demand
        self.incremental_diff_only = kind == "incremental"
        self.progress = progress
        self.context = EvaluationContext(clock=engine.clock.now,
                                         rng=random.Random(f"cycle-{engine.seed}"),
                                         tenant_domain=engine.tenant_domain)
        self.id = engine.new_cycle(kind)
        self.report = CycleReport(self.id, kind, self.now_text())
        self._group_errors: list[TargetError] = []
        self._staged_quarantine: Quarantine | None = None
        self._changes: tuple[set[str], set[str]] | None = None
        """Set when accidental-deletion prevention held this cycle's deletions back."""

    # -- helpers the passes use ----------------------------------------------------------

    def clock_now(self) -> datetime:
        return self.engine.clock.now()

    def now_text(self) -> str:
        return format_time(self.engine.clock.now())

    def throttled(self, retry_after: float | None) -> None:
        """A 429: the cycle pauses for Retry-After on the simulated clock (§2.8, §10)."""
        self.engine.clock.advance(timedelta(seconds=retry_after or DEFAULT_RETRY_AFTER))

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run a group request with the same 429 handling as users."""
        return UserProcessor(self).call(fn)

    def group_failed(self, error: TargetError) -> None:
        """Note a group failure; a quarantining one stops the cycle once its record is kept."""
        self._group_errors.append(error)

    # -- the run -------------------------------------------------------------------------

    def _changed(self, mark: int) -> tuple[set[str], set[str]]:
        """The users and groups changed since the watermark, read from the change log once."""
        if self._changes is None:
            self._changes = self.engine.changed_ids(self.state.watermark, mark)
        return self._changes

    def user_ids(self, mark: int) -> list[str]:
        """The users this cycle looks at, in a stable order."""
        engine = self.engine
        links = engine.links.linked_ids("User")
        if self.kind == "initial":
            if self.config.scope == "all":
                ids = set(engine.directory_user_ids())
            else:
                ids = set(engine.app.assigned_user_ids())
            ids |= links
        else:
            ids = set(self._changed(mark)[0])
        ids |= set(engine.links.due("User", self.clock_now()))
        if self.state.force_deletes:
            ids |= {s for t, s, _a in engine.links.staged() if t == "User"}
        return sorted(ids)

    def group_ids(self, mark: int) -> list[str]:
        if not self.config.groups_enabled:
            return []
        engine = self.engine
        if self.config.scope == "all":
            ids = {g.id for g in engine.directory.groups()}
        else:
            ids = set(engine.app.assigned_group_ids())
        ids |= engine.links.linked_ids("Group")
        if self.kind == "incremental":
            ids &= self._changed(mark)[1] | set(
                engine.links.due("Group", self.clock_now()))
        return sorted(ids)

    def run(self) -> CycleReport:
        """Run the cycle; returns its report (the job state is saved by the service)."""
        started = time.perf_counter()
        marker = self.target.marker()
        mark = self.engine.directory.last_change_seq()
        records: list[LogRecord] = []
        aborted: Quarantined | None = None
        try:
            outcomes = self._users(self.user_ids(mark))
            records.extend(o.record for o in outcomes if o.counter != "none")
            self._deletions(outcomes)
            self._finish_users(outcomes)
            self._references(outcomes)
            processor = GroupProcessor(self)
            for group_id in self.group_ids(mark):
                record = processor.process(group_id)
                if record is not None:
                    records.append(record)
                    self.report.counts[_counter(record)] += 1
                stopping = next((e for e in self._group_errors if e.quarantines), None)
                if stopping is not None:
                    raise Quarantined(quarantine_reason(stopping.status), stopping.reason)
        except Quarantined as stop:
            aborted = stop
        self.engine.logs.write(records)
        # Count by number: the target's journal keeps only the last 10,000 exchanges.
        self.report.requests = self.target.marker() - marker
        self.report.wall_ms = (time.perf_counter() - started) * 1000
        self.report.finished = self.now_text()
        self._settle(mark, aborted)
        self.engine.finish_cycle(self.report, self.state, self.started_from, self.config)
        return self.report

    def provision_users(self, user_ids: list[str]) -> list[Outcome]:
        """Process these users fully (decide, check deletions, export, links, references),
        without the group pass or the job's bookkeeping: what provision on demand runs."""
        outcomes = self._users(user_ids)
        self._deletions(outcomes)
        self._finish_users(outcomes)
        self._references(outcomes)
        return outcomes

    def _users(self, user_ids: list[str]) -> list[Outcome]:
        processor = UserProcessor(self)

        def one(user_id: str) -> Outcome | None:
            outcome = processor.process(user_id)
            if outcome is not None and outcome.failure is not None and outcome.failure.quarantines:
                error = outcome.failure
                raise Quarantined(quarantine_reason(error.status), error.reason)
            return outcome

        return [o for o in self._map(one, user_ids, PHASE_USERS) if o is not None]

    def _deletions(self, outcomes: list[Outcome]) -> None:
        """Accidental-deletion prevention: too many disables+deletes are staged (§8.3)."""
        deferred = [o for o in outcomes if o.deferred is not None]
        threshold = self.config.delete_threshold
        if threshold is not None and len(deferred) > threshold and not self.state.force_deletes:
            for outcome in deferred:
                outcome.record.action = "StagedDelete"
                outcome.record.status = "Skipped"
                outcome.record.reason = (
                    f"{len(deferred)} disables and deletes in this cycle exceed the accidental-"
                    f"deletion threshold ({threshold}); held back until deletes are allowed")
                outcome.counter = "staged"
                outcome.link = None
                outcome.drop_link = False
                outcome.deferred = None
            self.engine.links.stage([(o.record.object_type, o.record.source_id,
                                      o.deferred_action or "Disable") for o in deferred], self.id)
            self.report.staged = len(deferred)
            self._staged_quarantine = Quarantine(
                reason="TooManyDeletes",
                error=f"{len(deferred)} deletions exceed the threshold of {threshold}",
                current_began=self.now_text(), series_began=self.now_text(),
                next_attempt=self.now_text())
            return
        for outcome in deferred:
            try:
                assert outcome.deferred is not None
                outcome.deferred()
            except TargetError as error:
                outcome.record.fail(error.error_code, error.reason)
                outcome.counter = "failed"
                outcome.failure = error
                outcome.link = None
                outcome.drop_link = False
        if self.state.force_deletes:
            self.engine.links.clear_staged()

    def _finish_users(self, outcomes: list[Outcome]) -> None:
        links = [o.link for o in outcomes if o.link is not None]
        self.engine.links.save(links, self.clock_now())
        self.engine.links.drop("User", [o.record.source_id for o in outcomes if o.drop_link])
        succeeded = [o.record.source_id for o in outcomes if o.counter != "failed"]
        self.engine.links.release("User", succeeded)
        for outcome in outcomes:
            if outcome.counter == "none":
                continue
            self.report.counts[outcome.counter if outcome.counter != "staged" else "skipped"] += 1
            if outcome.counter == "failed" and outcome.extra.get("escrow", True):
                escrow = self.engine.links.escrow("User", outcome.record.source_id,
                                                  outcome.record.error_code or "Unknown",
                                                  outcome.record.reason or "", self.clock_now())
                outcome.record.reason = (
                    f"{outcome.record.reason} This operation was retried {escrow.attempts - 1} "
                    f"times. It will be retried again after this date: {escrow.next_attempt}")

    def _references(self, outcomes: list[Outcome]) -> None:
        """Reference resolution (§1.2 step 6): a user created in this cycle whose manager is
        now in the target gets the manager by a separate PATCH (sent as concurrently as the
        users were)."""
        path = f"{ENTERPRISE_USER_SCHEMA}:manager"
        if not any(m.target == path for m in self.config.user_mappings):
            return
        processor = UserProcessor(self)
        directory, links = self.engine.directory, self.engine.links
        pending: list[tuple[Outcome, Link, str]] = []
        for outcome in outcomes:
            if outcome.counter != "created" or outcome.link is None:
                continue
            user = directory.find_user(outcome.record.source_id)
            if user is None or not user.manager or outcome.link.exported.get(path):
                continue
            manager = links.target_ids("User", [user.manager]).get(user.manager)
            if manager is not None:
                pending.append((outcome, outcome.link, manager))

        def send(item: tuple[Outcome, Link, str]) -> tuple[TargetError | None, list[str]]:
            _outcome, link, manager = item
            body = user_patch([Change(path, None, manager)], processor.dialect,
                              on_demand=self.on_demand)
            with self.target.recording() as seen:
                try:
                    processor.call(partial(self.target.patch_user, link.target_id, body))
                except TargetError as error:
                    return error, [e.ref for e in seen]
            return None, [e.ref for e in seen]

        updated = []
        for (outcome, link, manager), (error, refs) in zip(
                pending, self._map(send, pending, PHASE_REFERENCES), strict=True):
            record = outcome.record
            record.exchanges.extend(refs)
            if error is not None:
                # a reference failure leaves the object provisioned: a warning (§8.2)
                record.step("EntryReferenceResolution", "referenceResolution", "failure",
                            f"Failed to set the manager: {error.reason}")
                record.status, record.error_code = "Warning", error.error_code
                record.reason = error.reason
                continue
            record.step("EntryReferenceResolution", "referenceResolution", "success",
                        "The manager reference was set once the manager existed in the target")
            record.modified.append({"displayName": path, "oldValue": None, "newValue": manager})
            updated.append(Link("User", link.source_id, link.target_id,
                                {**link.exported, path: manager}))
        links.save(updated, self.clock_now())

    def _map(self, fn: Callable[[Any], Any], items: list[Any], phase: str) -> list[Any]:
        """`fn` over `items` in order, on the cycle's request concurrency (one at a time for
        provision on demand), reported as `phase`."""
        workers = 1 if self.on_demand else self.config.max_concurrency
        return in_order(fn, items, workers, self._reporting(phase))

    def _reporting(self, phase: str) -> Callable[[int, int], None] | None:
        progress = self.progress
        if progress is None:
            return None
        return lambda done, total: progress(done, total, phase)

    # -- the job afterwards ----------------------------------------------------------------

    def _settle(self, mark: int, aborted: Quarantined | None) -> None:
        state = self.state
        now = self.clock_now()
        quarantine = state.quarantine
        counts = self.report.counts
        successes = sum(counts[k] for k in ("created", "updated", "disabled", "deleted"))
        if aborted is not None:
            quarantine = self._quarantine(aborted.reason, aborted.error, quarantine, now)
        elif self._staged_quarantine is not None:
            quarantine = self._staged_quarantine
        else:
            failures = self.engine.links.escrow_count(reference=False)
            events = max(1, successes + counts["failed"] + counts["skipped"])
            over = failures >= self.config.escrow_threshold and (
                failures / events > ESCROW_PROPORTION or failures > ESCROW_TOTAL)
            if over:
                quarantine = self._quarantine(
                    "EncounteredEscrowProportionThreshold",
                    f"{failures} objects failed (more than 40 % of the provisioning events)",
                    quarantine, now)
            elif quarantine is not None and (successes or not counts["failed"]):
                quarantine = None  # any success lifts quarantine (§8.2)
        interval = CYCLE_INTERVAL
        if quarantine is not None:
            step = min(quarantine.series_count, len(QUARANTINE_LADDER)) - 1
            interval = QUARANTINE_LADDER[step] if step < len(QUARANTINE_LADDER) else QUARANTINE_INTERVAL
            quarantine = replace(quarantine, next_attempt=format_time(now + interval))
        self.report.quarantine = quarantine
        self.state = replace(
            state,
            watermark=mark if aborted is None else state.watermark,
            initial_needed=state.initial_needed and aborted is not None,
            quarantine=quarantine,
            last_cycle_id=self.id,
            last_cycle_end=format_time(now),
            next_cycle=format_time(now + interval),
            force_deletes=False,
        )

    def _quarantine(self, reason: str, error: str, current: Quarantine | None,
                    now: datetime) -> Quarantine:
        text = format_time(now)
        if current is not None and current.reason == reason:
            return replace(current, current_began=text, error=error,
                           series_count=current.series_count + 1)
        return Quarantine(reason=reason, error=error, current_began=text, series_began=text,
                          next_attempt=text)


def _counter(record: LogRecord) -> str:
    if record.status == "Failure":
        return "failed"
    return {"Create": "created", "Update": "updated", "Delete": "deleted",
            "Disable": "disabled"}.get(record.action, "skipped")
