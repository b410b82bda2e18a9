"""Provides run_scenario and ScenarioSession: play a scenario's steps (all at once headless, or
one at a time) and check its expectations.

Every expectation that does not hold becomes a readable line ("expected ..., got ..."); the
run goes on after a failed expectation, so one run shows everything that is off.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.engine.sync.clock import parse_duration
from sandbox.errors import SandboxError
from sandbox.scenarios.external import (
    ExternalTarget,
    refuse_if_local_only,
    refuse_if_unreachable,
)
from sandbox.scenarios.loader import load
from sandbox.scenarios.model import Scenario, ScenarioError
from sandbox.scenarios.world import World, camel
from sandbox.transcripts import export


@dataclass
class ScenarioResult:
    """What a run found."""

    scenario: Scenario
    failures: list[str] = field(default_factory=list)
    checks: int = 0
    """Expectations checked."""
    held: int = 0
    """Expectations checked that held."""
    steps: int = 0
    """Steps that ran (a step the sandbox refused did not)."""
    transcript: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.scenario.path),
            "name": self.scenario.name,
            "passed": self.passed,
            "steps": self.steps,
            "checks": self.checks,
            "held": self.held,
            "failures": self.failures,
        }


@dataclass(frozen=True)
class StepOutcome:
    """What one step did: the failures of an expect step, or why the step could not run."""

    index: int
    step: dict[str, Any]
    where: str
    failures: tuple[str, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and not self.failures


class ScenarioSession:
    """A scenario played one step at a time (the terminal UI's Scenario screen): its world
    stays open between steps so it can be looked at; `close()` releases it."""

    def __init__(self, path: str | Path, target: ExternalTarget | None = None) -> None:
        self.path = Path(path)
        self.scenario = load(self.path)
        if target is not None:
            refuse_if_local_only(self.scenario, target)
            refuse_if_unreachable(self.scenario, target)
        self.world = World(self.scenario, target)
        self.result = ScenarioResult(self.scenario)
        self.outcomes: list[StepOutcome] = []
        """One per step played, in order."""

    @property
    def position(self) -> int:
        """The index of the next step (the number of steps played)."""
        return len(self.outcomes)

    @property
    def done(self) -> bool:
        """Whether every step has been played."""
        return self.position >= len(self.scenario.steps)

    def next_step(self) -> StepOutcome:
        """Play the next step. An expect step's failures are in the outcome (and the result);
        a step the sandbox refuses gives an outcome with `error` and the session moves on."""
        if self.done:
            raise ScenarioError(f"{self.scenario.path}: every step has been played")
        index = self.position
        step = self.scenario.steps[index]
        where = self.scenario.where(index)
        before = len(self.result.failures)
        error = None
        try:
            _run_step(self.world, step, self.result, where)
        except ScenarioError as exc:
            error = str(exc)
        except SandboxError as exc:
            error = f"{where}: {step['action']}: {exc}"
        else:
            self.result.steps += 1
        outcome = StepOutcome(index, step, where, tuple(self.result.failures[before:]), error)
        self.outcomes.append(outcome)
        return outcome

    def run_rest(self) -> list[StepOutcome]:
        """Play the remaining steps, stopping after one that could not run."""
        played = []
        while not self.done:
            played.append(self.next_step())
            if played[-1].error is not None:
                break
        return played

    def close(self) -> None:
        """Release the world (its in-memory database)."""
        self.world.close()


def run_scenario(
    path: str, *, transcript_format: str | None = None, target: ExternalTarget | None = None
) -> ScenarioResult:
    """Load and run a scenario file (against `target` instead of the local provider when
    given); a step that cannot run raises ScenarioError."""
    session = ScenarioSession(path, target)
    try:
        while not session.done:
            outcome = session.next_step()
            if outcome.error is not None:
                raise ScenarioError(outcome.error)
        if not session.result.checks:
            session.result.failures.append(
                f"{session.scenario.path}: the file has no expect step: the run checked "
                "nothing, so it cannot pass"
            )
        if transcript_format:
            session.result.transcript = export(
                session.world.store,
                transcript_format,
                side="both" if target is None else "engine",
                stable=target is None,
            )
    finally:
        session.close()
    return session.result


def _run_step(world: World, step: dict[str, Any], result: ScenarioResult, where: str) -> None:
    action = step["action"]
    engine, directory, app = world.engine, world.engine.directory, world.engine.app
    if action == "assign":
        app.assign(step["principal"], step.get("role", "USER"))
    elif action == "set-role":
        app.set_role(step["principal"], step["role"])
    elif action == "unassign":
        app.unassign(step["principal"], step.get("role"))
    elif action == "soft-delete":
        directory.soft_delete(step["user"])
    elif action == "restore":
        directory.restore(step["user"])
    elif action == "hard-delete":
        directory.hard_delete(step["user"])
    elif action == "block":
        directory.block(step["user"], bool(step.get("blocked", True)))
    elif action == "edit":
        directory.edit_user(step["user"], **step["set"])
    elif action == "add-user":
        props = {k: v for k, v in step.items() if k not in ("action", "upn")}
        directory.add_user(userPrincipalName=step["upn"], **{camel(k): v for k, v in props.items()})
    elif action == "add-member":
        directory.add_member(step["group"], step["user"])
    elif action == "remove-member":
        directory.remove_member(step["group"], step["user"])
    elif action == "sync":
        engine.sync(int(step.get("cycles", 1)), until_idle=bool(step.get("until_idle", False)))
    elif action == "advance":
        world.clock.advance(parse_duration(step["by"]))
    elif action == "pod":
        _pod(engine, step, result, where)
    elif action == "fault":
        world.add_fault(step)
    elif action == "clear-faults":
        world.faults.clear()
    elif action == "test-connection":
        world.last_connection = engine.test_connection()
    elif action == "restart":
        engine.restart(step.get("reset", ""))
    elif action == "allow-deletes":
        engine.allow_deletes()
    elif action == "configure":
        _configure(world, step)
    elif action == "mapping":
        from sandbox.engine.sync.mapping_edit import set_user_mapping

        set_user_mapping(
            engine,
            step["target"],
            str(step["source"]),
            kind=step.get("type"),
            default=step.get("default"),
            create_only=bool(step.get("create_only")),
            matching=int(step["matching"]) if "matching" in step else None,
            force=bool(step.get("force")),
        )
    elif action == "admin-edit":
        world.org.edit(
            step["member"],
            role=step.get("role"),
            language=step.get("language"),
            timezone=step.get("timezone"),
            username=step.get("name"),
            active=step.get("active"),
        )
    elif action == "reissue-token":
        issuer = world.org.check_issuer(step["issuer"])
        world.token = world.credentials.issue(world.clock.now().isoformat(), issuer.id)
        engine.configure(secret_token=world.token)
    elif action == "expect":
        from sandbox.scenarios.expectations import check

        check(world, step, result, where)


def _pod(engine: Any, step: dict[str, Any], result: ScenarioResult, where: str) -> None:
    """Provision on demand; with `refused`, the step is a check that the sandbox refuses the
    user with that text in its reason (a refusal without `refused` stops the scenario)."""
    from sandbox.engine.sync.service import OnDemandRefused

    wanted = step.get("refused")
    try:
        engine.provision_on_demand(step["user"])
    except OnDemandRefused as refusal:
        if wanted is None:
            raise
        result.checks += 1
        if str(wanted).lower() in str(refusal).lower():
            result.held += 1
        else:
            result.failures.append(
                f"{where}: pod {step['user']}: expected a refusal containing {wanted!r}, "
                f"got {str(refusal)!r}"
            )
        return
    if wanted is not None:
        result.checks += 1
        result.failures.append(
            f"{where}: pod {step['user']}: expected a refusal containing {wanted!r}, "
            "but the user was provisioned"
        )


def _configure(world: World, step: dict[str, Any]) -> None:
    from sandbox.engine.mappings.presets import PRESETS
    from sandbox.engine.scim.tenant_url import TenantUrl

    changes: dict[str, Any] = {}
    if "flag" in step or "tenant_url" in step:
        url = TenantUrl.parse(step.get("tenant_url", world.tenant_url))
        changes["tenant_url"] = str(url.with_flag(True) if step.get("flag") else url)
    if "mappings" in step:
        if step["mappings"] not in ("default", "nulab"):
            raise SandboxError("mappings must be default or nulab")
        changes["user_mappings"] = PRESETS[step["mappings"]].mappings
        changes["mapping_preset"] = step["mappings"]
    if "secret_token" in step:  # "issued" means the token the organization issued
        token = str(step["secret_token"])
        changes["secret_token"] = world.token if token == "issued" else token
    for key, name in (
        ("scope", "scope"),
        ("groups", "groups_enabled"),
        ("delete_threshold", "delete_threshold"),
        ("skip_out_of_scope_deletions", "skip_out_of_scope_deletions"),
        ("escrow_threshold", "escrow_threshold"),
        ("create", "create"),
        ("update", "update"),
        ("delete", "delete"),
        ("object_minutes_min", "object_minutes_min"),
        ("object_minutes_max", "object_minutes_max"),
        ("create_factor", "create_factor"),
    ):
        if key in step:
            changes[name] = step[key]
    world.engine.configure(**changes)


def glob(pattern: str, value: str) -> bool:
    """Shell-style match used by request expectations."""
    return fnmatch.fnmatchcase(value, pattern)
