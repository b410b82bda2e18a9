"""The enterprise app: app roles, assignments to users and groups, effective assignments."""

from __future__ import annotations

import pytest

from sandbox.engine.tenant.app import EnterpriseApp
from sandbox.engine.tenant.directory import Directory
from sandbox.errors import ExpressionEvaluationError, NotFoundError, SandboxError
from sandbox.expressions import evaluate_text
from sandbox.store import Store


@pytest.fixture
def directory(store: Store) -> Directory:
    return Directory(store)


@pytest.fixture
def app(store: Store, directory: Directory) -> EnterpriseApp:
    return EnterpriseApp(store, directory, directory.clock)


def add(directory: Directory, alias: str) -> str:
    return directory.add_user(userPrincipalName=f"{alias}@contoso.onmicrosoft.com").id


def values(app: EnterpriseApp, user_id: str) -> list[str]:
    return [a.value for a in app.assignments_for_user(user_id)]


def test_the_app_has_the_guides_three_roles_and_entras_default_access_role(app):
    roles = {r.value: r for r in app.roles()}
    assert list(roles) == ["ADMIN", "USER", "GUEST", "msiam_access"]
    assert roles["msiam_access"].display_name == "Default Access"
    assert all(r.allowed_member_types == ("User",) for r in roles.values())
    # the ids are fixed per value: the same in every sandbox
    assert roles["ADMIN"].id == "60f55e10-b4af-5f35-b81a-7e99701f912f"
    assert app.role("default access").value == "msiam_access"
    with pytest.raises(NotFoundError, match="ADMIN, USER, GUEST, msiam_access"):
        app.role("OWNER")


def test_a_direct_assignment_gives_the_user_its_role_as_entra_carries_it(app, directory):
    user = add(directory, "adele")
    assignment = app.assign("adele@contoso.onmicrosoft.com", "ADMIN")
    assert (assignment.principal_type, assignment.principal_id, assignment.role) == (
        "User", user, "ADMIN",
    )  # fmt: skip
    [role] = app.assignments_for_user(user)
    assert role.to_dict() == {"id": app.role("ADMIN").id, "value": "ADMIN", "displayName": "Admin"}
    assert app.is_assigned(user) and app.assigned_user_ids() == {user}


def test_a_group_assignment_reaches_its_direct_members_only(app, directory):
    direct, nested, outsider = (
        add(directory, "direct"),
        add(directory, "nested"),
        add(directory, "x"),
    )
    directory.add_group("Nulab Pass Users")
    directory.add_group("Contractors")
    directory.add_member("Nulab Pass Users", direct)
    directory.add_member("Contractors", nested)
    directory.add_member("Nulab Pass Users", "Contractors")  # nested groups are not expanded
    group = app.assign("Nulab Pass Users", "USER")
    assert group.principal_type == "Group"
    assert values(app, direct) == ["USER"] and app.assignments_for_user(direct)[0].via == "Group"
    assert values(app, nested) == [] and not app.is_assigned(nested)
    assert not app.is_assigned(outsider)
    assert app.assigned_user_ids() == {direct}
    assert app.assigned_group_ids() == {group.principal_id}


def test_leaving_an_assigned_group_ends_the_assignment(app, directory):
    user = add(directory, "adele")
    directory.add_group("Staff")
    directory.add_member("Staff", user)
    app.assign("Staff")
    directory.remove_member("Staff", user)
    assert not app.is_assigned(user) and app.assigned_user_ids() == set()


def test_the_same_role_twice_is_refused_but_a_second_role_is_allowed(app, directory):
    user = add(directory, "adele")
    app.assign(user, "USER")
    with pytest.raises(SandboxError, match="already assigned the role USER"):
        app.assign(user, "user")
    app.assign(user, "ADMIN")
    assert values(app, user) == ["USER", "ADMIN"]
    # as in Entra, SingleAppRoleAssignment then fails for this user
    roles = [a.to_dict() for a in app.assignments_for_user(user)]
    with pytest.raises(ExpressionEvaluationError, match="this many where found: 2"):
        evaluate_text(
            "SingleAppRoleAssignment([appRoleAssignments])", {"appRoleAssignments": roles}
        )


def test_a_role_held_directly_and_through_a_group_counts_once(app, directory):
    user = add(directory, "adele")
    directory.add_group("Staff")
    directory.add_member("Staff", user)
    app.assign("Staff", "GUEST")
    app.assign(user, "GUEST")
    assert [(a.value, a.via) for a in app.assignments_for_user(user)] == [("GUEST", "User")]


def test_unassign_removes_one_role_or_all_of_them(app, directory):
    user = add(directory, "adele")
    app.assign(user, "USER")
    app.assign(user, "ADMIN")
    assert [a.role for a in app.unassign(user, "admin")] == ["ADMIN"]
    assert values(app, user) == ["USER"]
    app.assign(user, "GUEST")
    assert [a.role for a in app.unassign(user)] == ["USER", "GUEST"]
    assert not app.is_assigned(user)
    with pytest.raises(NotFoundError, match="not assigned any role"):
        app.unassign(user)


def test_set_role_replaces_every_role_with_one(app, directory):
    user = add(directory, "adele")
    with pytest.raises(NotFoundError, match="assign it first"):
        app.set_role(user, "ADMIN")
    app.assign(user, "USER")
    app.assign(user, "GUEST")
    assert app.set_role(user, "ADMIN").role == "ADMIN"
    assert values(app, user) == ["ADMIN"] and len(app.assignments()) == 1
    last = directory.changes_since(0)[-1]
    assert (last.change, last.detail["role"], last.detail["from"]) == (
        "roleChange", "ADMIN", ["USER", "GUEST"],
    )  # fmt: skip


def test_assignment_changes_are_recorded_with_the_principal_and_role(app, directory):
    user = add(directory, "adele")
    group = directory.add_group("Staff").id
    watermark = directory.last_change_seq()
    app.assign(user, "USER")
    app.assign("Staff", "GUEST")
    app.unassign("Staff")
    recorded = [
        (c.object_type, c.object_id, c.change, c.detail["role"])
        for c in directory.changes_since(watermark)
    ]
    assert recorded == [
        ("User", user, "assign", "USER"),
        ("Group", group, "assign", "GUEST"),
        ("Group", group, "unassign", "GUEST"),
    ]


def test_assigning_all_users_skips_deleted_blocked_and_already_assigned_users(app, directory):
    ids = [add(directory, f"user{n}") for n in range(5)]
    directory.soft_delete(ids[0])
    directory.block(ids[1])
    app.assign(ids[2], "USER")
    assert app.assign_all_users("USER") == 2
    assert app.assigned_user_ids() == set(ids[2:])
    assert app.assign_all_users("USER") == 0


def test_a_user_in_the_recycle_bin_cannot_be_assigned(app, directory):
    user = add(directory, "adele")
    directory.soft_delete(user)
    with pytest.raises(SandboxError, match="recycle bin"):
        app.assign(user)
    with pytest.raises(NotFoundError, match="no tenant user or group"):
        app.assign("nobody")


def test_assignments_list_names_their_principals(app, directory):
    add(directory, "adele")
    directory.add_group("Staff")
    app.assign("adele@contoso.onmicrosoft.com")
    app.assign("Staff", "GUEST")
    assert [(a.principal_name, a.role) for a in app.assignments()] == [
        ("adele@contoso.onmicrosoft.com", "USER"),
        ("Staff", "GUEST"),
    ]
