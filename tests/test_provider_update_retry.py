"""PUT and PATCH share one read-apply-write path: a write that lands between a request's read
and its own write makes it re-read, re-check and re-apply, up to MAX_PATCH_RETRIES times."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.provider import create_app
from sandbox.provider.handlers import MAX_PATCH_RETRIES
from sandbox.provider.rules import OrgRules, WritePlan
from sandbox.provider.schema import UserSchema
from sandbox.provider.users import StoredUser, UserRepository
from tests.conftest import assert_scim_error, patch_body, user_body

BASE = "/scim/v2"


class Interloper(OrgRules):
    """Rules that, while a request plans its write, update the same user behind its back
    (the first `times` attempts), and note each attempt."""

    def __init__(self, store: Any) -> None:
        self.other_writer = UserRepository(store, UserSchema())
        self.times = 0
        self.attempts = 0

    def plan_update(self, current: StoredUser, doc: dict[str, Any], notes: list[str]) -> WritePlan:
        self.attempts += 1
        notes.append(f"attempt {self.attempts}")
        if self.attempts <= self.times:
            latest = self.other_writer.get(current.id)
            self.other_writer.update(latest, {**latest.doc, "title": f"Interloper {self.attempts}"})
        return WritePlan(doc)


@pytest.fixture
def interloper(store) -> Interloper:
    return Interloper(store)


@pytest.fixture
def raced(store, settings, interloper):
    app = create_app(store, settings, rules=interloper)
    credentials = app.extensions["sandbox"].credentials
    credentials.set_enabled(True)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = (
        f"Bearer {credentials.issue('2026-01-01T00:00:00.000Z')}"
    )
    client.user_id = client.post(f"{BASE}/Users", json=user_body("ann@example.com")).get_json()[
        "id"
    ]
    yield client
    app.extensions["sandbox"].request_log.close()


def put(client, **headers):
    body = user_body("ann@example.com", displayName="Ann Put")
    return client.put(f"{BASE}/Users/{client.user_id}", json=body, headers=headers)


def patch(client, **headers):
    body = patch_body({"op": "replace", "path": "displayName", "value": "Ann Patch"})
    return client.patch(f"{BASE}/Users/{client.user_id}", json=body, headers=headers)


@pytest.mark.parametrize("send", [put, patch])
def test_a_concurrent_update_is_retried_on_the_re_read_user(raced, interloper, send):
    interloper.times = 1
    response = send(raced)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert interloper.attempts == 2
    assert response.headers["ETag"] == 'W/"3"'  # the interloper's write, then this one
    assert json.loads(response.headers["X-Sandbox-Notes"]) == ["attempt 2"]  # afresh
    body = response.get_json()
    if send is patch:  # applied again to what the interloper wrote
        assert (body["displayName"], body["title"]) == ("Ann Patch", "Interloper 1")
    else:  # the replacement does not keep it
        assert (body["displayName"], body.get("title")) == ("Ann Put", None)


@pytest.mark.parametrize("send", [put, patch])
def test_an_update_that_always_loses_the_race_gives_up_with_409(raced, interloper, send):
    interloper.times = MAX_PATCH_RETRIES
    body = assert_scim_error(send(raced), 409)
    assert "scimType" not in body  # no attribute value is in use
    assert body["detail"] == f"User {raced.user_id} was modified concurrently; retry"
    assert interloper.attempts == MAX_PATCH_RETRIES


@pytest.mark.parametrize("send", [put, patch])
def test_if_match_is_checked_again_on_each_attempt(raced, interloper, send):
    interloper.times = 1
    body = assert_scim_error(send(raced, **{"If-Match": 'W/"1"'}), 412)
    assert body["detail"] == 'the resource version is W/"2", not W/"1"'
    assert interloper.attempts == 1


def test_a_retried_patch_answers_204_when_the_setting_says_so(store, settings, interloper):
    app = create_app(
        store, settings.__class__(db_path=settings.db_path, patch_status=204), rules=interloper
    )
    credentials = app.extensions["sandbox"].credentials
    credentials.set_enabled(True)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = (
        f"Bearer {credentials.issue('2026-01-01T00:00:00.000Z')}"
    )
    try:
        client.user_id = client.post(f"{BASE}/Users", json=user_body("ann@example.com")).get_json()[
            "id"
        ]
        interloper.times = 1
        response = patch(client)
        assert (response.status_code, response.headers["ETag"], response.data) == (
            204,
            'W/"3"',
            b"",
        )
    finally:
        app.extensions["sandbox"].request_log.close()
