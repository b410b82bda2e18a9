"""Bad values on the command line: one line naming what was wrong, never a traceback, and
nothing stored. Numbers past what SQLite or the simulated clock hold, negative counts, files
that are missing, unreadable or not UTF-8."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.cli.root import SandboxGroup

HUGE = "99999999999999999999999"


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "sandbox.db")
    CliRunner().invoke(cli, ["--db", path, "entra", "status"], catch_exceptions=False)
    return path


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["entra", "users", "list", "--limit", "-1"], 2, "'--limit': -1 is not in the range"),
        (["entra", "users", "list", "--limit", HUGE], 2, "'--limit'"),
        (["entra", "users", "list", "--offset", "-5"], 2, "'--offset'"),
        (["entra", "changes", "--since", HUGE], 2, "'--since'"),
        (["entra", "changes", "--limit", "-3"], 2, "'--limit'"),
        (["entra", "sync", "--cycles", HUGE], 2, "'--cycles'"),
        (["entra", "logs", "--limit", HUGE], 2, "'--limit'"),
        (["entra", "logs", "--cycle", HUGE], 2, "'--cycle'"),
        (["entra", "configure", "--escrow-threshold", HUGE], 2, "'--escrow-threshold'"),
        (["entra", "configure", "--concurrency", "0"], 2, "'--concurrency'"),
        (["entra", "mappings", "set", "userName", "mail", "--matching", HUGE], 2, "'--matching'"),
        (["provider", "seats", "--limit", HUGE], 2, "'--limit'"),
        (
            ["provider", "faults", "add", "--status", "429", "--retry-after", HUGE],
            2,
            "'--retry-after'",
        ),
        (["provider", "faults", "add", "--status", "500", "--count", HUGE], 2, "'--count'"),
        (["provider", "faults", "clear", HUGE], 2, "RULE_ID"),
        (["provider", "token", "issue", "--port", "70000"], 2, "'--port'"),
        (["eval", "1", "--seed", "-1"], 2, "'--seed'"),
        (["entra", "clock", "--advance", "99999999d"], 1, "a duration is at most 3650d"),
        (["entra", "clock", "--advance", f"{HUGE}d"], 1, "a duration is at most 3650d"),
        (["eval", "1" * 5000], 1, "a number has at most 64 characters"),
        (["eval", "&H11111111111111111111"], 1, "at most 16 digits"),
        (["scenario", "list", "--dir", "/nonexistent-folder"], 2, "does not exist"),
        (["entra", "configure", "--tenant-url", "http://[::1"], 1, "is not a valid URL"),
        (["entra", "configure", "--tenant-url", "http://[zz]/scim"], 1, "is not a valid URL"),
        (["entra", "configure", "--tenant-url", "http://exa mple.com/scim"], 1, "holds a space"),
        (
            ["entra", "configure", "--tenant-url", "http://127.0.0.1:99999/scim"],
            1,
            "Port out of range",
        ),
        (["entra", "configure", "--tenant-url", "http:///scim"], 1, "must be an http(s) URL"),
    ],
)
def test_a_bad_value_is_one_clear_error(db, args, code, says):
    result = CliRunner().invoke(cli, ["--db", db, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, result.output
    assert says in result.output
    assert "Traceback" not in result.output


def test_a_scenario_transcript_into_a_missing_folder_is_refused_before_the_run(tmp_path):
    out = tmp_path / "missing" / "run.har"
    result = CliRunner().invoke(cli, ["scenario", "run", "happy-path", "--transcript", str(out)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: cannot write {out}: the directory {out.parent} does not exist"
    )  # one line, and no PASS/FAIL: nothing ran


def test_a_user_file_that_is_not_utf8_is_one_line(tmp_path):
    bad = tmp_path / "user.json"
    bad.write_bytes(b'\xe9\xe9{"givenName": "x"}')
    result = CliRunner().invoke(cli, ["eval", "[givenName]", "--user-file", str(bad)])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {bad} is not UTF-8 text"


def test_a_file_the_system_refuses_is_one_line_naming_it(tmp_path):
    @click.group(cls=SandboxGroup)
    def group() -> None:
        """A group as every command module has."""

    @group.command()
    def write() -> None:
        (tmp_path / "missing" / "out.txt").write_text("x")

    result = CliRunner().invoke(group, ["write"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path / 'missing' / 'out.txt'}: No such file or directory\n"
    )


def test_scenario_list_describes_an_invalid_file_as_run_would_refuse_it(tmp_path):
    (tmp_path / "steps.toml").write_text('name = "x"\nseed = 1\nstep = 5\n')
    (tmp_path / "url.toml").write_text(
        'name = "y"\nseed = 1\n[[step]]\naction = "configure"\ntenant_url = "http://[::1"\n'
    )
    result = CliRunner().invoke(cli, ["scenario", "list", "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    rows = {Path(r["file"]).name: r["description"] for r in json.loads(result.output)}
    assert "step must be one or more [[step]] tables, got 5" in rows["steps.toml"]
    assert "configure.tenant_url must be an http(s) URL" in rows["url.toml"]
    ran = CliRunner().invoke(cli, ["scenario", "run", str(tmp_path / "url.toml")])
    assert ran.exit_code == 1 and "url.toml:5 (step 1): configure.tenant_url" in ran.output


def test_an_empty_db_path_is_refused_not_replaced_by_a_throwaway_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["entra", "users", "list", "--db", ""])
    assert result.exit_code == 2 and "the database path is empty" in result.output
    result = CliRunner().invoke(cli, ["--db", "", "provider", "show"])
    assert result.exit_code == 2 and "the database path is empty" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing created anywhere


def test_a_tenant_search_takes_percent_and_underscore_as_plain_characters(db):
    def found(search: str) -> list[dict]:
        result = CliRunner().invoke(
            cli, ["--db", db, "entra", "users", "list", "--search", search, "--json"]
        )
        return json.loads(result.output)

    everyone = found("")
    assert len(everyone) == 40
    assert found("%") == []  # no user has a % anywhere
    underscored = found("_")  # the B2B guests' UPNs (alias_theirdomain#EXT#@...)
    assert underscored and all("_" in u["userPrincipalName"] for u in underscored)
    assert len(underscored) < len(everyone)
    assert len(found("dennis.boone")) == 1


def test_fault_rule_ids_are_never_reused(db):
    def add() -> int:
        result = CliRunner().invoke(
            cli, ["--db", db, "provider", "faults", "add", "--status", "500", "--count", "1"]
        )
        assert result.exit_code == 0, result.output
        return int(re.search(r"#(\d+)", result.output).group(1))

    first, second = add(), add()
    CliRunner().invoke(cli, ["--db", db, "provider", "faults", "clear", str(second)])
    third = add()
    CliRunner().invoke(cli, ["--db", db, "provider", "faults", "clear"])
    fourth = add()
    assert (first, second, third, fourth) == (1, 2, 3, 4)


def test_the_owner_issues_a_token_only_as_an_active_admin(db):
    owner = "dennis.boone@example.com"
    CliRunner().invoke(cli, ["--db", db, "provider", "edit", owner, "--role", "GUEST"])
    result = CliRunner().invoke(cli, ["--db", db, "provider", "token", "issue"])
    assert result.exit_code == 1
    assert f"{owner} is not an active admin" in result.output


def test_expression_errors_speak_of_the_expression_not_of_python(db):
    result = CliRunner().invoke(cli, ["eval", 'DateAdd("d", 99999999999, "2024-01-01T00:00:00Z")'])
    assert result.exit_code == 1
    assert "DateAdd failed: a value is out of range" in result.output
    assert "OverflowError" not in result.output and "Python" not in result.output


def test_a_seed_domain_that_is_no_domain_is_refused(tmp_path):
    from click.testing import CliRunner

    from sandbox.cli import cli

    db = str(tmp_path / "d.db")
    for command in (["entra", "users", "seed"], ["provider", "seed"]):
        result = CliRunner().invoke(cli, ["--db", db, *command, "--domain", "bad domain"])
        assert result.exit_code == 2
        assert "'bad domain' is not a domain such as contoso.onmicrosoft.com" in result.output


def test_a_fault_seed_without_a_probability_is_refused(tmp_path):
    from click.testing import CliRunner

    from sandbox.cli import cli

    db = str(tmp_path / "d.db")
    args = ["--db", db, "provider", "faults", "add", "--status", "429"]
    result = CliRunner().invoke(cli, [*args, "--seed", "3"])
    assert result.exit_code == 2 and "--seed seeds --probability" in result.output
    assert CliRunner().invoke(cli, [*args, "--probability", "0.5", "--seed", "3"]).exit_code == 0
