"""`sandbox eval`: evaluate an expression against a user; errors show a caret under the column."""

from __future__ import annotations

import json

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
