"""Fault injection: stored rules answer statuses, add latency or drop connections, on purpose."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.errors import SandboxError
from sandbox.provider import create_app
from sandbox.provider.faults import Faults
from sandbox.server import EmbeddedServer
from tests.conftest import assert_scim_error, user_body

BASE = "/scim/v2"


@pytest.fixture
def faults(store):
    return Faults(store)


@pytest.mark.parametrize("status", [401, 404, 409, 500, 503])
def test_a_status_fault_answers_that_status_as_scim_json(client, faults, status):
    faults.add(method="POST", path="/Users", status=status)
    body = assert_scim_error(client.post(f"{BASE}/Users", json=user_body("f@x.example")), status)
    assert "fault injected" in body["detail"]
    assert client.get(f"{BASE}/Users").status_code == 200  # other methods untouched


def test_429_carries_retry_after(client, faults):
    faults.add(path="/Users*", status=429, retry_after=7)
    response = client.get(f"{BASE}/Users")
    assert_scim_error(response, 429)
    assert response.headers["Retry-After"] == "7"


def test_an_injected_401_beats_a_valid_token(client, faults):
    faults.add(status=401)
    response = client.get(f"{BASE}/Users")
    assert_scim_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_count_limits_a_rule_to_the_next_n_requests(client, faults):
    faults.add(path="/Users", status=503, count=2)
    statuses = [client.get(f"{BASE}/Users").status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    assert faults.list() == []


def test_probability_is_seeded_and_reproducible(store, client):
    def run() -> list[int]:
        faults = Faults(store)
        faults.clear()
        faults.add(status=500, probability=0.5, seed=42)
        client.application.extensions["sandbox"].faults = faults
        return [client.get(f"{BASE}/Users").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(500) < 20


def test_latency_delays_then_answers_normally(app, client, faults):
    faults.add(method="GET", status=None, latency_ms=120)
    assert client.get(f"{BASE}/Users").status_code == 200
    entry = app.extensions["sandbox"].request_log.entries(1)[0]
    assert entry["latency_ms"] >= 120
    assert entry["notes"][0].startswith("injected fault #")


def test_a_dropped_connection_gives_the_client_no_response(app, token, faults):
    faults.add(path="/Users", drop=True)
    server = EmbeddedServer(app).start()
    try:
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.url}{BASE}/Users", headers={"Authorization": f"Bearer {token}"})
        ok = httpx.get(f"{server.url}{BASE}/Schemas", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    finally:
        server.stop()


def test_injected_responses_are_marked_in_the_request_log(app, client, faults):
    faults.add(status=409, path="/Users")
    client.post(f"{BASE}/Users", json=user_body("m@x.example"))
    entry = app.extensions["sandbox"].request_log.entries(1)[0]
    assert entry["status"] == 409
    assert any("injected fault" in note for note in entry["notes"])


def test_rules_change_while_the_app_runs(client, faults):
    assert client.get(f"{BASE}/Users").status_code == 200
    rule = faults.add(status=500)
    assert client.get(f"{BASE}/Users").status_code == 500
    faults.clear(rule.id)
    assert client.get(f"{BASE}/Users").status_code == 200


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"status": 418}, "status must be one of"),
        ({}, "needs a status, a latency or --drop"),
        ({"status": 500, "retry_after": 3}, "429 or 503"),
        ({"status": 500, "count": 0}, "between 1 and"),
        ({"status": 500, "probability": 1.5}, "(0, 1]"),
        ({"status": 500, "count": 2, "probability": 0.5}, "not both"),
        ({"method": "BREW", "status": 500}, "method must be"),
        ({"drop": True, "status": 500}, "one or the other"),
        ({"latency_ms": -1}, "latency must be"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(faults, kwargs, message):
    with pytest.raises(SandboxError, match=message.replace("(", r"\(").replace("]", r"\]")):
        faults.add(**kwargs)
    assert faults.list() == []


def test_the_cli_adds_lists_and_clears_rules(tmp_path):
    db = str(tmp_path / "f.db")
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "provider",
            "faults",
            "add",
            "--db",
            db,
            "--method",
            "post",
            "--path",
            "/Users*",
            "--status",
            "429",
            "--retry-after",
            "5",
            "--count",
            "3",
            "--json",
        ],
    )
    assert added.exit_code == 0, added.output
    rule = json.loads(added.output)
    assert (rule["method"], rule["status"], rule["retry_after"], rule["remaining"]) == (
        "POST",
        429,
        5,
        3,
    )
    listed = runner.invoke(cli, ["provider", "faults", "list", "--db", db])
    assert "POST /Users*: 429 Retry-After 5 (next 3)" in listed.output
    bad = runner.invoke(cli, ["provider", "faults", "add", "--db", db, "--status", "418"])
    assert bad.exit_code == 1 and bad.output.startswith("Error: status must be one of")
    cleared = runner.invoke(cli, ["provider", "faults", "clear", "--db", db])
    assert "Removed 1 fault rule." in cleared.output
    missing = runner.invoke(cli, ["provider", "faults", "clear", "--db", db, "99"])
    assert missing.exit_code == 1 and "no fault rule #99" in missing.output


def test_a_probability_rule_is_one_seeded_sequence_across_server_workers(store, settings, token):
    # Two apps over one database are two worker processes of `sandbox serve` (or of the
    # default path's provider): whichever answers, the same requests fail as with one.
    def statuses(clients: list) -> list[int]:
        faults = Faults(store)
        faults.clear()
        faults.add(status=500, probability=0.5, seed=7)
        return [clients[n % len(clients)].get(f"{BASE}/Users").status_code for n in range(24)]

    def client_of(app):
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client

    apps = [create_app(store, settings) for _ in range(2)]
    try:
        one = statuses([client_of(apps[0])])
        two = statuses([client_of(app) for app in apps])
    finally:
        for app in apps:
            app.extensions["sandbox"].request_log.close()
    assert one == two
    assert 0 < one.count(500) < 24
