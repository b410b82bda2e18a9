"""The organization's admin CLI: seed, members, teams, edit, seats, token issuer, show."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sandbox.cli import cli


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "org.db")
    run("provider", "seed", "--db", path, "--seed", "3", "--members", "16")
    return path


def members(db):
    return json.loads(run("provider", "members", "--db", db, "--json").output)


def test_seeding_is_reproducible_and_has_every_kind_of_member(tmp_path, db):
    other = str(tmp_path / "again.db")
    run("provider", "seed", "--db", other, "--seed", "3", "--members", "16")
    first, second = members(db), members(other)
    # eligible accounts were "updated" at seeding time (the clock); all else is the seed's
    strip = lambda ms: [{**m, "updated": m["updated"][:4] == "2022" or None} for m in ms]  # noqa: E731
    assert strip(first) == strip(second)
    kinds = {(m["kind"], m["eligible"]) for m in first}
    assert kinds == {("managed", True), ("managed", False), ("nulab", False)}
    assert first[0]["role"] == "ADMIN" and first[0]["label"] == "Managed Account"
    assert {m["role"] for m in first} == {"ADMIN", "USER", "GUEST"}


def test_seeding_twice_needs_replace(db):
    result = run("provider", "seed", "--db", db, ok=False)
    assert result.exit_code == 1 and "--replace" in result.output
    run("provider", "seed", "--db", db, "--members", "5", "--replace")
    assert len(members(db)) == 5


def test_teams_respect_the_guest_rule(db):
    teams = json.loads(run("provider", "teams", "--db", db, "--json").output)
    roles = {m["email"]: m["role"] for m in members(db)}
    assert teams and any(t["guests_allowed"] for t in teams)
    for team in teams:
        if not team["guests_allowed"]:
            assert all(roles[email] != "GUEST" for email in team["members"])
        assert set(team["admins"]) <= set(team["members"])


def test_edit_changes_a_member_and_guest_edits_cascade(db):
    teams_before = json.loads(run("provider", "teams", "--db", db, "--json").output)
    closed = next(t for t in teams_before if not t["guests_allowed"] and t["members"])
    email = closed["members"][0]
    edited = json.loads(
        run(
            "provider",
            "edit",
            email,
            "--db",
            db,
            "--role",
            "guest",
            "--language",
            "ja-JP",
            "--timezone",
            "Asia/Tokyo",
            "--json",
        ).output
    )
    assert (edited["role"], edited["language"], edited["timezone"]) == ("GUEST", "ja", "Asia/Tokyo")
    assert closed["name"] not in edited["teams"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["nobody@example.com", "--role", "USER"], "no member with email"),
        (["{first}", "--language", "fr"], "English (en) or Japanese (ja)"),
        (["{first}", "--timezone", "Mars/Base"], "IANA time zone"),
        (["{first}"], "nothing to change"),
    ],
)
def test_edit_mistakes_are_one_line_errors(db, args, message):
    first = members(db)[0]["email"]
    result = run("provider", "edit", "--db", db, *[a.format(first=first) for a in args], ok=False)
    assert result.exit_code == 1 and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_token_issuer_defaults_to_the_owner_and_must_be_an_admin(db):
    everyone = members(db)
    owner = everyone[0]["email"]
    data = json.loads(run("provider", "token", "issue", "--db", db, "--json").output)
    assert data["issuer"] == owner
    user = next(m["email"] for m in everyone if m["role"] == "USER")
    result = run("provider", "token", "issue", "--db", db, "--issuer", user, ok=False)
    assert result.exit_code == 1 and "only admins issue tokens" in result.output
    admin = next(m["email"] for m in everyone[1:] if m["role"] == "ADMIN")
    run("provider", "token", "issue", "--db", db, "--issuer", admin)
    shown = json.loads(run("provider", "show", "--db", db, "--json").output)
    assert shown["token_issuer"] == admin


def test_seats_limit_and_usage(db):
    assert "seats used: 16 of unlimited" in run("provider", "seats", "--db", db).output
    assert "of 20" in run("provider", "seats", "--db", db, "--limit", "20").output
    run("provider", "edit", members(db)[1]["email"], "--db", db, "--inactive")
    assert "seats used: 15 of 20" in run("provider", "seats", "--db", db).output
    assert "unlimited" in run("provider", "seats", "--db", db, "--unlimited").output
    bad = run("provider", "seats", "--db", db, "--limit", "0", ok=False)
    assert bad.exit_code == 1 and "at least 1" in bad.output


def test_members_table_for_people(db):
    output = run("provider", "members", "--db", db).output
    assert "Members" in output and "ADMIN" in output
