"""Concurrent writers over real HTTP: uniqueness holds, versions count writes, the store stays sound.

Each test runs against the app embedded in a waitress server (threads of one process)
and against `sandbox serve` (granian worker processes, so writers queue across processes).
"""

from __future__ import annotations

import json
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.provider.resources import multi_value_rows
from sandbox.provider.schema import UserSchema
from sandbox.server import EmbeddedServer
from sandbox.store import Store
from tests.conftest import free_port, patch_body, start_serve, user_body
from tests.live_servers import stop_embedded

THREADS = 8


@dataclass
class Live:
    """A provider reachable over HTTP, and the file it stores into."""

    url: str
    token: str
    db_path: str

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )


@pytest.fixture(params=["embedded", pytest.param("serve", marks=pytest.mark.slow)])
def live(request, tmp_path: Path) -> Iterator[Live]:
    if request.param == "embedded":
        app = request.getfixturevalue("app")
        token = request.getfixturevalue("token")
        settings = request.getfixturevalue("settings")
        server = EmbeddedServer(app, port=0, threads=THREADS).start()
        try:
            yield Live(server.url + "/scim/v2", token, settings.db_path)
        finally:
            stop_embedded(server)
        return
    db_path = str(tmp_path / "serve.db")
    port = free_port()
    proc, token = start_serve(db_path, port)
    try:
        yield Live(f"http://127.0.0.1:{port}/scim/v2", token, db_path)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout is not None:
            proc.stdout.close()


def run_together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) on n threads released at the same moment; return results in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def main(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=main, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.parametrize(
    "spellings",
    [["ada@conc.example"], ["grace@conc.example", "GRACE@conc.example", "Grace@CONC.example"]],
)
def test_simultaneous_posts_of_one_user_name_create_it_once(live: Live, spellings) -> None:
    clients = [live.client() for _ in range(THREADS)]
    try:
        for client in clients:  # connect first, so the requests themselves race
            assert client.get("/ServiceProviderConfig").status_code == 200

        def post(i: int) -> httpx.Response:
            name = spellings[i % len(spellings)]
            return clients[i].post("/Users", json=user_body(name, displayName=f"thread {i}"))

        for _ in range(3):
            responses = run_together(THREADS, post)
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201] + [409] * (THREADS - 1), statuses
            for r in responses:
                if r.status_code == 409:
                    assert r.json()["scimType"] == "uniqueness"
                    assert r.headers["content-type"].startswith("application/scim+json")
            winner = next(r.json() for r in responses if r.status_code == 201)
            found = clients[0].get("/Users", params={"filter": f'userName eq "{spellings[0]}"'})
            assert [u["id"] for u in found.json()["Resources"]] == [winner["id"]]
            assert clients[0].delete(f"/Users/{winner['id']}").status_code == 204
    finally:
        for client in clients:
            client.close()


def test_mixed_concurrent_writes_keep_the_store_consistent(live: Live) -> None:
    """POST/PATCH/PUT/DELETE from 8 threads on overlapping users.

    Every write that succeeds changes the user (unique values), so a user's meta.version
    must be 1 + the number of its acknowledged PATCH/PUTs, and those acknowledgements must
    carry the versions 2, 3, ... each exactly once (no lost update, no double count).
    """
    with live.client() as setup:
        ids = [
            setup.post(
                "/Users",
                json=user_body(
                    f"shared-{i}@conc.example", displayName="s", emails=_emails(f"s{i}")
                ),
            ).json()["id"]
            for i in range(6)
        ]
    lock = threading.Lock()
    acked: dict[str, list[int]] = defaultdict(list)  # user id -> versions its writes returned
    deleted: set[str] = set()
    created: dict[str, str] = {}  # id -> userName

    def worker(i: int) -> None:
        rng = random.Random(i)
        with live.client() as client:
            for k in range(30):
                tag = f"t{i}-{k}"
                with lock:
                    pool = ids + list(created)
                target = rng.choice(pool)
                roll = rng.random()
                if roll < 0.15:
                    r = client.post(
                        "/Users",
                        json=user_body(
                            f"new-{tag}@conc.example", displayName=tag, emails=_emails(tag)
                        ),
                    )
                    assert r.status_code == 201, r.text
                    with lock:
                        created[r.json()["id"]] = f"new-{tag}@conc.example"
                        acked[r.json()["id"]].append(r.json()["meta"]["version"])
                    continue
                if roll < 0.55:
                    ops = [{"op": "replace", "path": "displayName", "value": tag}]
                    if rng.random() < 0.5:
                        ops.append({"op": "replace", "path": "emails", "value": _emails(tag)})
                    if rng.random() < 0.1:  # a rename onto a taken userName must fail whole
                        ops.append(
                            {"op": "replace", "path": "userName", "value": "SHARED-0@conc.example"}
                        )
                    r = client.patch(f"/Users/{target}", json=patch_body(*ops))
                elif roll < 0.9:
                    current = client.get(f"/Users/{target}")
                    if current.status_code == 404:
                        continue
                    name = current.json()["userName"]
                    body = user_body(name, displayName=tag, emails=_emails(tag))
                    r = client.put(f"/Users/{target}", json=body)
                else:
                    r = client.delete(f"/Users/{target}")
                    assert r.status_code in (204, 404), r.text
                    if r.status_code == 204:
                        with lock:
                            deleted.add(target)
                    continue
                assert r.status_code in (200, 404, 409), r.text
                if r.status_code == 409:
                    assert r.json()["scimType"] == "uniqueness"
                if r.status_code == 200:
                    with lock:
                        acked[target].append(r.json()["meta"]["version"])

    run_together(THREADS, worker)

    with live.client() as client:
        mine = {"count": 1000, "filter": 'userName ew "@conc.example"'}  # not seeded members
        listed = client.get("/Users", params=mine).json()["Resources"]
    by_id = {u["id"]: u for u in listed}
    assert set(by_id) == (set(ids) | set(created)) - deleted
    for user_id, user in by_id.items():
        versions = sorted(_version(v) for v in acked[user_id] if _version(v) > 1)
        assert versions == list(range(2, len(versions) + 2)), (user_id, versions)
        assert _version(user["meta"]["version"]) == 1 + len(versions), user_id

    assert_store_consistent(live.db_path)


def _emails(tag: str) -> list[dict[str, Any]]:
    return [
        {"value": f"{tag}@work.example", "type": "work", "primary": True},
        {"value": f"{tag}@home.example", "type": "home"},
    ]


def _version(etag: str) -> int:
    return int(etag.removeprefix('W/"').removesuffix('"'))


def assert_store_consistent(db_path: str) -> None:
    """integrity_check ok, user_values exactly as the documents imply, userName unique."""
    store = Store(db_path)
    try:
        assert store.integrity_check() == "ok"
        schema = UserSchema()
        users = store.query("SELECT id, user_name, user_name_norm, doc FROM users")
        expected = []
        for row in users:
            doc = json.loads(row["doc"])
            assert row["user_name"] == doc["userName"]
            assert row["user_name_norm"] == doc["userName"].casefold()
            expected.extend(multi_value_rows(schema, row["id"], doc))
        stored = store.db.execute(
            "SELECT attr, value_norm, user_id, n, type_norm, value, is_primary, item FROM user_values"
        ).fetchall()
        assert sorted(map(tuple, stored), key=repr) == sorted(expected, key=repr)
        orphans = store.scalar(
            "SELECT count(*) FROM user_values WHERE user_id NOT IN (SELECT id FROM users)"
        )
        assert orphans == 0
        duplicates = store.query(
            "SELECT user_name_norm FROM users GROUP BY user_name_norm HAVING count(*) > 1"
        )
        assert not duplicates
    finally:
        store.close()
