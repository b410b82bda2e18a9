"""Provides run_users_pass: a cycle's users, end to end (§1.2 steps 1-6).

Every user goes through its steps (sandbox/engine/sync/user_steps.py) on the cycle's request
concurrency; then the accidental-deletion gate (sync/deletions.py), which counts the group
pass's deletions too, holds the disables and deletes back or sends them (§8.3); then the links
are saved, the failures escrowed (§8.1); last, a user created in this cycle whose manager is
now in the target gets the manager by a separate PATCH (§1.2 step 6); a failed one is escrowed
as a reference failure and retried. A quarantining failure stops the pass (`Quarantined`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from functools import partial

from sandbox.engine.mappings.mapping import Change
from sandbox.engine.mappings.paths import ENTERPRISE_USER_SCHEMA
from sandbox.engine.scim.target_errors import TargetError
from sandbox.engine.scim.wire import user_patch
from sandbox.engine.sync.deletions import DeletionGate
from sandbox.engine.sync.job import Quarantine
from sandbox.engine.sync.links import Link
from sandbox.engine.sync.parts import CycleRun, Quarantined
from sandbox.engine.sync.read_ahead import UserReads
from sandbox.engine.sync.user_steps import Outcome, Tally, UserProcessor, user_dialect

PHASE_USERS = "users"
PHASE_REFERENCES = "manager references"
"""The phases a cycle reports progress in: its users (a lookup and a create or an update
each), then the manager PATCHes sent once the managers exist (§1.2 step 6)."""

MANAGER_PATH = f"{ENTERPRISE_USER_SCHEMA}:manager"


@dataclass(frozen=True)
class UsersPass:
    """What the users pass did: an outcome per user that needed one (in the users' order),
    the counts they add to the report, and the deletions held back."""

    outcomes: list[Outcome]
    counts: Counter[str] = field(default_factory=Counter)
    staged: int = 0
    """How many disables and deletes accidental-deletion prevention held back."""
    held: Quarantine | None = None
    """The TooManyDeletes quarantine the job goes to when it held them back."""
    gate: DeletionGate | None = None
    """The cycle's accidental-deletion gate (the group pass's deletions pass through it too)."""


def run_users_pass(run: CycleRun, user_ids: list[str], *, group_deletions: int = 0) -> UsersPass:
    """Provision these users fully: decide, check the deletions (counted with the
    `group_deletions` the group pass will send, §8.3), export, save the links and escrows, set
    the manager references."""
    outcomes = _process(run, user_ids)
    deferred = [o for o in outcomes if o.deferred is not None]
    gate = DeletionGate.of(run, len(deferred) + group_deletions)
    outcomes, staged = _deletions(run, outcomes, gate)
    counts = _finish(run, outcomes)
    _references(run, outcomes)
    return UsersPass(outcomes, counts, staged, gate.quarantine(run), gate)


def _process(run: CycleRun, user_ids: list[str]) -> list[Outcome]:
    parts = run.parts
    processor = UserProcessor(run, UserReads(parts.directory, parts.app, parts.links, user_ids))

    def one(user_id: str) -> Outcome | None:
        outcome = processor.process(user_id)
        if outcome is not None and outcome.failure is not None and outcome.failure.quarantines:
            raise Quarantined.by(outcome.failure)
        spent = run.spend(created=outcome is not None and outcome.counter == Tally.CREATED)
        if outcome is not None:
            outcome.record.simulated_ms = spent * 60_000
        return outcome

    return [o for o in run.map(one, user_ids, PHASE_USERS) if o is not None]


def _deletions(
    run: CycleRun, outcomes: list[Outcome], gate: DeletionGate
) -> tuple[list[Outcome], int]:
    """Accidental-deletion prevention: when the gate holds, the users' disables and deletes
    are staged (§8.3); otherwise they are sent."""
    parts = run.parts
    deferred = [o for o in outcomes if o.deferred is not None]
    if gate.holds:
        gate.hold(run, [(o.record, o.deferred_action or "Disable") for o in deferred])
        staged = {
            id(o): replace(o, counter=Tally.STAGED, link=None, drop_link=False, deferred=None)
            for o in deferred
        }
        return [staged.get(id(o), o) for o in outcomes], len(deferred)
    sent: dict[int, Outcome] = {}
    for outcome in deferred:
        assert outcome.deferred is not None
        try:
            outcome.deferred()
        except TargetError as error:
            outcome.record.fail(error.error_code, error.reason)
            sent[id(outcome)] = replace(
                outcome, counter=Tally.FAILED, failure=error, link=None, drop_link=False
            )
    if parts.state.force_deletes:
        parts.links.clear_staged()
    return [sent.get(id(o), o) for o in outcomes], 0


def _finish(run: CycleRun, outcomes: list[Outcome]) -> Counter[str]:
    """Save and drop the links, release the users that went through, escrow the failures."""
    links, now = run.parts.links, run.now()
    links.save([o.link for o in outcomes if o.link is not None], now)
    links.drop("User", [o.record.source_id for o in outcomes if o.drop_link])
    links.release("User", [o.record.source_id for o in outcomes if o.counter != Tally.FAILED])
    counts: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.counter == Tally.UNLOGGED:
            continue
        counts[outcome.counter.counted] += 1
        record = outcome.record
        if outcome.counter == Tally.FAILED and outcome.escrow:
            escrow = links.escrow(
                "User",
                record.source_id,
                record.error_code or "Unknown",
                record.reason or "",
                run.now(),
            )
            record.reason = (
                f"{record.reason} This operation was retried {escrow.attempts - 1} "
                f"times. It will be retried again after this date: {escrow.next_attempt}"
            )
    return counts


def _references(run: CycleRun, outcomes: list[Outcome]) -> None:
    """Reference resolution (§1.2 step 6): a user created in this cycle whose manager is now
    in the target gets the manager by a separate PATCH (sent as concurrently as the users
    were)."""
    parts = run.parts
    if not any(m.target == MANAGER_PATH for m in parts.config.user_mappings):
        return
    dialect = user_dialect(run)
    target, links = parts.target, parts.links
    waiting = [
        (outcome, outcome.link, outcome.manager)
        for outcome in outcomes
        if outcome.counter == Tally.CREATED
        and outcome.link is not None
        and outcome.manager
        and not outcome.link.exported.get(MANAGER_PATH)
    ]
    in_target = links.target_ids("User", sorted({manager for _, _, manager in waiting}))
    pending = [
        (outcome, link, in_target[manager])
        for outcome, link, manager in waiting
        if manager in in_target
    ]

    def send(item: tuple[Outcome, Link, str]) -> tuple[TargetError | None, list[str]]:
        _outcome, link, manager = item
        body = user_patch([Change(MANAGER_PATH, None, manager)], dialect, on_demand=run.on_demand)
        with target.recording() as seen:
            try:
                run.send(partial(target.patch_user, link.target_id, body))
            except TargetError as error:
                return error, [e.ref for e in seen]
        return None, [e.ref for e in seen]

    updated = []
    for (outcome, link, manager), (error, refs) in zip(
        pending, run.map(send, pending, PHASE_REFERENCES), strict=True
    ):
        record = outcome.record
        record.exchanges.extend(refs)
        if error is not None:
            # A reference failure leaves the object provisioned: a warning, escrowed as a
            # reference failure and retried like any escrow (§8.1); it counts toward the
            # 60,000 absolute cap, not the 40 % / 40,000 rule (§8.2).
            record.step(
                "EntryReferenceResolution",
                "referenceResolution",
                "failure",
                f"Failed to set the manager: {error.reason}",
            )
            record.status, record.error_code = "Warning", error.error_code
            escrow = links.escrow(
                "User", link.source_id, error.error_code, error.reason, run.now(), reference=True
            )
            record.reason = (
                f"{error.reason} This operation was retried {escrow.attempts - 1} "
                f"times. It will be retried again after this date: {escrow.next_attempt}"
            )
            continue
        record.step(
            "EntryReferenceResolution",
            "referenceResolution",
            "success",
            "The manager reference was set once the manager existed in the target",
        )
        record.modified.append({"displayName": MANAGER_PATH, "oldValue": None, "newValue": manager})
        updated.append(
            Link("User", link.source_id, link.target_id, {**link.exported, MANAGER_PATH: manager})
        )
    links.save(updated, run.now())
