"""SCIM Users over HTTP: create, read, replace, delete, ETags, paging, sorting, projection."""

from __future__ import annotations

import pytest

from tests.conftest import CORE, ENTERPRISE, assert_scim_error, patch_body, user_body

BASE = "/scim/v2"


def create(client, user_name: str, **extra) -> dict:
    response = client.post(f"{BASE}/Users", json=user_body(user_name, **extra))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_create_answers_201_with_location_etag_and_meta(client):
    response = client.post(f"{BASE}/Users", json=user_body("alice@example.com"))
    assert response.status_code == 201
    assert response.mimetype == "application/scim+json"
    body = response.get_json()
    assert body["schemas"] == [CORE]
    assert body["userName"] == "alice@example.com"
    assert body["active"] is True
    assert response.headers["Location"] == body["meta"]["location"]
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")
    assert response.headers["ETag"] == body["meta"]["version"] == 'W/"1"'
    assert body["meta"]["resourceType"] == "User"
    assert body["meta"]["created"] == body["meta"]["lastModified"]


def test_entra_sample_post_body_is_accepted_as_sent(client):
    # The POST body from Microsoft's SCIM developer guide (docs/entra-behaviour.md §2.3), order
    # as sent.
    body = {
        "schemas": [CORE, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_x@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {
            "formatted": "givenName familyName",
            "familyName": "familyName",
            "givenName": "givenName",
        },
        "roles": [],
        ENTERPRISE: {"department": "Retail", "manager": "271"},
    }
    response = client.post(f"{BASE}/Users", json=body)
    assert response.status_code == 201
    created = response.get_json()
    assert created["externalId"] == body["externalId"]
    assert created["emails"] == body["emails"]
    assert "roles" not in created  # an empty list is unassigned (RFC 7643 §2.5)
    assert created[ENTERPRISE] == {"department": "Retail", "manager": {"value": "271"}}
    assert created["schemas"] == [CORE, ENTERPRISE]


def test_string_booleans_and_primary_true_strings_are_accepted(client):
    user = create(
        client,
        "b@example.com",
        active="False",
        emails=[{"value": "b@example.com", "type": "work", "primary": "True"}],
    )
    assert user["active"] is False
    assert user["emails"][0]["primary"] is True


def test_attribute_names_are_case_insensitive_on_input(client):
    user = create(client, "c@example.com", DISPLAYNAME="Cee", Name={"GivenName": "C"})
    assert user["displayName"] == "Cee"
    assert user["name"] == {"givenName": "C"}


def test_read_only_attributes_in_a_post_are_ignored(client):
    user = create(client, "d@example.com", id="mine", groups=[{"value": "g1"}])
    assert user["id"] != "mine"
    assert "groups" not in user


def test_get_by_id_returns_the_resource_and_unknown_ids_404(client):
    user = create(client, "e@example.com")
    response = client.get(f"{BASE}/Users/{user['id']}")
    assert response.status_code == 200
    assert response.get_json() == user
    assert_scim_error(client.get(f"{BASE}/Users/nope"), 404)


def test_if_none_match_with_the_current_version_answers_304(client):
    user = create(client, "f@example.com")
    response = client.get(f"{BASE}/Users/{user['id']}", headers={"If-None-Match": 'W/"1"'})
    assert response.status_code == 304
    assert (
        client.get(f"{BASE}/Users/{user['id']}", headers={"If-None-Match": 'W/"0"'}).status_code
        == 200
    )


def test_if_match_with_a_stale_version_answers_412_and_changes_nothing(client):
    user = create(client, "g@example.com")
    client.patch(
        f"{BASE}/Users/{user['id']}",
        json=patch_body({"op": "replace", "path": "displayName", "value": "G"}),
    )
    stale = client.put(
        f"{BASE}/Users/{user['id']}",
        json=user_body("g@example.com", displayName="stale"),
        headers={"If-Match": 'W/"1"'},
    )
    assert_scim_error(stale, 412)
    assert client.get(f"{BASE}/Users/{user['id']}").get_json()["displayName"] == "G"
    fresh = client.delete(f"{BASE}/Users/{user['id']}", headers={"If-Match": 'W/"2"'})
    assert fresh.status_code == 204


def test_put_replaces_every_writable_attribute(client):
    user = create(client, "h@example.com", displayName="H", title="Boss")
    response = client.put(
        f"{BASE}/Users/{user['id']}", json=user_body("h@example.com", displayName="Aitch")
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["displayName"] == "Aitch"
    assert "title" not in body
    assert body["meta"]["version"] == 'W/"2"'
    assert body["meta"]["created"] == user["meta"]["created"]


def test_a_write_that_changes_nothing_keeps_the_version(client):
    user = create(client, "i@example.com", displayName="I")
    response = client.patch(
        f"{BASE}/Users/{user['id']}",
        json=patch_body({"op": "replace", "path": "displayName", "value": "I"}),
    )
    assert response.get_json()["meta"]["version"] == 'W/"1"'


def test_delete_answers_204_then_404(client):
    user = create(client, "j@example.com")
    assert client.delete(f"{BASE}/Users/{user['id']}").status_code == 204
    assert_scim_error(client.get(f"{BASE}/Users/{user['id']}"), 404)
    assert_scim_error(client.delete(f"{BASE}/Users/{user['id']}"), 404)


def test_username_is_unique_case_insensitively(client):
    create(client, "Kay@Example.com")
    body = assert_scim_error(
        client.post(f"{BASE}/Users", json=user_body("kay@example.COM")), 409, "uniqueness"
    )
    assert "kay@example.COM" in body["detail"]


def test_renaming_onto_a_taken_username_is_a_conflict(client):
    create(client, "l1@example.com")
    other = create(client, "l2@example.com")
    response = client.patch(
        f"{BASE}/Users/{other['id']}",
        json=patch_body({"op": "replace", "path": "userName", "value": "L1@example.com"}),
    )
    assert_scim_error(response, 409, "uniqueness")


def test_password_is_write_only(client):
    user = create(client, "m@example.com", password="s3cret")
    assert "password" not in user
    assert "password" not in client.get(f"{BASE}/Users/{user['id']}").get_json()


def test_username_is_required(client):
    assert_scim_error(client.post(f"{BASE}/Users", json={"schemas": [CORE]}), 400, "invalidValue")


@pytest.mark.parametrize(
    "payload, scim_type",
    [
        ({"schemas": [CORE], "userName": 5}, "invalidValue"),
        ({"schemas": [CORE], "userName": "x", "active": "maybe"}, "invalidValue"),
        ({"schemas": [CORE], "userName": "x", "emails": "nope"}, "invalidValue"),
        ({"schemas": [CORE], "userName": "x", "name": "Just A String"}, "invalidValue"),
        ({"schemas": ["urn:other"], "userName": "x"}, "invalidValue"),
        ({"schemas": "oops", "userName": "x"}, "invalidSyntax"),
        ([1, 2], "invalidSyntax"),
        (
            {
                "schemas": [CORE],
                "userName": "x",
                "emails": [{"value": "a", "primary": True}, {"value": "b", "primary": True}],
            },
            "invalidValue",
        ),
    ],
)
def test_invalid_payloads_get_400_with_the_scim_type(client, payload, scim_type):
    assert_scim_error(client.post(f"{BASE}/Users", json=payload), 400, scim_type)


# -- lists: paging, sorting, projection -----------------------------------------------------


@pytest.fixture
def five(client):
    return [create(client, f"user{i}@example.com", displayName=f"Name {5 - i}") for i in range(5)]


def test_paging_uses_start_index_and_count(client, five):
    page = client.get(f"{BASE}/Users?startIndex=2&count=2").get_json()
    assert page["totalResults"] == 5
    assert page["startIndex"] == 2
    assert page["itemsPerPage"] == 2
    assert [u["id"] for u in page["Resources"]] == [five[1]["id"], five[2]["id"]]


def test_count_zero_returns_only_the_total(client, five):
    page = client.get(f"{BASE}/Users?count=0").get_json()
    assert page["totalResults"] == 5
    assert page["Resources"] == []


def test_out_of_range_paging_values_are_clamped(client, five):
    page = client.get(f"{BASE}/Users?startIndex=0&count=-3").get_json()
    assert page["startIndex"] == 1 and page["Resources"] == []
    assert_scim_error(client.get(f"{BASE}/Users?count=many"), 400, "invalidValue")


def test_sort_by_display_name_descending(client, five):
    page = client.get(f"{BASE}/Users?sortBy=displayName&sortOrder=descending").get_json()
    assert [u["displayName"] for u in page["Resources"]] == [f"Name {n}" for n in (5, 4, 3, 2, 1)]


def test_sort_by_an_unknown_attribute_is_refused(client, five):
    assert_scim_error(client.get(f"{BASE}/Users?sortBy=shoeSize"), 400, "invalidValue")


def test_attributes_selects_and_always_keeps_id(client, five):
    page = client.get(f"{BASE}/Users?attributes=displayName").get_json()
    assert set(page["Resources"][0]) == {"schemas", "id", "userName", "displayName", "meta"}


def test_excluded_attributes_drops_them(client):
    user = create(client, "n@example.com", displayName="N", name={"givenName": "En"})
    body = client.get(f"{BASE}/Users/{user['id']}?excludedAttributes=name,displayName").get_json()
    assert "name" not in body and "displayName" not in body and body["id"] == user["id"]


def test_sub_attribute_selection(client):
    user = create(client, "o@example.com", name={"givenName": "O", "familyName": "Oh"})
    body = client.get(f"{BASE}/Users/{user['id']}?attributes=name.familyName").get_json()
    assert body["name"] == {"familyName": "Oh"}


def test_search_endpoint_takes_a_search_request(client, five):
    response = client.post(
        f"{BASE}/Users/.search",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName eq "user3@example.com"',
            "attributes": ["userName"],
        },
    )
    assert response.status_code == 200
    page = response.get_json()
    assert page["totalResults"] == 1
    assert page["Resources"][0]["id"] == five[3]["id"]


def test_any_query_string_on_the_base_is_ignored(client, five):
    response = client.get(f"{BASE}/Users?aadOptscim062020&count=1")
    assert response.status_code == 200
    assert response.get_json()["itemsPerPage"] == 1
