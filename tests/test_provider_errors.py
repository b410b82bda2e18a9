"""Every failure is RFC 7644 §3.12 error JSON with the right status; never HTML, never a 500."""

from __future__ import annotations

from tests.conftest import CORE, assert_scim_error

BASE = "/scim/v2"


def test_unknown_routes_answer_404_as_scim_json(client):
    assert_scim_error(client.get(f"{BASE}/Nothing"), 404)
    assert_scim_error(client.get("/elsewhere"), 404)
    assert_scim_error(client.get("/"), 404)


def test_wrong_methods_answer_405_as_scim_json(client):
    response = client.delete(f"{BASE}/Users")
    assert_scim_error(response, 405)
    assert "GET" in response.headers["Allow"]


def test_invalid_json_is_invalid_syntax(client):
    response = client.post(f"{BASE}/Users", data=b"{not json", content_type="application/scim+json")
    assert_scim_error(response, 400, "invalidSyntax")
    assert_scim_error(client.post(f"{BASE}/Users", data=b""), 400, "invalidSyntax")
    assert_scim_error(client.post(f"{BASE}/Users", data=b"\xff\xfe"), 400, "invalidSyntax")


def test_bodies_larger_than_the_limit_get_413(client):
    huge = {"schemas": [CORE], "userName": "x", "title": "t" * 2_000_000}
    assert_scim_error(client.post(f"{BASE}/Users", json=huge), 413)


def test_json_content_type_is_accepted_as_well_as_scim_json(client):
    response = client.post(f"{BASE}/Users", json={"schemas": [CORE], "userName": "ct@x.y"})
    assert response.status_code == 201


def test_unknown_attributes_are_ignored_and_noted_in_the_request_log(app, client):
    response = client.post(
        f"{BASE}/Users", json={"schemas": [CORE], "userName": "u@x.y", "shoeSize": 44}
    )
    assert response.status_code == 201
    assert "shoeSize" not in response.get_json()
    entry = app.extensions["sandbox"].request_log.entries(1)[0]
    assert entry["notes"] == ["ignored unknown attribute 'shoeSize'"]
