"""Provides DeletionGate: accidental-deletion prevention over one cycle's users and groups (§8.3).

The users pass and the group pass each decide their disables and deletes first and send none
of them; the cycle counts them together (Microsoft: "Groups evaluated for deletion count
towards the deletion threshold"; disables count as well as deletes) and opens one gate. Over
the threshold every one of them is held back: logged StagedDelete (Skipped), kept in
`staged_deletes` until Allow deletes, and the job goes to quarantine (TooManyDeletes).
Prevention is an opt-in setting, off by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sandbox.engine.sync.job import Quarantine
from sandbox.engine.sync.logs import LogRecord
from sandbox.engine.sync.parts import CycleRun
from sandbox.scim_names import TOO_MANY_DELETES


@dataclass(frozen=True)
class DeletionGate:
    """How many disables and deletes a cycle's users and groups would send, and whether
    accidental-deletion prevention holds them all back."""

    count: int
    threshold: int | None
    """The job's threshold; None when prevention is off."""
    forced: bool = False
    """Allow deletes was selected: this cycle pushes the staged deletions through."""

    @classmethod
    def of(cls, run: CycleRun, count: int) -> DeletionGate:
        """The gate of `count` pending disables and deletes in this cycle."""
        parts = run.parts
        return cls(count, parts.config.delete_threshold, parts.state.force_deletes)

    @property
    def holds(self) -> bool:
        """Whether the pending disables and deletes are held back (more than the threshold)."""
        return self.threshold is not None and self.count > self.threshold and not self.forced

    @property
    def reason(self) -> str:
        """The held records' reason."""
        return (
            f"{self.count} disables and deletes in this cycle exceed the accidental-deletion "
            f"threshold ({self.threshold}); held back until deletes are allowed"
        )

    def hold(self, run: CycleRun, held: Sequence[tuple[LogRecord, str]]) -> None:
        """Hold these (record, "Disable" or "Delete") back: StagedDelete, Skipped, staged."""
        for record, _action in held:
            record.action, record.status, record.reason = "StagedDelete", "Skipped", self.reason
        run.parts.links.stage(
            [(record.object_type, record.source_id, action) for record, action in held], run.id
        )

    def quarantine(self, run: CycleRun) -> Quarantine | None:
        """The TooManyDeletes quarantine the job goes to when the gate holds."""
        if not self.holds:
            return None
        return Quarantine(
            reason=TOO_MANY_DELETES,
            error=f"{self.count} deletions exceed the threshold of {self.threshold}",
            current_began=run.now_text(),
            series_began=run.now_text(),
            next_attempt=run.now_text(),
        )
