"""Exit status of the commands that run cycles or reach the tenant URL: 0 when everything ran
and nothing failed, 1 with one line on stderr when objects failed, the job is quarantined or
the test connection fails, 2 for a usage mistake."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sandbox.cli import cli

DENNIS = "dennis.boone@contoso.onmicrosoft.com"


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def one_error_line(result: Result) -> str:
    """The one line a failing command writes on stderr (and no traceback)."""
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A fresh sandbox (its engine against its own provider) with every user assigned."""
    path = tmp_path / "sandbox.db"
    assert run(path, "entra", "assign", "--all-users", "--role", "USER").exit_code == 0
    return path


@pytest.fixture
def closed(db: Path) -> Path:
    """The engine pointed at a closed loopback port."""
    url = f"http://127.0.0.1:{closed_port()}/scim/v2"
    assert run(db, "entra", "configure", "--tenant-url", url, "--secret-token", "t").exit_code == 0
    return db


def test_sync_where_every_request_is_refused_exits_1(closed: Path) -> None:
    result = run(closed, "entra", "sync")
    line = one_error_line(result)
    assert "failed 38" in result.stdout
    assert line.startswith("Error: 38 objects failed in cycle #1 (escrowed")
    as_json = run(closed, "entra", "sync", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)[0]["counts"]["failed"] == 38


def test_test_connection_to_a_closed_port_exits_1_with_why(closed: Path) -> None:
    line = one_error_line(run(closed, "entra", "test-connection"))
    assert line.startswith("Error: Unable to connect to the Tenant URL http://127.0.0.1:")
    assert run(closed, "entra", "test-connection", "--json").exit_code == 1


def test_provision_on_demand_against_a_closed_port_exits_1(closed: Path) -> None:
    result = run(closed, "entra", "pod", DENNIS)
    line = one_error_line(result)
    assert line.startswith(f"Error: provisioning {DENNIS} failed: Unable to connect")
    assert f"{DENNIS}: Other Failure" in result.stdout


def test_a_401_quarantines_and_sync_exits_1_until_it_is_lifted(db: Path) -> None:
    assert run(db, "provider", "faults", "add", "--status", "401").exit_code == 0
    line = one_error_line(run(db, "entra", "sync"))
    assert line.startswith("Error: the job is quarantined (EncounteredQuarantineException: ")
    assert "StatusCode: Unauthorized" in line
    one_error_line(run(db, "entra", "sync"))  # still quarantined
    pod = one_error_line(run(db, "entra", "pod", DENNIS))
    assert "You appear to have entered invalid credentials" in pod
    assert run(db, "provider", "faults", "clear").exit_code == 0
    assert run(db, "entra", "restart").exit_code == 0
    clean = run(db, "entra", "sync")
    assert clean.exit_code == 0 and clean.stderr == ""
    assert "created 38" in clean.stdout


def test_everything_ran_and_nothing_failed_exits_0(db: Path) -> None:
    connection = run(db, "entra", "test-connection")
    assert connection.exit_code == 0 and connection.stderr == ""
    assert "The specified credentials have permission" in connection.stdout
    synced = run(db, "entra", "sync", "--cycles", "2")
    assert synced.exit_code == 0 and synced.stderr == ""
    pod = run(db, "entra", "pod", DENNIS)
    assert pod.exit_code == 0 and pod.stderr == ""


def test_a_usage_mistake_exits_2(db: Path) -> None:
    assert run(db, "entra", "sync", "--cycles", "many").exit_code == 2
    assert run(db, "entra", "pod").exit_code == 2


def test_objects_failing_in_several_cycles_are_counted_per_cycle(closed: Path) -> None:
    """The same objects retried and failing again are not added up into more objects."""
    result = run(closed, "entra", "sync", "--cycles", "2")
    line = one_error_line(result)
    assert line.startswith(
        "Error: 38 objects failed in cycle #1, 38 objects failed in cycle #2 (escrowed"
    ), line
