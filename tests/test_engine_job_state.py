"""The job's state on the wire, as Microsoft's pages describe it: a cleared manager (§2.4),
provision on demand's limits (§1.6), Test connection's GUID (§2.2), the quarantine ladder and
the failure caps (§8.1, §8.2), restart criteria and the scope switch (§1.4); in both dialects
(tenant URL without and with ?aadOptscim062020) where the dialect shows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox.engine.sync.clock import parse_time
from sandbox.engine.sync.quarantine import EscrowCounts, escrow_verdict
from sandbox.engine.sync.service import JobDisabledError, OnDemandRefused
from sandbox.errors import SandboxError
from sandbox.provider.faults import Faults
from tests.engine_env import DOMAIN, ENTERPRISE, EngineEnv, patch, user_query

MANAGER = f"{ENTERPRISE}:manager"


@pytest.fixture(params=[False, True], ids=["legacy", "flag"])
def env(request, tmp_path):
    environment = EngineEnv(tmp_path, flagged=request.param)
    yield environment
    environment.close()


@pytest.fixture
def legacy(tmp_path):
    environment = EngineEnv(tmp_path)
    yield environment
    environment.close()


def writes(env: EngineEnv) -> list:
    return [r for r in env.sent() if r.method != "GET"]


# -- §2.4: the manager cleared ------------------------------------------------------------------


def test_clearing_the_manager_replaces_it_with_an_empty_string_and_logs_an_empty_new_value(env):
    ada = env.add_user("ada")
    bob = env.add_user("bob", manager=ada)
    env.cycle()
    manager_id = env.target_id(ada)
    env.engine.directory.edit_user(bob, manager=None)
    report = env.cycle()
    assert [(r.line, r.body) for r in writes(env)] == [
        (
            ("PATCH", f"/Users/{env.target_id(bob)}", ""),
            patch({"op": env.op("Replace"), "path": MANAGER, "value": ""}),
        )
    ]
    (record,) = env.records(report.id, source=bob)
    assert (record.action, record.status) == ("Update", "Success")
    assert record.modified == [{"displayName": MANAGER, "oldValue": manager_id, "newValue": ""}]
    assert env.org.member(f"bob@{DOMAIN}") is not None
    env.cycle()  # the removal is in the exported state: nothing is sent again
    assert writes(env) == []


def test_other_cleared_values_are_still_not_sent(env):
    (bob,) = [env.add_user("bob", jobTitle="Boss")]
    env.cycle()
    env.engine.directory.edit_user(bob, jobTitle=None)
    env.cycle()
    assert writes(env) == []


# -- §1.6: provision on demand ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "words"),
    [("soft delete", "soft-deleted"), ("block sign-in", "disabled (accountEnabled false)")],
)
def test_on_demand_refuses_a_user_disabled_or_deleted_in_entra_and_sends_nothing(
    legacy, event, words
):
    ada = legacy.add_user("ada")
    legacy.cycle()
    directory = legacy.engine.directory
    {"soft delete": directory.soft_delete, "block sign-in": directory.block}[event](ada)
    legacy.mark()
    with pytest.raises(OnDemandRefused) as refused:
        legacy.engine.provision_on_demand(ada)
    assert words in str(refused.value) and "don't appear when you search" in str(refused.value)
    assert legacy.sent() == []
    assert legacy.org.member(f"ada@{DOMAIN}").active is True
    legacy.cycle()  # a cycle deprovisions the user
    assert [r.body for r in writes(legacy)] == [
        patch({"op": "Replace", "path": "active", "value": "False"})
    ]


def test_on_demand_still_disables_a_user_unassigned_from_the_app(legacy):
    ada = legacy.add_user("ada")
    legacy.cycle()
    legacy.engine.app.unassign(ada)
    result = legacy.engine.provision_on_demand(ada)
    assert (result.record.action, result.record.status) == ("Disable", "Success")


def test_on_demand_sends_the_users_changes_but_not_its_role_which_the_next_cycle_sends(env):
    env.preset("nulab")
    bob = env.add_user("bob", role="USER")
    env.cycle()
    env.engine.app.set_role(bob, "ADMIN")
    env.engine.directory.edit_user(bob, displayName="Bob B.")
    env.mark()
    result = env.engine.provision_on_demand(bob)
    assert result.record.status == "Success"
    (sent,) = writes(env)
    assert sent.body == patch({"op": "Replace", "path": "displayName", "value": "Bob B."})
    assert env.org.member(f"bob@{DOMAIN}").role == "USER"
    env.cycle()
    (sent,) = writes(env)
    assert [op["path"] for op in sent.body["Operations"]] == ["roles"]
    assert env.org.member(f"bob@{DOMAIN}").role == "ADMIN"


def test_on_demand_creates_a_user_without_its_role(legacy):
    legacy.preset("nulab")
    ada = legacy.add_user("ada", role="ADMIN")
    legacy.engine.provision_on_demand(ada)
    (post,) = writes(legacy)
    assert post.line[:2] == ("POST", "/Users") and "roles" not in post.body
    legacy.cycle()
    assert [r.line[0] for r in writes(legacy)] == ["PATCH"]
    assert legacy.org.member(f"ada@{DOMAIN}").role == "ADMIN"


# -- §2.2: Test connection's GUID ---------------------------------------------------------------


def _guids(env: EngineEnv, times: int) -> list[str]:
    env.mark()
    for _ in range(times):
        assert env.engine.test_connection().ok
    return [r.query for r in env.sent()]


def test_each_test_connection_queries_a_new_guid_and_the_seed_replays_them(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = EngineEnv(tmp_path / "a"), EngineEnv(tmp_path / "b")
    try:
        guids = _guids(first, 3)
        assert len(set(guids)) == 3
        assert _guids(second, 3) == guids  # the same seed and history: the same GUIDs
    finally:
        first.close()
        second.close()


# -- §8.2: the quarantine ladder and the disabled job -------------------------------------------


def test_quarantine_retries_6_12_24_hours_after_the_first_failure_then_daily(legacy):
    legacy.add_user("ada")
    Faults(legacy.store).add(status=401)
    reports = legacy.engine.sync(6)
    began = parse_time(reports[0].quarantine.series_began)
    gaps = [parse_time(r.state.next_cycle) - began for r in reports]
    assert gaps == [timedelta(hours=h) for h in (6, 12, 24, 48, 72, 96)]
    assert {r.quarantine.series_began for r in reports} == {reports[0].started}


def test_after_28_days_in_quarantine_the_job_is_disabled_and_its_escrows_removed(legacy):
    legacy.add_user("ada")
    legacy.engine.start()
    faults = Faults(legacy.store)
    faults.add(method="POST", status=500)  # ada escrowed
    legacy.cycle()
    faults.clear()
    faults.add(status=401)
    reports = legacy.engine.sync(60)
    last = reports[-1]
    assert len(reports) == 31  # +6 h, +12 h, +24 h, then daily to day 28; then it stops
    began = parse_time(last.quarantine.series_began)
    assert parse_time(last.started) - began == timedelta(days=28)
    status = legacy.engine.status()
    assert (status["status"], status["schedule"], status["running"]) == (
        "Quarantine",
        "Disabled",
        False,
    )
    assert "more than four weeks" in status["disabled"] and "stops running" in status["disabled"]
    assert status["next_cycle"] is None and status["escrows"] == 0
    with pytest.raises(JobDisabledError):
        legacy.engine.sync()
    faults.clear()
    legacy.engine.start()
    assert legacy.engine.status()["schedule"] == "Active"
    assert legacy.cycle().quarantine is None


def test_a_restart_after_28_days_in_quarantine_enables_the_job_and_its_cycles_run_again(legacy):
    # §8.2 "a restart enables it again"; Graph's restart: "Restart a stopped synchronization
    # job, forcing it to reprocess all the objects in the directory" (§1.4).
    legacy.add_user("ada")
    legacy.engine.start()
    faults = Faults(legacy.store)
    faults.add(status=401)
    legacy.engine.sync(60)
    assert legacy.engine.status()["schedule"] == "Disabled"
    faults.clear()
    state = legacy.engine.restart()
    assert state.running and state.disabled is None and state.initial_needed
    status = legacy.engine.status()
    assert (status["status"], status["schedule"], status["running"]) == ("Active", "Active", True)
    assert legacy.engine.cycle_due()  # the next cycle is now, not only after a Start
    assert legacy.engine.graph_job()["schedule"]["state"] == "Active"
    report = legacy.cycle()
    assert report.kind == "initial" and report.quarantine is None


def test_a_restart_starts_a_stopped_job(legacy):
    legacy.add_user("ada")
    legacy.engine.start()
    legacy.cycle()
    legacy.engine.stop()
    assert not legacy.engine.cycle_due()
    state = legacy.engine.restart("Watermark")
    assert state.running and legacy.engine.cycle_due()
    assert legacy.engine.status()["schedule"] == "Active"


def test_a_restart_before_the_credentials_is_refused(legacy):
    legacy.engine.configure(tenant_url="")
    with pytest.raises(SandboxError, match="tenant URL"):
        legacy.engine.restart()
    assert not legacy.engine.state().running


# -- §8.1, §8.2: failure caps and reference failures --------------------------------------------


@pytest.mark.parametrize(
    ("failures", "references", "events", "reason"),
    [
        # Microsoft Learn's examples, "Application provisioning in quarantine status"
        (4_000, 0, 4_000, None),  # under the 5,000 where evaluation starts
        (45_000, 0, 200_000, "EncounteredBaseEscrowThreshold"),  # more than 40,000
        (30_000, 0, 35_000, "EncounteredEscrowProportionThreshold"),  # more than 40 %
        (20_000, 0, 120_000, None),  # neither 40 % nor 40,000
        (40_000, 21_000, 200_000, "EncounteredTotalEscrowThreshold"),  # 61,000 > 60,000
        (1_000, 39_000, 10_000, None),  # reference failures count toward neither 40 % nor 40,000
    ],
)
def test_the_escrow_thresholds_and_their_reasons(failures, references, events, reason):
    verdict = escrow_verdict(EscrowCounts(failures, references, events), 5_000)
    assert (verdict[0] if verdict else None) == reason


def test_a_failed_manager_reference_is_escrowed_and_retried_like_any_failure(env):
    ada = env.add_user("ada")
    bob = env.add_user("bob", manager=ada)
    Faults(env.store).add(method="PATCH", path="/Users/*", status=500, count=1)
    report = env.cycle()
    (record,) = env.records(report.id, source=bob)
    assert (record.action, record.status) == ("Create", "Warning")
    assert "It will be retried again after this date" in record.reason
    (escrow,) = env.engine.links.escrows()
    assert (escrow.source_id, escrow.reference) == (bob, True)
    env.engine.clock.advance(timedelta(minutes=40))
    env.cycle()
    manager = {"op": env.op("Add"), "path": MANAGER, "value": env.target_id(ada)}
    assert [(r.line, r.body) for r in writes(env)] == [
        (("PATCH", f"/Users/{env.target_id(bob)}", ""), patch(manager))
    ]
    assert env.engine.links.escrow_count() == 0


def test_reference_failures_count_toward_the_absolute_cap_only(legacy):
    legacy.engine.configure(escrow_threshold=1)  # caps: 8 failures, 12 of any kind
    boss = legacy.add_user("boss")
    for n in range(13):
        legacy.add_user(f"report{n}", manager=boss)
    Faults(legacy.store).add(method="PATCH", path="/Users/*", status=500)
    report = legacy.cycle()
    assert report.counts["created"] == 14 and report.counts["failed"] == 0
    assert report.quarantine is not None
    assert report.quarantine.reason == "EncounteredTotalEscrowThreshold"


def test_more_failures_than_the_base_cap_quarantine_with_its_reason(legacy):
    legacy.engine.configure(escrow_threshold=1)  # caps: 8 failures, 12 of any kind
    for n in range(25):
        legacy.add_user(f"user{n:02}")
    Faults(legacy.store).add(method="POST", path="/Users", status=500, count=9)
    report = legacy.cycle()
    assert (report.counts["failed"], report.counts["created"]) == (9, 16)  # 36 %: under 40 %
    assert report.quarantine is not None
    assert report.quarantine.reason == "EncounteredBaseEscrowThreshold"


# -- §1.4: restart criteria and the scope switch ------------------------------------------------


def test_a_connector_data_store_reset_makes_the_next_cycle_match_every_user_again(legacy):
    ada = legacy.add_user("ada")
    bob = legacy.add_user("bob")
    legacy.cycle()
    legacy.cycle()
    assert legacy.sent() == []  # incremental, nothing changed
    state = legacy.engine.restart("ConnectorDataStore")
    assert state.initial_needed and legacy.engine.links.linked_ids("User") == set()
    report = legacy.cycle()
    assert report.kind == "initial"
    queries = {r.line for r in legacy.sent() if r.method == "GET"}
    assert queries == {("GET", "/Users", user_query(f"{a}@{DOMAIN}")) for a in ("ada", "bob")}
    assert legacy.engine.links.linked_ids("User") == {ada, bob}


def test_a_restart_with_none_starts_the_job_and_resets_nothing(legacy):
    legacy.add_user("ada")
    legacy.cycle()
    state = legacy.engine.restart("None")
    assert state.running and not state.initial_needed


def test_switching_scope_from_all_to_assigned_takes_effect_only_after_a_restart(env):
    env.engine.configure(scope="all")
    cy = env.add_user("cy", assign=False)
    env.cycle()
    assert cy in env.engine.links.linked_ids("User")
    env.engine.configure(scope="assigned")
    assert env.engine.status()["scope"] == "assigned (all until a restart)"
    env.engine.directory.edit_user(cy, jobTitle="Clerk")
    env.cycle()  # still "all": cy is updated, not disabled
    assert [r.body for r in writes(env)] == [
        patch({"op": env.op("Add"), "path": "title", "value": "Clerk"})
    ]
    env.engine.restart()
    assert env.engine.status()["scope"] == "assigned"
    env.cycle()  # cy (and every other unassigned user "all" provisioned) is disabled
    assert [r.body for r in writes(env) if r.path == f"/Users/{env.target_id(cy)}"] == [
        patch({"op": env.op("Replace"), "path": "active", "value": env.active(False)})
    ]
