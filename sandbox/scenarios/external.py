"""Provides ExternalTarget and what a scenario needs that an external endpoint lacks.

Played against another SCIM endpoint (`sandbox scenario run FILE --target URL --token T`), a
scenario's tenant and job are the same, and its `requests`, `log`, `job` and `connection`
expectations apply; what reads or drives the local Nulab provider (`member` and `team`
expectations, provider-side requests, faults, admin edits, token reissues) cannot, and is
refused before anything is sent.

A scenario played against the plain SCIM peer (`provider = "scim"`) is in the same case: the
peer is not the Nulab provider, whose organization and request log would then be read
untouched, so the same expectations and steps are refused when the file is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.scenarios.model import Scenario, ScenarioError

if TYPE_CHECKING:
    import httpx

PROVIDER_EXPECTATIONS = ("member", "team")
"""Expectations on the local provider's state."""

PROVIDER_ACTIONS = ("fault", "clear-faults", "admin-edit", "reissue-token")
"""Steps that act on the local provider."""


@dataclass(frozen=True)
class ExternalTarget:
    """The endpoint a scenario is played against instead of the local provider."""

    url: str
    token: str
    transport: httpx.BaseTransport | None = None
    """None: real HTTP (tests pass an in-process transport)."""


def _provider_side(step: dict[str, Any]) -> bool:
    items = step.get("requests", [])
    items = items if isinstance(items, list) else [items]
    return any(isinstance(i, dict) and i.get("side", "engine") != "engine" for i in items)


def external_problems(scenario: Scenario) -> list[str]:
    """Where the scenario needs the local provider, one line each (empty: it can be played
    against any endpoint)."""
    problems = []
    if scenario.provisioning.get("fault"):
        problems.append(f"{scenario.at('provisioning.fault')}: provisioning.fault (a fault rule)")
    for index, step in enumerate(scenario.steps):
        where = scenario.where(index)
        action = step.get("action")
        if action in PROVIDER_ACTIONS:
            problems.append(f"{where}: {action} acts on the local provider")
        if action != "expect":
            continue
        for key in PROVIDER_EXPECTATIONS:
            if key in step:
                problems.append(f"{where}: a {key} expectation reads the local provider's state")
        if _provider_side(step):
            problems.append(f"{where}: a requests expectation on the provider's side")
    return problems


def refuse_if_peer(scenario: Scenario) -> None:
    """ScenarioError when a scenario played against the plain SCIM peer (`provider =
    "scim"`) checks or drives the Nulab provider, which that world leaves untouched."""
    if scenario.provisioning.get("provider") != "scim":
        return
    problems = external_problems(scenario)
    if problems:
        raise ScenarioError(
            f'{scenario.at("provisioning", key="provider")}: provider = "scim" plays the '
            "scenario against a plain SCIM peer, which has no Nulab organization and logs only "
            "the engine's side, so these would read state nothing changed: " + "; ".join(problems)
        )


def refuse_if_unreachable(scenario: Scenario, target: ExternalTarget) -> None:
    """ScenarioError, before the first step, when Entra's Test Connection cannot reach the
    target or its credentials are refused (401, 403): every expectation would then fail, none
    saying why. An endpoint that answers, wrongly, is left to the scenario's own checks. The
    probe is not part of the run (not logged, not in the transcript)."""
    from sandbox.engine.scim.target import ScimTarget

    if target.transport is None:
        probe = ScimTarget.over_http(target.url, target.token, timeout=10.0)
    else:
        probe = ScimTarget(target.transport, target.url, target.token)
    try:
        result = probe.test_connection()
    finally:
        probe.close()
    error = result.error
    if not result.ok and error is not None and error.status in (None, 401, 403):
        raise ScenarioError(
            f"{scenario.path}: cannot be played against {target.url}: Test Connection failed "
            f"before the first step: {result.message}"
        )


def refuse_if_local_only(scenario: Scenario, target: ExternalTarget) -> None:
    """ScenarioError, before anything is sent, when the scenario needs the local provider."""
    problems = external_problems(scenario)
    if problems:
        raise ScenarioError(
            f"{scenario.path}: cannot be played against {target.url}: it checks or drives the "
            "local Nulab provider, which an external endpoint does not have (run it without "
            "--target): " + "; ".join(problems)
        )
