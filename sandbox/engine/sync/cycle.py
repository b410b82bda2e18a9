"""Provides run_cycle: one initial or incremental provisioning cycle, end to end (§1.2, §1.3),
and run_on_demand: provision on demand for one user (§1.6), both on the parts the service built.

Each object a cycle evaluates spends simulated time as it goes (§1.5, sync/duration.py), so
the log records' times, the target's timestamps and the cycle's end (and with it the next
cycle's start) come out as in Entra; provision on demand spends none.

Order of work: the users pass (match-or-create, update, disable, delete, the accidental-deletion
check on the disables and deletes of users and groups together, the manager references), then
the groups pass (groups and memberships, and the DELETEs of groups that left). A credential or SCIM-compliance failure stops the cycle and quarantines the job
(§8.2); other failures are escrowed and retried in later cycles (§8.1); the watermark moves
only when the cycle ends. The cycle returns its report with the job state it ends with; the
service records it and saves the state.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from sandbox.engine.sync.changes import ChangeFeed
from sandbox.engine.sync.clock import (
    CYCLE_INTERVAL,
    SimClock,
    format_time,
    parse_time,
)
from sandbox.engine.sync.deletions import DeletionGate
from sandbox.engine.sync.duration import Estimate, estimate
from sandbox.engine.sync.groups_pass import group_deletions, group_tally, run_groups_pass
from sandbox.engine.sync.job import JobConfig, JobState, Quarantine
from sandbox.engine.sync.links import LinkStore
from sandbox.engine.sync.logs import LogRecord
from sandbox.engine.sync.parts import CycleParts, CycleRun, Progress, Quarantined
from sandbox.engine.sync.quarantine import (
    EscrowCounts,
    escrow_verdict,
    expired,
    imposed,
    next_attempt,
)
from sandbox.engine.sync.user_steps import Tally
from sandbox.engine.sync.users_pass import UsersPass, run_users_pass
from sandbox.engine.tenant.app import EnterpriseApp
from sandbox.engine.tenant.directory import Directory
from sandbox.engine.tenant.model import DirectoryGroup, DirectoryUser
from sandbox.expressions import EvaluationContext

COUNTED = ("created", "updated", "disabled", "deleted", "skipped", "failed")
SUCCESSES = ("created", "updated", "disabled", "deleted")


@dataclass(frozen=True)
class CycleReport:
    """What one cycle did: counts per outcome, requests, duration, the job afterwards."""

    id: int
    kind: str
    started: str
    finished: str
    state: JobState
    """The job state the cycle ends with (the service saves it)."""
    counts: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    wall_ms: float = 0.0
    quarantine: Quarantine | None = None
    staged: int = 0
    objects: int = 0
    """Users, groups and group members the cycle evaluated (what its simulated time counts)."""

    @property
    def simulated_minutes(self) -> float:
        """How long the cycle took on the simulated clock (§1.5), 429 waits included."""
        return (parse_time(self.finished) - parse_time(self.started)).total_seconds() / 60

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "kind": self.kind,
            "started": self.started,
            "finished": self.finished,
            "simulated_minutes": round(self.simulated_minutes, 3),
            "objects": self.objects,
            "counts": {k: self.counts.get(k, 0) for k in COUNTED},
            "staged": self.staged,
            "requests": self.requests,
            "wall_ms": round(self.wall_ms, 1),
            "quarantine": None if self.quarantine is None else self.quarantine.__dict__,
        }


@dataclass(frozen=True)
class OnDemandRun:
    """Provision on demand's record for its user, and its report."""

    record: LogRecord
    report: CycleReport


def _run(
    parts: CycleParts,
    cycle_id: int,
    kind: str,
    *,
    on_demand: bool = False,
    progress: Progress | None = None,
) -> CycleRun:
    context = EvaluationContext(
        clock=parts.clock.now,
        rng=random.Random(f"cycle-{parts.seed}"),
        tenant_domain=parts.tenant_domain,
    )
    return CycleRun(parts, cycle_id, kind, context, on_demand=on_demand, progress=progress)


def run_cycle(
    parts: CycleParts, cycle_id: int, *, kind: str, progress: Progress | None = None
) -> CycleReport:
    """Run cycle `cycle_id` ("initial" or "incremental") on `parts`; returns its report, with
    the job state it ends with. `progress(done, total, phase)` hears how far it is."""
    run = _run(parts, cycle_id, kind, progress=progress)
    started_text = run.now_text()
    started = time.perf_counter()
    target = parts.target
    marker = target.marker()
    mark = parts.directory.last_change_seq()
    scope = _Scope(parts, kind, run.now(), mark)
    records: list[LogRecord] = []
    counts: Counter[str] = Counter()
    users = UsersPass([])
    aborted: Quarantined | None = None
    staged = 0
    objects = 0
    try:
        user_ids, group_ids = scope.user_ids(), scope.group_ids()
        objects = len(user_ids)
        leaving = group_deletions(run, group_ids)
        users = run_users_pass(run, user_ids, group_deletions=leaving)
        records.extend(o.record for o in users.outcomes if o.counter != Tally.UNLOGGED)
        counts.update(users.counts)
        gate = users.gate or DeletionGate.of(run, leaving)
        for record in run_groups_pass(run, group_ids, gate):
            records.append(record)
            tally = group_tally(record)
            counts[tally.counted] += 1
            staged += tally is Tally.STAGED
            members = _member_count(parts, record.source_id)
            spent = run.spend(created=record.action == "Create", members=members)
            record.simulated_ms = spent * 60_000
            objects += 1 + members
    except Quarantined as stop:
        aborted = stop
    finally:
        parts.clock.save()  # the time the cycle spent, for every process (§1.5)
    parts.logs.write(records)
    # Count by number: the target's journal keeps only the last 10,000 exchanges.
    requests = target.marker() - marker
    wall_ms = (time.perf_counter() - started) * 1000
    finished = run.now_text()
    quarantine, state = _settle(run, mark, counts, aborted, users.held)
    return CycleReport(
        cycle_id,
        kind,
        started_text,
        finished,
        state,
        counts,
        requests,
        wall_ms,
        quarantine,
        users.staged + staged,
        objects,
    )


class ScopeSource(Protocol):
    """What deciding a cycle's objects reads: the job, its links and change feed, the tenant
    (CycleParts has them all; so has ScopeInputs, without a target)."""

    @property
    def config(self) -> JobConfig: ...
    @property
    def state(self) -> JobState: ...
    @property
    def links(self) -> LinkStore: ...
    @property
    def changes(self) -> ChangeFeed: ...
    @property
    def app(self) -> EnterpriseApp: ...
    @property
    def directory(self) -> Directory: ...
    @property
    def clock(self) -> SimClock: ...
    @property
    def seed(self) -> int: ...


@dataclass(frozen=True)
class ScopeInputs:
    """A ScopeSource for a cycle not running yet (the next cycle's estimate)."""

    config: JobConfig
    state: JobState
    links: LinkStore
    changes: ChangeFeed
    app: EnterpriseApp
    directory: Directory
    clock: SimClock
    seed: int


def next_cycle_estimate(parts: ScopeSource) -> Estimate:
    """How long the next cycle would take (§1.5): the objects it would evaluate if it started
    at its scheduled time, those not linked yet counted as creates."""
    state = parts.state
    kind = "initial" if state.initial_needed else "incremental"
    now = parts.clock.now()
    if state.next_cycle:
        now = max(now, parse_time(state.next_cycle))
    scope = _Scope(parts, kind, now, parts.directory.last_change_seq())
    user_ids = scope.user_ids()
    group_ids = scope.group_ids()
    members = sum(_member_count(parts, g) for g in group_ids)
    linked = parts.links.linked_ids("User") | parts.links.linked_ids("Group")
    new = sum(1 for i in (*user_ids, *group_ids) if i not in linked)
    return estimate(parts.config, parts.seed, kind, len(user_ids) + len(group_ids) + members, new)


def _member_count(parts: ScopeSource, group_id: str) -> int:
    """The group's members a cycle evaluates with it (§1.5: group members count)."""
    if parts.directory.find_group(group_id) is None:
        return 0
    return sum(1 for m in parts.directory.members(group_id) if not m.deleted)


def run_on_demand(parts: CycleParts, cycle_id: int, user: DirectoryUser) -> OnDemandRun:
    """Provision on demand (§1.6): this user fully (decide, check deletions, export, links,
    references), without the group pass or the job's bookkeeping (the state is returned as
    found), its record written to the provisioning logs."""
    run = _run(parts, cycle_id, "pod", on_demand=True)
    started = run.now_text()
    users = run_users_pass(run, [user.id])
    record = (
        users.outcomes[0].record
        if users.outcomes
        else LogRecord(
            cycle_id,
            run.now_text(),
            "User",
            user.id,
            user.user_principal_name,
            status="Skipped",
            reason="Nothing to do for this user.",
        )
    )
    parts.logs.write([record])
    report = CycleReport(
        cycle_id, "pod", started, run.now_text(), parts.state, users.counts, staged=users.staged
    )
    return OnDemandRun(record, report)


@dataclass(frozen=True)
class OnDemandGroupRun:
    """Provision on demand of a group: the group's record, its chosen members' records, and
    the report."""

    record: LogRecord
    members: list[LogRecord]
    report: CycleReport


def run_on_demand_group(
    parts: CycleParts, cycle_id: int, group: DirectoryGroup, member_ids: list[str]
) -> OnDemandGroupRun:
    """Provision on demand of a group (§1.6): its chosen members (at most five, checked by the
    service) through the users' steps, then the group, whose member changes are limited to
    them; in the legacy dialect, without the job's bookkeeping."""
    run = _run(parts, cycle_id, "pod", on_demand=True)
    started = run.now_text()
    leaving = group_deletions(run, [group.id])
    users = run_users_pass(run, member_ids, group_deletions=leaving)
    gate = users.gate or DeletionGate.of(run, leaving)
    member_records = [o.record for o in users.outcomes if o.counter != Tally.UNLOGGED]
    counts = Counter(users.counts)
    records: list[LogRecord] = []
    try:  # provision on demand quarantines nothing: a failure is its result
        records.extend(run_groups_pass(run, [group.id], gate, frozenset(member_ids)))
    except Quarantined:
        pass
    record = (
        records[0]
        if records
        else LogRecord(
            cycle_id,
            run.now_text(),
            "Group",
            group.id,
            group.display_name,
            status="Skipped",
            reason="Nothing to do for this group.",
        )
    )
    counts[group_tally(record).counted] += 1
    parts.logs.write([*member_records, record])
    report = CycleReport(
        cycle_id, "pod", started, run.now_text(), parts.state, counts, staged=users.staged
    )
    return OnDemandGroupRun(record, member_records, report)


class _Scope:
    """The users and groups a cycle of `kind` starting `now` looks at, in a stable order."""

    def __init__(self, parts: ScopeSource, kind: str, now: datetime, mark: int) -> None:
        self.parts = parts
        self.kind = kind
        self.now = now
        self.mark = mark
        self._changes: tuple[set[str], set[str]] | None = None

    def _changed(self) -> tuple[set[str], set[str]]:
        """The users and groups changed since the watermark, read from the change log once."""
        if self._changes is None:
            self._changes = self.parts.changes.changed_ids(self.parts.state.watermark, self.mark)
        return self._changes

    def user_ids(self) -> list[str]:
        parts = self.parts
        links = parts.links.linked_ids("User")
        if self.kind == "initial":
            if parts.config.scope == "all":
                ids = set(parts.changes.user_ids())
            else:
                ids = set(parts.app.assigned_user_ids())
            ids |= links
        else:
            ids = set(self._changed()[0])
        ids |= set(parts.links.due("User", self.now))
        if parts.state.force_deletes:
            ids |= {s for t, s, _a in parts.links.staged() if t == "User"}
        return sorted(ids)

    def group_ids(self) -> list[str]:
        parts = self.parts
        if not parts.config.groups_enabled:
            return []
        if parts.config.scope == "all":
            ids = {g.id for g in parts.directory.groups()}
        else:
            ids = set(parts.app.assigned_group_ids())
        ids |= parts.links.linked_ids("Group")
        if self.kind == "incremental":
            ids &= self._changed()[1] | set(parts.links.due("Group", self.now))
        if parts.state.force_deletes:
            ids |= {s for t, s, _a in parts.links.staged() if t == "Group"}
        return sorted(ids)


# -- the job afterwards ------------------------------------------------------------------


def _settle(
    run: CycleRun,
    mark: int,
    counts: Counter[str],
    aborted: Quarantined | None,
    held: Quarantine | None,
) -> tuple[Quarantine | None, JobState]:
    """The quarantine the job is in after the cycle, and the state it ends with (§8.2): a
    quarantined job retries 6, 12 and 24 hours after its first failure, then daily; after 28
    days in quarantine its escrows are removed and the job is disabled (stops running)."""
    parts = run.parts
    state = parts.state
    now = run.now()
    quarantine = state.quarantine
    successes = sum(counts[k] for k in SUCCESSES)
    if aborted is not None:
        quarantine = imposed(aborted.reason, aborted.error, quarantine, now)
    elif held is not None:
        quarantine = imposed(held.reason, held.error, quarantine, now)
    else:
        escrows = EscrowCounts(
            failures=parts.links.escrow_count(reference=False),
            references=parts.links.escrow_count(reference=True),
            events=successes + counts["failed"] + counts["skipped"],
        )
        verdict = escrow_verdict(escrows, parts.config.escrow_threshold)
        if verdict is not None:
            quarantine = imposed(*verdict, quarantine, now)
        elif quarantine is not None and (successes or not counts["failed"]):
            quarantine = None  # any success lifts quarantine (§8.2)
    running, disabled = state.running, state.disabled
    next_cycle: str | None = format_time(now + CYCLE_INTERVAL)
    if quarantine is not None and expired(quarantine, now):
        parts.links.clear_escrows()
        running, disabled, next_cycle = False, format_time(now), None
        quarantine = replace(quarantine, next_attempt="")
    elif quarantine is not None:
        next_cycle = format_time(next_attempt(quarantine, now))
        quarantine = replace(quarantine, next_attempt=next_cycle)
    return quarantine, replace(
        state,
        running=running,
        disabled=disabled,
        watermark=mark if aborted is None else state.watermark,
        initial_needed=state.initial_needed and aborted is not None,
        quarantine=quarantine,
        last_cycle_id=run.id,
        last_cycle_end=format_time(now),
        next_cycle=next_cycle,
        force_deletes=False,
    )
