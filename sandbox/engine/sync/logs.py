"""Provides provisioning logs as Entra keeps them: one record per object and cycle (§8.4).

Each record carries the job id, the cycle's number and GUID (Graph cycleId), the change id, who
initiated it, the action (Create, Update, Disable, Delete,
StagedDelete, Other), the status (Success, Failure, Skipped, Warning), the steps (Import,
Scoping, Matching, Export with Entra's step names), an error code and reason, the modified
properties old -> new, the error's category and recommended action, the simulated time the
object took (§1.5) and the request-log notes of the HTTP exchanges behind it.
`provisioning_object_summary` (sync/graph_log.py) gives a record Graph's names.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import asdict, dataclass, field

from sandbox import jsontext
from sandbox.engine.sync.graph_log import SYSTEM, error_information, job_id
from sandbox.store import Store

ACTIONS = ("Create", "Update", "Disable", "Delete", "StagedDelete", "Other")
STATUSES = ("Success", "Failure", "Skipped", "Warning")


@dataclass
class Step:
    """One provisioning step (Graph provisioningStep)."""

    name: str
    type: str  # import | scoping | matching | processing | referenceResolution | export
    status: str  # success | warning | failure | skipped
    description: str
    details: dict[str, object] = field(default_factory=dict)


@dataclass
class LogRecord:
    """One provisioning log entry (Graph provisioningObjectSummary, trimmed)."""

    cycle_id: int
    at: str
    object_type: str
    source_id: str
    source_name: str
    action: str = "Other"
    status: str = "Success"
    target_id: str | None = None
    error_code: str | None = None
    reason: str | None = None
    steps: list[Step] = field(default_factory=list)
    modified: list[dict[str, object]] = field(default_factory=list)
    exchanges: list[str] = field(default_factory=list)
    """The request-log notes (`EngineExchange.ref`) of the HTTP exchanges behind it."""
    duration_ms: float = 0.0
    """Real milliseconds the engine spent on the object."""
    change_id: str = ""
    id: str = ""
    job_id: str = ""
    cycle_guid: str = ""
    """Graph cycleId: the GUID of the cycle (the same for every record of one cycle)."""
    initiated_by: str = SYSTEM
    """Graph initiatorType."""
    error_category: str | None = None
    recommended_action: str | None = None
    simulated_ms: float = 0.0
    """Simulated milliseconds the object cost its cycle (§1.5; Graph durationInMilliseconds)."""

    def step(self, name: str, kind: str, status: str, description: str, **details: object) -> None:
        """Append a step."""
        self.steps.append(Step(name, kind, status, description, dict(details)))

    def fail(self, code: str, reason: str) -> None:
        """Mark the record failed with Entra's error code and reason."""
        self.status, self.error_code, self.reason = "Failure", code, reason

    def describe(self) -> list[str]:
        """The record as the portal's detail pane reads it: a headline, then the steps, the
        modified values and the reason, a line each (the CLI and the UI print these)."""
        error = f" ({self.error_code})" if self.error_code else ""
        lines = [f"{self.source_name}: {self.action} {self.status}{error}"]
        lines += [
            f"{number}. [{step.status}] {step.name}: {step.description}"
            for number, step in enumerate(self.steps, 1)
        ]
        lines += [
            f"{change['displayName']}: {change.get('oldValue')!r} -> {change.get('newValue')!r}"
            for change in self.modified
        ]
        if self.reason:
            lines += self.reason.splitlines()
        return lines

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


class ProvisioningLogs:
    """Writes and reads provisioning log records; ids come from a seeded generator."""

    def __init__(
        self, store: Store, seed: int = 1, tenant_domain: str = "contoso.onmicrosoft.com"
    ) -> None:
        self.store = store
        self._seed = seed
        self.tenant_domain = tenant_domain
        self.job_id = job_id(tenant_domain)
        self._stored = -1
        """The records stored when this generator last looked, plus those it wrote since."""
        self.resume()

    def resume(self) -> None:
        """Before a cycle: if another process wrote records since this one last looked, go on
        from their number (it drew its ids from the same seeded generator, so ours would
        repeat them); otherwise keep the sequence, so a replay gives the same ids."""
        stored = int(self.store.scalar("SELECT count(*) FROM provisioning_log") or 0)
        if stored != self._stored:
            self._rng = random.Random(f"log-{self._seed}-{stored}")
            self._stored = stored

    def _id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _cycle_guids(self, cycle_ids: set[int]) -> dict[int, str]:
        marks = ", ".join("?" * len(cycle_ids))
        rows = self.store.query(
            f"SELECT id, guid FROM cycles WHERE id IN ({marks}) AND guid IS NOT NULL",
            sorted(cycle_ids),
        )
        return {int(r["id"]): str(r["guid"]) for r in rows}

    def write(self, records: list[LogRecord]) -> None:
        """Store records (one transaction); each gets the job's id, its cycle's GUID, and the
        category and recommended action of its error code."""
        if not records:
            return
        guids = self._cycle_guids({r.cycle_id for r in records if not r.cycle_guid})
        rows = []
        for record in records:
            record.id = record.id or self._id()
            record.change_id = record.change_id or self._id()
            record.job_id = record.job_id or self.job_id
            record.cycle_guid = record.cycle_guid or guids.get(record.cycle_id) or self._id()
            if record.error_code and record.error_category is None:
                record.error_category, action = error_information(record.error_code)
                record.recommended_action = record.recommended_action or action
            rows.append(
                (
                    record.id,
                    record.cycle_id,
                    record.change_id,
                    record.at,
                    record.object_type,
                    record.source_id,
                    record.source_name,
                    record.target_id,
                    record.action,
                    record.status,
                    record.error_code,
                    record.reason,
                    # vars(), not asdict(): no deep copy of every step's details (hot path)
                    jsontext.dumps([vars(s) for s in record.steps]),
                    jsontext.dumps(record.modified),
                    jsontext.dumps(record.exchanges),
                    round(record.duration_ms, 3),
                    record.job_id,
                    record.cycle_guid,
                    record.initiated_by,
                    record.error_category,
                    record.recommended_action,
                    round(record.simulated_ms, 3),
                )
            )
        with self.store.write() as db:
            db.conn.executemany(
                "INSERT INTO provisioning_log (id, cycle_id, change_id, at, object_type,"
                " source_id, source_name, target_id, action, status, error_code, reason, steps,"
                " modified, exchanges, duration_ms, job_id, cycle_guid, initiated_by,"
                " error_category, recommended_action, simulated_ms) VALUES (?, ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        self._stored += len(rows)

    def query(
        self,
        *,
        cycle_id: int | None = None,
        source: str | None = None,
        status: str | None = None,
        action: str | None = None,
        limit: int | None = 200,
    ) -> list[LogRecord]:
        """Records, oldest first, filtered by cycle, source object (id or name), status,
        action; the latest `limit` of them (None: all)."""
        where: list[str] = []
        params: list[object] = []
        if cycle_id is not None:
            where.append("cycle_id = ?")
            params.append(cycle_id)
        if source:
            where.append("(source_id = ? OR lower(source_name) = lower(?))")
            params.extend([source, source])
        if status:
            where.append("status = ?")
            params.append(status)
        if action:
            where.append("action = ?")
            params.append(action)
        sql = "SELECT * FROM provisioning_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY rowid DESC LIMIT ?"
        rows = self.store.query(sql, [*params, -1 if limit is None else limit])
        out = []
        for row in reversed(rows):
            data = dict(row)
            steps = [Step(**s) for s in json.loads(data.pop("steps") or "[]")]
            modified = json.loads(data.pop("modified") or "[]")
            exchanges = json.loads(data.pop("exchanges") or "[]")
            record = LogRecord(**data, steps=steps, modified=modified, exchanges=exchanges)
            _fill_older(record, self.job_id)
            out.append(record)
        return out


def _fill_older(record: LogRecord, job: str) -> None:
    """A record written before the Graph fields were stored (schema v3) gets them now: the
    job's id, the initiator and its error's category and action (its cycle GUID was filled in
    by the migration)."""
    record.job_id = record.job_id or job
    record.initiated_by = record.initiated_by or SYSTEM
    record.simulated_ms = record.simulated_ms or 0.0
    record.cycle_guid = record.cycle_guid or ""
    if record.error_code and record.error_category is None:
        record.error_category, action = error_information(record.error_code)
        record.recommended_action = record.recommended_action or action
