"""Scenarios against any endpoint (`sandbox scenario run FILE --target URL --token T`): the
endpoint-agnostic shipped scenarios pass against a correct endpoint and name the surprise of
a broken one; a scenario that reads the local provider is refused before anything is sent."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.scenarios import resolve, run_scenario
from sandbox.scenarios.external import ExternalTarget, external_problems
from sandbox.scenarios.loader import load
from sandbox.scenarios.model import ScenarioError
from tests.check_endpoints import TOKEN, broken_app

AGNOSTIC = ("entra-patch-dialects", "entra-matching-no-duplicates")


def target(surprise: str | None = None) -> ExternalTarget:
    app = broken_app(surprise)
    return ExternalTarget("https://app.example/scim/v2", TOKEN, httpx.WSGITransport(app=app))


@pytest.mark.parametrize("name", AGNOSTIC)
def test_the_endpoint_agnostic_scenarios_pass_against_another_endpoint(name):
    result = run_scenario(str(resolve(name)), target=target())
    assert result.passed, result.failures
    assert result.checks >= 6
    assert external_problems(load(resolve(name))) == []


def test_a_broken_endpoint_fails_the_scenario_where_its_surprise_is():
    result = run_scenario(str(resolve("entra-patch-dialects")), target=target("capital-ops-only"))
    assert not result.passed
    failing_steps = {f.split("(step ")[1].split(")")[0] for f in result.failures}
    assert failing_steps == {"13", "16"}  # the flag's steps; the legacy ones hold
    assert any("Update/Failure/SystemForCrossDomainIdentityManagementBadRequest" in f
               for f in result.failures)  # fmt: skip
    refused = run_scenario(
        str(resolve("entra-matching-no-duplicates")), target=target("404-for-no-match")
    )
    assert any("connection ok: expected True, got False" in f for f in refused.failures)


def test_an_endpoint_ignoring_the_matching_filter_fails_the_matching_scenario():
    """It answers the matching query with the other account already there: the user is
    linked to that account instead of created."""
    result = run_scenario(
        str(resolve("entra-matching-no-duplicates")), target=target("users-filter-ignored")
    )
    assert not result.passed
    assert any(
        "(step 8): log {'user': 'match.check@contoso.example', 'action': 'Create'" in f
        and "expected 1 record(s), found 0" in f
        for f in result.failures
    ), result.failures


def test_the_engine_reaches_the_target_and_not_the_local_provider():
    app = broken_app(None)
    run_scenario(
        str(resolve("entra-matching-no-duplicates")),
        target=ExternalTarget("https://app.example/scim/v2", TOKEN, httpx.WSGITransport(app=app)),
    )
    client = app.test_client()
    listed = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {TOKEN}"}).json
    assert listed["totalResults"] == 0  # created, matched, then deleted there


def test_a_scenario_that_reads_the_local_provider_is_refused_up_front():
    with pytest.raises(ScenarioError) as refused:
        run_scenario(str(resolve("happy-path")), target=target())
    message = str(refused.value)
    assert "cannot be played against https://app.example/scim/v2" in message
    assert (
        "happy-path.toml:74 (step 7): a member expectation reads the local provider's state"
        in message
    )
    assert "\n" not in message
    faults = external_problems(load(resolve("throttling-429")))
    assert faults[0].endswith("throttling-429.toml:32: provisioning.fault (a fault rule)")


def test_the_cli_takes_target_and_token_together():
    runner = CliRunner()
    ran = runner.invoke(cli, ["scenario", "run", "happy-path", "--target", "http://127.0.0.1:9/x"])
    assert ran.exit_code == 2 and "--target and --token go together" in ran.output
    ran = runner.invoke(
        cli, ["scenario", "run", "happy-path", "--target", "http://127.0.0.1:9/x", "--token", "t"]
    )
    assert ran.exit_code == 1
    assert ran.output.startswith("Error: ") and "a member expectation" in ran.output
    assert len(ran.output.strip().splitlines()) == 1


def test_a_target_that_fails_test_connection_is_one_error_before_any_step():
    """A wrong token or an unreachable endpoint failed every expectation without saying why;
    Entra's Test Connection now runs first, outside the run (nothing of it is logged)."""
    app = broken_app(None)
    wrong = ExternalTarget("https://app.example/scim/v2", "wrong", httpx.WSGITransport(app=app))
    with pytest.raises(ScenarioError) as refused:
        run_scenario(str(resolve("entra-patch-dialects")), target=wrong)
    assert "cannot be played against https://app.example/scim/v2: Test Connection failed" in str(
        refused.value
    )
    assert "invalid credentials" in str(refused.value)
    closed = CliRunner().invoke(
        cli,
        ["scenario", "run", "entra-patch-dialects", "--target", "http://127.0.0.1:9/scim/v2",
         "--token", "t"],
    )  # fmt: skip
    assert closed.exit_code == 1
    assert "Test Connection failed before the first step: Unable to connect" in closed.output
    transcript = run_scenario(
        str(resolve("entra-matching-no-duplicates")), transcript_format="jsonl", target=target()
    ).transcript
    first = transcript.splitlines()[0]
    assert '"method": "GET"' in first or '"method":"GET"' in first
