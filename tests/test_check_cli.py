"""`sandbox check URL --token T` on the command line: the report's lines and summary, the
exit status, --json, --junit, --har (Authorization redacted), and bad input in one line.
The endpoints are served on loopback ports (the CLI speaks real HTTP)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.server import EmbeddedServer
from tests.check_endpoints import TOKEN, broken_app
from tests.live_servers import stop_embedded


@pytest.fixture
def serve(tmp_path) -> Iterator:
    servers: list[EmbeddedServer] = []

    def start(surprise: str | None = None) -> str:
        server = EmbeddedServer(broken_app(surprise), log_path=str(tmp_path / "server.log"))
        servers.append(server.start())
        return server.url + "/scim/v2"

    yield start
    for server in servers:
        stop_embedded(server)


def run(*args: str):
    return CliRunner().invoke(cli, ["check", *args], catch_exceptions=False)


def test_a_passing_endpoint_prints_every_result_and_a_summary_and_exits_0(serve):
    result = run(serve(), "--token", TOKEN, "--dialect", "legacy")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("PASS legacy") and "user.create" in line for line in lines)
    assert any(line.startswith("PASS legacy") and "user.manager-remove" in line for line in lines)
    assert any(line.startswith("PASS legacy") and "group.unassign" in line for line in lines)
    assert lines[-1].endswith("0 failed, 0 skipped: ready for Entra")


def test_a_broken_endpoint_shows_what_entra_does_next_and_the_exchange_and_exits_1(serve):
    result = run(serve("boolean-strings-refused"), "--token", TOKEN, "--dialect", "legacy")
    assert result.exit_code == 1
    out = result.output
    assert "FAIL legacy           user.disable" in out
    assert "Entra next: Entra escrows the change" in out
    assert "exchange: PATCH /scim/v2/Users/" in out and "-> 400" in out
    assert '"op":"Replace","path":"active","value":"False"' in out
    assert "active must be a JSON boolean" in out
    assert out.splitlines()[-1].endswith("Entra will break on this endpoint")


def test_json_junit_and_har(serve, tmp_path):
    junit, har = tmp_path / "checks.xml", tmp_path / "checks.har"
    url = serve("member-value-list-refused")
    result = run(url, "--token", TOKEN, "--json", "--junit", str(junit), "--har", str(har))
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False and report["groups"] is True
    failing = [r for r in report["results"] if r["status"] == "fail"]
    assert [(r["dialect"], r["id"]) for r in failing] == [("legacy", "group.member-remove")]
    assert failing[0]["exchange"]["method"] == "PATCH" and failing[0]["entra_next"]
    suites = ET.parse(junit).getroot()
    assert suites.get("failures") == "1"
    cases = {c.get("name"): c for c in suites.iter("testcase")
             if c.get("classname") == "sandbox.check.legacy"}  # fmt: skip
    assert cases["group.member-remove"].find("failure") is not None
    assert cases["user.manager-remove"].find("failure") is None
    assert cases["user.manager-remove"].find("skipped") is None
    entries = json.loads(har.read_text())["log"]["entries"]
    assert len(entries) > 50
    auth = {h["value"] for e in entries for h in e["request"]["headers"]
            if h["name"].lower() == "authorization"}  # fmt: skip
    assert auth == {"Bearer [redacted]"}
    assert TOKEN not in har.read_text()


def test_bad_input_is_one_line(serve, tmp_path):
    result = CliRunner().invoke(cli, ["check", "http://127.0.0.1:9/scim/v2", "--token", "x"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot reach http://127.0.0.1:9/scim/v2: ")
    assert len(result.output.strip().splitlines()) == 1
    result = CliRunner().invoke(cli, ["check", serve(), "--token", "wrong"])
    assert result.exit_code == 1 and "answers 401 to this token" in result.output
    result = CliRunner().invoke(cli, ["check", serve(), "--token", TOKEN, "--mappings", "nope"])
    assert result.exit_code == 1
    assert "--mappings: nope is neither a preset (default, nulab) nor a file" in result.output
    missing = str(tmp_path / "no" / "x.xml")
    result = CliRunner().invoke(cli, ["check", serve(), "--token", TOKEN, "--junit", missing])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = CliRunner().invoke(cli, ["check", serve()])
    assert result.exit_code == 2 and "--token" in result.output


def test_a_mappings_file_adds_to_a_preset(serve, tmp_path):
    mappings = tmp_path / "mappings.toml"
    mappings.write_text('preset = "nulab"\n[[mapping]]\ntarget = "title"\nsource = "jobTitle"\n')
    result = run(serve(), "--token", TOKEN, "--dialect", "legacy", "--mappings", str(mappings),
                 "--json", "--no-groups")  # fmt: skip
    report = json.loads(result.output)
    assert result.exit_code == 0, report["summary"]
    manager = next(r for r in report["results"] if r["id"] == "user.manager-set")
    assert manager["reason"] == "manager is not mapped (add the mapping to check it)"
    broken = tmp_path / "broken.toml"
    broken.write_text('[[mapping]]\ntarget = "title"\nsource = "Left("\n')
    result = CliRunner().invoke(
        cli, ["check", serve(), "--token", TOKEN, "--mappings", str(broken)]
    )
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {broken}: [[mapping]] 1 (title): invalid expression")
