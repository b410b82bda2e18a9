"""The app's synchronization job and the provisioning logs through the Graph surface (Flask's
test client), over the engine and the sandbox's own provider: each action checked against the
engine's state and the SCIM requests it caused, each refusal in Graph's error shape."""

from __future__ import annotations

import json

import pytest

from sandbox.engine.sync.graph_log import job_id, service_principal_id
from sandbox.engine.sync.graph_schema import rule_id
from sandbox.graph import GraphContext, create_graph_app
from sandbox.graph.synchronization import RateLimit
from sandbox.provider.faults import Faults
from sandbox.transcripts import exchanges
from tests.engine_env import DOMAIN, EngineEnv
from tests.test_engine_groups import PeerEnv
from tests.test_graph_api import error_of

SP = service_principal_id(DOMAIN)
JOB = job_id(DOMAIN)
BASE = f"/v1.0/servicePrincipals/{SP}/synchronization"
JOB_URL = f"{BASE}/jobs/{JOB}"


@pytest.fixture
def env(tmp_path):
    env = EngineEnv(tmp_path)
    yield env
    env.close()


@pytest.fixture
def app(env):
    return create_graph_app(GraphContext(env.engine))


@pytest.fixture
def graph(app):
    return app.test_client()


def on_demand(object_id: str, kind: str = "User", members: tuple[str, ...] = ()) -> dict:
    subject: dict = {"objectId": object_id, "objectTypeName": kind}
    if members:
        subject["links"] = {"members": [{"objectId": m, "objectTypeName": "User"} for m in members]}
    return {"parameters": [{"ruleId": rule_id(DOMAIN), "subjects": [subject]}]}


# -- the job ---------------------------------------------------------------------------------


def test_the_jobs_list_and_the_job_are_the_engines_job(graph, env):
    listed = graph.get(f"{BASE}/jobs")
    assert listed.status_code == 200
    assert listed.get_json()["value"] == [env.engine.graph_job()]
    one = graph.get(JOB_URL).get_json()
    assert one["id"] == JOB and one["status"]["code"] == "NotRun"
    assert one["@odata.context"].endswith("/synchronization/jobs/$entity")
    by_app_id = graph.get(f"/v1.0/servicePrincipals(appId='{_app_id()}')/synchronization/jobs")
    assert by_app_id.get_json()["value"][0]["id"] == JOB


def _app_id() -> str:
    from sandbox.engine.sync.graph_log import application_id

    return application_id(DOMAIN)


def test_unknown_service_principal_job_and_query_options_are_graph_errors(graph):
    error_of(graph.get("/v1.0/servicePrincipals/nope/synchronization/jobs"), 404)
    assert "scim.other" in error_of(graph.get(f"{BASE}/jobs/scim.other"), 404)
    error_of(graph.post(f"{BASE}/jobs/scim.other/start"), 404)
    assert "$top" in error_of(graph.get(f"{BASE}/jobs?$top=1"), 400)


def test_start_runs_cycles_pause_stops_them_and_start_clears_a_quarantine(graph, env):
    env.add_user("ada")
    assert graph.post(f"{JOB_URL}/start").status_code == 204
    assert env.engine.state().running and env.engine.graph_job()["status"]["code"] == "NotRun"
    env.mark()
    env.cycle()
    assert ("POST", "/Users", "") in env.lines()
    assert graph.get(JOB_URL).get_json()["status"]["code"] == "Active"
    assert graph.post(f"{JOB_URL}/pause").status_code == 204
    assert graph.get(JOB_URL).get_json()["status"]["code"] == "Paused"
    assert not env.engine.state().running

    graph.post(f"{JOB_URL}/start")
    Faults(env.store).add(status=401)
    env.add_user("bob")
    env.cycle()
    quarantine = graph.get(JOB_URL).get_json()["status"]["quarantine"]
    assert quarantine["reason"] == "EncounteredQuarantineException"
    Faults(env.store).clear()
    assert graph.post(f"{JOB_URL}/start").status_code == 204
    assert env.engine.state().quarantine is None
    assert graph.get(JOB_URL).get_json()["status"]["code"] == "Active"


def test_start_before_the_credentials_is_refused(graph, env):
    env.engine.configure(tenant_url="")
    message = error_of(graph.post(f"{JOB_URL}/start"), 400)
    assert "tenant URL" in message and not env.engine.state().running


def test_restart_takes_graphs_criteria_and_refuses_an_unknown_scope(graph, env):
    env.add_user("ada")
    graph.post(f"{JOB_URL}/start")
    env.cycle()
    assert not env.engine.state().initial_needed
    body = {"criteria": {"resetScope": "Watermark, Escrows, QuarantineState"}}
    assert graph.post(f"{JOB_URL}/restart", json=body).status_code == 204
    assert env.engine.state().initial_needed
    env.cycle()
    assert graph.post(f"{JOB_URL}/restart").status_code == 204  # no body: the portal's restart
    assert env.engine.state().initial_needed
    message = error_of(
        graph.post(f"{JOB_URL}/restart", json={"criteria": {"resetScope": "Al"}}), 400
    )
    assert "Al" in message
    error_of(graph.post(f"{JOB_URL}/restart", json={"criteria": {"resetScope": 3}}), 400)


def test_restart_starts_a_paused_job_and_is_refused_before_the_credentials(graph, env):
    # Graph: "Restart a stopped synchronization job, forcing it to reprocess all the objects".
    env.add_user("ada")
    graph.post(f"{JOB_URL}/start")
    env.cycle()
    assert graph.post(f"{JOB_URL}/pause").status_code == 204
    assert graph.get(JOB_URL).get_json()["schedule"]["state"] == "Paused"
    assert graph.post(f"{JOB_URL}/restart").status_code == 204
    job = graph.get(JOB_URL).get_json()
    assert (job["schedule"]["state"], job["status"]["code"]) == ("Active", "Active")
    assert env.engine.cycle_due()
    env.engine.configure(tenant_url="")
    assert "tenant URL" in error_of(graph.post(f"{JOB_URL}/restart"), 400)


# -- provision on demand -----------------------------------------------------------------


def test_provision_on_demand_creates_the_user_and_answers_graphs_pair(graph, env):
    ada = env.add_user("ada")
    env.mark()
    response = graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(ada))
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert json.loads(answer["key"]) == {"result": "Success", "details": {}}
    value = json.loads(answer["value"])
    assert value["action"] == "Create" and value["sourceIdentity"]["id"] == ada
    assert value["targetIdentity"]["id"] == env.target_id(ada)
    assert [line[:2] for line in env.lines()][-1] == ("POST", "/Users")
    env.engine.request_log.flush()
    everything = [e["side"] for e in exchanges(env.store, "all")]
    assert everything[0] == "graph" and "engine" in everything  # the call before its SCIM
    assert [e["side"] for e in exchanges(env.store, "graph")] == ["graph"]
    assert "graph" not in {e["side"] for e in exchanges(env.store, "both")}
    again = graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(ada)).get_json()
    assert json.loads(again["key"])["result"] in ("Success", "Skipped")


def test_provision_on_demand_of_a_group_takes_its_chosen_members(tmp_path):
    peer = PeerEnv(tmp_path, flagged=False)  # an endpoint with /Groups (Nulab Pass has none)
    graph = create_graph_app(GraphContext(peer.engine)).test_client()
    group = peer.group("Pilot", "ada", "bob")
    ada, bob = (peer.engine.directory.get_user(f"{a}@{DOMAIN}").id for a in ("ada", "bob"))
    peer.mark()
    response = graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(group, "Group", (ada,)))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.get_json()["key"])["result"] == "Success"
    value = json.loads(response.get_json()["value"])
    assert value["sourceIdentity"] == {
        "id": group, "type": "Group", "displayName": "Pilot", "details": None
    }  # fmt: skip
    assert peer.member_names(group) == ["ada"]  # bob was not chosen
    assert peer.engine.links.get("User", bob) is None
    peer.close()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "parameters"),
        ({"parameters": [{"ruleId": "other", "subjects": [{}]}]}, "ruleId"),
        ({"parameters": [{"ruleId": "RULE", "subjects": []}]}, "subjects"),
        ({"parameters": [{"ruleId": "RULE", "subjects": [{"objectTypeName": "User"}]}]}, "objectId"),
        ({"parameters": [{"ruleId": "RULE", "subjects": [{"objectId": "x", "objectTypeName": "Device"}]}]}, "User or Group"),
        ({"parameters": [{"ruleId": "RULE", "subjects": [{"objectId": "a", "objectTypeName": "User"}, {"objectId": "b", "objectTypeName": "User"}]}]}, "one subject"),
    ],
)  # fmt: skip
def test_provision_on_demand_refuses_a_body_it_cannot_read(graph, body, words):
    text = json.dumps(body).replace("RULE", rule_id(DOMAIN))
    response = graph.post(
        f"{JOB_URL}/provisionOnDemand", data=text, content_type="application/json"
    )
    assert words in error_of(response, 400)


def test_provision_on_demand_of_an_unknown_or_soft_deleted_user_is_refused(graph, env):
    error_of(graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand("0000")), 404)
    ada = env.add_user("ada")
    error_of(graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(ada, "Group")), 404)
    env.engine.directory.soft_delete(ada)
    assert "soft-deleted" in error_of(
        graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(ada)), 400
    )


def test_provision_on_demand_past_five_in_ten_seconds_is_a_429_with_retry_after(app, env):
    now = [100.0]
    app.extensions["graph.on_demand_limit"] = RateLimit(5, 10.0, clock=lambda: now[0])
    graph = app.test_client()
    ada = env.add_user("ada")
    for _ in range(5):
        assert graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(ada)).status_code == 200
        now[0] += 1.0
    throttled = graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(ada))
    error_of(throttled, 429, "TooManyRequests")
    assert throttled.headers["Retry-After"] == "5"  # the first call leaves the window at 110
    now[0] = 110.0
    assert graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(ada)).status_code == 200


def test_provision_on_demand_waits_for_a_running_cycle_then_answers(graph, env, monkeypatch):
    import threading

    from sandbox.graph import synchronization

    ada = env.add_user("ada")
    held, release = threading.Event(), threading.Event()

    def cycle_running() -> None:
        with env.engine.one_cycle():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=cycle_running)
    holder.start()
    held.wait(10)
    monkeypatch.setattr(synchronization, "ON_DEMAND_WAIT_S", 0.3)
    refused = graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(ada))
    assert "running" in error_of(refused, 409, "Conflict")
    monkeypatch.setattr(synchronization, "ON_DEMAND_WAIT_S", 10.0)
    threading.Timer(0.5, release.set).start()
    waited = graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(ada))
    holder.join(10)
    assert waited.status_code == 200 and env.engine.links.get("User", ada) is not None


# -- credentials -------------------------------------------------------------------------


def test_secrets_configure_the_job_and_an_unmodelled_key_is_refused(graph, env):
    pairs = [
        {"key": "BaseAddress", "value": "https://scim.example.com/scim/v2?aadOptscim062020"},
        {"key": "SecretToken", "value": "t0ken"},
        {"key": "SyncAll", "value": "true"},
        {"key": "SyncNotificationSettings", "value": '{"Enabled":false}'},
    ]
    assert graph.put(f"{BASE}/secrets", json={"value": pairs}).status_code == 204
    config = env.engine.config()
    assert config.tenant_url == "https://scim.example.com/scim/v2?aadOptscim062020"
    assert config.secret_token == "t0ken" and config.scope == "all"
    refused = graph.put(f"{BASE}/secrets", json={"value": [{"key": "Password", "value": "x"}]})
    assert "Password" in error_of(refused, 400)
    bad = graph.put(f"{BASE}/secrets", json={"value": [{"key": "BaseAddress", "value": "ftp://x"}]})
    assert "http(s)" in error_of(bad, 400)
    assert env.engine.config().tenant_url.startswith("https://scim.example.com")  # kept


def test_validate_credentials_tests_the_connection_without_saving(graph, env):
    saved = env.engine.config()
    ok = graph.post(f"{JOB_URL}/validateCredentials", json={"useSavedCredentials": True})
    assert ok.status_code == 204, ok.get_data(as_text=True)
    wrong = {
        "credentials": [
            {"key": "BaseAddress", "value": "local"},
            {"key": "SecretToken", "value": "nope"},
        ]
    }
    message = error_of(graph.post(f"{JOB_URL}/validateCredentials", json=wrong), 400)
    assert "invalid credentials" in message
    assert env.engine.config().secret_token == saved.secret_token  # not saved


# -- the schema --------------------------------------------------------------------------


def test_schema_and_parse_expression_are_the_engines(graph, env):
    schema = graph.get(f"{JOB_URL}/schema").get_json()
    assert schema["synchronizationRules"][0]["id"] == rule_id(DOMAIN)
    assert schema["synchronizationRules"] == env.engine.graph_schema()["synchronizationRules"]
    body = {
        "expression": 'Replace([preferredLanguage], "-", , , "_", , )',
        "testInputObject": {"properties": [{"key": "preferredLanguage", "value": "EN-US"}]},
    }
    answer = graph.post(f"{JOB_URL}/schema/parseExpression", json=body).get_json()
    assert answer["evaluationSucceeded"] and answer["evaluationResult"] == ["EN_US"]
    broken = graph.post(f"{JOB_URL}/schema/parseExpression", json={"expression": "Join("})
    assert broken.status_code == 200 and not broken.get_json()["parsingSucceeded"]
    error_of(graph.post(f"{JOB_URL}/schema/parseExpression", json={}), 400)


# -- the provisioning logs ---------------------------------------------------------------


def test_provisioning_logs_are_the_engines_records_newest_first_with_filters(graph, env):
    env.add_user("ada")
    env.add_user("bob")
    graph.post(f"{JOB_URL}/start")
    env.cycle()
    records = env.records()
    listed = graph.get("/v1.0/auditLogs/provisioning").get_json()["value"]
    assert [r["id"] for r in listed] == [r.id for r in reversed(records)]
    assert {r["provisioningAction"] for r in listed} == {"create"}
    name = f"sourceIdentity/displayName eq 'ada@{DOMAIN}'"
    ada = graph.get(f"/v1.0/auditLogs/provisioning?$filter={name}").get_json()["value"]
    assert [r["sourceIdentity"]["displayName"] for r in ada] == [f"ada@{DOMAIN}"]
    upper = graph.get(f"/v1.0/auditLogs/provisioning?$filter={name.replace('ada', 'Ada')}")
    assert upper.get_json()["value"] == []  # the logs' filters are case sensitive
    top = graph.get("/v1.0/auditLogs/provisioning?$top=1").get_json()
    assert len(top["value"]) == 1 and "skiptoken" in top["@odata.nextLink"]
    status = "provisioningStatusInfo/status eq 'success'"
    assert len(graph.get(f"/v1.0/auditLogs/provisioning?$filter={status}").get_json()["value"]) == 2
    error_of(graph.get("/v1.0/auditLogs/provisioning?$filter=tenantId gt 'a'"), 400)
    error_of(graph.get("/v1.0/auditLogs/provisioning?$select=id"), 400)


def test_input_no_header_or_store_can_take_is_a_400_that_changes_nothing(graph, env):
    saved = env.engine.config()
    token = graph.put(f"{BASE}/secrets", json={"value": [{"key": "SecretToken", "value": "tök"}]})
    assert "printable ASCII" in error_of(token, 400)
    surrogate = '{"value": [{"key": "BaseAddress", "value": "http://x\\ud800.com/scim"}]}'
    lone = graph.put(f"{BASE}/secrets", data=surrogate, content_type="application/json")
    assert "surrogate" in error_of(lone, 400)
    assert env.engine.config() == saved
    for query in ("$top=\u00b2", "$top=\u0661"):
        error_of(graph.get(f"/v1.0/auditLogs/provisioning?{query}"), 400)
    deep = "(" * 350 + "jobId eq 'a'" + ")" * 350
    assert "deeper" in error_of(graph.get(f"/v1.0/auditLogs/provisioning?$filter={deep}"), 400)
    chain = " and ".join(["jobId eq 'a'"] * 1200)
    error_of(graph.get(f"/v1.0/auditLogs/provisioning?$filter={chain}"), 400)


# -- what Graph refuses and the surface once took ------------------------------------------


def test_the_job_and_its_schema_take_no_query_option(graph):
    for path in (f"{JOB_URL}?$select=id", f"{JOB_URL}/schema?$select=id", f"{JOB_URL}?$top=1"):
        error_of(graph.get(path), 400)


@pytest.mark.parametrize("scope", [False, 0, [], {}])
def test_restart_refuses_a_reset_scope_that_is_not_a_string(graph, env, scope):
    env.add_user("ada")
    graph.post(f"{JOB_URL}/start")
    env.cycle()
    response = graph.post(f"{JOB_URL}/restart", json={"criteria": {"resetScope": scope}})
    assert "resetScope" in error_of(response, 400)
    assert not env.engine.state().initial_needed  # nothing was reset


def test_validate_credentials_refuses_a_key_it_does_not_take(graph, env):
    body = {"credentials": [{"key": "BaseAddress", "value": "local"},
                            {"key": "SyncAll", "value": "true"}]}  # fmt: skip
    message = error_of(graph.post(f"{JOB_URL}/validateCredentials", json=body), 400)
    assert "SyncAll" in message and "BaseAddress" in message


def test_provision_on_demand_takes_ids_in_any_case(graph, env):
    ada = env.add_user("ada")
    body = on_demand(ada.upper())
    body["parameters"][0]["ruleId"] = rule_id(DOMAIN).upper()
    response = graph.post(f"{JOB_URL}/provisionOnDemand", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert env.engine.links.get("User", ada) is not None


def test_provision_on_demand_of_a_group_with_more_than_five_members_names_the_field(tmp_path):
    peer = PeerEnv(tmp_path, flagged=False)
    graph = create_graph_app(GraphContext(peer.engine)).test_client()
    names = ("ada", "bob", "cy", "dee", "eve", "fay")
    group = peer.group("Big", *names)
    ids = tuple(peer.engine.directory.get_user(f"{n}@{DOMAIN}").id for n in names)
    response = graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(group, "Group", ids))
    assert "links.members" in error_of(response, 400)
    unchosen = graph.post(f"{JOB_URL}/provisionOnDemand", json=on_demand(group, "Group"))
    message = error_of(unchosen, 400)
    assert "choose up to 5" in message and "links.members" in message
    assert peer.engine.links.get("Group", group) is None
    peer.close()


def test_secret_tokens_are_redacted_in_the_request_log(graph, env):
    pairs = [{"key": "SecretToken", "value": "very-secret-t0ken"}]
    assert graph.put(f"{BASE}/secrets", json={"value": pairs}).status_code == 204
    env.engine.request_log.flush()
    logged = [e.get("request_body") or "" for e in exchanges(env.store, "graph")]
    assert any("SecretToken" in text for text in logged)
    assert not any("very-secret-t0ken" in text for text in logged)


def test_parse_expression_with_a_catastrophic_pattern_answers_within_the_time_limit(graph):
    import time

    body = {
        "expression": 'Replace([mail], , "(a|aa)+$", , "x", , )',
        "testInputObject": {"properties": [{"key": "mail", "value": "a" * 60 + "!"}]},
    }
    started = time.monotonic()
    answer = graph.post(f"{JOB_URL}/schema/parseExpression", json=body)
    assert time.monotonic() - started < 5
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["parsingSucceeded"] and not answer.get_json()["evaluationSucceeded"]
    assert "took longer than" in json.dumps(answer.get_json())
