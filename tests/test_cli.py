"""The CLI: provider commands, one-line errors, --db everywhere."""

from __future__ import annotations

import json

from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.provider.auth import Credentials
from sandbox.store import Store


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_enable_disable_and_show(tmp_path):
    db = str(tmp_path / "s.db")
    assert "enabled" in run("provider", "enable", "--db", db).output
    shown = json.loads(run("provider", "show", "--db", db, "--json").output)
    # a fresh sandbox starts set up: enabled, with a token its owner admin issued
    assert shown["provisioning_enabled"] is True and shown["token_issued"] is True
    run("--db", db, "provider", "disable")
    assert (
        json.loads(run("--db", db, "provider", "show", "--json").output)["provisioning_enabled"]
        is False
    )


def test_token_issue_prints_the_url_and_a_token_that_works_once_stored_as_hash(tmp_path):
    db = str(tmp_path / "s.db")
    result = run("provider", "token", "issue", "--db", db, "--json", "--port", "9001")
    data = json.loads(result.output)
    assert data["scim_url"] == "http://127.0.0.1:9001/scim/v2"
    store = Store(db)
    assert store.get_state("token_hash") != data["token"]
    run("provider", "enable", "--db", db)
    Credentials(store).check(f"Bearer {data['token']}")  # raises if it does not work
    human = run("provider", "token", "issue", "--db", db).output
    assert "shown only once" in human and data["token"] not in human


def test_token_delete(tmp_path):
    db = str(tmp_path / "s.db")
    run("provider", "token", "issue", "--db", db)
    run("provider", "token", "delete", "--db", db)
    assert json.loads(run("provider", "show", "--db", db, "--json").output)["token_issued"] is False


def test_user_mistakes_get_one_line_errors_not_tracebacks(tmp_path):
    (tmp_path / "dir.db").mkdir()
    result = CliRunner().invoke(cli, ["provider", "show", "--db", str(tmp_path / "dir.db")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_settings_in_the_environment_are_one_line_errors(tmp_path):
    result = CliRunner().invoke(
        cli, ["provider", "show", "--db", str(tmp_path / "s.db")], env={"SANDBOX_PORT": "eighty"}
    )
    assert result.exit_code == 1
    assert "SANDBOX_PORT must be an integer" in result.output


def test_every_command_has_help_text():
    def walk(group, prefix=()):
        for name, command in group.commands.items():
            yield (*prefix, name), command
            if hasattr(command, "commands"):
                yield from walk(command, (*prefix, name))

    for path, command in walk(cli):
        assert command.help, f"sandbox {' '.join(path)} has no help text"
        assert run(*path, "--help").exit_code == 0
