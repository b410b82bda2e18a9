"""The job in Graph's synchronizationJob shape and provision on demand's answer in Graph's
stringKeyStringValuePair (docs/entra-behaviour.md §1.7), each checked against the engine's own
state: its status code, its last executions and their counts, the quarantine."""

from __future__ import annotations

import json

import pytest

from sandbox.engine.sync.graph_job import NEVER, on_demand_answer
from sandbox.provider.faults import Faults
from tests.engine_env import DOMAIN, EngineEnv


@pytest.fixture
def env(tmp_path):
    env = EngineEnv(tmp_path)
    yield env
    env.close()


def test_a_job_that_never_ran_has_no_execution_and_never_reached_steady_state(env):
    job = env.engine.graph_job()
    assert job["id"].startswith("scim.") and job["templateId"] == "scim"
    assert job["schedule"] == {"expiration": None, "interval": "PT40M", "state": "Paused"}
    status = job["status"]
    assert status["code"] == "NotRun" and status["lastExecution"] is None
    assert status["steadyStateFirstAchievedTime"] == NEVER and status["quarantine"] is None


def test_a_started_job_is_not_run_until_its_first_cycle_completes(env):
    # Graph synchronizationStatusCode: "NotRun: Job was configured, and possibly started, but
    # hasn't completed its first run."; "Active: Job is running periodically."
    env.add_user("ada")
    env.engine.start()
    job = env.engine.graph_job()
    assert (job["status"]["code"], job["schedule"]["state"]) == ("NotRun", "Active")
    assert env.engine.status()["status"] == "NotRun"
    env.cycle()
    assert env.engine.graph_job()["status"]["code"] == "Active"
    env.engine.stop()
    assert env.engine.graph_job()["status"]["code"] == "Paused"


def test_executions_count_what_the_cycles_did_and_a_quarantine_is_graphs(env):
    env.add_user("ada")
    env.add_user("bob")
    env.engine.start()
    first = env.cycle()
    job = env.engine.graph_job()
    run = job["status"]["lastExecution"]
    assert job["status"]["code"] == "Active" and job["schedule"]["state"] == "Active"
    assert run["state"] == "Succeeded" and run["countExported"] == first.counts["created"] == 2
    assert run["timeBegan"] == first.started and run["timeEnded"] == first.finished
    assert job["status"]["lastSuccessfulExecutionWithExports"] == run
    assert {"key": "User", "value": 2} in job["status"]["synchronizedEntryCountByType"]

    Faults(env.store).add(status=401)
    env.add_user("cy")
    failed = env.cycle()
    job = env.engine.graph_job()
    status = job["status"]
    assert status["code"] == "Quarantine" and status["countSuccessiveCompleteFailures"] == 1
    assert status["lastExecution"]["state"] == "Failed"
    assert status["lastSuccessfulExecution"] == run  # the failed run is not a success
    quarantine = status["quarantine"]
    assert failed.quarantine is not None
    assert quarantine["reason"] == failed.quarantine.reason == "EncounteredQuarantineException"
    assert quarantine["currentBegan"] == failed.quarantine.current_began
    assert quarantine["error"]["code"] == "EncounteredQuarantineException"
    assert "401" in quarantine["error"]["message"]


def test_provision_on_demand_answers_with_json_strings_holding_result_and_steps(env):
    ada = env.add_user("ada")
    result = env.engine.provision_on_demand(f"ada@{DOMAIN}")
    answer = on_demand_answer(result.record, DOMAIN)
    key, value = json.loads(answer["key"]), json.loads(answer["value"])
    assert key == {"result": "Success", "details": {}}
    assert value["statusInfo"]["status"] == "Success" and value["action"] == "Create"
    assert value["reportableIdentifier"] == f"ada@{DOMAIN}"
    assert [s["name"] for s in value["provisioningSteps"]] == [s.name for s in result.record.steps]
    assert {s["type"] for s in value["provisioningSteps"]} <= {
        "Import", "Scoping", "Matching", "Processing", "ReferenceResolution", "Export"
    }  # fmt: skip
    assert value["targetIdentity"]["id"] == env.target_id(ada)


GRAPH_EXAMPLE = 'Replace([preferredLanguage], "-", , , "_", , )'
"""parseExpression's example on Graph's page."""


def test_parse_expression_evaluates_graphs_example_and_gives_its_tree(env):
    source = {"preferredLanguage": "EN-US", "IsSoftDeleted": "false"}
    answer = env.engine.parse_expression(GRAPH_EXAMPLE, source)
    assert answer["parsingSucceeded"] and answer["evaluationSucceeded"]
    assert answer["evaluationResult"] == ["EN_US"] and answer["error"] is None
    tree = answer["parsedExpression"]
    assert tree["type"] == "Function" and tree["name"] == "Replace"
    assert [p["value"]["expression"] for p in tree["parameters"]] == [
        "[preferredLanguage]", '"-"', '"_"'
    ]  # fmt: skip
    assert tree["parameters"][0] == {
        "key": "source",
        "value": {"expression": "[preferredLanguage]", "name": "preferredLanguage",
                  "parameters": [], "type": "Attribute"},
    }  # fmt: skip


def test_parse_expression_reports_a_syntax_error_and_an_evaluation_error(env):
    bad = env.engine.parse_expression('Join(" ", [givenName]', None)
    assert bad["parsingSucceeded"] is False and bad["parsedExpression"] is None
    assert bad["error"]["code"] == "ExpressionParsingFailed" and bad["error"]["message"]
    failed = env.engine.parse_expression("DateFromNum([x])", {"x": "not a number"})
    assert failed["parsingSucceeded"] and failed["evaluationSucceeded"] is False
    assert failed["error"]["code"] == "ExpressionEvaluationFailed"


def test_the_schema_holds_the_jobs_mappings_filters_and_actions(env):
    from sandbox.engine.mappings.scoping import ScopingFilter, make_clause

    env.engine.configure(
        delete=False,
        scoping_filters=(ScopingFilter((make_clause("department", "EQUALS", "Sales"),)),),
    )
    schema = env.engine.graph_schema()
    (rule,) = schema["synchronizationRules"]
    users, groups = rule["objectMappings"]
    assert users["flowTypes"] == "Add, Update" and groups["enabled"] is False
    assert users["scope"]["groups"][0]["clauses"] == [
        {"operatorName": "EQUALS", "sourceOperandName": "department",
         "targetOperand": {"values": ["Sales"]}}
    ]  # fmt: skip
    config = env.engine.config()
    assert [m["targetAttributeName"] for m in users["attributeMappings"]] == [
        m.target for m in config.user_mappings
    ]
    matching = [m for m in users["attributeMappings"] if m["matchingPriority"]]
    assert matching and all(m["source"]["type"] == "Attribute" for m in matching)
    before = schema["version"]
    env.engine.configure(delete=True)
    assert env.engine.graph_schema()["version"] != before


def _entries(env) -> dict[str, int]:
    status = env.engine.graph_job()["status"]
    return {pair["key"]: pair["value"] for pair in status["synchronizedEntryCountByType"]}


def test_the_synchronized_count_does_not_go_down_when_a_user_is_deleted(env):
    # Check the status of user provisioning: "The count doesn't go down if a user is
    # soft-deleted or hard-deleted because the operation doesn't remove the object from the
    # connector data store. The count is recalculated the first sync after the CDS is reset."
    ada = env.add_user("ada")
    bob = env.add_user("bob")
    env.cycle()
    assert _entries(env)["User"] == 2
    env.engine.directory.soft_delete(bob)
    env.cycle()  # bob disabled
    env.engine.directory.hard_delete(bob)
    target = env.target_id(bob)
    env.cycle()  # bob deleted in the target: its link is gone, its entry is not
    assert ("DELETE", f"/Users/{target}", "") in env.lines()
    assert env.engine.links.linked_ids("User") == {ada}
    assert _entries(env)["User"] == 2
    status = env.engine.status()
    assert status["synchronized_entries"] == {"User": 2, "Group": 0}
    assert status["linked_users"] == 1  # the links themselves are gone
    env.engine.restart("ConnectorDataStore")
    assert _entries(env)["User"] == 0
    env.cycle()  # recalculated: only ada is in the connector data store again
    assert _entries(env)["User"] == 1
