"""The CLI of the group features: accidental-deletion prevention off by default and turned on
by a flag (§8.3), group scoping filters (§7), provision on demand of a group refused past five
members in one line (§1.6)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from sandbox.cli import cli
from tests.test_cli_exit_status import one_error_line


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def threshold(db: Path, *options: str) -> object:
    result = run(db, "entra", "configure", *options, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["delete_threshold"]


def test_accidental_deletion_prevention_is_off_until_turned_on(tmp_path):
    db = tmp_path / "sandbox.db"
    assert threshold(db) is None
    assert threshold(db, "--prevent-accidental-deletions") == 500
    assert threshold(db, "--delete-threshold", "3") == 3
    assert threshold(db, "--prevent-accidental-deletions") == 3  # keeps the threshold set
    assert threshold(db, "--no-delete-threshold") is None
    both = run(db, "entra", "configure", "--no-delete-threshold", "--prevent-accidental-deletions")
    assert both.exit_code == 2


def test_group_scoping_filters_are_added_listed_and_cleared_apart_from_the_users(tmp_path):
    db = tmp_path / "sandbox.db"
    added = run(db, "entra", "scoping", "add", "--groups", "displayName ENDS_WITH Users")
    assert added.exit_code == 0 and "group scoping filter" in added.stdout
    listed = run(db, "entra", "scoping", "list", "--groups", "--json")
    assert json.loads(listed.stdout) == [
        [{"attribute": "displayName", "operator": "ENDS_WITH", "value": "Users"}]
    ]
    assert json.loads(run(db, "entra", "scoping", "list", "--json").stdout) == []
    line = one_error_line(run(db, "entra", "scoping", "add", "--groups", "department EQUALS X"))
    assert "a tenant group has no attribute 'department'" in line
    assert run(db, "entra", "scoping", "clear", "--groups").exit_code == 0
    assert json.loads(run(db, "entra", "scoping", "list", "--groups", "--json").stdout) == []


def test_pod_of_a_group_with_more_than_five_members_is_refused_in_one_line(tmp_path):
    db = tmp_path / "sandbox.db"
    line = one_error_line(run(db, "entra", "pod", "Nulab Pass Users"))
    assert "has 18 members, 17 that can be selected (1 soft-deleted or blocked left out)" in line
    assert "at most 5 members" in line and "--member" in line
    members = json.loads(run(db, "entra", "groups", "members", "Nulab Pass Users", "--json").stdout)
    upns = [m["userPrincipalName"] for m in members["users"]][:6]
    many = [arg for upn in upns for arg in ("--member", upn)]
    line = one_error_line(run(db, "entra", "pod", "Nulab Pass Users", *many))
    assert "at most 5 members of a group, got 6" in line
    line = one_error_line(run(db, "entra", "pod", "Nulab Pass Users", "--member", "nobody@x.test"))
    assert "nobody@x.test" in line


def test_sync_counts_held_back_deletions_once_among_the_skipped(tmp_path):
    db = tmp_path / "sandbox.db"
    assert run(db, "entra", "assign", "--all-users").exit_code == 0
    assert run(db, "entra", "sync").exit_code == 0
    assert threshold(db, "--delete-threshold", "1") == 1
    users = json.loads(run(db, "entra", "assignments", "--json").stdout)
    for assignment in users[:3]:
        assert run(db, "entra", "unassign", assignment["principalId"]).exit_code == 0
    result = run(db, "entra", "sync")  # held back: the job goes to quarantine (exit 1)
    assert "skipped 3 (3 held back as staged deletes)" in result.output, result.output
    assert "TooManyDeletes: 3 deletions exceed the threshold of 1" in result.output
