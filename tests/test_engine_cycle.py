"""The engine's cycles on the wire: the exact requests Entra's provisioning service sends for
the key behaviours of docs/entra-behaviour.md (§1-§4, §8, §9) and every deprovisioning
event of §2.7, in both dialects (tenant URL without and with ?aadOptscim062020)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from sandbox.engine.mappings.mapping import expression
from sandbox.engine.mappings.presets import PRESETS, default_user_mappings
from sandbox.engine.mappings.scoping import ScopingFilter, make_clause
from sandbox.engine.scim.target_errors import CONNECTION_OK, INVALID_CREDENTIALS
from sandbox.engine.scim.wire import ROLE_TYPE
from sandbox.engine.sync.users_pass import PHASE_REFERENCES, PHASE_USERS
from sandbox.provider.faults import Faults
from tests.engine_env import CORE_USER, DOMAIN, ENTERPRISE, EngineEnv, patch, user_query

GUID = re.compile(
    r'^filter=userName eq "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$'
)


@pytest.fixture(params=[False, True], ids=["legacy", "flag"])
def env(request, tmp_path):
    environment = EngineEnv(tmp_path, flagged=request.param)
    yield environment
    environment.close()


@pytest.fixture(params=[False, True], ids=["legacy", "flag"])
def core_env(request, tmp_path):
    """The engine against the plain SCIM core provider (no organization rules)."""
    environment = EngineEnv(tmp_path, flagged=request.param, rules="core")
    yield environment
    environment.close()


def ada_post(alias: str = "ada", **extra: object) -> dict:
    """Entra's POST body for an `EngineEnv.add_user` user under the default mappings (§2.3)."""
    body = {
        "schemas": [CORE_USER, ENTERPRISE],
        "userName": f"{alias}@{DOMAIN}",
        "active": True,
        "displayName": alias.title(),
        "emails": [{"primary": True, "type": "work", "value": f"{alias}@{DOMAIN}"}],
        "name": {
            "givenName": alias.title(),
            "familyName": "Test",
            "formatted": f"{alias.title()} Test",
        },
        "externalId": alias,
        ENTERPRISE: {"department": "Engineering"},
        "meta": {"resourceType": "User"},
    }
    body.update(extra)
    return body


def provisioned(env: EngineEnv, *aliases: str) -> list[str]:
    """Tenant users created and provisioned by a first (initial) cycle; their ids."""
    ids = [env.add_user(alias) for alias in aliases]
    report = env.cycle()
    assert report.counts["created"] == len(aliases), report.to_dict()
    return ids


def writes(env: EngineEnv) -> list:
    return [r for r in env.sent() if r.method != "GET"]


# -- 1, 2: initial cycle, match-then-create, match-then-link, links ---------------------------


def test_initial_cycle_queries_user_name_then_posts_entras_body(env):
    user = env.add_user("ada")
    report = env.cycle()
    sent = env.sent()
    assert [r.line for r in sent] == [
        ("GET", "/Users", user_query(f"ada@{DOMAIN}")),
        ("POST", "/Users", ""),
    ]
    assert sent[1].body == ada_post()  # the flag changes no POST (§3 "unchanged")
    assert sent[1].status == 201
    assert report.kind == "initial" and report.counts["created"] == 1 and report.requests == 2
    (record,) = env.records(report.id)
    assert (record.action, record.status, record.source_id) == ("Create", "Success", user)
    assert record.target_id == env.target_id(user)


def test_a_managed_account_matched_by_mail_is_linked_and_patched_only_where_different(env):
    env.preset("nulab")
    member = next(
        m
        for m in env.org.members()
        if m.eligible and m.role == "USER" and m.timezone != "Europe/Amsterdam"
    )
    tenant_user = env.engine.directory.get_user(member.email)  # mail = the member's email
    assert tenant_user.user_principal_name != member.email
    env.engine.directory.edit_user(tenant_user.id, preferredLanguage="ja-JP", country="Netherlands")
    env.engine.app.assign(tenant_user.id, "USER")
    report = env.cycle()
    sent = env.sent()
    assert [r.line for r in sent] == [
        ("GET", "/Users", user_query(member.email)),
        ("PATCH", f"/Users/{member.id}", ""),
    ]
    # Only what differs: externalId was empty (Add); the language tag and the time zone differ
    # (Replace); userName, displayName, active, the role and the work email already match.
    upn = tenant_user.user_principal_name
    if env.flagged:
        assert sent[1].body == patch(
            {
                "op": "replace",
                "value": {"preferredLanguage": "ja-JP", "timezone": "Europe/Amsterdam"},
            },
            {"op": "add", "path": "externalId", "value": upn},
        )
    else:
        assert sent[1].body == patch(
            {"op": "Add", "path": "externalId", "value": upn},
            {"op": "Replace", "path": "preferredLanguage", "value": "ja-JP"},
            {"op": "Replace", "path": "timezone", "value": "Europe/Amsterdam"},
        )
    assert report.counts["created"] == 0 and report.counts["updated"] == 1
    assert env.target_id(tenant_user.id) == member.id
    assert env.org.member(member.id).label == "Provisioned Managed Account"


def _target_users_sharing_external_id(env, *names: str) -> None:
    """Match on externalId, and put users with these userNames and externalId "ada" in the
    target (so a tenant user "ada" matches all of them)."""
    env.engine.configure(
        user_mappings=tuple(
            replace(m, matching_precedence=1 if m.target == "externalId" else 0)
            for m in default_user_mappings()
        )
    )
    token = env.engine.config().secret_token
    with httpx.Client(
        transport=httpx.WSGITransport(app=env.provider),
        base_url="http://provider/scim/v2",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        for name in names:
            response = client.post(
                "/Users", json={"schemas": [CORE_USER], "userName": name, "externalId": "ada"}
            )
            assert response.status_code == 201


def test_several_matches_are_duplicate_target_entries_and_nothing_is_written(core_env):
    env = core_env
    _target_users_sharing_external_id(env, "ada.one@example.com", "ada.two@example.com")
    user = env.add_user("ada")
    report = env.cycle()
    assert env.lines() == [("GET", "/Users", user_query("ada", "externalId"))]
    (record,) = env.records(report.id)
    assert (record.status, record.error_code) == ("Failure", "DuplicateTargetEntries")
    assert env.engine.links.get("User", user) is None
    assert report.counts["failed"] == 1


def test_a_duplicate_match_is_logged_with_how_many_matched(core_env):
    env = core_env
    _target_users_sharing_external_id(
        env, "ada.one@example.com", "ada.two@example.com", "ada.three@example.com"
    )
    env.add_user("ada")
    (record,) = env.records(env.cycle().id)
    matching = [s for s in record.steps if s.type == "matching"]
    assert [(s.description, s.details["matches"]) for s in matching] == [
        ("Retrieved 3 'externalId eq ada' from customappsso", 3)
    ]
    assert record.reason.startswith(
        '3 users in customappsso match externalId eq "ada" This operation was retried 0 times.'
    )


def test_links_are_kept_and_later_requests_address_the_target_id(env):
    (ada,) = provisioned(env, "ada")
    target_id = env.target_id(ada)
    env.engine.directory.edit_user(ada, jobTitle="Engineer")
    env.cycle()
    assert env.lines() == [("GET", f"/Users/{target_id}", ""), ("PATCH", f"/Users/{target_id}", "")]
    assert env.sent()[1].body == patch({"op": env.op("Add"), "path": "title", "value": "Engineer"})


# -- 1: incremental cycles, watermark, restart, mapping changes ------------------------------


def test_incremental_cycle_sends_requests_only_for_users_changed_since_the_watermark(env):
    ids = provisioned(env, "ada", "bob", "cy", "dee", "eve")
    for user_id, title in zip(ids[:2], ("Engineer", "Analyst"), strict=True):
        env.engine.directory.edit_user(user_id, jobTitle=title)
    report = env.cycle()
    assert report.kind == "incremental"
    assert sorted(env.lines()) == sorted(
        [(m, f"/Users/{env.target_id(u)}", "") for u in ids[:2] for m in ("GET", "PATCH")]
    )
    assert report.requests == 4 and report.counts["updated"] == 2


def test_no_change_means_no_request_and_a_redundant_export_log(env):
    (ada,) = provisioned(env, "ada")
    report = env.cycle()
    assert env.sent() == [] and report.requests == 0
    env.engine.directory.edit_user(ada, usageLocation="JP")  # not mapped
    report = env.cycle()
    assert writes(env) == []
    (record,) = env.records(report.id)
    assert (record.action, record.status) == ("Other", "Skipped")
    skip = record.steps[-1]
    assert (skip.name, skip.details) == (
        "EntrySynchronizationSkip",
        {"SkipReason": "RedundantExport"},
    )
    assert (
        record.reason
        == "The state of the user in both the source and target systems already match."
    )


def test_restart_clears_watermark_escrows_and_quarantine_and_keeps_links(env):
    ada, bob = provisioned(env, "ada", "bob")
    faults = Faults(env.store)
    faults.add(method="PATCH", path="/Users/*", status=500)
    for user_id in (ada, bob):
        env.engine.directory.edit_user(user_id, jobTitle="Engineer")
    env.cycle()
    assert env.engine.links.escrow_count() == 2
    faults.clear()
    faults.add(status=401)
    env.engine.clock.advance(timedelta(minutes=40))  # the escrows are due: 401, quarantine
    assert env.cycle().quarantine is not None
    faults.clear()
    state = env.engine.restart()
    assert state.initial_needed and state.quarantine is None
    assert env.engine.links.escrow_count() == 0
    assert env.engine.links.linked_ids("User") == {ada, bob}
    report = env.cycle()
    assert report.kind == "initial" and report.quarantine is None
    # Linked users are read by id, never matched again by filter (§1.4: links survive).
    assert sorted(r for r in env.lines() if r[0] == "GET") == sorted(
        [("GET", f"/Users/{env.target_id(u)}", "") for u in (ada, bob)]
    )
    assert report.counts["updated"] == 2


def test_changing_the_mappings_forces_an_initial_cycle(env):
    (ada,) = provisioned(env, "ada")
    env.cycle()
    assert env.engine.state().initial_needed is False
    mappings = tuple(
        replace(m, default="Staff") if m.target == "title" else m for m in default_user_mappings()
    )
    env.engine.configure(user_mappings=mappings)
    assert env.engine.state().initial_needed is True
    report = env.cycle()
    assert report.kind == "initial"
    # Every linked user re-evaluated by id; the default applies on create only: no title.
    assert env.lines() == [("GET", f"/Users/{env.target_id(ada)}", "")]
    assert env.engine.state().initial_needed is False


# -- 3: Test Connection -----------------------------------------------------------------------


def test_test_connection_queries_a_random_guid_and_reports_success(env):
    result = env.engine.test_connection()
    assert result.ok and result.message == CONNECTION_OK
    assert result.message == "The specified credentials have permission to enable provisioning."
    ((method, path, query),) = env.lines()
    assert (method, path) == ("GET", "/Users") and GUID.match(query)


def test_test_connection_with_a_bad_token_fails_with_entras_message(env):
    env.engine.configure(secret_token="not-the-token")
    result = env.engine.test_connection()
    assert not result.ok and result.message == INVALID_CREDENTIALS
    assert env.sent()[0].status == 401


# -- 4: legacy vs flag PATCH bodies -----------------------------------------------------------


def test_the_same_source_change_in_each_dialect(env):
    (ada,) = provisioned(env, "ada")
    env.engine.directory.block(ada)
    env.cycle()
    env.engine.directory.edit_user(
        ada, displayName="Ada L.", department="Retail", accountEnabled=True
    )
    env.cycle()
    target = env.target_id(ada)
    assert env.lines() == [("GET", f"/Users/{target}", ""), ("PATCH", f"/Users/{target}", "")]
    body = env.sent()[1].body
    if env.flagged:  # §3 item 3: one path-less replace with dotted/URN keys, boolean active
        assert body == patch(
            {
                "op": "replace",
                "value": {
                    "active": True,
                    "displayName": "Ada L.",
                    f"{ENTERPRISE}:department": "Retail",
                },
            }
        )
    else:  # §2.4: one PascalCase op per attribute with its path, active as a string
        assert body == patch(
            {"op": "Replace", "path": "active", "value": "True"},
            {"op": "Replace", "path": "displayName", "value": "Ada L."},
            {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Retail"},
        )


def test_complex_roles_are_patched_with_each_app_roles_id_through_a_cycle(core_env):
    """§5.5: AppRoleAssignmentsComplex's POST has no `id`; its PATCH without the flag sends each
    role as stringified {id, value, displayName} (Microsoft's example), the id the app role's;
    with the flag the role objects of the POST. Checked on what a cycle sends, not on
    user_patch fed an id."""
    env = core_env
    env.engine.configure(
        user_mappings=(
            *default_user_mappings(),
            expression("roles", "AppRoleAssignmentsComplex([appRoleAssignments])"),
        )
    )
    ada = env.add_user("ada", role="USER")
    env.cycle()
    (post,) = [r.body for r in writes(env) if r.method == "POST"]
    user_role = {"primary": False, "type": ROLE_TYPE, "displayName": "User", "value": "USER"}
    assert post["roles"] == [user_role]  # no id in the POST, as Microsoft's example
    env.engine.app.assign(ada, "ADMIN")
    env.cycle()
    (sent,) = [r for r in writes(env) if r.method == "PATCH"]
    assert sent.path == f"/Users/{env.target_id(ada)}"
    admin_role = {"primary": False, "type": ROLE_TYPE, "displayName": "Admin", "value": "ADMIN"}
    if env.flagged:
        assert sent.body == patch({"op": "add", "path": "roles", "value": [user_role, admin_role]})
    else:
        ids = {r.value: r.id for r in env.engine.app.roles()}
        assert sent.body == patch(
            {
                "op": "Add",
                "path": "roles",
                "value": [
                    {"value": f'{{"id":"{ids["USER"]}","value":"USER","displayName":"User"}}'},
                    {"value": f'{{"id":"{ids["ADMIN"]}","value":"ADMIN","displayName":"Admin"}}'},
                ],
            }
        )


# -- 5: deprovisioning (§2.7) -----------------------------------------------------------------


def disable_body(env: EngineEnv) -> dict:
    return patch({"op": env.op("Replace"), "path": "active", "value": env.active(False)})


@pytest.mark.parametrize("event", ["unassign", "soft delete", "block sign-in"])
def test_a_disable_event_patches_active_false(env, event):
    (ada,) = provisioned(env, "ada")
    directory = env.engine.directory
    {
        "unassign": lambda: env.engine.app.unassign(ada),
        "soft delete": lambda: directory.soft_delete(ada),
        "block sign-in": lambda: directory.block(ada),
    }[event]()
    report = env.cycle()
    target = env.target_id(ada)
    assert env.lines() == [("GET", f"/Users/{target}", ""), ("PATCH", f"/Users/{target}", "")]
    assert env.sent()[1].body == disable_body(env)  # "False" legacy, false with the flag
    assert report.counts["disabled"] == 1
    (record,) = env.records(report.id)
    assert (record.action, record.status) == ("Disable", "Success")
    assert record.modified == [{"displayName": "active", "oldValue": "True", "newValue": "False"}]


def scoped_to_engineering(env: EngineEnv, **config: object) -> None:
    env.engine.configure(
        scoping_filters=(ScopingFilter((make_clause("department", "EQUALS", "Engineering"),)),),
        **config,
    )


def test_leaving_the_scoping_filter_disables(env):
    scoped_to_engineering(env)
    (ada,) = provisioned(env, "ada")
    env.engine.directory.edit_user(ada, department="Sales")
    report = env.cycle()
    assert writes(env)[0].body == disable_body(env) and len(writes(env)) == 1
    assert report.counts["disabled"] == 1


def test_leaving_the_scoping_filter_does_nothing_with_skip_out_of_scope_deletions(env):
    scoped_to_engineering(env, skip_out_of_scope_deletions=True)
    (ada,) = provisioned(env, "ada")
    env.engine.directory.edit_user(ada, department="Sales")
    report = env.cycle()
    assert writes(env) == [] and report.counts["disabled"] == 0
    (record,) = env.records(report.id)
    assert record.status == "Skipped" and "SkipOutOfScopeDeletions" in record.reason


@pytest.mark.parametrize("delete_action", [True, False], ids=["delete-on", "delete-off"])
def test_a_hard_delete_sends_delete_only_when_the_delete_action_is_on(env, delete_action):
    (ada,) = provisioned(env, "ada")
    target = env.target_id(ada)
    env.engine.configure(delete=delete_action)
    env.engine.directory.soft_delete(ada)
    env.engine.directory.hard_delete(ada)  # purged by hand
    report = env.cycle()
    if delete_action:
        assert env.lines() == [("DELETE", f"/Users/{target}", "")]
        assert env.sent()[0].status == 204 and report.counts["deleted"] == 1
        (record,) = env.records(report.id)
        assert (record.action, record.status) == ("Delete", "Success")
        assert env.engine.links.get("User", ada) is None
    else:
        assert writes(env) == [] and report.counts["deleted"] == 0


def test_a_soft_deleted_user_is_disabled_then_deleted_when_purged_after_30_days(env):
    (ada,) = provisioned(env, "ada")
    target = env.target_id(ada)
    env.engine.directory.soft_delete(ada)
    env.cycle()
    assert [r.body for r in writes(env)] == [disable_body(env)]
    env.engine.clock.advance(timedelta(days=29))
    env.cycle()
    assert env.sent() == []
    env.engine.clock.advance(timedelta(days=2))
    report = env.cycle()
    assert env.lines() == [("DELETE", f"/Users/{target}", "")]
    assert report.counts["deleted"] == 1


def test_a_restore_from_the_recycle_bin_patches_active_true(env):
    (ada,) = provisioned(env, "ada")
    env.engine.directory.soft_delete(ada)
    env.cycle()
    env.engine.directory.restore(ada)
    env.cycle()
    assert [r.body for r in writes(env)] == [
        patch({"op": env.op("Replace"), "path": "active", "value": env.active(True)})
    ]


def test_unassigned_first_then_soft_deleted_sends_nothing_more(env):
    (ada,) = provisioned(env, "ada")
    env.engine.app.unassign(ada)
    env.cycle()
    assert [r.body for r in writes(env)] == [disable_body(env)]
    env.engine.directory.soft_delete(ada)
    report = env.cycle()
    assert writes(env) == []
    (record,) = env.records(report.id)
    assert record.status == "Skipped"


def test_unassigned_first_then_hard_deleted_sends_no_delete(env):
    """Entra: once unassigned the user is no longer managed; a later hard delete sends nothing."""
    (ada,) = provisioned(env, "ada")
    env.engine.app.unassign(ada)
    env.cycle()
    env.engine.directory.soft_delete(ada)
    env.engine.directory.hard_delete(ada)
    env.cycle()
    assert writes(env) == []


def test_a_user_already_blocked_when_first_assigned_is_not_provisioned(env):
    ada = env.add_user("ada", accountEnabled=False)
    report = env.cycle()
    assert env.sent() == []
    (record,) = env.records(report.id)
    assert record.status == "Skipped" and env.engine.links.get("User", ada) is None


# -- 6: diff-only updates, nulls, defaults ----------------------------------------------------


def test_only_changed_attributes_are_patched_and_cleared_ones_are_not_sent(env):
    (ada,) = provisioned(env, "ada")
    env.engine.directory.edit_user(ada, department=None, jobTitle="Engineer", surname="Byron")
    env.cycle()
    (write,) = writes(env)
    if env.flagged:
        ops = write.body["Operations"]
        assert {"op": "add", "path": "title", "value": "Engineer"} in ops
        assert {
            "op": "replace",
            "value": {"name.familyName": "Byron", "name.formatted": "Ada Byron"},
        } in ops
        assert len(ops) == 2
    else:
        assert write.body == patch(
            {"op": "Add", "path": "title", "value": "Engineer"},
            {"op": "Replace", "path": "name.familyName", "value": "Byron"},
            {"op": "Replace", "path": "name.formatted", "value": "Ada Byron"},
        )
    assert "department" not in str(write.body) and "null" not in str(write.body).lower()


def test_default_value_if_null_applies_on_create_only(env):
    env.engine.configure(
        user_mappings=tuple(
            replace(m, default="Staff") if m.target == "title" else m
            for m in default_user_mappings()
        )
    )
    (ada,) = provisioned(env, "ada")
    assert writes(env)[0].body == ada_post(title="Staff")
    env.engine.directory.edit_user(ada, department="Retail")
    env.cycle()
    (write,) = writes(env)
    assert "title" not in str(write.body)
    assert write.body == patch(
        {"op": env.op("Replace"), "path": f"{ENTERPRISE}:department", "value": "Retail"}
    )


def test_a_post_never_carries_nulls(env):
    env.add_user("ada", givenName=None, department=None)
    env.cycle()
    post = writes(env)[0].body
    assert post == {
        "schemas": [CORE_USER],
        "userName": f"ada@{DOMAIN}",
        "active": True,
        "displayName": "Ada",
        "emails": [{"primary": True, "type": "work", "value": f"ada@{DOMAIN}"}],
        "name": {"familyName": "Test", "formatted": "Test"},
        "externalId": "ada",
        "meta": {"resourceType": "User"},
    }


# -- 8: error handling ------------------------------------------------------------------------


def test_a_500_is_logged_escrowed_and_retried_in_a_later_cycle(env):
    Faults(env.store).add(method="POST", path="/Users", status=500, count=1)
    ada = env.add_user("ada")
    report = env.cycle()
    assert [(r.method, r.status) for r in env.sent()] == [("GET", 200), ("POST", 500)]
    (record,) = env.records(report.id)
    assert (record.action, record.status, record.error_code) == (
        "Create",
        "Failure",
        "InternalServerError",
    )
    assert (
        "This operation was retried 0 times. It will be retried again after this date:"
        in record.reason
    )
    (escrow,) = env.engine.links.escrows()
    assert (escrow.source_id, escrow.attempts) == (ada, 1)
    report = env.cycle()  # not due yet: nothing
    assert env.sent() == []
    env.engine.clock.advance(timedelta(minutes=40))  # the next cycle: the escrow is due
    report = env.cycle()
    assert [(r.method, r.status) for r in env.sent()] == [("GET", 200), ("POST", 201)]
    assert report.counts["created"] == 1 and env.engine.links.escrow_count() == 0
    assert env.sent()[1].body == ada_post()


def test_a_429_waits_retry_after_on_the_simulated_clock_and_retries_in_the_same_cycle(env):
    Faults(env.store).add(method="POST", path="/Users", status=429, retry_after=120, count=1)
    env.add_user("ada")
    before = env.engine.clock.now()
    report = env.cycle()
    assert [(r.method, r.status) for r in env.sent()] == [
        ("GET", 200),
        ("POST", 429),
        ("POST", 201),
    ]
    assert env.sent()[1].body == env.sent()[2].body == ada_post()
    assert env.engine.clock.now() - before >= timedelta(seconds=120)
    assert report.counts["created"] == 1 and report.counts["failed"] == 0


def test_a_401_quarantines_the_job_and_a_restart_lifts_it(env):
    env.add_user("ada")
    env.add_user("bob")
    Faults(env.store).add(status=401)
    report = env.cycle()
    assert len(env.sent()) == 1 and env.sent()[0].status == 401  # the cycle stops at once
    assert report.quarantine is not None
    assert report.quarantine.reason == "EncounteredQuarantineException"
    assert env.engine.status()["status"] == "Quarantine"
    Faults(env.store).clear()
    assert env.engine.restart().quarantine is None
    report = env.cycle()
    assert report.quarantine is None and report.counts["created"] == 2


# -- 9: accidental-deletion prevention --------------------------------------------------------


def test_too_many_deletes_are_staged_and_quarantined_until_deletes_are_allowed(env):
    ids = provisioned(env, "ada", "bob", "cy")
    env.engine.configure(delete_threshold=2)
    for user_id in ids:
        env.engine.app.unassign(user_id)
    report = env.cycle()
    assert writes(env) == []
    assert report.quarantine is not None and report.quarantine.reason == "TooManyDeletes"
    records = env.records(report.id)
    assert [(r.action, r.status) for r in records] == [("StagedDelete", "Skipped")] * 3
    assert sorted(s for _t, s, _a in env.engine.links.staged()) == sorted(ids)
    env.engine.allow_deletes()
    report = env.cycle()
    assert sorted(r.line for r in writes(env)) == sorted(
        ("PATCH", f"/Users/{env.target_id(u)}", "") for u in ids
    )
    assert all(r.body == disable_body(env) for r in writes(env))
    assert report.counts["disabled"] == 3 and report.quarantine is None
    assert env.engine.links.staged() == []


def test_as_many_deletes_as_the_threshold_go_through_only_more_are_held(env):
    # §8.3: the page says both "Anything above the threshold" and "When the deletion threshold
    # is met"; the engine holds strictly more than the threshold.
    ids = provisioned(env, "ada", "bob", "cy")
    env.engine.configure(delete_threshold=3)
    for user_id in ids:
        env.engine.app.unassign(user_id)
    report = env.cycle()
    assert report.quarantine is None and report.counts["disabled"] == 3


# -- runner-up: group provisioning against a provider without /Groups --------------------------


def test_group_provisioning_left_on_quarantines_on_the_groups_404_after_provisioning_users(env):
    env.engine.configure(groups_enabled=True)
    group = env.engine.directory.add_group("Sales")
    ada = env.add_user("ada", assign=False)
    env.engine.directory.add_member(group.id, ada)
    env.engine.app.assign(group.id)
    report = env.cycle()
    assert env.lines() == [
        ("GET", "/Users", user_query(f"ada@{DOMAIN}")),
        ("POST", "/Users", ""),
        ("GET", "/Groups", 'excludedAttributes=members&filter=displayName eq "Sales"'),
    ]
    assert env.sent()[2].status == 404
    assert report.counts["created"] == 1 and env.engine.links.get("User", ada) is not None
    assert report.quarantine is not None and "HTTP/404 Not Found" in report.quarantine.error
    env.engine.configure(groups_enabled=False)
    env.engine.restart()
    report = env.cycle()
    assert report.quarantine is None and env.engine.status()["status"] != "Quarantine"
    assert all(r.path.startswith("/Users") for r in env.sent())


# -- 10: provisioning-log fidelity ------------------------------------------------------------


def test_provisioning_log_records_carry_ids_actions_steps_and_modified_properties(env):
    ada, bob = provisioned(env, "ada", "bob")
    first = env.records()
    assert {r.cycle_id for r in first} == {1}
    create = next(r for r in first if r.source_id == ada)
    assert [(s.name, s.type, s.status) for s in create.steps] == [
        ("EntryImport", "import", "success"),
        ("EntrySynchronizationScoping", "scoping", "success"),
        ("EntryImport", "matching", "success"),
        ("EntrySynchronizationAdd", "processing", "success"),
        ("EntryExportAdd", "export", "success"),
    ]
    assert {
        "displayName": "userName",
        "oldValue": None,
        "newValue": f"ada@{DOMAIN}",
    } in create.modified
    assert create.exchanges and create.id and create.change_id
    env.engine.directory.edit_user(ada, displayName="Ada L.")
    env.engine.app.unassign(bob)
    report = env.cycle()
    records = {r.source_id: r for r in env.records(report.id)}
    assert {r.cycle_id for r in records.values()} == {report.id} != {1}
    update, disable = records[ada], records[bob]
    assert (update.action, update.status) == ("Update", "Success")
    assert [s.name for s in update.steps] == [
        "EntryImport",
        "EntrySynchronizationScoping",
        "EntryImport",
        "EntryExportUpdate",
    ]
    assert update.modified == [
        {"displayName": "displayName", "oldValue": "Ada", "newValue": "Ada L."}
    ]
    assert (disable.action, disable.status) == ("Disable", "Success")
    assert disable.steps[1].details["Assigned"] is False
    assert len({r.change_id for r in env.records()}) == len(env.records())


# -- POD ignores the flag ---------------------------------------------------------------------


def test_provision_on_demand_speaks_the_legacy_dialect_even_with_the_flag(env):
    (ada,) = provisioned(env, "ada")
    env.engine.directory.block(ada)
    env.cycle()
    env.engine.directory.edit_user(
        ada, displayName="Ada L.", department="Retail", accountEnabled=True
    )
    env.mark()
    result = env.engine.provision_on_demand(ada)
    assert result.record.status == "Success" and result.record.action == "Update"
    target = env.target_id(ada)
    lines = env.lines()
    assert lines[0][:2] == ("GET", "/Users") and GUID.match(lines[0][2])  # test connection
    assert lines[1:] == [("GET", f"/Users/{target}", ""), ("PATCH", f"/Users/{target}", "")]
    assert env.sent()[2].body == patch(
        {"op": "Replace", "path": "active", "value": "True"},
        {"op": "Replace", "path": "displayName", "value": "Ada L."},
        {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Retail"},
    )


def test_the_nulab_preset_creates_with_the_guides_attributes(env):
    env.preset("nulab")
    env.add_user("ada", country="Netherlands", preferredLanguage="ja-JP")
    env.cycle()
    post = writes(env)[0].body
    assert post == {
        "schemas": [CORE_USER],
        "userName": f"ada@{DOMAIN}",
        "externalId": f"ada@{DOMAIN}",
        "displayName": "Ada",
        "preferredLanguage": "ja-JP",
        "timezone": "Europe/Amsterdam",
        "active": True,
        "roles": [{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "USER"}],
        "emails": [{"primary": True, "type": "work", "value": f"ada@{DOMAIN}"}],
        "meta": {"resourceType": "User"},
    }
    assert PRESETS["nulab"].mappings[0].source == "mail"


# -- references: the manager ------------------------------------------------------------------


def test_the_manager_is_sent_as_the_managers_target_id_never_the_entra_object_id(env):
    ada = env.add_user("ada")
    bob = env.add_user("bob", manager=ada)
    env.cycle()
    posts = [r.body for r in writes(env) if r.line[0] == "POST"]
    post = next(b for b in posts if b["userName"].startswith("bob"))
    assert "manager" not in str(post)  # a reference is left out of the POST (§2.3)
    manager = {"op": env.op("Add"), "path": f"{ENTERPRISE}:manager", "value": env.target_id(ada)}
    patches = [(r.line, r.body) for r in writes(env) if r.line[0] == "PATCH"]
    assert patches == [(("PATCH", f"/Users/{env.target_id(bob)}", ""), patch(manager))]
    assert ada not in str(patches[0][1])
    env.engine.restart()
    env.cycle()  # the reference is in the exported state: nothing is sent again
    assert [r for r in writes(env) if r.line[0] == "PATCH"] == []


def test_progress_is_reported_for_the_users_then_for_the_manager_references(env):
    ada = env.add_user("ada")
    env.add_user("bob", manager=ada)
    env.add_user("cy", manager=ada)
    heard: list[tuple[int, int, str]] = []
    env.engine.run_cycle(lambda done, total, phase: heard.append((done, total, phase)))
    phases = [phase for _done, _total, phase in heard]
    assert phases == sorted(phases, key=[PHASE_USERS, PHASE_REFERENCES].index)  # users first
    assert heard[-1] == (2, 2, PHASE_REFERENCES)  # bob's and cy's managers
    assert (3, 3, PHASE_USERS) in heard
    for phase in (PHASE_USERS, PHASE_REFERENCES):
        done = [d for d, _t, p in heard if p == phase]
        assert done == sorted(done)


def test_the_manager_is_set_by_a_patch_in_the_cycle_that_creates_both(env):
    ada = env.add_user("ada")
    bob = env.add_user("bob", manager=ada)
    env.cycle()
    assert ("PATCH", f"/Users/{env.target_id(bob)}", "") in env.lines()
