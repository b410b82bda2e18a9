"""What an organization stores beside the SCIM core: the columns and deletion effects its rules
declare (OrgStorage), which the core reads, writes and runs without knowing what they mean."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.config import Settings
from sandbox.provider import create_app
from sandbox.provider.org import Organization
from sandbox.provider.rules import OrgRules, WritePlan
from sandbox.provider.seed import seed_organization
from sandbox.provider.users import OrgStorage, StoredUser
from sandbox.runtime import build_provider
from sandbox.store import Store
from tests.conftest import user_body

BASE = "/scim/v2"


class LabelRules(OrgRules):
    """A tiny organization: one column of its own (label) and one deletion effect."""

    def __init__(self) -> None:
        self.deleted: list[tuple[str, bool, bool]] = []
        self.seen: list[dict[str, Any]] = []
        self.storage = OrgStorage(("label",), self._forget)

    def _forget(self, db: Any, user_id: str) -> None:
        # what the effect sees: is the user's row still there, and is this the DELETE's
        # own transaction?
        still_there = db.execute("SELECT 1 FROM users WHERE id = ?", [user_id]).fetchone()
        self.deleted.append((user_id, still_there is not None, db.conn.in_transaction))

    def plan_create(self, doc: dict[str, Any], notes: list[str]) -> WritePlan:
        # "role" is a column of the table, but not one this organization declared
        return WritePlan(doc, {"label": "created", "role": "ADMIN"})

    def plan_update(self, current: StoredUser, doc: dict[str, Any], notes: list[str]) -> WritePlan:
        self.seen.append(dict(current.org))
        return WritePlan(doc, {"label": f"updated after {current.org['label']}"})


def _client(store: Store, settings: Settings, rules: OrgRules | None = None) -> Any:
    app = create_app(store, settings, rules=rules)
    credentials = app.extensions["sandbox"].credentials
    credentials.set_enabled(True)
    token = credentials.issue("2026-01-01T00:00:00.000Z")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _columns(store: Store, user_id: str) -> tuple[Any, Any]:
    return store.db.execute("SELECT label, role FROM users WHERE id = ?", [user_id]).fetchone()


@pytest.fixture
def label_rules() -> LabelRules:
    return LabelRules()


@pytest.fixture
def labelled(store, settings, label_rules):
    client = _client(store, settings, label_rules)
    yield client
    client.application.extensions["sandbox"].request_log.close()


def test_a_create_stores_the_declared_columns_of_the_plan_and_no_other(labelled, store):
    user_id = labelled.post(f"{BASE}/Users", json=user_body("ann@example.com")).get_json()["id"]
    assert _columns(store, user_id) == ("created", "GUEST")  # role kept the schema's default


def test_a_read_gives_the_declared_columns_back_to_the_rules(labelled, store, label_rules):
    user_id = labelled.post(f"{BASE}/Users", json=user_body("ann@example.com")).get_json()["id"]
    body = user_body("ann@example.com", displayName="Ann")
    assert labelled.put(f"{BASE}/Users/{user_id}", json=body).status_code == 200
    assert label_rules.seen == [{"label": "created"}]
    assert _columns(store, user_id) == ("updated after created", "GUEST")


def test_a_delete_runs_the_declared_effect_in_its_transaction_before_the_row_goes(
    labelled, store, label_rules
):
    user_id = labelled.post(f"{BASE}/Users", json=user_body("ann@example.com")).get_json()["id"]
    assert labelled.delete(f"{BASE}/Users/{user_id}").status_code == 204
    assert label_rules.deleted == [(user_id, True, True)]
    assert store.scalar("SELECT count(*) FROM users") == 0


def test_the_plain_core_keeps_no_columns_of_its_own(store, settings):
    client = _client(store, settings)
    user_id = client.post(f"{BASE}/Users", json=user_body("ann@example.com")).get_json()["id"]
    assert client.application.extensions["sandbox"].users.get(user_id).org == {}
    assert _columns(store, user_id) == (None, "GUEST")


@pytest.mark.parametrize("name", ["user_name", "version", "doc", "label; DROP TABLE users"])
def test_an_organization_cannot_declare_a_core_column_or_a_name_that_is_not_one(name):
    with pytest.raises(ValueError, match="cannot be an organization's column"):
        OrgStorage((name,))


def test_serving_the_plain_core_over_the_organization_still_takes_a_deleted_user_off_its_teams(
    store, tmp_path
):
    """`sandbox serve --rules core` serves the seeded organization's members too; their team
    places refer to them, so deleting one takes those places with it."""
    seed_organization(store, seed=7, members=12)
    member = next(t for t in Organization(store).teams() if t.members).members[0]
    user_id = Organization(store).member(member).id
    settings = Settings(db_path=str(tmp_path / "sandbox.db"), rules="core")
    app = build_provider(store, settings)
    credentials = app.extensions["sandbox"].credentials
    credentials.set_enabled(True)
    token = credentials.issue("2026-01-01T00:00:00.000Z")
    try:
        response = app.test_client().delete(
            f"{BASE}/Users/{user_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 204, response.get_data(as_text=True)
        assert store.scalar("SELECT count(*) FROM team_members WHERE user_id = ?", [user_id]) == 0
    finally:
        app.extensions["sandbox"].request_log.close()
