"""Provides scenarios: seeded, replayable files that reproduce a provisioning situation headless."""

from sandbox.scenarios.catalog import resolve, shipped, shipped_files
from sandbox.scenarios.loader import load
from sandbox.scenarios.model import Scenario, ScenarioError
from sandbox.scenarios.runner import ScenarioResult, ScenarioSession, StepOutcome, run_scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "ScenarioSession",
    "StepOutcome",
    "load",
    "resolve",
    "run_scenario",
    "shipped",
    "shipped_files",
]
