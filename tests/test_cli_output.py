"""What the CLI prints is true: tables print values as they are and whole when piped; unknown
names are one-line errors; `eval` without a user; `users seed --users N` seeds N users."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sandbox.cli import cli

DENNIS = "dennis.boone@contoso.onmicrosoft.com"
TYLER = "tyler.cole@contoso.onmicrosoft.com"


def sandbox(db: str, *args: str, ok: bool = True) -> str:
    """Run `sandbox ARGS --db DB` the way a pipe would (CliRunner's stdout is not a TTY)."""
    result = CliRunner().invoke(cli, [*args, "--db", db])
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
        assert "Traceback" not in result.output
    return result.output


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "sandbox.db")


def row_with(output: str, *values: str) -> str:
    """The one line of a table that holds every value, whole."""
    lines = [line for line in output.splitlines() if all(v in line for v in values)]
    assert len(lines) == 1, f"no single line holds {values}:\n{output}"
    return lines[0]


# -- tables print text as it is ---------------------------------------------------------


def test_mappings_list_prints_expressions_and_target_paths_with_their_brackets(db):
    output = sandbox(db, "entra", "mappings", "list")
    row_with(output, "name.formatted", 'Join(" ", [givenName], [surname])')
    row_with(output, 'emails[type eq "work"].value', "mail")
    row_with(output, 'phoneNumbers[type eq "mobile"].value', "mobile")
    row_with(output, 'phoneNumbers[type eq "fax"].value', "facsimileTelephoneNumber")
    row_with(output, "active", 'Switch([IsSoftDeleted], , "False", "True", "True", "False")')


def test_every_table_prints_bracketed_names_titles_and_emoji_codes_as_text(db):
    sandbox(db, "entra", "users", "add", "--upn", "ops@contoso.onmicrosoft.com",
            "--display-name", "[Ops] Ada :smile:", "--mail", "[ops]@example.com")  # fmt: skip
    sandbox(db, "entra", "groups", "add", "[Ops] Team", "--description", "[b]bold[/b]")
    sandbox(db, "entra", "groups", "add-member", "[Ops] Team", "ops@contoso.onmicrosoft.com")
    sandbox(db, "entra", "assign", "[Ops] Team")
    sandbox(db, "provider", "edit", "tyler.cole@example.com", "--name", "[red]Tyler[/red]")

    row_with(sandbox(db, "entra", "users", "list"), "[Ops] Ada :smile:", "[ops]@example.com")
    row_with(sandbox(db, "entra", "groups", "list"), "[Ops] Team", "[b]bold[/b]")
    members = sandbox(db, "entra", "groups", "members", "[Ops] Team")
    assert "Members of [Ops] Team" in members
    row_with(members, "ops@contoso.onmicrosoft.com", "[Ops] Ada :smile:")
    row_with(sandbox(db, "entra", "assignments"), "Group", "[Ops] Team", "USER")
    row_with(sandbox(db, "entra", "changes"), "add", '"displayName": "[Ops] Team"')
    row_with(sandbox(db, "provider", "members"), "tyler.cole@example.com", "[red]Tyler[/red]")


def test_logs_print_modified_target_paths_with_their_brackets(db):
    sandbox(db, "entra", "mappings", "preset", "nulab")
    sandbox(db, "entra", "assign", TYLER, "--role", "ADMIN")
    sandbox(db, "entra", "sync")  # provision on demand sends no role (§1.6): a cycle does
    sandbox(db, "entra", "set-role", TYLER, "GUEST")
    sandbox(db, "entra", "sync")
    row_with(sandbox(db, "entra", "logs"), "Update", 'roles[primary eq "True"].value')


def test_piped_tables_print_every_value_whole_on_one_line(db):
    upn = "maximiliana.alexandrovna.featherstonehaugh-cholmondeley@contoso.onmicrosoft.com"
    name = "Maximiliana Alexandrovna Featherstonehaugh-Cholmondeley, Managing Director"
    sandbox(db, "entra", "users", "add", "--upn", upn, "--display-name", name,
            "--country", "United Kingdom of Great Britain and Northern Ireland")  # fmt: skip
    output = sandbox(db, "entra", "users", "list")
    row_with(output, upn, name, "United Kingdom of Great Britain and Northern Ireland")
    row_with(output, DENNIS, "dennis.boone@example.com", "Dennis Boone", "United States")
    row_with(sandbox(db, "provider", "members"), "dennis.boone@example.com", "Managed Account",
             "Asia/Tokyo", "Design, Engineering, Marketing, Research, Sales, Support")  # fmt: skip
    assert "…" not in output
    assert all(line == line.rstrip() for line in output.splitlines())
    # --json stays the form for scripts
    listed = json.loads(sandbox(db, "entra", "users", "list", "--json"))
    assert upn in [u["userPrincipalName"] for u in listed]


# -- unknown names are errors -----------------------------------------------------------


def test_logs_of_an_unknown_user_or_cycle_are_errors(db):
    error = sandbox(db, "entra", "logs", "--user", "nobody", ok=False)
    assert "no tenant user or group 'nobody'" in error
    assert "no cycle #7 (no cycle has run yet)" in sandbox(db, "entra", "logs", "--cycle", "7",
                                                             ok=False)  # fmt: skip
    # a known user with no record yet is an empty table, not an error
    assert "Provisioning logs" in sandbox(db, "entra", "logs", "--user", DENNIS)
    sandbox(db, "entra", "assign", TYLER)
    sandbox(db, "entra", "pod", TYLER)
    assert "no cycle #2 (the last cycle is #1)" in sandbox(db, "entra", "logs", "--cycle", "2",
                                                             ok=False)  # fmt: skip
    # by mail too, and still after a hard delete (the logs keep the object's name)
    row_with(sandbox(db, "entra", "logs", "--user", "tyler.cole@example.com"), TYLER)
    sandbox(db, "entra", "users", "hard-delete", TYLER)
    row_with(sandbox(db, "entra", "logs", "--user", TYLER, "--cycle", "1"), TYLER)


def test_a_mapping_to_an_attribute_the_target_does_not_publish_is_refused(db):
    error = sandbox(db, "entra", "mappings", "set", "nonsense", "mail", ok=False)
    assert "nonsense: the target has no such attribute" in error
    assert "checked against the local provider's /Schemas" in error and "--force" in error
    error = sandbox(db, "entra", "mappings", "set", "department", "department", ok=False)
    assert "did you mean urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" in (
        error
    )
    error = sandbox(db, "entra", "mappings", "set", "name.nickname", "givenName", ok=False)
    assert "name has no sub-attribute 'nickname'" in error
    mapped = [m["target"] for m in json.loads(sandbox(db, "entra", "mappings", "list", "--json"))]
    assert "nonsense" not in mapped and "department" not in mapped

    added = sandbox(db, "entra", "mappings", "set", "NickName", "mailNickname")
    assert "Added the mapping of nickName (checked against the local provider's /Schemas)" in added
    forced = sandbox(db, "entra", "mappings", "set", "nonsense", "mail", "--force")
    assert "Added the mapping of nonsense (a custom attribute" in forced
    # SCIM names are case-insensitive: this replaces userName's mapping, keeping it matching
    assert "Replaced the mapping of userName" in sandbox(db, "entra", "mappings", "set",
                                                         "username", "mail")  # fmt: skip
    mappings = json.loads(sandbox(db, "entra", "mappings", "list", "--json"))
    user_name = [m for m in mappings if m["target"].lower() == "username"]
    assert user_name == [dict(user_name[0], source="mail")] and user_name[0]["matching_precedence"]


def test_without_published_schemas_the_default_scim_user_attributes_are_used(db):
    sandbox(db, "entra", "configure", "--tenant-url", "http://127.0.0.1:9/scim/v2")
    error = sandbox(db, "entra", "mappings", "set", "nonsense", "mail", ok=False)
    assert "checked against the default SCIM User attributes" in error
    assert "http://127.0.0.1:9/scim/v2/Schemas could not be read" in error
    added = sandbox(db, "entra", "mappings", "set", "nickName", "mailNickname")
    assert "checked against the default SCIM User attributes" in added


def test_removing_a_mapping_that_does_not_exist_is_an_error_with_close_matches(db):
    error = sandbox(db, "entra", "mappings", "remove", "titel", ok=False)
    assert "no mapping targets 'titel'; did you mean title?" in error
    assert "Removed the mapping of title" in sandbox(db, "entra", "mappings", "remove", "TITLE")


def test_a_scoping_clause_on_an_attribute_users_do_not_have_is_refused(db):
    error = sandbox(db, "entra", "scoping", "add", "departmnt EQUALS Sales", ok=False)
    assert "a tenant user has no attribute 'departmnt'; did you mean department?" in error
    assert "No scoping filters" in sandbox(db, "entra", "scoping", "list")


# -- eval ---------------------------------------------------------------------------------


def test_eval_without_a_user_names_the_attributes_it_needs(db):
    error = sandbox(db, "eval", 'Join(" ", [givenName], [surname], [givenName])', ok=False)
    assert "the expression reads [givenName], [surname]: give --user" in error
    assert sandbox(db, "eval", 'Join("-", "a", "b")') == "a-b\n"


def test_eval_takes_a_tenant_user_by_upn_object_id_or_mail(db):
    assert sandbox(db, "eval", "ToUpper([mail])", "--user", DENNIS) == "DENNIS.BOONE@EXAMPLE.COM\n"
    user = json.loads(sandbox(db, "entra", "users", "show", DENNIS, "--json"))
    assert sandbox(db, "eval", "[givenName]", "--user", user["id"]) == "Dennis\n"
    assert sandbox(db, "eval", "[IsSoftDeleted]", "--user", "dennis.boone@example.com") == (
        "True\n"  # not assigned: what a cycle's mappings would read
    )
    error = sandbox(db, "eval", "[mail]", "--user", "nobody", ok=False)
    assert "no tenant user with objectId, UPN or mail 'nobody'" in error


# -- seeding -----------------------------------------------------------------------------


def test_users_seed_gives_the_number_of_users_asked_for(db):
    output = sandbox(db, "entra", "users", "seed", "--users", "20", "--replace")
    assert output.startswith(
        "Seeded 20 tenant users (18 with an organization member's email as mail, 2 B2B guests)"
    )
    assert "6 of the organization's 24 members have no tenant user" in output
    listed = json.loads(sandbox(db, "entra", "users", "list", "--json"))
    assert len(listed) == 20 and sum(u["userType"] == "Guest" for u in listed) == 2
    assert sandbox(db, "entra", "users", "seed", "--replace") == (
        "Seeded 50 tenant users (24 with an organization member's email as mail, 2 B2B guests) "
        "and 3 groups (seed 1).\n"
    )


def test_logs_details_show_the_reason_and_steps_and_a_deleted_users_records_by_upn(tmp_path):
    db = str(tmp_path / "sandbox.db")

    def run(*args: str):
        return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)

    run("entra", "groups-provisioning", "off")
    run("entra", "mappings", "preset", "nulab")
    run("entra", "assign", "kathryn.smith@contoso.onmicrosoft.com")  # a Nulab Account: 409
    run("entra", "assign", "david.cook@contoso.onmicrosoft.com")
    run("entra", "sync")
    shown = run("entra", "logs", "--status", "Failure", "--details").output
    assert "kathryn.smith@contoso.onmicrosoft.com: Create Failure (EntryConflict)" in shown
    assert "kathryn.smith@example.com belongs to a Nulab Account" in shown  # the reason
    assert "1. [success] EntryImport" in shown and "exchanges: #" in shown
    run("entra", "users", "hard-delete", "david.cook@contoso.onmicrosoft.com")
    run("entra", "sync")
    listed = run("entra", "logs", "--user", "david.cook@contoso.onmicrosoft.com", "--json")
    actions = [r["provisioningAction"] for r in json.loads(listed.output)]
    assert actions == ["update", "delete"]  # the Delete is named by the target userName
