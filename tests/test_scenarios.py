"""Scenario files: every shipped one passes, runs replay byte for byte, mistakes name file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.scenarios import ScenarioError, load, run_scenario
from tests.scenario_texts import MINIMAL

SHIPPED = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_passes(path):
    result = run_scenario(str(path))
    assert result.passed, "\n".join(result.failures)
    assert result.checks > 0


def test_at_least_the_promised_scenarios_ship():
    names = {p.stem for p in SHIPPED}
    assert {
        "happy-path",
        "userName-upn-pitfall",
        "groups-left-on",
        "flag-missing-vs-present",
        "role-downgrade-to-guest",
        "token-issuer-protection",
        "ineligible-and-nulab-account",
        "language-timezone-create-only",
        "unassign-soft-and-hard-delete",
        "accidental-deletion-protection",
        "throttling-429",
        "bad-token-quarantine",
    } <= names


@pytest.mark.parametrize("fmt", ["jsonl", "har"])
def test_the_same_seed_gives_byte_identical_transcripts(fmt):
    path = str(SHIPPED[0])
    first = run_scenario(path, transcript_format=fmt).transcript
    second = run_scenario(path, transcript_format=fmt).transcript
    assert first and first == second


def test_transcripts_redact_authorization_and_har_is_1_2(tmp_path):
    har = json.loads(run_scenario(str(SHIPPED[0]), transcript_format="har").transcript)
    assert har["log"]["version"] == "1.2"
    entries = har["log"]["entries"]
    assert entries and all({"request", "response", "startedDateTime"} <= set(e) for e in entries)
    text = json.dumps(har)
    assert "Bearer [redacted]" in text
    assert all(
        "redacted" in h["value"]
        for e in entries
        for h in e["request"]["headers"]
        if h["name"].lower() == "authorization"
    )


def test_a_failed_expectation_reads_as_a_diff_and_exits_1(tmp_path):
    scenario = tmp_path / "wrong.toml"
    scenario.write_text(
        MINIMAL + '\n[[step]]\naction = "expect"\n'
        'member = { email = "ada@example.com", role = "ADMIN" }\n'
    )
    result = CliRunner().invoke(cli, ["scenario", "run", str(scenario)])
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert (
        f"{scenario}:30 (step 3): member ada@example.com role: expected 'ADMIN', got 'USER'"
        in result.output
    )


@pytest.mark.parametrize(
    "tail, message",
    [
        ('\n[[step]]\naction = "explode"\n', ":31 (step 3): unknown action 'explode'"),
        (
            '\n[[step]]\naction = "assign"\nprincipal = "x"\ncolour = "red"\n',
            ":33 (step 3): assign has no field 'colour'",
        ),
        ('\n[[step]]\naction = "set-role"\nprincipal = "x"\n', ":30 (step 3): set-role needs role"),
        (
            '\n[[step]]\naction = "expect"\nlog = { colour = "red" }\n',
            "(step 3): expect.log has no field 'colour'",
        ),
        ("\n[[step]\n", "invalid TOML"),
        ("\n[surprise]\nx = 1\n", ":30: the scenario has no field 'surprise'"),
    ],
)
def test_bad_scenario_files_name_file_line_and_field(tmp_path, tail, message):
    scenario = tmp_path / "bad.toml"
    scenario.write_text(MINIMAL + tail)
    with pytest.raises(ScenarioError) as error:
        run_scenario(str(scenario))
    assert str(scenario) in str(error.value)
    assert message in str(error.value)
    result = CliRunner().invoke(cli, ["scenario", "run", str(scenario)])
    assert result.exit_code == 1 and result.output.startswith("Error: ")
    assert "Traceback" not in result.output


def test_a_seed_is_required(tmp_path):
    scenario = tmp_path / "noseed.toml"
    scenario.write_text(MINIMAL.replace("seed = 5\n", ""))
    with pytest.raises(ScenarioError, match="the scenario needs seed"):
        load(scenario)


def test_cli_lists_and_runs_with_transcripts(tmp_path):
    runner = CliRunner()
    listed = json.loads(
        runner.invoke(cli, ["scenario", "list", "--json", "--dir", str(SHIPPED[0].parent)]).output
    )
    assert {Path(r["file"]).name for r in listed} == {p.name for p in SHIPPED}
    assert all(r["description"] for r in listed)
    scenario = tmp_path / "minimal.toml"
    scenario.write_text(MINIMAL + '\n[[step]]\naction = "expect"\nrequests = { method = "POST" }\n')
    out = tmp_path / "run.har"
    result = runner.invoke(
        cli, ["scenario", "run", str(scenario), "--transcript", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["passed"] is True
    assert json.loads(out.read_text())["log"]["entries"]


def test_transcript_export_from_a_sandbox_database(tmp_path):
    from sandbox.config import Settings
    from sandbox.runtime import in_process_engine, open_store

    db = str(tmp_path / "live.db")
    settings = Settings(db_path=db)
    engine = in_process_engine(settings, open_store(settings))
    assert engine.test_connection().ok
    engine.request_log.flush()
    engine.transport.app.extensions["sandbox"].request_log.flush()  # the provider's side
    runner = CliRunner()
    jsonl = runner.invoke(cli, ["transcript", "export", "--db", db, "--format", "jsonl"])
    lines = [json.loads(line) for line in jsonl.output.splitlines()]
    assert lines and lines[0]["side"] == "engine" and lines[0]["method"] == "GET"
    assert "Bearer [redacted]" in jsonl.output
    out = tmp_path / "live.har"
    runner.invoke(cli, ["transcript", "export", "--db", db, "--side", "both", "--out", str(out)])
    assert {e["comment"].split(";")[0] for e in json.loads(out.read_text())["log"]["entries"]} == {
        "engine",
        "provider",
    }


def test_a_mistyped_scenario_name_is_one_line_naming_the_closest_shipped_ones():
    result = CliRunner().invoke(cli, ["scenario", "run", "happy-pat"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: happy-pat: no such file, and no shipped scenario of that name; did you mean "
        "happy-path? `sandbox scenario list` shows them"
    )
