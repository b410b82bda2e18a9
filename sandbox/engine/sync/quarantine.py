"""Provides the quarantine rules (§8.2): which failure counts quarantine the job and with which
reason, when a quarantined job retries, and when it is disabled.

Microsoft Learn, "Application provisioning in quarantine status": evaluation starts at 5,000
failures; then more than 40 % of the provisioning events failing, or more than 40,000 failures
(reference failures not counted in either), or more than 60,000 failures of any kind quarantine
the job. Retries come 6, 12 and 24 hours after the first failure, then every 24 hours, for 28
days; then the job is disabled. Graph's synchronizationQuarantine.reason names the thresholds
(scim_names.py); which name goes with which threshold is this module's reading (§8.2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sandbox.engine.sync.clock import format_time, parse_time
from sandbox.engine.sync.job import Quarantine
from sandbox.scim_names import (
    BASE_ESCROW_THRESHOLD,
    ESCROW_PROPORTION_THRESHOLD,
    TOTAL_ESCROW_THRESHOLD,
)

RETRIES_AFTER_FIRST_FAILURE = (timedelta(hours=6), timedelta(hours=12), timedelta(hours=24))
"""A quarantined job's first three retries, counted from the first failure (not from each
other): +6 h, +12 h, +24 h."""
RETRY_INTERVAL = timedelta(hours=24)
"""After the third retry, one every 24 hours."""
DISABLE_AFTER = timedelta(days=28)
"""Retries go on for 28 days after the first failure; then the job is disabled."""

ESCROW_PROPORTION = 0.4
"""More than 40 % of the provisioning events failing quarantines the job."""
BASE_ESCROW_FACTOR = 8
"""More than 40,000 non-reference failures (8 x the 5,000 evaluation floor) quarantine it."""
TOTAL_ESCROW_FACTOR = 12
"""More than 60,000 failures, reference failures included (12 x the floor), quarantine it."""

DISABLED_STATUS = (
    "The provisioning job stayed in quarantine for more than four weeks and was disabled "
    "(stops running): fix the cause, then restart provisioning"
)
"""What status shows for a job disabled after 28 days in quarantine (the page's words)."""


@dataclass(frozen=True)
class EscrowCounts:
    """The failures escrowed when a cycle ends, and the provisioning events it had."""

    failures: int
    """Escrowed objects whose export failed (base escrows)."""
    references: int
    """Escrowed reference failures (a manager that could not be set)."""
    events: int
    """The cycle's provisioning events (successes, failures and skips)."""


def escrow_verdict(counts: EscrowCounts, floor: int) -> tuple[str, str] | None:
    """(reason, error) when the escrows quarantine the job, else None. `floor` is the failure
    count where evaluation starts (5,000; JobConfig.escrow_threshold scales the 40,000 and
    60,000 caps with it, so a small tenant can reach them)."""
    total = counts.failures + counts.references
    if total < floor:
        return None
    if total > TOTAL_ESCROW_FACTOR * floor:
        return (
            TOTAL_ESCROW_THRESHOLD,
            f"{total} failures ({counts.references} of them references) exceed the limit of "
            f"{TOTAL_ESCROW_FACTOR * floor} failures of any kind",
        )
    if counts.failures > BASE_ESCROW_FACTOR * floor:
        return (
            BASE_ESCROW_THRESHOLD,
            f"{counts.failures} objects failed (more than {BASE_ESCROW_FACTOR * floor}; "
            "reference failures not counted)",
        )
    if counts.failures / max(1, counts.events) > ESCROW_PROPORTION:
        return (
            ESCROW_PROPORTION_THRESHOLD,
            f"{counts.failures} objects failed (more than 40 % of the provisioning events)",
        )
    return None


def imposed(reason: str, error: str, current: Quarantine | None, now: datetime) -> Quarantine:
    """The quarantine after a cycle that quarantines: a new series, or the current one
    evaluated again (Graph: seriesBegan is reset only once the quarantine is lifted)."""
    text = format_time(now)
    if current is None:
        return Quarantine(
            reason=reason, error=error, current_began=text, series_began=text, next_attempt=text
        )
    return replace(
        current,
        reason=reason,
        error=error,
        current_began=text,
        series_count=current.series_count + 1,
    )


def next_attempt(quarantine: Quarantine, now: datetime) -> datetime:
    """When a quarantined job tries again: the first of 6 h, 12 h, 24 h, 48 h, 72 h... after
    the series' first failure that is still to come."""
    began = parse_time(quarantine.series_began)
    for offset in RETRIES_AFTER_FIRST_FAILURE:
        if began + offset > now:
            return began + offset
    last = RETRIES_AFTER_FIRST_FAILURE[-1]
    days = (now - began - last) // RETRY_INTERVAL + 1
    return began + last + days * RETRY_INTERVAL


def expired(quarantine: Quarantine, now: datetime) -> bool:
    """Whether the job has been in quarantine for 28 days since its first failure."""
    return now - parse_time(quarantine.series_began) >= DISABLE_AFTER
