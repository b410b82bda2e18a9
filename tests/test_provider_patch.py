"""PATCH (RFC 7644 §3.5.2) with every request form Entra sends, in both wire dialects.

The bodies are the ones in docs/entra-behaviour.md (§2.4, §2.5, §3, §5.4, §5.5):
without the aadOptscim062020 flag (PascalCase ops, "False" strings, one op per path)
and with it (lower-case ops, booleans, path-less replace with dotted/URN keys).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import CORE, ENTERPRISE, assert_scim_error, patch_body

BASE = "/scim/v2"


@pytest.fixture
def user(client):
    body = {
        "schemas": [CORE, ENTERPRISE],
        "userName": "adele@contoso.com",
        "displayName": "Adele",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "adele@contoso.com"}],
        "name": {"givenName": "Adele", "familyName": "Vance", "formatted": "Adele Vance"},
        "addresses": [{"type": "work", "formatted": "18/1111"}],
        ENTERPRISE: {"employeeNumber": "1"},
    }
    return client.post(f"{BASE}/Users", json=body).get_json()


def patch(client, user, *operations, status=200):
    response = client.patch(f"{BASE}/Users/{user['id']}", json=patch_body(*operations))
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


# -- default dialect (no flag) ---------------------------------------------------------------


def test_default_dialect_update_with_replace_and_add(client, user):
    # Real traffic (§2.4): Replace for attributes with a value, Add for empty ones.
    body = patch(
        client,
        user,
        {
            "op": "Replace",
            "path": 'emails[type eq "work"].value',
            "value": "AdeleV2@contoso.onmicrosoft.com",
        },
        {"op": "Replace", "path": 'addresses[type eq "work"].formatted', "value": "18/2111"},
        {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Retail"},
    )
    assert body["emails"] == [
        {"primary": True, "type": "work", "value": "AdeleV2@contoso.onmicrosoft.com"}
    ]
    assert body["addresses"] == [{"type": "work", "formatted": "18/2111"}]
    assert body[ENTERPRISE] == {"employeeNumber": "1", "department": "Retail"}


def test_default_dialect_disable_sends_the_string_false(client, user):
    body = patch(client, user, {"op": "Replace", "path": "active", "value": "False"})
    assert body["active"] is False
    body = patch(client, user, {"op": "Replace", "path": "active", "value": "True"})
    assert body["active"] is True


@pytest.mark.parametrize(
    "path",
    [
        "userName",
        "displayName",
        "title",
        "externalId",
        "name.givenName",
        "name.familyName",
        "nickName",
    ],
)
def test_default_dialect_single_valued_paths(client, user, path):
    body = patch(client, user, {"op": "Replace", "path": path, "value": "new@contoso.com"})
    top, _, sub = path.partition(".")
    assert (body[top][sub] if sub else body[top]) == "new@contoso.com"


def test_add_to_a_filtered_path_with_no_match_creates_the_value(client, user):
    body = patch(
        client,
        user,
        {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "555"},
        {"op": "Add", "path": 'addresses[type eq "home"].locality', "value": "Oslo"},
    )
    assert body["phoneNumbers"] == [{"type": "mobile", "value": "555"}]
    assert {"type": "home", "locality": "Oslo"} in body["addresses"]


def test_manager_as_a_plain_string_and_its_removal(client, user):
    body = patch(client, user, {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "271"})
    assert body[ENTERPRISE]["manager"] == {"value": "271"}
    body = patch(client, user, {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": ""})
    assert "manager" not in body[ENTERPRISE]


def test_manager_in_the_older_documented_form(client, user):
    body = patch(
        client,
        user,
        {
            "op": "Add",
            "path": f"{ENTERPRISE}:manager",
            "value": [{"$ref": "http://x/Users/26", "value": "26"}],
        },
    )
    assert body[ENTERPRISE]["manager"]["value"] == "26"


# -- flag dialect (?aadOptscim062020) ---------------------------------------------------------


def test_flag_dialect_disable_sends_a_boolean(client, user):
    body = patch(client, user, {"op": "replace", "path": "active", "value": False})
    assert body["active"] is False


def test_flag_dialect_pathless_replace_with_dotted_and_urn_keys(client, user):
    # Reference §3 item 3, as sent with the flag.
    body = patch(
        client,
        user,
        {
            "op": "replace",
            "path": 'emails[type eq "work"].value',
            "value": "TestMhvaes@test.microsoft.com",
        },
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                f"{ENTERPRISE}:employeeNumber": "Aklq",
            },
        },
    )
    assert body["displayName"] == "Bjfe"
    assert body["name"] == {"givenName": "Kkom", "familyName": "Unua", "formatted": "Adele Vance"}
    assert body[ENTERPRISE]["employeeNumber"] == "Aklq"
    assert body["emails"][0]["value"] == "TestMhvaes@test.microsoft.com"


def test_flag_dialect_pathless_add_with_dotted_keys(client, user):
    body = patch(
        client,
        user,
        {
            "op": "add",
            "value": {
                "displayName": "D",
                "title": "T",
                "name.givenName": "G",
                "name.formatted": "G F",
            },
        },
    )
    assert (body["title"], body["name"]["givenName"], body["name"]["formatted"]) == (
        "T",
        "G",
        "G F",
    )


def test_pathless_value_with_an_extension_object(client, user):
    body = patch(client, user, {"op": "replace", "value": {ENTERPRISE: {"costCenter": "42"}}})
    assert body[ENTERPRISE]["costCenter"] == "42"


def test_nickname_add_in_both_casings(client, user):
    assert (
        patch(client, user, {"op": "Add", "path": "nickName", "value": "Babs"})["nickName"]
        == "Babs"
    )
    assert (
        patch(client, user, {"op": "add", "path": "nickName", "value": "Bee"})["nickName"] == "Bee"
    )


# -- roles (§5.4, §5.5) ------------------------------------------------------------------------


def test_single_app_role_assignment_post_shape(client):
    body = client.post(
        f"{BASE}/Users",
        json={
            "schemas": [CORE],
            "userName": "r@contoso.com",
            "roles": [
                {"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}
            ],
        },
    ).get_json()
    assert body["roles"] == [
        {"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}
    ]


def test_role_patch_with_stringified_json_value(client, user):
    stringified = json.dumps(
        {"id": "06b07648-ecfe-589f-9d2f-6325724a46ee", "value": "25", "displayName": "Role1234"}
    )
    body = patch(client, user, {"op": "Add", "path": "roles", "value": [{"value": stringified}]})
    assert body["roles"] == [{"value": "25", "display": "Role1234"}]


def test_role_replace_through_primary_eq_true_string(client, user):
    body = patch(
        client, user, {"op": "Replace", "path": 'roles[primary eq "True"].value', "value": "USER"}
    )
    assert body["roles"] == [{"primary": True, "value": "USER"}]
    body = patch(
        client, user, {"op": "replace", "path": 'roles[primary eq "True"].value', "value": "GUEST"}
    )
    assert body["roles"] == [{"primary": True, "value": "GUEST"}]


def test_complex_roles_add_only_and_assertive_replace(client, user):
    admin = json.dumps({"id": "1", "value": "Admin", "displayName": "Admin"})
    reader = json.dumps({"id": "2", "value": "User", "displayName": "User"})
    body = patch(
        client, user, {"op": "Add", "path": "roles", "value": [{"value": admin}, {"value": reader}]}
    )
    assert [r["value"] for r in body["roles"]] == ["Admin", "User"]
    body = patch(
        client,
        user,
        {
            "op": "replace",
            "path": "roles",
            "value": [
                {
                    "primary": False,
                    "type": "WindowsAzureActiveDirectoryRole",
                    "display": "User",
                    "value": "User",
                }
            ],
        },
    )
    assert body["roles"] == [
        {
            "primary": False,
            "type": "WindowsAzureActiveDirectoryRole",
            "display": "User",
            "value": "User",
        }
    ]


# -- general RFC behaviour ---------------------------------------------------------------------


def test_remove_by_value_filter_and_whole_attribute(client, user):
    patch(
        client,
        user,
        {"op": "add", "path": "emails", "value": [{"type": "home", "value": "h@x.example"}]},
    )
    body = patch(client, user, {"op": "remove", "path": 'emails[type eq "home"]'})
    assert [e["type"] for e in body["emails"]] == ["work"]
    body = patch(client, user, {"op": "Remove", "path": "emails"})
    assert "emails" not in body


def test_remove_with_a_value_list(client, user):
    patch(client, user, {"op": "add", "path": "roles", "value": [{"value": "A"}, {"value": "B"}]})
    body = patch(client, user, {"op": "Remove", "path": "roles", "value": [{"value": "A"}]})
    assert body["roles"] == [{"value": "B"}]


def test_setting_a_new_primary_clears_the_old_one(client, user):
    body = patch(
        client,
        user,
        {
            "op": "add",
            "path": "emails",
            "value": [{"type": "home", "value": "h@x.example", "primary": True}],
        },
    )
    assert [(e["type"], e.get("primary")) for e in body["emails"]] == [
        ("work", False),
        ("home", True),
    ]


def test_replace_on_a_complex_attribute_merges_sub_attributes(client, user):
    body = patch(client, user, {"op": "replace", "path": "name", "value": {"givenName": "A"}})
    assert body["name"] == {"givenName": "A", "familyName": "Vance", "formatted": "Adele Vance"}


def test_a_failing_operation_rolls_back_the_whole_patch(client, user):
    response = client.patch(
        f"{BASE}/Users/{user['id']}",
        json=patch_body(
            {"op": "replace", "path": "displayName", "value": "Changed"},
            {"op": "replace", "path": "active", "value": "perhaps"},
        ),
    )
    assert_scim_error(response, 400, "invalidValue")
    assert client.get(f"{BASE}/Users/{user['id']}").get_json()["displayName"] == "Adele"


def test_patch_responses_can_be_204_when_configured(store, tmp_path, token):
    from sandbox.config import Settings
    from sandbox.provider import create_app

    app = create_app(store, Settings(db_path=str(tmp_path / "sandbox.db"), patch_status=204))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    created = client.post(f"{BASE}/Users", json={"schemas": [CORE], "userName": "z@z.z"})
    response = client.patch(
        f"{BASE}/Users/{created.get_json()['id']}",
        json=patch_body({"op": "replace", "path": "title", "value": "T"}),
    )
    assert response.status_code == 204 and response.data == b""
    app.extensions["sandbox"].request_log.close()


@pytest.mark.parametrize(
    "operation, status, scim_type",
    [
        ({"op": "Explode", "path": "title", "value": "x"}, 400, "invalidSyntax"),
        ({"path": "title", "value": "x"}, 400, "invalidSyntax"),
        ({"op": "replace", "path": "title[", "value": "x"}, 400, "invalidPath"),
        ({"op": "replace", "path": "shoeSize", "value": "x"}, 400, "invalidPath"),
        ({"op": "replace", "path": "id", "value": "x"}, 400, "mutability"),
        ({"op": "replace", "path": "groups", "value": []}, 400, "mutability"),
        ({"op": "remove"}, 400, "noTarget"),
        ({"op": "replace", "value": "not an object"}, 400, "invalidValue"),
        ({"op": "replace", "path": "title"}, 400, "invalidValue"),
        ({"op": "replace", "path": "active", "value": 3}, 400, "invalidValue"),
        ({"op": "replace", "path": 'title[value eq "x"]', "value": "x"}, 400, "invalidPath"),
        (
            {"op": "replace", "path": 'emails[type eq "a" or type eq "b"].value', "value": "x"},
            400,
            "noTarget",
        ),
        ({"op": "remove", "path": "userName"}, 400, "mutability"),
    ],
)
def test_bad_operations_are_refused(client, user, operation, status, scim_type):
    response = client.patch(f"{BASE}/Users/{user['id']}", json=patch_body(operation))
    assert_scim_error(response, status, scim_type)


@pytest.mark.parametrize(
    "body, scim_type",
    [
        ({"Operations": [{"op": "add", "path": "title", "value": "x"}]}, "invalidSyntax"),
        ({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}, "invalidSyntax"),
        (
            {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []},
            "invalidSyntax",
        ),
        (
            {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [7]},
            "invalidSyntax",
        ),
    ],
)
def test_bad_patch_envelopes_are_refused(client, user, body, scim_type):
    assert_scim_error(client.patch(f"{BASE}/Users/{user['id']}", json=body), 400, scim_type)


def test_a_patch_works_on_a_copy_the_stored_document_is_never_touched():
    from sandbox.provider.patch import Patcher
    from sandbox.provider.schema import UserSchema

    stored = {
        "userName": "adele@contoso.com",
        "name": {"givenName": "Adele"},
        "emails": [{"value": "adele@contoso.com", "type": "work", "primary": True}],
        ENTERPRISE: {"manager": {"value": "m1"}},
    }
    before = json.loads(json.dumps(stored))
    doc = Patcher(UserSchema(), stored).apply([
        {"op": "replace", "path": "name.givenName", "value": "Ada"},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "ada@contoso.com"},
        {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": "m2"},
    ])  # fmt: skip
    assert doc["name"]["givenName"] == "Ada" and doc["emails"][0]["value"] == "ada@contoso.com"
    assert doc[ENTERPRISE]["manager"]["value"] == "m2"
    assert stored == before
