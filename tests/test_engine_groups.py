"""Group provisioning on the wire (§9) against a SCIM endpoint that serves /Groups (the plain
peer of sandbox/scenarios/peer.py, which takes what Entra sends), in both dialects: groups
deprovisioned like users, one accidental-deletion gate for users and groups (§8.3), group
scoping filters (§7), provision on demand of a group (§1.6), restored members not re-added
(§2.7); and what the local Nulab provider (no /Groups) sees of them."""

from __future__ import annotations

import httpx
import pytest

from sandbox.engine.mappings.scoping import ScopingFilter, make_clause
from sandbox.engine.sync.job import JobConfig
from sandbox.errors import SandboxError
from sandbox.scenarios.peer import ADSCIM_GROUP_SCHEMA, create_peer_app
from sandbox.scim_names import CORE_GROUP_SCHEMA
from tests.engine_env import FLAG, PATCH_OP, EngineEnv

PEER_URL = "https://peer.example/scim/v2"


class PeerEnv(EngineEnv):
    """The engine against the SCIM peer with /Groups, group provisioning on."""

    def __init__(self, folder, *, flagged: bool) -> None:
        super().__init__(folder, flagged=flagged)
        self.peer = create_peer_app(7)
        self.engine.transport = httpx.WSGITransport(app=self.peer)
        self.engine.configure(tenant_url=PEER_URL + (FLAG if flagged else ""), groups_enabled=True)

    @property
    def groups(self) -> dict:
        return self.peer.extensions["peer"]["Groups"]

    @property
    def users(self) -> dict:
        return self.peer.extensions["peer"]["Users"]

    def group(self, name: str, *members: str, assign: bool = True) -> str:
        """A tenant group with these new users as direct members (not assigned themselves)."""
        group = self.engine.directory.add_group(name)
        for alias in members:
            self.engine.directory.add_member(group.id, self.add_user(alias, assign=False))
        if assign:
            self.engine.app.assign(group.id)
        return group.id

    def member_names(self, group_id: str) -> list[str]:
        link = self.engine.links.get("Group", group_id)
        assert link is not None
        ids = [m["value"] for m in self.groups[link.target_id].get("members", [])]
        return sorted(self.users[i]["userName"].split("@")[0] for i in ids)

    def group_writes(self) -> list:
        return [r for r in self.sent() if r.path.startswith("/Groups") and r.method != "GET"]


@pytest.fixture(params=[False, True], ids=["legacy", "flag"])
def peer(request, tmp_path):
    environment = PeerEnv(tmp_path, flagged=request.param)
    yield environment
    environment.close()


# -- the peer takes what Entra sends -----------------------------------------------------------


def test_the_peer_takes_entras_group_post_member_changes_and_delete(peer):
    sales = peer.group("Sales", "ada", "bob")
    peer.cycle()
    post = next(r for r in peer.sent() if r.line == ("POST", "/Groups", ""))
    assert post.body["schemas"] == [CORE_GROUP_SCHEMA, ADSCIM_GROUP_SCHEMA] and post.status == 201
    assert peer.member_names(sales) == ["ada", "bob"]
    peer.engine.directory.remove_member(sales, "bob@contoso.onmicrosoft.com")
    peer.cycle()
    removal = next(r for r in peer.group_writes() if r.method == "PATCH")
    if peer.flagged:  # §3 item 4: a value-filtered path per member
        assert removal.body["Operations"][0]["path"].startswith('members[value eq "')
    else:  # §9 step 6: a Remove with a value list
        assert removal.body["Operations"][0]["op"] == "Remove"
        assert isinstance(removal.body["Operations"][0]["value"], list)
    assert removal.status == 204 and peer.member_names(sales) == ["ada"]


# -- 1: deprovisioning a group -----------------------------------------------------------------


def test_unassigning_a_group_deletes_it_and_logs_a_delete(peer):
    sales = peer.group("Sales", "ada")
    peer.cycle()
    target_id = peer.engine.links.get("Group", sales).target_id
    peer.engine.app.unassign(sales)
    report = peer.cycle()
    assert [r.line for r in peer.group_writes()] == [("DELETE", f"/Groups/{target_id}", "")]
    assert target_id not in peer.groups
    assert peer.engine.links.get("Group", sales) is None
    (record,) = peer.records(report.id, source=sales)
    assert (record.action, record.status) == ("Delete", "Success")
    assert report.counts["deleted"] == 1
    peer.cycle()
    assert peer.group_writes() == []  # gone, and no longer linked: nothing more is sent


def test_a_hard_deleted_group_is_deleted(peer):
    sales = peer.group("Sales", "ada")
    peer.cycle()
    target_id = peer.engine.links.get("Group", sales).target_id
    peer.engine.directory.delete_group(sales)
    peer.cycle()
    assert ("DELETE", f"/Groups/{target_id}", "") in [r.line for r in peer.group_writes()]
    assert target_id not in peer.groups


def test_with_the_delete_action_off_an_unassigned_group_stays(peer):
    sales = peer.group("Sales", "ada")
    peer.cycle()
    peer.engine.configure(delete=False)
    peer.engine.app.unassign(sales)
    report = peer.cycle()
    assert peer.group_writes() == []
    (record,) = peer.records(report.id, source=sales)
    assert record.status == "Skipped" and "Delete target object action is off" in record.reason
    assert peer.engine.links.get("Group", sales) is not None


def test_skip_out_of_scope_deletions_leaves_an_unassigned_group_alone(peer):
    sales = peer.group("Sales", "ada")
    peer.cycle()
    peer.engine.configure(skip_out_of_scope_deletions=True)
    peer.engine.app.unassign(sales)
    report = peer.cycle()
    assert peer.group_writes() == []
    (record,) = peer.records(report.id, source=sales)
    assert record.status == "Skipped" and "SkipOutOfScopeDeletions" in record.reason


# -- 2: accidental-deletion prevention ---------------------------------------------------------


def test_accidental_deletion_prevention_is_off_by_default():
    assert JobConfig().delete_threshold is None


def test_group_deletions_count_toward_the_threshold_and_are_staged(peer):
    ids = [peer.group(name) for name in ("Sales", "Ops", "Legal")]
    peer.cycle()
    peer.engine.configure(delete_threshold=1)
    for group_id in ids:
        peer.engine.directory.delete_group(group_id)
    report = peer.cycle()
    assert peer.group_writes() == []
    assert report.quarantine is not None and report.quarantine.reason == "TooManyDeletes"
    records = peer.records(report.id)
    assert [(r.action, r.status) for r in records] == [("StagedDelete", "Skipped")] * 3
    assert sorted(s for t, s, _a in peer.engine.links.staged() if t == "Group") == sorted(ids)
    peer.engine.allow_deletes()
    report = peer.cycle()
    assert sorted(r.method for r in peer.group_writes()) == ["DELETE"] * 3
    assert peer.groups == {} and report.quarantine is None


def test_a_user_disable_and_a_group_delete_count_together(peer):
    sales = peer.group("Sales")
    ada = peer.add_user("ada")
    peer.cycle()
    peer.engine.configure(delete_threshold=1)
    peer.engine.app.unassign(sales)
    peer.engine.app.unassign(ada)
    report = peer.cycle()
    assert [r for r in peer.sent() if r.method != "GET"] == []
    assert report.quarantine is not None and report.quarantine.reason == "TooManyDeletes"
    assert {(r.object_type, r.action) for r in peer.records(report.id)} == {
        ("User", "StagedDelete"),
        ("Group", "StagedDelete"),
    }


# -- 3: group scoping filters ------------------------------------------------------------------


def test_a_group_out_of_the_group_scoping_filters_is_not_provisioned(peer):
    peer.engine.configure(
        group_scoping_filters=(ScopingFilter((make_clause("displayName", "ENDS_WITH", "-app"),)),)
    )
    sales = peer.group("Sales", "ada")
    crm = peer.group("CRM-app", "bob")
    report = peer.cycle()
    assert [r.body["displayName"] for r in peer.group_writes() if r.method == "POST"] == ["CRM-app"]
    (record,) = peer.records(report.id, source=sales)
    assert record.status == "Skipped" and "group scoping filters" in record.reason
    assert peer.engine.links.get("Group", crm) is not None


def test_a_linked_group_leaving_the_group_scoping_filters_is_deleted(peer):
    sales = peer.group("Sales", "ada")
    peer.cycle()
    target_id = peer.engine.links.get("Group", sales).target_id
    peer.engine.configure(
        group_scoping_filters=(ScopingFilter((make_clause("displayName", "EQUALS", "Ops"),)),)
    )
    peer.cycle()
    assert [r.line for r in peer.group_writes()] == [("DELETE", f"/Groups/{target_id}", "")]
    assert peer.engine.links.get("Group", sales) is None


# -- 4: provision on demand of a group ---------------------------------------------------------


def test_provision_on_demand_of_a_group_provisions_it_and_its_members_in_the_legacy_dialect(peer):
    sales = peer.group("Sales", "ada", "bob")
    result = peer.engine.provision_on_demand("Sales")
    assert (result.record.action, result.record.status) == ("Create", "Success")
    assert sorted(r.source_name.split("@")[0] for r in result.members) == ["ada", "bob"]
    assert peer.member_names(sales) == ["ada", "bob"]
    add = next(r for r in peer.group_writes() if r.method == "PATCH")
    assert add.body == {
        "schemas": [PATCH_OP],
        "Operations": [  # "Add" whatever the flag: on demand ignores it (§1.6)
            {"op": "Add", "path": "members", "value": add.body["Operations"][0]["value"]}
        ],
    }


def test_provision_on_demand_refuses_a_group_of_more_than_five_members(peer):
    peer.group("Big", *[f"user{n}" for n in range(6)])
    with pytest.raises(SandboxError, match="at most 5 members"):
        peer.engine.provision_on_demand("Big")
    assert peer.sent() == []
    result = peer.engine.provision_on_demand("Big", ["user0@contoso.onmicrosoft.com"])
    assert [r.source_name for r in result.members] == ["user0@contoso.onmicrosoft.com"]
    with pytest.raises(SandboxError, match="at most 5 members"):
        peer.engine.provision_on_demand(
            "Big", [f"user{n}@contoso.onmicrosoft.com" for n in range(6)]
        )


def test_provision_on_demand_of_a_whole_group_leaves_out_a_soft_deleted_member(peer):
    peer.group("Sales", "ada", "bob")
    peer.engine.directory.soft_delete("bob@contoso.onmicrosoft.com")
    result = peer.engine.provision_on_demand("Sales")
    assert [r.source_name for r in result.members] == ["ada@contoso.onmicrosoft.com"]
    assert not any(u["userName"].startswith("bob@") for u in peer.users.values())


# -- 5: a restored member is not re-added ------------------------------------------------------


def test_a_restored_user_is_enabled_but_not_added_back_to_its_groups_until_a_restart(peer):
    sales = peer.group("Sales", "ada", "bob")
    peer.cycle()
    peer.engine.directory.soft_delete("ada@contoso.onmicrosoft.com")
    peer.cycle()
    assert peer.member_names(sales) == ["bob"]
    peer.engine.directory.restore("ada@contoso.onmicrosoft.com")
    peer.cycle()
    ada = next(u for u in peer.users.values() if u["userName"].startswith("ada@"))
    assert ada["active"] in (True, "True")  # re-enabled
    assert peer.member_names(sales) == ["bob"]  # its membership is not restored
    assert [r for r in peer.group_writes() if r.method == "PATCH"] == []
    peer.engine.restart()
    peer.cycle()
    assert peer.member_names(sales) == ["ada", "bob"]


# -- the local Nulab provider (no /Groups) -----------------------------------------------------


@pytest.fixture(params=[False, True], ids=["legacy", "flag"])
def local(request, tmp_path):
    environment = EngineEnv(tmp_path, flagged=request.param)
    yield environment
    environment.close()


def test_on_the_local_provider_a_group_pod_quarantines_nothing_and_reports_the_404(local):
    local.engine.configure(groups_enabled=True)
    group = local.engine.directory.add_group("Sales")
    local.engine.directory.add_member(group.id, local.add_user("ada", assign=False))
    local.engine.app.assign(group.id)
    result = local.engine.provision_on_demand("Sales")
    assert result.record.status == "Failure" and "404" in (result.record.reason or "")
    assert [r.status for r in result.members] == ["Success"]
    assert local.engine.state().quarantine is None
