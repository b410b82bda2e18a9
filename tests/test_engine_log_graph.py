"""Provisioning log records carry Graph's provisioningObjectSummary fields (docs/entra-
behaviour.md §8.4): jobId, cycleId as a GUID (one per cycle), changeId, initiatedBy, the
source and target systems, provisioningStatusInfo with the error's category and recommended
action; `sandbox entra logs --json` prints them under Graph's names, and a database written
before they were stored still opens with its records."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

import sandbox.store as store_module
from sandbox.cli import cli
from sandbox.engine.sync.logs import ProvisioningLogs
from sandbox.store import MIGRATIONS, Store

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

GRAPH_KEYS = {
    "id",
    "activityDateTime",
    "tenantId",
    "jobId",
    "cycleId",
    "changeId",
    "provisioningAction",
    "durationInMilliseconds",
    "initiatedBy",
    "servicePrincipal",
    "sourceSystem",
    "targetSystem",
    "sourceIdentity",
    "targetIdentity",
    "provisioningStatusInfo",
    "provisioningSteps",
    "modifiedProperties",
}


@pytest.fixture
def logs(tmp_path):
    """Two cycles: a Nulab Account (409 EntryConflict) and a created user, then an update."""
    db = str(tmp_path / "sandbox.db")

    def run(*args: str):
        return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)

    run("entra", "groups-provisioning", "off")
    run("entra", "mappings", "preset", "nulab")
    run("entra", "assign", "kathryn.smith@contoso.onmicrosoft.com")  # a Nulab Account: 409
    run("entra", "assign", "david.cook@contoso.onmicrosoft.com")
    run("entra", "sync")
    run("entra", "users", "edit", "david.cook@contoso.onmicrosoft.com", "--set", "jobTitle=CTO")
    run("entra", "sync")
    return json.loads(run("entra", "logs", "--json").output)


def test_a_records_json_has_graphs_keys_with_graphs_types(logs):
    for record in logs:
        assert GRAPH_KEYS <= set(record), sorted(GRAPH_KEYS - set(record))
        assert GUID.match(record["cycleId"]) and GUID.match(record["changeId"])
        assert GUID.match(record["id"]) and GUID.match(record["tenantId"])
        assert record["jobId"].startswith("scim.") and record["jobId"].count(".") == 2
        assert isinstance(record["durationInMilliseconds"], int)
        assert record["initiatedBy"]["initiatorType"] == "system"
        assert record["sourceSystem"]["displayName"] == "Azure Active Directory"
        assert record["targetSystem"]["displayName"] == "customappsso"
        assert record["provisioningAction"] in {"create", "update", "delete", "disable",
                                                "stagedDelete", "other"}  # fmt: skip
        assert record["provisioningStatusInfo"]["status"] in {"success", "failure", "skipped",
                                                              "warning"}  # fmt: skip
        for step in record["provisioningSteps"]:
            assert set(step) == {"name", "provisioningStepType", "status", "description",
                                 "details"}  # fmt: skip
        for change in record["modifiedProperties"]:
            assert change["newValue"] is None or isinstance(change["newValue"], str)
    assert len({r["jobId"] for r in logs}) == 1


def test_the_cycle_id_is_one_guid_per_cycle(logs):
    by_cycle: dict[int, set[str]] = {}
    for record in logs:
        by_cycle.setdefault(record["sandbox"]["cycle"], set()).add(record["cycleId"])
    assert len(by_cycle) == 2 and all(len(guids) == 1 for guids in by_cycle.values())
    first, second = (guids.pop() for _cycle, guids in sorted(by_cycle.items()))
    assert first != second
    assert len({r["changeId"] for r in logs}) == len(logs)


def test_a_failure_carries_its_error_category_and_recommended_action(logs):
    failed = [r for r in logs if r["provisioningStatusInfo"]["status"] == "failure"]
    assert failed and failed[0]["sourceIdentity"]["displayName"].startswith("kathryn.smith")
    error = failed[0]["provisioningStatusInfo"]["errorInformation"]
    assert error["errorCode"] == "EntryConflict"
    assert error["errorCategory"] == "nonServiceFailure"
    assert "matching attribute" in error["recommendedAction"]
    assert "Nulab Account" in error["reason"]
    succeeded = [r for r in logs if r["provisioningStatusInfo"]["status"] == "success"]
    assert succeeded and all(
        r["provisioningStatusInfo"] == {"status": "success", "errorInformation": None}
        for r in succeeded
    )
    # each object's simulated cost, in Graph's milliseconds (§1.5): 0.01 to 0.08 minutes
    assert all(600 <= r["durationInMilliseconds"] <= 4800 for r in logs)


def test_a_database_written_before_the_graph_fields_opens_with_its_records(tmp_path, monkeypatch):
    path = str(tmp_path / "old.db")
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[:3])
    old = Store(path)
    assert old.schema_version() == 3
    with old.write() as db:
        db.execute(
            "INSERT INTO cycles (id, kind, started, status) VALUES (1, 'initial', 'x', 'done')"
        )
        db.execute(
            "INSERT INTO provisioning_log (id, cycle_id, change_id, at, object_type, source_id,"
            " source_name, action, status, error_code, reason, steps, modified, exchanges,"
            " duration_ms) VALUES ('r1', 1, 'c1', '2026-01-05T09:00:00.000Z', 'User', 'u1',"
            " 'ada@contoso.onmicrosoft.com', 'Create', 'Failure', 'EntryConflict', 'taken',"
            " '[]', '[]', '[\"engine#1\"]', 12.5)"
        )
    old.close()
    monkeypatch.undo()

    store = Store(path)
    assert store.schema_version() == len(MIGRATIONS)
    (record,) = ProvisioningLogs(store).query()
    assert (record.id, record.change_id, record.reason, record.exchanges) == (
        "r1",
        "c1",
        "taken",
        ["engine#1"],
    )
    guid = store.scalar("SELECT guid FROM cycles WHERE id = 1")
    assert GUID.match(guid) and record.cycle_guid == guid
    assert record.job_id.startswith("scim.") and record.initiated_by == "system"
    assert record.error_category == "nonServiceFailure" and record.recommended_action
    store.close()
