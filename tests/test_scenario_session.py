"""A scenario played one step at a time: each step's outcome, the world open between steps, the
same result as a headless run."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.runtime import IN_PROCESS_URL, Sandbox
from sandbox.scenarios import ScenarioError, ScenarioSession, run_scenario
from tests.scenario_texts import ASSIGN_ADA

HAPPY = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios" / "happy-path.toml"

MINIMAL = ASSIGN_ADA


@pytest.fixture
def happy():
    session = ScenarioSession(HAPPY)
    yield session
    session.close()


def test_a_session_starts_before_its_first_step(happy):
    assert happy.position == 0 and not happy.done and happy.outcomes == []
    assert happy.scenario.name == "Happy path"


def test_each_step_is_played_in_turn_and_the_world_shows_its_effect(happy):
    first = happy.next_step()
    assert (first.index, first.step["action"], first.passed) == (0, "test-connection", True)
    assert happy.position == 1
    while happy.outcomes[-1].step["action"] != "sync":
        happy.next_step()
    ada = happy.world.org.member("ada@example.com")
    assert ada.role == "ADMIN"


def test_playing_every_step_gives_the_headless_result(happy):
    outcomes = happy.run_rest()
    assert happy.done and len(outcomes) == len(happy.scenario.steps)
    assert all(o.passed for o in outcomes)
    headless = run_scenario(str(HAPPY))
    assert (happy.result.steps, happy.result.checks) == (headless.steps, headless.checks)
    with pytest.raises(ScenarioError, match="every step has been played"):
        happy.next_step()


def test_a_failed_expectation_is_in_its_step_outcome(tmp_path):
    path = tmp_path / "wrong.toml"
    path.write_text(
        MINIMAL + '\n[[step]]\naction = "sync"\n'
        '\n[[step]]\naction = "expect"\nmember = { email = "ada@example.com", role = "GUEST" }\n'
    )
    session = ScenarioSession(path)
    try:
        outcomes = session.run_rest()
    finally:
        session.close()
    assert [o.passed for o in outcomes] == [True, True, False]
    (failure,) = outcomes[-1].failures
    assert failure.startswith(f"{path}:") and "(step 3)" in failure and "GUEST" in failure
    assert session.result.failures == [failure]


def test_a_step_the_sandbox_refuses_is_an_error_outcome_and_stops_run_rest(tmp_path):
    path = tmp_path / "refused.toml"
    path.write_text(
        MINIMAL + '\n[[step]]\naction = "unassign"\nprincipal = "nobody@contoso.onmicrosoft.com"\n'
        '\n[[step]]\naction = "sync"\n'
    )
    session = ScenarioSession(path)
    try:
        outcomes = session.run_rest()
    finally:
        session.close()
    assert [o.passed for o in outcomes] == [True, False]
    assert outcomes[1].error and "(step 2): unassign:" in outcomes[1].error
    assert not session.done
    with pytest.raises(ScenarioError, match=r"\(step 2\): unassign:"):
        run_scenario(str(path))


def test_a_world_is_usable_as_a_sandbox(happy):
    sandbox = Sandbox.from_world(happy.world)
    assert sandbox.server is None and sandbox.provider_url == IN_PROCESS_URL
    assert sandbox.store is happy.world.store and sandbox.org is happy.world.org
    happy.run_rest()
    sandbox.close()  # leaves the world open
    assert happy.world.org.member("grace@example.com").username == "Grace B. Hopper"
