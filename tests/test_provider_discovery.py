"""Discovery (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and Schemas tell the truth."""

from __future__ import annotations

from tests.conftest import CORE, ENTERPRISE, assert_scim_error

BASE = "/scim/v2"


def test_service_provider_config_matches_what_is_served(client):
    spc = client.get(f"{BASE}/ServiceProviderConfig").get_json()
    assert spc["patch"]["supported"] is True
    assert spc["filter"] == {"supported": True, "maxResults": 1000}
    assert spc["sort"]["supported"] is True
    assert spc["etag"]["supported"] is True
    assert spc["bulk"]["supported"] is False
    assert spc["changePassword"]["supported"] is False
    assert spc["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert spc["meta"]["location"].endswith("/scim/v2/ServiceProviderConfig")


def test_unsupported_features_answer_501(client):
    assert_scim_error(client.post(f"{BASE}/Bulk", json={}), 501)
    assert_scim_error(client.get(f"{BASE}/Me"), 501)


def test_resource_types_list_only_users(client):
    listed = client.get(f"{BASE}/ResourceTypes").get_json()
    assert listed["totalResults"] == 1
    user = listed["Resources"][0]
    assert (user["id"], user["endpoint"], user["schema"]) == ("User", "/Users", CORE)
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    assert client.get(f"{BASE}/ResourceTypes/User").get_json()["id"] == "User"
    assert_scim_error(client.get(f"{BASE}/ResourceTypes/Group"), 404)


def test_schemas_describe_the_user_and_enterprise_attributes(client):
    listed = client.get(f"{BASE}/Schemas").get_json()
    assert [s["id"] for s in listed["Resources"]] == [CORE, ENTERPRISE]
    core = client.get(f"{BASE}/Schemas/{CORE}").get_json()
    by_name = {a["name"]: a for a in core["attributes"]}
    assert by_name["userName"]["required"] is True
    assert by_name["userName"]["caseExact"] is False
    assert by_name["userName"]["uniqueness"] == "server"
    assert by_name["password"]["returned"] == "never"
    assert by_name["groups"]["mutability"] == "readOnly"
    emails = {a["name"]: a for a in by_name["emails"]["subAttributes"]}
    assert emails["primary"]["type"] == "boolean"
    enterprise = client.get(f"{BASE}/Schemas/{ENTERPRISE}").get_json()
    assert "manager" in {a["name"] for a in enterprise["attributes"]}
    assert_scim_error(client.get(f"{BASE}/Schemas/urn:nope"), 404)


def test_every_published_attribute_can_be_filtered_on(client):
    """Whatever /Schemas lists as a simple attribute, a filter on it is understood."""
    core = client.get(f"{BASE}/Schemas/{CORE}").get_json()
    for attribute in core["attributes"]:
        if attribute["returned"] == "never":
            continue
        name = attribute["name"]
        expression = (
            f"{name} pr"
            if attribute["type"] != "complex"
            else (f"{name}.{attribute['subAttributes'][0]['name']} pr")
        )
        response = client.get(f"{BASE}/Users", query_string={"filter": expression})
        assert response.status_code == 200, (expression, response.get_data(as_text=True))
