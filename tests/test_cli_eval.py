"""`sandbox eval`: evaluate an expression against a user; errors show a caret under the column."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sandbox.cli import cli


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, ["eval", *args], input=stdin)


def test_the_default_active_expression():
    result = run(
        'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
        "--user",
        '{"IsSoftDeleted": "True"}',
    )
    assert result.exit_code == 0 and result.output == "False\n"


def test_json_output_and_user_file(tmp_path):
    user = tmp_path / "user.json"
    user.write_text(json.dumps({"givenName": "Ada", "surname": "Lovelace"}))
    result = run('Join(" ", [givenName], [surname])', "--user-file", str(user), "--json")
    assert json.loads(result.output) == {"ok": True, "value": "Ada Lovelace"}


def test_user_from_stdin():
    result = run("ToUpper([mail])", "--user-file", "-", stdin='{"mail": "a@b.c"}')
    assert result.output == "A@B.C\n"


def test_a_syntax_error_prints_a_caret_under_the_column():
    result = run('Join(" ", [givenName]')
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == 'Join(" ", [givenName]'
    assert lines[1].endswith("^") and "Traceback" not in result.output


def test_errors_in_json_carry_the_column():
    result = run("Nope([x])", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["column"] == 1 and "Nope" in data["error"]


def test_now_and_seed_make_results_reproducible():
    assert run("Now()", "--now", "2026-01-31T09:00:00Z").output == "1/31/2026 9:00:00 AM\n"
    first, second = run("Guid()", "--seed", "7").output, run("Guid()", "--seed", "7").output
    assert first == second and len(first.strip()) == 36


def test_bad_input_is_a_one_line_error():
    for args in (["--user", "{nope"], ["--user", "[1]"], ["--now", "yesterday"]):
        result = run("[x]", *args)
        assert result.exit_code != 0 and result.output.startswith("Error: "), result.output
        assert len(result.output.strip().splitlines()) == 1


BAD_USERS = [
    # (--user JSON, the one line it gives)
    ('{"mail": "\\ud800", "n": "x"}', 'the user\'s mail holds "\\ud800", which is not text'),
    ('{"\\udfff": "x"}', 'the user has a property named "\\udfff", which is not text'),
    ('{"n": [{"v": "a\\ud800"}]}', 'the user\'s n[0].v holds "a\\ud800"'),
    ('{"n": 1e999}', "the user is not valid JSON: the number 1e999 is too large for a double"),
    ('{"n": NaN}', "the user is not valid JSON: NaN is not a JSON value"),
    ('{"n": -Infinity}', "the user is not valid JSON: -Infinity is not a JSON value"),
    ('{"n": ' + "9" * 5000 + "}", "the user is not valid JSON: a number has more than 4300 digits"),
    ('{"n": ' + "[" * 500 + "]" * 500 + "}", "the user nests arrays and objects deeper than 100"),
    ("[" * 100_000 + "]" * 100_000, "the user is not valid JSON: nested too deeply"),
    ('{"n": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}", "the user nests arrays and objects"),
    ('"ada"', "the user must be a JSON object of Entra properties"),
    ("[5]", "the user must be a JSON object of Entra properties"),
]


@pytest.mark.parametrize("user, says", BAD_USERS, ids=[s[:50] for _, s in BAD_USERS])
@pytest.mark.parametrize("how", ["--user", "--user-file"])
def test_a_user_that_cannot_be_read_or_printed_is_one_line(tmp_path, user, says, how):
    if how == "--user":
        result = run('Join(",", [n], [mail])', "--user", user)
    else:
        (tmp_path / "user.json").write_text(user, encoding="utf-8")
        result = run('Join(",", [n], [mail])', "--user-file", str(tmp_path / "user.json"))
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {says}"), result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_an_expression_that_is_not_utf8_is_one_line():
    result = run('"\udced\udca0\udc80"')  # the bytes ED A0 80 as the shell passes them on
    assert result.exit_code == 1
    assert result.output == "Error: the expression is not UTF-8 text (byte 0xed at column 2)\n"


def test_a_value_at_the_depth_limit_is_still_evaluated():
    nested = "[" * 99 + "1" + "]" * 99  # with the user's object, 100 levels
    result = run("[n]", "--user", f'{{"n": {nested}}}', "--json")
    assert result.exit_code == 0 and json.loads(result.output)["ok"] is True


def test_now_is_the_sandboxs_simulated_clock_as_a_cycle_reads_it(tmp_path):
    db = str(tmp_path / "sandbox.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "entra", "clock", "--advance", "3h"]).exit_code == 0
    result = runner.invoke(cli, ["--db", db, "eval", "Now()"])
    assert result.exit_code == 0 and result.output == "1/5/2026 12:00:00 PM\n"
    stamp = 'FormatDateTime(Now(), , "M/d/yyyy h:mm:ss tt", "yyyy-MM-ddTHH:mm")'
    assert runner.invoke(cli, ["--db", db, "eval", stamp]).output == "2026-01-05T12:00\n"
    fixed = runner.invoke(cli, ["--db", db, "eval", "Now()", "--now", "2026-01-31T09:00:00Z"])
    assert fixed.output == "1/31/2026 9:00:00 AM\n"


def test_without_a_database_now_is_where_a_new_sandboxs_clock_starts_and_none_is_made(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SANDBOX_DB_PATH", raising=False)
    result = CliRunner().invoke(cli, ["eval", "Now()"])
    assert result.exit_code == 0 and result.output == "1/5/2026 9:00:00 AM\n"
    assert list(tmp_path.iterdir()) == []
