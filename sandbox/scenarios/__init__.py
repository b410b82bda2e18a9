"""Provides scenarios: seeded, replayable files that reproduce a provisioning situation headless."""

from sandbox.scenarios.model import Scenario, ScenarioError, load
from sandbox.scenarios.runner import ScenarioResult, ScenarioSession, StepOutcome, run_scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "ScenarioSession",
    "StepOutcome",
    "load",
    "run_scenario",
]
