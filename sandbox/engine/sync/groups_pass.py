"""Provides run_groups_pass: the group pass of a cycle (§9), after the users (§1.2): each group
through its steps (sandbox/engine/sync/group_steps.py), its DELETE through the cycle's
accidental-deletion gate (§8.3).

A provider without /Groups answers 404 to the first query: that is a SCIM-compliance failure
and the job goes to quarantine although the users were provisioned, which is what the Nulab
guide's step 5 (turn group provisioning off) prevents.
"""

from __future__ import annotations

from collections.abc import Iterator

from sandbox.engine.scim.target_errors import TargetError
from sandbox.engine.sync.deletions import DeletionGate
from sandbox.engine.sync.group_steps import GroupProcessor, GroupWork
from sandbox.engine.sync.logs import LogRecord
from sandbox.engine.sync.parts import CycleRun, Quarantined
from sandbox.engine.sync.user_steps import Tally

_TALLIES = {
    "Create": Tally.CREATED,
    "Update": Tally.UPDATED,
    "Delete": Tally.DELETED,
    "Disable": Tally.DISABLED,
}


def group_deletions(run: CycleRun, group_ids: list[str]) -> int:
    """How many DELETEs the group pass over these groups would send: what it adds to the
    accidental-deletion count, decided before the users pass opens the gate (§8.3)."""
    processor = GroupProcessor(run)
    return sum(1 for group_id in group_ids if processor.leaving(group_id))


def run_groups_pass(
    run: CycleRun,
    group_ids: list[str],
    gate: DeletionGate,
    only_members: frozenset[str] | None = None,
) -> Iterator[LogRecord]:
    """The groups one after another, each record as it is made; after the record of a group
    whose failure quarantines the job, the pass stops (`Quarantined`). A group's DELETE is
    held back (StagedDelete) when the gate holds."""
    processor = GroupProcessor(run, only_members)
    for group_id in group_ids:
        work = processor.process(group_id)
        if work.deferred is not None and work.record is not None:
            _settle_delete(run, work, gate)
        if work.record is not None:
            yield work.record
        if work.error is not None and work.error.quarantines:
            raise Quarantined.by(work.error)


def _settle_delete(run: CycleRun, work: GroupWork, gate: DeletionGate) -> None:
    """Send the group's DELETE, or hold it back when the gate holds (the link stays)."""
    assert work.record is not None and work.deferred is not None
    record = work.record
    if gate.holds:
        gate.hold(run, [(record, "Delete")])
        return
    with run.parts.target.recording() as seen:
        try:
            work.deferred()
        except TargetError as error:
            record.fail(error.error_code, error.reason)
            work.error = error
    record.exchanges.extend(e.ref for e in seen)


def group_tally(record: LogRecord) -> Tally:
    """Where a group's record counts in the cycle's report."""
    if record.status == "Failure":
        return Tally.FAILED
    if record.action == "StagedDelete":
        return Tally.STAGED
    return _TALLIES.get(record.action, Tally.SKIPPED)
