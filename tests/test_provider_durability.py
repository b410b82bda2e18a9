"""Durability: every 201 the provider acknowledged survives a SIGKILL of `sandbox serve`."""

from __future__ import annotations

import signal
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, user_body
from tests.live_servers import kill_group, port_closed, start_serve_session, wait_for_port

pytestmark = pytest.mark.slow

KILL_AFTER = 150
"""Acknowledged creations before the server is killed."""

MAX_POSTS = 5000
"""Upper bound on the poster's requests (it stops at the first connection error anyway)."""


def _integrity(db_path: str) -> str:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_acknowledged_users_survive_sigkill_of_the_server(tmp_path: Path) -> None:
    db_path = str(tmp_path / "durable.db")
    port = free_port()
    url = f"http://127.0.0.1:{port}/scim/v2"
    proc, token = start_serve_session(db_path, port)
    acknowledged: list[str] = []
    enough = threading.Event()
    done = threading.Event()
    try:
        assert token
        headers = {"Authorization": f"Bearer {token}"}

        def post_until_killed() -> None:
            try:
                with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
                    for i in range(MAX_POSTS):
                        name = f"durable-{i}@example.com"
                        body = user_body(name, displayName=f"durable {i}")
                        try:
                            response = client.post("/Users", json=body)
                        except httpx.TransportError:
                            return  # the server is gone: whatever was in flight is unknown
                        if response.status_code == 201:
                            acknowledged.append(response.json()["id"])
                        if len(acknowledged) >= KILL_AFTER:
                            enough.set()
            finally:
                enough.set()
                done.set()

        poster = threading.Thread(target=post_until_killed, daemon=True)
        poster.start()
        assert enough.wait(timeout=60)
        kill_group(proc)  # SIGKILL mid-stream: no shutdown, no flush, no checkpoint
        assert done.wait(timeout=30)
        poster.join(timeout=5)
    finally:
        if proc.poll() is None:
            kill_group(proc)

    assert port_closed(port), "a server worker outlived the SIGKILL of its process group"
    assert len(acknowledged) >= KILL_AFTER
    assert _integrity(db_path) == "ok"

    restarted, _ = start_serve_session(db_path, port)  # same database, same token
    try:
        wait_for_port(port)
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            missing = [i for i in acknowledged if client.get(f"/Users/{i}").status_code != 200]
            stored = client.get(
                "/Users", params={"filter": 'userName sw "durable-"', "count": 0}
            ).json()["totalResults"]
        assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged users lost"
        assert stored >= len(acknowledged)
    finally:
        kill_group(restarted, signal.SIGTERM)
    assert _integrity(db_path) == "ok"
