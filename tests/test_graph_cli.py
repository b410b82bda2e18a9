"""`sandbox entra graph`: the Graph surface under `sandbox serve`'s server, its base URL
printed, its token required when given, stopped with Ctrl+C with the local provider."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.store import Store
from tests.conftest import free_port
from tests.live_servers import port_closed, wait_for_port


def test_it_needs_a_database_file_and_a_token_that_is_not_empty(tmp_path: Path):
    runner = CliRunner()
    memory = runner.invoke(cli, ["entra", "graph", "--db", ":memory:"])
    assert memory.exit_code != 0 and "needs a database file" in memory.output
    db = str(tmp_path / "sandbox.db")
    empty = runner.invoke(cli, ["entra", "graph", "--db", db, "--token", " "])
    assert empty.exit_code != 0 and "token is empty" in empty.output


@pytest.mark.slow
def test_it_serves_graph_at_the_printed_base_url_until_ctrl_c(tmp_path: Path):
    db, port = str(tmp_path / "sandbox.db"), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "entra", "graph", "--db", db, "--port", str(port),
         "--token", "T0ken"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("Ctrl+C" in x for x in lines):
            lines.append(proc.stdout.readline())
        assert f"Microsoft Graph base URL: http://127.0.0.1:{port}/v1.0\n" in lines
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}/v1.0"
        refused = httpx.get(f"{base}/servicePrincipals", timeout=10)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "InvalidAuthenticationToken"
        auth = {"Authorization": "Bearer T0ken"}
        body = {"accountEnabled": True, "displayName": "Cli User", "mailNickname": "cli",
                "userPrincipalName": "cli.user@contoso.onmicrosoft.com",
                "passwordProfile": {"password": "x"}}  # fmt: skip
        created = httpx.post(f"{base}/users", json=body, headers=auth, timeout=10)
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        assert len(processes_on(db)) >= 3  # the Graph server and the local provider's

        # a started job's first cycle runs in the server, unasked, and sends the new user
        sp = httpx.get(f"{base}/servicePrincipals", headers=auth, timeout=10).json()["value"][0]
        role = next(r["id"] for r in sp["appRoles"] if r["value"] == "USER")
        grant = {"principalId": user_id, "resourceId": sp["id"], "appRoleId": role}
        assigned = httpx.post(
            f"{base}/servicePrincipals/{sp['id']}/appRoleAssignedTo", json=grant, headers=auth
        )
        assert assigned.status_code == 201, assigned.text
        jobs = f"{base}/servicePrincipals/{sp['id']}/synchronization/jobs"
        job = httpx.get(jobs, headers=auth, timeout=10).json()["value"][0]
        assert job["status"]["lastExecution"] is None
        started = httpx.post(f"{jobs}/{job['id']}/start", headers=auth, timeout=10)
        assert started.status_code == 204, started.text
        run = None
        deadline = time.monotonic() + 30
        while run is None and time.monotonic() < deadline:
            time.sleep(0.5)
            run = httpx.get(f"{jobs}/{job['id']}", headers=auth).json()["status"]["lastExecution"]
        assert run is not None and run["countExported"] == 1, run
        logs = httpx.get(
            f"{base}/auditLogs/provisioning",
            params={"$filter": f"sourceIdentity/id eq '{user_id}'"},
            headers=auth,
        ).json()["value"]
        assert [(r["provisioningAction"], r["provisioningStatusInfo"]["status"]) for r in logs] == [
            ("create", "success")
        ]
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C reaches the terminal's process group
        proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()
    assert port_closed(port)
    store = Store(db)
    try:
        assert store.scalar("SELECT upn FROM entra_users WHERE id = ?", [user_id]) == (
            "cli.user@contoso.onmicrosoft.com"
        )
        # the worker wrote its last batch of the request log as it stopped
        rows = store.query("SELECT method, path, status, request_headers FROM request_log "
                           "WHERE side = 'graph' ORDER BY ord")  # fmt: skip
        assert [(r["method"], r["path"], r["status"]) for r in rows][:2] == [
            ("GET", "/v1.0/servicePrincipals", 401),
            ("POST", "/v1.0/users", 201),
        ]
        # the cycle's SCIM requests are logged beside the Graph calls
        posted = store.query("SELECT side FROM request_log WHERE method = 'POST' AND "
                             "path LIKE '/scim/v2/Users%'")  # fmt: skip
        assert {r["side"] for r in posted} == {"engine", "provider"}
        assert json.loads(rows[1]["request_headers"])["Authorization"] == "Bearer [redacted]"
    finally:
        store.close()
    assert processes_on(db) == []  # the local provider and its workers ended with it


@pytest.mark.slow
def test_killed_outright_it_leaves_no_process_and_frees_its_port(tmp_path: Path):
    # The Graph server's worker, adopted by init, kept serving the port after its main
    # process was killed with SIGKILL (the local provider ended by itself; the worker not).
    db, port = str(tmp_path / "sandbox.db"), free_port()
    proc = subprocess.Popen(  # the database by variable: every process's environment names it
        [sys.executable, "-m", "sandbox", "entra", "graph", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "SANDBOX_DB_PATH": os.path.abspath(db)},
    )  # fmt: skip
    try:
        wait_for_port(port)
        assert httpx.get(f"http://127.0.0.1:{port}/v1.0/users", timeout=30).status_code == 200
        assert len(processes_on(db)) >= 3  # Graph's main and worker, the local provider's
        proc.kill()
        proc.wait(15)
        assert port_closed(port, timeout=8)
        deadline = time.monotonic() + 15
        while processes_on(db) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_on(db) == []
    finally:
        for pid in processes_on(db):
            os.kill(pid, signal.SIGKILL)


def processes_on(db: str) -> list[int]:
    """Processes whose environment names `db` as their database (the command's children)."""
    mark = f"SANDBOX_DB_PATH={os.path.abspath(db)}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if mark in environ.split(b"\0"):
            found.append(int(entry))
    return found


def readme_graph_script() -> tuple[str, list[str]]:
    """The README's "Drive it with Microsoft Graph" script, and the output it shows."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Drive it with Microsoft Graph\n", 1)[1].split("\n## ", 1)[0]
    script = section.split("```python\n", 1)[1].split("```\n", 1)[0]
    shown = section.split("$ python graph_demo.py", 1)[1].split("```", 1)[0]
    return script, [line for line in shown.splitlines()[1:] if line.strip()]


@pytest.mark.slow
def test_the_readme_graph_script_runs_as_shown(tmp_path: Path):
    script, expected = readme_graph_script()
    (tmp_path / "graph_demo.py").write_text(script)
    db, port = str(tmp_path / "sandbox.db"), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "entra", "graph", "--db", db, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port)
        ran = subprocess.run(
            [sys.executable, "graph_demo.py", f"http://127.0.0.1:{port}/v1.0"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.splitlines() == expected
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
