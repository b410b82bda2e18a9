"""The tenant's CLI: sandbox entra users|groups|assign|unassign|set-role|assignments|roles."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sandbox.cli import cli

UPN = "adele.vance@contoso.onmicrosoft.com"


@pytest.fixture
def db(tmp_path) -> str:
    """A sandbox whose tenant starts empty (a fresh one is otherwise seeded on first use)."""
    path = str(tmp_path / "tenant.db")
    run(path, "users", "seed", "--users", "0", "--groups", "0", "--guests", "0", "--no-org")
    assert directory_count(path) == 0
    return path


def directory_count(path: str) -> int:
    from sandbox.engine.tenant.directory import Directory
    from sandbox.store import Store

    return Directory(Store(path)).count()


def test_a_fresh_sandbox_is_seeded_on_the_first_entra_command(tmp_path):
    path = str(tmp_path / "fresh.db")
    assert (
        "Assigned user dennis.boone@contoso.onmicrosoft.com"
        in run(path, "assign", "dennis.boone@contoso.onmicrosoft.com").output
    )
    assert directory_count(path) >= 24


def run(db: str, *args: str, ok: bool = True):
    result = CliRunner().invoke(cli, ["entra", *args, "--db", db])
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    return result


def data(db: str, *args: str):
    return json.loads(run(db, *args, "--json").output)


def test_seeding_is_reproducible_and_gives_org_members_their_emails_as_mail(tmp_path):
    db = str(tmp_path / "org.db")  # a fresh sandbox: its organization is the one seeded here
    CliRunner().invoke(cli, ["provider", "seed", "--db", db, "--members", "4"])
    assert (
        "4 with an organization member's email" in run(db, "users", "seed", "--users", "12").output
    )
    members = json.loads(
        CliRunner().invoke(cli, ["provider", "members", "--db", db, "--json"]).output
    )
    users = data(db, "users", "list")
    assert [u["mail"] for u in users[:4]] == [m["email"] for m in members]
    assert all(u["mail"] != u["userPrincipalName"] for u in users[:4])
    assert sum("#EXT#" in u["userPrincipalName"] for u in users) == 2
    other = str(tmp_path / "other.db")
    run(other, "users", "seed", "--users", "12", "--no-org")
    strip = lambda us: [{k: v for k, v in u.items() if k != "createdDateTime"} for u in us]  # noqa: E731
    again = str(tmp_path / "again.db")
    run(again, "users", "seed", "--users", "12", "--no-org")
    assert strip(data(other, "users", "list")) == strip(data(again, "users", "list"))
    run(db, "users", "seed", ok=False)
    run(db, "users", "seed", "--users", "5", "--guests", "0", "--replace")
    assert len(data(db, "users", "list")) == 5


def test_add_show_edit_and_list_users(db):
    out = run(db, "users", "add", "--upn", UPN, "--mail", "adele@example.com",
              "--display-name", "Adele Vance", "--country", "Japan",
              "--preferred-language", "ja-JP", "--set", "department=Sales").output  # fmt: skip
    assert out.startswith(f"Added {UPN}")
    shown = data(db, "users", "show", "ADELE@example.com")
    assert (shown["country"], shown["preferredLanguage"], shown["department"]) == (
        "Japan", "ja-JP", "Sales",
    )  # fmt: skip
    edited = data(db, "users", "edit", UPN, "--set", "jobTitle=CEO", "--set", "department=")
    assert edited["jobTitle"] == "CEO" and "department" not in edited
    run(db, "users", "add", "--upn", "bo@contoso.onmicrosoft.com", "--guest", "--blocked")
    assert [u["userPrincipalName"] for u in data(db, "users", "list", "--search", "VANCE")] == [UPN]
    assert "Tenant users (2 of 2)" in run(db, "users", "list").output


def test_user_mistakes_are_one_line_errors(db):
    run(db, "users", "add", "--upn", UPN)
    assert "already taken" in run(db, "users", "add", "--upn", UPN.upper(), ok=False).output
    assert "alias@domain" in run(db, "users", "add", "--upn", "adele", ok=False).output
    assert "shoeSize" in run(db, "users", "edit", UPN, "--set", "shoeSize=42", ok=False).output
    assert "property=value" in run(db, "users", "edit", UPN, "--set", "oops", ok=False).output
    assert "no tenant user" in run(db, "users", "show", "nobody", ok=False).output
    assert "not in the recycle bin" in run(db, "users", "restore", UPN, ok=False).output
    assert "--all-users" in run(db, "assign", ok=False).output
    assert "no role 'OWNER'" in run(db, "assign", UPN, "--role", "OWNER", ok=False).output


def test_block_soft_delete_restore_hard_delete_and_purge_are_recorded(db):
    run(db, "users", "add", "--upn", UPN)
    assert "sign-in blocked" in run(db, "users", "block", UPN).output
    assert "sign-in allowed" in run(db, "users", "block", UPN, "--unblock").output
    assert "recycle bin" in run(db, "users", "soft-delete", UPN).output
    assert data(db, "users", "list", "--active") == []
    run(db, "users", "restore", UPN)
    assert "Purged 0 users" in run(db, "users", "purge").output
    run(db, "users", "hard-delete", UPN)
    kinds = [c["change"] for c in data(db, "changes")]
    assert kinds == ["add", "block", "unblock", "softDelete", "restore", "hardDelete"]
    assert [c["change"] for c in data(db, "changes", "--since", "5")] == ["hardDelete"]


def test_groups_members_and_nesting(db):
    run(db, "users", "add", "--upn", UPN)
    run(db, "groups", "add", "Staff", "--description", "everyone")
    run(db, "groups", "add", "Contractors")
    run(db, "groups", "add-member", "Staff", UPN)
    run(db, "groups", "add-member", "Staff", "Contractors")
    members = data(db, "groups", "members", "staff")
    assert [u["userPrincipalName"] for u in members["users"]] == [UPN]
    assert [g["displayName"] for g in members["groups"]] == ["Contractors"]
    assert (
        "nested group (not expanded): Contractors" in run(db, "groups", "members", "Staff").output
    )
    assert [(g["displayName"], g["memberCount"]) for g in data(db, "groups", "list")] == [
        ("Contractors", 0), ("Staff", 1),
    ]  # fmt: skip
    assert "already a member" in run(db, "groups", "add-member", "Staff", UPN, ok=False).output
    run(db, "groups", "remove-member", "Staff", UPN)
    run(db, "groups", "delete", "Contractors")
    assert [g["displayName"] for g in data(db, "groups", "list")] == ["Staff"]
    assert "no group" in run(db, "groups", "delete", "Contractors", ok=False).output


def test_assign_unassign_set_role_assignments_and_roles(db):
    run(db, "users", "add", "--upn", UPN)
    run(db, "users", "add", "--upn", "bo@contoso.onmicrosoft.com")
    run(db, "groups", "add", "Staff")
    assert [r["value"] for r in data(db, "roles")] == ["ADMIN", "USER", "GUEST", "msiam_access"]
    assert "Assigned user adele.vance" in run(db, "assign", UPN, "--role", "ADMIN").output
    run(db, "assign", UPN, "--role", "USER")
    run(db, "assign", "Staff")
    assert "already assigned" in run(db, "assign", "Staff", ok=False).output
    assert "now has the role GUEST" in run(db, "set-role", UPN, "guest").output
    assert [(a["principalName"], a["role"]) for a in data(db, "assignments")] == [
        (UPN, "GUEST"), ("Staff", "USER"),
    ]  # fmt: skip
    assert "Unassigned Staff (USER)" in run(db, "unassign", "Staff").output
    # adele holds GUEST, not USER: she gets USER as a second role
    assert (
        "Assigned 2 users the role USER."
        in run(db, "assign", "--all-users", "--role", "USER").output
    )
    assert "Assigned 0 users" in run(db, "assign", "--all-users", "--role", "USER").output
    run(db, "unassign", UPN)
    assert [a["principalName"] for a in data(db, "assignments")] == ["bo@contoso.onmicrosoft.com"]
    assert "not assigned" in run(db, "unassign", UPN, "--role", "GUEST", ok=False).output
