"""Bearer-token auth: provisioning switch, token issued once, hashed, replaced, deleted."""

from __future__ import annotations

import pytest

from tests.conftest import assert_scim_error

BASE = "/scim/v2"
ROUTES = ["/Users", "/Users/x", "/ServiceProviderConfig", "/Schemas", "/ResourceTypes"]


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_needs_the_token(app, token, route):
    response = app.test_client().get(BASE + route)
    body = assert_scim_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization" in body["detail"]


@pytest.mark.parametrize("header", ["Bearer wrong", "Basic dXNlcjpwYXNz", "Bearer", "token"])
def test_wrong_credentials_are_401(app, token, header):
    response = app.test_client().get(f"{BASE}/Users", headers={"Authorization": header})
    assert_scim_error(response, 401)


def test_the_scheme_is_case_insensitive(app, token):
    response = app.test_client().get(f"{BASE}/Users", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_disabled_provisioning_refuses_even_a_valid_token(app, client):
    app.extensions["sandbox"].credentials.set_enabled(False)
    body = assert_scim_error(client.get(f"{BASE}/Users"), 401)
    assert "disabled" in body["detail"]


def test_reissuing_replaces_the_old_token(app, token):
    credentials = app.extensions["sandbox"].credentials
    new = credentials.issue("later")
    assert new != token
    test = app.test_client()
    assert_scim_error(test.get(f"{BASE}/Users", headers={"Authorization": f"Bearer {token}"}), 401)
    assert test.get(f"{BASE}/Users", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_a_deleted_token_is_refused(app, client):
    app.extensions["sandbox"].credentials.delete()
    body = assert_scim_error(client.get(f"{BASE}/Users"), 401)
    assert "no SCIM token" in body["detail"]
    assert app.extensions["sandbox"].credentials.state().token_issued is False


def test_only_a_hash_of_the_token_is_stored(app, token, store):
    stored = store.get_state("token_hash")
    assert token not in stored and len(stored) == 64
