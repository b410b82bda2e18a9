"""The SCIM token is a secret: the database keeps only its hash, the request log redacts it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, start_serve, user_body


def _files(db_path: str) -> dict[str, bytes]:
    """The database file and its companions (WAL, shared memory, writer lock), as bytes.

    `<db>.secrets` is left out on purpose: it is the mock Entra's side, which must hold the
    clear Secret Token to send it, as Entra does; it lives outside the database, owner-only
    (checked in test_the_engines_secret_file_is_owner_only).
    """
    return {
        path.name: path.read_bytes()
        for path in Path(db_path).parent.iterdir()
        if path.name.startswith(Path(db_path).name) and not path.name.endswith(".secrets")
    }


def test_the_engines_secret_file_is_owner_only(tmp_path: Path) -> None:
    from sandbox.config import Settings
    from sandbox.runtime import open_provisioning

    db_path = str(tmp_path / "engine.db")
    engine = open_provisioning(Settings(db_path=db_path))
    secret_file = Path(db_path + ".secrets")
    assert engine.config().secret_token
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert engine.config().secret_token.encode() not in Path(db_path).read_bytes()


def _assert_nowhere(
    db_path: str, secrets: list[str], log_rows: list[tuple], *, wal: bool = True
) -> None:
    files = _files(db_path)
    if wal:  # while connections are open; the last one to close checkpoints and removes it
        assert any(name.endswith("-wal") for name in files), "expected a WAL file to search too"
    for secret in secrets:
        for name, data in files.items():
            assert secret.encode() not in data, f"the clear token is in {name}"
        for row in log_rows:
            assert secret not in json.dumps(row), "the clear token is in the request log"


def _log_rows(db_path: str) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT * FROM request_log").fetchall()
    finally:
        conn.close()


def test_token_is_never_stored_in_clear_and_is_redacted_in_the_log(app, settings) -> None:
    ctx = app.extensions["sandbox"]
    ctx.credentials.set_enabled(True)
    first = ctx.credentials.issue("2026-01-01T00:00:00.000Z")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {first}"}
    assert client.get("/scim/v2/Users", headers=auth).status_code == 200
    created = client.post("/scim/v2/Users", json=user_body("ada"), headers=auth)
    assert created.status_code == 201
    patched = client.patch(
        f"/scim/v2/Users/{created.get_json()['id']}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Ada"}],
        },
        headers=auth,
    )
    assert patched.status_code == 200

    second = ctx.credentials.issue("2026-01-02T00:00:00.000Z")  # reissue: the first stops working
    assert client.get("/scim/v2/Users", headers=auth).status_code == 401
    assert (
        client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {second}"}).status_code
        == 200
    )
    assert (
        client.get("/scim/v2/Users", headers={"Authorization": f"bearer  {second} "}).status_code
        == 200
    )
    ctx.request_log.flush()

    entries = ctx.request_log.entries(limit=100)
    assert len(entries) == 6
    for entry in entries:
        header = {k.lower(): v for k, v in entry["request_headers"].items()}["authorization"]
        assert header.lower() == "bearer [redacted]", header
    _assert_nowhere(settings.db_path, [first, second], _log_rows(settings.db_path))


@pytest.mark.slow
def test_sandbox_serve_and_the_cli_never_write_the_token_in_clear(tmp_path: Path) -> None:
    db_path = str(tmp_path / "secret.db")
    port = free_port()
    proc, first = start_serve(db_path, port)
    url = f"http://127.0.0.1:{port}/scim/v2"
    try:
        assert first
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {first}"}) as client:
            assert client.get("/Users").status_code == 200
            body = user_body("secret@example.com", displayName="secret")
            assert client.post("/Users", json=body).status_code == 201
        reissued = subprocess.run(
            [
                sys.executable,
                "-m",
                "sandbox",
                "provider",
                "token",
                "issue",
                "--db",
                db_path,
                "--json",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        second = json.loads(reissued.stdout)["token"]
        with httpx.Client(base_url=url) as client:
            assert (
                client.get("/Users", headers={"Authorization": f"Bearer {first}"}).status_code
                == 401
            )
            assert (
                client.get("/Users", headers={"Authorization": f"Bearer {second}"}).status_code
                == 200
            )
        # The workers write their request logs every 0.2 s; wait (bounded) for all 4 exchanges.
        deadline = time.monotonic() + 10
        while len(_log_rows(db_path)) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        _assert_nowhere(db_path, [first, second], _log_rows(db_path))  # running: WAL too
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout is not None:
            proc.stdout.close()
    rows = _log_rows(db_path)
    assert len(rows) >= 4
    conn = sqlite3.connect(db_path)
    try:
        sent = [json.loads(h) for (h,) in conn.execute("SELECT request_headers FROM request_log")]
    finally:
        conn.close()
    # Every exchange was sent with a token; each is logged with its scheme and no more.
    assert [h.get("Authorization") for h in sent] == ["Bearer [redacted]"] * len(rows)
    _assert_nowhere(db_path, [first, second], rows, wal=False)
