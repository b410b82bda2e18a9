"""Provides what a cycle costs on the simulated clock (§1.5): the job's pace, each object's
cost, and the estimate for a cycle of a given size.

Microsoft gives an initial cycle between 0.01 and 0.08 minutes per user, group and group
member in scope, and jobs that create every user about twice as long as jobs that match every
one. The engine draws the job's pace (what a matched object costs) once from the sandbox's
seed, within [min, max / create factor], so a created object (pace x factor) stays within the
range too: every cycle of one job runs at the same pace, and the same seed gives the same
simulated times whatever the request concurrency or the order the threads finish in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sandbox.engine.sync.job import JobConfig


def pace(config: JobConfig, seed: int) -> float:
    """Simulated minutes a matched (or skipped, updated, disabled, deleted) object costs."""
    low = config.object_minutes_min
    high = max(low, config.object_minutes_max / config.create_factor)
    return _draw(low, high, seed)


@lru_cache(maxsize=64)
def _draw(low: float, high: float, seed: int) -> float:
    # One draw per job and seed: cycles call this once per object.
    return random.Random(f"pace-{seed}").uniform(low, high)


def object_minutes(config: JobConfig, seed: int, *, created: bool = False) -> float:
    """Simulated minutes one object costs: a create costs the create factor times a match."""
    minutes = pace(config, seed)
    return minutes * config.create_factor if created else minutes


def minutes(value: float) -> timedelta:
    """`value` simulated minutes as a timedelta (to the millisecond, as the clock keeps it)."""
    return timedelta(milliseconds=round(value * 60_000))


@dataclass(frozen=True)
class Estimate:
    """How long a cycle over `objects` users, groups and group members would take (§1.5):
    Microsoft's range, and the engine's figure at the job's pace with each object that is not
    linked yet (`new`) counted as a create."""

    kind: str
    objects: int
    new: int
    min_minutes: float
    max_minutes: float
    expected_minutes: float

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind,
            "objects": self.objects,
            "new": self.new,
            "min_minutes": round(self.min_minutes, 2),
            "max_minutes": round(self.max_minutes, 2),
            "expected_minutes": round(self.expected_minutes, 2),
        }


def estimate(config: JobConfig, seed: int, kind: str, objects: int, new: int) -> Estimate:
    """The estimate for a `kind` cycle over `objects` objects, `new` of them not linked yet."""
    step = pace(config, seed)
    expected = step * (objects - new) + step * config.create_factor * new
    return Estimate(
        kind,
        objects,
        new,
        config.object_minutes_min * objects,
        config.object_minutes_max * objects,
        expected,
    )
