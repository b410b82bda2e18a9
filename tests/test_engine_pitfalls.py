"""The Nulab setup guide's pitfalls, end to end: the mock Entra engine provisioning the seeded
tenant into the Nulab organization over the wire, in both dialects."""

from __future__ import annotations

import pytest

from sandbox.provider.org import MANAGED, PROVISIONED
from tests.engine_env import DOMAIN, ENTERPRISE, EngineEnv, patch, user_query


@pytest.fixture(params=[False, True], ids=["legacy", "flag"])
def env(request, tmp_path):
    environment = EngineEnv(tmp_path, flagged=request.param)
    yield environment
    environment.close()


def eligible_member(env: EngineEnv, role: str = "USER", **where: object):
    """An eligible Managed Account (not the token issuer) and its tenant user (same mail)."""
    issuer = env.org.issuer()
    for member in env.org.members():
        if not member.eligible or member.role != role or member.id == (issuer and issuer.id):
            continue
        if all(getattr(member, k) == v for k, v in where.items()):
            return member, env.engine.directory.get_user(member.email)
    raise AssertionError(f"the seeded organization has no eligible {role} member like {where}")


def test_user_name_left_on_the_upn_does_not_match_the_managed_account(env):
    # Guide step 6: "The default value is user.userprincipalname, but Nulab Pass ... requires
    # this to be mapped to the Managed Account email." With the default mappings the UPN
    # (contoso.onmicrosoft.com) is queried, nothing matches, and a second account is created.
    member, user = eligible_member(env)
    env.engine.app.assign(user.id, "USER")
    report = env.cycle()
    assert env.lines() == [
        ("GET", "/Users", user_query(user.user_principal_name)),
        ("POST", "/Users", ""),
    ]
    assert report.counts["created"] == 1
    assert env.target_id(user.id) != member.id
    assert env.org.member(member.id).label == MANAGED  # the Managed Account was not provisioned
    emails = [m.email for m in env.org.members()]
    assert user.user_principal_name in emails and member.email in emails


def test_the_guides_fix_mapping_user_name_to_mail_before_the_first_sync_matches(env):
    member, user = eligible_member(env)
    env.preset("nulab")
    env.engine.app.assign(user.id, "USER")
    before = len(env.org.members())
    report = env.cycle()
    assert env.lines()[0] == ("GET", "/Users", user_query(member.email))
    assert [r.method for r in env.sent()] == ["GET", "PATCH"]
    assert report.counts["created"] == 0 and report.counts["updated"] == 1
    assert env.target_id(user.id) == member.id
    assert env.org.member(member.id).label == PROVISIONED
    assert len(env.org.members()) == before


def test_group_provisioning_left_on_quarantines_on_the_groups_404(env):
    member, user = eligible_member(env)
    env.preset("nulab")
    env.engine.configure(groups_enabled=True)  # the portal's default (guide step 5)
    group = env.engine.directory.add_group("Nulab users")
    env.engine.directory.add_member(group.id, user.id)
    env.engine.app.assign(group.id, "USER")
    report = env.cycle()
    assert env.lines()[-1] == (
        "GET",
        "/Groups",
        'excludedAttributes=members&filter=displayName eq "Nulab users"',
    )
    assert env.sent()[-1].status == 404
    assert report.quarantine is not None and "HTTP/404 Not Found" in report.quarantine.error
    assert env.org.member(member.id).label == PROVISIONED  # users were provisioned all the same


def test_the_flag_changes_the_deactivation_body_and_both_deactivate(env):
    member, user = eligible_member(env)
    env.preset("nulab")
    env.engine.app.assign(user.id, "USER")
    env.cycle()
    env.engine.app.unassign(user.id)
    env.cycle()
    (write,) = [r for r in env.sent() if r.method == "PATCH"]
    if env.flagged:
        assert write.body == patch({"op": "replace", "path": "active", "value": False})
    else:
        assert write.body == patch({"op": "Replace", "path": "active", "value": "False"})
    assert write.status == 200
    assert env.org.member(member.id).active is False


def test_a_downgrade_to_guest_drops_team_admin_rights_and_guestless_teams(env):
    teams = env.org.teams()
    guestless = {t.name for t in teams if not t.guests_allowed}
    member = next(
        m
        for m in env.org.members()
        if m.eligible
        and m.role in ("USER", "ADMIN")
        and m.id != env.org.issuer().id
        and any(m.email in t.admins for t in teams)
        and set(m.teams) & guestless
    )
    user = env.engine.directory.get_user(member.email)
    env.preset("nulab")
    env.engine.app.assign(user.id, member.role)
    env.cycle()
    env.engine.app.set_role(user.id, "GUEST")
    report = env.cycle()
    (write,) = [r for r in env.sent() if r.method == "PATCH"]
    guest = env.engine.app.role("GUEST")
    if env.flagged:
        assert write.body == patch(
            {
                "op": "replace",
                "path": "roles",
                "value": [
                    {"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "GUEST"}
                ],
            }
        )
    else:  # §5.4: the role as stringified JSON inside "value"
        assert write.body == patch(
            {
                "op": "Add",
                "path": "roles",
                "value": [
                    {"value": (f'{{"id":"{guest.id}","value":"GUEST","displayName":"Guest"}}')}
                ],
            }
        )
    assert report.counts["updated"] == 1
    after = env.org.member(member.id)
    assert after.role == "GUEST"
    for team in env.org.teams():
        assert member.email not in team.admins
        if not team.guests_allowed:
            assert member.email not in team.members
    assert set(after.teams) == set(member.teams) - guestless


def test_the_token_issuers_role_change_is_refused_and_logged_as_a_failure(env):
    issuer = env.org.issuer()
    assert issuer is not None and issuer.role == "ADMIN"
    user = env.engine.directory.get_user(issuer.email)
    env.preset("nulab")
    env.engine.app.assign(user.id, "ADMIN")
    env.cycle()
    env.engine.app.set_role(user.id, "USER")
    report = env.cycle()
    (write,) = [r for r in env.sent() if r.method == "PATCH"]
    assert write.path == f"/Users/{issuer.id}" and write.status == 403
    (record,) = env.records(report.id)
    assert (record.action, record.status, record.error_code) == (
        "Update",
        "Failure",
        "InsufficientRights",
    )
    assert "token issuer" in record.reason
    assert env.org.member(issuer.id).role == "ADMIN"
    assert report.counts["failed"] == 1 and env.engine.links.escrow_count() == 1


def test_the_default_mappings_post_carries_the_enterprise_extension(env):
    # Not a pitfall of the guide but of its example: the default set's enterprise attributes
    # reach Nulab, which keeps them (the extension is part of the published schema).
    member, user = eligible_member(env)
    env.engine.app.assign(user.id, "USER")
    env.cycle()
    post = env.sent()[1].body
    assert post["userName"] == user.user_principal_name and post["userName"].endswith(DOMAIN)
    assert ENTERPRISE in post["schemas"]
