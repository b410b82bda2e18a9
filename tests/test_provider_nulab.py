"""Nulab Pass's rules at the SCIM surface, one or more tests per rule of the setup guide."""

from __future__ import annotations

import json

import pytest

from sandbox.provider import create_app
from sandbox.provider.nulab import NulabRules, nulab_schema
from sandbox.provider.org import Organization
from tests.conftest import CORE, assert_scim_error, patch_body
from tests.nulab_org import add_member, add_team

BASE = "/scim/v2"


@pytest.fixture
def org(store):
    """An owner admin (the token issuer, Japanese, Tokyo), a second admin, and others."""
    owner = add_member(
        store, "owner@example.com", role="ADMIN", language="ja", timezone="Asia/Tokyo"
    )
    add_member(store, "second.admin@example.com", role="ADMIN")
    add_member(store, "managed@example.com")
    add_member(store, "nulab.account@example.com", kind="nulab")
    add_member(store, "stale@example.com", updated="2022-12-24T10:00:00.000Z")
    return {"owner": owner}


@pytest.fixture
def nulab(store, settings, org):
    app = create_app(store, settings, rules=NulabRules(Organization(store)), schema=nulab_schema())
    credentials = app.extensions["sandbox"].credentials
    credentials.set_enabled(True)
    token = credentials.issue("2026-01-01T00:00:00.000Z", org["owner"])
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client.application = app
    yield client
    app.extensions["sandbox"].request_log.close()


def new_user(user_name: str, **extra) -> dict:
    return {"schemas": [CORE], "userName": user_name, "displayName": "New Person", **extra}


def search(client, expression: str) -> list[dict]:
    response = client.get(f"{BASE}/Users", query_string={"filter": expression})
    assert response.status_code == 200
    return response.get_json()["Resources"]


def member(store, email: str):
    return Organization(store).member(email)


# -- matching by email and eligibility ------------------------------------------------------


def test_matching_by_username_finds_an_eligible_managed_account(nulab):
    found = search(nulab, 'userName eq "MANAGED@example.com"')
    assert [u["userName"] for u in found] == ["managed@example.com"]


def test_a_nulab_account_is_never_returned_by_a_filter_or_a_list(nulab):
    assert search(nulab, 'userName eq "nulab.account@example.com"') == []
    listed = {u["userName"] for u in nulab.get(f"{BASE}/Users?count=100").get_json()["Resources"]}
    assert "nulab.account@example.com" not in listed
    assert "stale@example.com" not in listed


def test_posting_the_email_of_a_nulab_account_is_409_saying_why(nulab):
    body = assert_scim_error(
        nulab.post(f"{BASE}/Users", json=new_user("nulab.account@example.com")), 409, "uniqueness"
    )
    assert "Nulab Account" in body["detail"]


def test_posting_the_email_of_an_ineligible_managed_account_is_409_saying_why(nulab):
    body = assert_scim_error(
        nulab.post(f"{BASE}/Users", json=new_user("stale@example.com")), 409, "uniqueness"
    )
    assert "2023-01-16" in body["detail"]


def test_ineligible_accounts_cannot_be_read_or_patched_by_id(nulab, store):
    stale = member(store, "stale@example.com").id
    assert_scim_error(nulab.get(f"{BASE}/Users/{stale}"), 404)
    op = {"op": "replace", "path": "displayName", "value": "x"}
    assert_scim_error(nulab.patch(f"{BASE}/Users/{stale}", json=patch_body(op)), 404)
    assert_scim_error(nulab.delete(f"{BASE}/Users/{stale}"), 404)


@pytest.mark.parametrize(
    "updated, eligible",
    [
        ("2023-01-15T23:59:59.999Z", False),
        ("2023-01-16T00:00:00.000Z", True),
        ("2023-01-16T12:00:00.000Z", True),
        ("2020-05-01T00:00:00.000Z", False),
    ],
)
def test_the_guides_eligibility_cut_off_on_both_sides(nulab, store, updated, eligible):
    add_member(store, "edge@example.com", updated=updated)
    assert bool(search(nulab, 'userName eq "edge@example.com"')) is eligible


def test_an_admin_edit_makes_a_stale_account_eligible(nulab, store):
    Organization(store).edit("stale@example.com", language="en")
    assert search(nulab, 'userName eq "stale@example.com"')


# -- labels, identity ------------------------------------------------------------------------


def test_a_created_account_is_labelled_provisioned(nulab, store):
    assert nulab.post(f"{BASE}/Users", json=new_user("fresh@example.com")).status_code == 201
    assert member(store, "fresh@example.com").label == "Provisioned Managed Account"


def test_the_first_provisioning_write_labels_an_existing_account(nulab, store):
    target = member(store, "managed@example.com")
    assert target.label == "Managed Account"
    op = {"op": "Replace", "path": "displayName", "value": "Matched By Entra"}
    assert nulab.patch(f"{BASE}/Users/{target.id}", json=patch_body(op)).status_code == 200
    assert member(store, "managed@example.com").label == "Provisioned Managed Account"


@pytest.mark.parametrize(
    "user_name", ["0f8fad5b-d9cb-469f-a165-70867728950e", "not an email", "a@b", "@example.com"]
)
def test_username_must_be_an_email(nulab, user_name):
    body = assert_scim_error(
        nulab.post(f"{BASE}/Users", json=new_user(user_name)), 400, "invalidValue"
    )
    assert "email" in body["detail"]


@pytest.mark.parametrize("user_name", ["a@b.test", "x.y@sub.example", "first+tag@example.com"])
def test_reserved_test_domains_are_valid_emails(nulab, user_name):
    assert nulab.post(f"{BASE}/Users", json=new_user(user_name)).status_code == 201


def test_display_name_is_required(nulab):
    response = nulab.post(f"{BASE}/Users", json={"schemas": [CORE], "userName": "d@example.com"})
    assert_scim_error(response, 400, "invalidValue")
    managed = search(nulab, 'userName eq "managed@example.com"')[0]
    op = {"op": "remove", "path": "displayName"}
    assert_scim_error(nulab.patch(f"{BASE}/Users/{managed['id']}", json=patch_body(op)), 400)


# -- language and time zone: on creation only -------------------------------------------------


@pytest.mark.parametrize(
    "sent, stored", [("ja-JP", "ja"), ("en-US", "en"), ("ja", "ja"), ("EN", "en"), ("en_GB", "en")]
)
def test_language_is_taken_on_creation(nulab, store, sent, stored):
    nulab.post(f"{BASE}/Users", json=new_user("lang@example.com", preferredLanguage=sent))
    assert member(store, "lang@example.com").language == stored


def test_absent_or_unsupported_language_and_zone_take_the_token_issuers(nulab, store):
    response = nulab.post(
        f"{BASE}/Users",
        json=new_user("fr@example.com", preferredLanguage="fr-FR", timezone="Mars/Olympus"),
    )
    created = member(store, "fr@example.com")
    assert (created.language, created.timezone) == ("ja", "Asia/Tokyo")  # the owner's
    notes = json.loads(response.headers["X-Sandbox-Notes"])
    assert any("token issuer's language" in n for n in notes)
    assert any("token issuer's time zone" in n for n in notes)


def test_the_notes_say_what_was_sent_in_words_never_none(nulab, store):
    absent = nulab.post(f"{BASE}/Users", json=new_user("none@example.com"))
    assert json.loads(absent.headers["X-Sandbox-Notes"]) == [
        "preferredLanguage is absent: the token issuer's language (Japanese) was used",
        "timezone is absent: the token issuer's time zone (Asia/Tokyo) was used",
    ]
    wrong = nulab.post(
        f"{BASE}/Users",
        json=new_user("wrong@example.com", preferredLanguage="fr-FR", timezone="Mars/Olympus"),
    )
    assert json.loads(wrong.headers["X-Sandbox-Notes"]) == [
        "preferredLanguage 'fr-FR' is not supported: the token issuer's language (Japanese) "
        "was used",
        "timezone 'Mars/Olympus' is not an IANA time zone: the token issuer's time zone "
        "(Asia/Tokyo) was used",
    ]


def test_time_zone_is_taken_on_creation(nulab, store):
    nulab.post(f"{BASE}/Users", json=new_user("tz@example.com", timezone="America/New_York"))
    assert member(store, "tz@example.com").timezone == "America/New_York"


def test_language_and_time_zone_are_ignored_on_update_and_the_log_says_so(nulab, store):
    target = member(store, "managed@example.com")
    response = nulab.patch(
        f"{BASE}/Users/{target.id}",
        json=patch_body(
            {"op": "Replace", "path": "preferredLanguage", "value": "ja-JP"},
            {"op": "Replace", "path": "timezone", "value": "Asia/Tokyo"},
            {"op": "Replace", "path": "displayName", "value": "Renamed"},
        ),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["preferredLanguage"], body["timezone"], body["displayName"]) == (
        "en",
        "Europe/London",
        "Renamed",
    )
    after = member(store, "managed@example.com")
    assert (after.language, after.timezone) == ("en", "Europe/London")
    entry = nulab.application.extensions["sandbox"].request_log.entries(1)[0]
    assert any("preferredLanguage 'ja-JP' ignored" in n for n in entry["notes"])
    assert any("timezone 'Asia/Tokyo' ignored" in n for n in entry["notes"])


def test_a_put_cannot_change_language_either(nulab, store):
    target = member(store, "managed@example.com")
    response = nulab.put(
        f"{BASE}/Users/{target.id}",
        json=new_user("managed@example.com", preferredLanguage="ja", roles=[{"value": "USER"}]),
    )
    assert response.status_code == 200
    assert member(store, "managed@example.com").language == "en"


# -- roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "roles, expected",
    [
        ([{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "ADMIN"}], "ADMIN"),
        ([{"primary": "True", "value": "user"}], "USER"),
        ([{"value": json.dumps({"id": "1", "value": "Guest", "displayName": "Guest"})}], "GUEST"),
        ([{"primary": False, "value": "USER"}, {"primary": False, "value": "ADMIN"}], "ADMIN"),
        ([], "GUEST"),
        (None, "GUEST"),
    ],
)
def test_every_role_form_on_create(nulab, store, roles, expected):
    extra = {} if roles is None else {"roles": roles}
    assert nulab.post(f"{BASE}/Users", json=new_user("r@example.com", **extra)).status_code == 201
    assert member(store, "r@example.com").role == expected


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "Replace", "path": 'roles[primary eq "True"].value', "value": "Admin"},
        {"op": "replace", "path": 'roles[primary eq "True"].value', "value": "ADMIN"},
        {
            "op": "Add",
            "path": "roles",
            "value": [{"value": json.dumps({"id": "9", "value": "ADMIN", "displayName": "Admin"})}],
        },
        {
            "op": "replace",
            "path": "roles",
            "value": [
                {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "value": "admin"}
            ],
        },
    ],
)
def test_every_role_form_on_patch(nulab, store, operation):
    target = member(store, "managed@example.com")
    assert nulab.patch(f"{BASE}/Users/{target.id}", json=patch_body(operation)).status_code == 200
    assert member(store, "managed@example.com").role == "ADMIN"


def test_an_unknown_role_is_400_naming_the_allowed_values(nulab):
    body = assert_scim_error(
        nulab.post(f"{BASE}/Users", json=new_user("o@example.com", roles=[{"value": "Owner"}])),
        400,
        "invalidValue",
    )
    assert "ADMIN, USER, GUEST" in body["detail"]


# -- downgrade to guest -------------------------------------------------------------------------


def test_downgrade_to_guest_loses_team_admin_and_leaves_guestless_teams(nulab, store):
    target = member(store, "managed@example.com").id
    add_team(store, "Open", True, {target: True})
    add_team(store, "Closed", False, {target: False})
    add_team(store, "Other", False, {})
    op = {"op": "Replace", "path": 'roles[primary eq "True"].value', "value": "GUEST"}
    response = nulab.patch(f"{BASE}/Users/{target}", json=patch_body(op))
    assert response.status_code == 200
    teams = {t.name: t for t in Organization(store).teams()}
    assert teams["Open"].members == ["managed@example.com"] and teams["Open"].admins == []
    assert teams["Closed"].members == []
    notes = json.loads(response.headers["X-Sandbox-Notes"])
    assert "lost team admin rights in team 'Open'" in notes
    assert "removed from team 'Closed' (guests not allowed)" in notes
    logged = nulab.application.extensions["sandbox"].request_log.entries(1)[0]["notes"]
    assert "removed from team 'Closed' (guests not allowed)" in logged


def test_an_upgrade_leaves_teams_alone(nulab, store):
    target = member(store, "managed@example.com").id
    add_team(store, "Closed", False, {target: False})
    op = {"op": "Replace", "path": 'roles[primary eq "True"].value', "value": "ADMIN"}
    nulab.patch(f"{BASE}/Users/{target}", json=patch_body(op))
    assert Organization(store).teams()[0].members == ["managed@example.com"]


# -- the token issuer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, operation",
    [
        ("delete", None),
        ("patch", {"op": "Replace", "path": "active", "value": "False"}),
        ("patch", {"op": "replace", "path": "active", "value": False}),
        ("patch", {"op": "Replace", "path": 'roles[primary eq "True"].value', "value": "USER"}),
    ],
)
def test_the_token_issuer_is_protected(nulab, org, store, method, operation):
    url = f"{BASE}/Users/{org['owner']}"
    response = (
        nulab.delete(url) if method == "delete" else nulab.patch(url, json=patch_body(operation))
    )
    body = assert_scim_error(response, 403)
    assert "another admin must reissue the token" in body["detail"]
    owner = member(store, "owner@example.com")
    assert (owner.role, owner.active) == ("ADMIN", True)


def test_the_token_issuer_can_still_be_renamed(nulab, org):
    op = {"op": "Replace", "path": "displayName", "value": "The Owner"}
    assert nulab.patch(f"{BASE}/Users/{org['owner']}", json=patch_body(op)).status_code == 200


def test_reissuing_the_token_by_another_admin_lifts_the_protection(nulab, org, store):
    second = member(store, "second.admin@example.com").id
    token = nulab.application.extensions["sandbox"].credentials.issue("later", second)
    nulab.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    assert nulab.delete(f"{BASE}/Users/{org['owner']}").status_code == 204
    assert_scim_error(nulab.delete(f"{BASE}/Users/{second}"), 403)


# -- active, seats, delete ----------------------------------------------------------------------


def test_deactivation_frees_a_licence_seat(nulab, store):
    organization = Organization(store)
    organization.set_seat_limit(organization.seats_used())
    body = assert_scim_error(nulab.post(f"{BASE}/Users", json=new_user("full@example.com")), 403)
    assert "seat limit" in body["detail"]
    target = member(store, "managed@example.com")
    op = {"op": "Replace", "path": "active", "value": "False"}
    assert nulab.patch(f"{BASE}/Users/{target.id}", json=patch_body(op)).status_code == 200
    assert member(store, "managed@example.com").active is False
    assert nulab.post(f"{BASE}/Users", json=new_user("full@example.com")).status_code == 201
    op = {"op": "Replace", "path": "active", "value": "True"}
    assert_scim_error(nulab.patch(f"{BASE}/Users/{target.id}", json=patch_body(op)), 403)


def test_inactive_accounts_are_still_returned(nulab, store):
    target = member(store, "managed@example.com")
    nulab.patch(
        f"{BASE}/Users/{target.id}",
        json=patch_body({"op": "Replace", "path": "active", "value": "False"}),
    )
    found = search(nulab, 'userName eq "managed@example.com"')
    assert found[0]["active"] is False


def test_delete_removes_the_managed_account_and_its_team_places(nulab, store):
    target = member(store, "managed@example.com").id
    add_team(store, "Open", True, {target: True})
    assert nulab.delete(f"{BASE}/Users/{target}").status_code == 204
    assert Organization(store).teams()[0].members == []
    assert "managed@example.com" not in {m.email for m in Organization(store).members()}


# -- groups, schemas, admin edits ---------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/Groups"),
        ("post", "/Groups"),
        ("get", "/Groups/abc"),
        ("patch", "/Groups/abc"),
        ("delete", "/Groups/abc"),
        ("get", '/Groups?excludedAttributes=members&filter=displayName eq "x"'),
    ],
)
def test_groups_are_not_supported_404(nulab, method, path):
    response = getattr(nulab, method)(BASE + path, json={} if method in ("post", "patch") else None)
    body = assert_scim_error(response, 404)
    assert "Groups are not supported" in body["detail"]


def test_schemas_publish_the_rules(nulab):
    core = nulab.get(f"{BASE}/Schemas/{CORE}").get_json()
    attributes = {a["name"]: a for a in core["attributes"]}
    assert attributes["displayName"]["required"] is True
    roles = {s["name"]: s for s in attributes["roles"]["subAttributes"]}
    assert roles["value"]["canonicalValues"] == ["ADMIN", "USER", "GUEST"]
    assert "created" in attributes["preferredLanguage"]["description"]
    assert "created" in attributes["timezone"]["description"]


def test_admin_edits_are_allowed_and_the_next_sync_overwrites_them(nulab, store):
    Organization(store).edit("managed@example.com", role="ADMIN")
    assert member(store, "managed@example.com").role == "ADMIN"
    target = member(store, "managed@example.com").id
    op = {"op": "Replace", "path": 'roles[primary eq "True"].value', "value": "USER"}
    nulab.patch(f"{BASE}/Users/{target}", json=patch_body(op))
    assert member(store, "managed@example.com").role == "USER"
