"""Filters (RFC 7644 §3.4.2.2) compiled to SQL: operators, logic, value paths, case rules."""

from __future__ import annotations

import pytest

from sandbox.provider.filters import compile_filter
from sandbox.provider.schema import UserSchema
from tests.conftest import CORE, ENTERPRISE, assert_scim_error

BASE = "/scim/v2"

PEOPLE = [
    dict(
        userName="Alice@Example.com",
        displayName="Alice Adams",
        title="Engineer",
        externalId="ext-A",
        active=True,
        name={"givenName": "Alice", "familyName": "Adams"},
        emails=[
            {"value": "alice@work.example", "type": "work", "primary": True},
            {"value": "alice@home.example", "type": "home"},
        ],
        phoneNumbers=[{"value": "+1 555 0100", "type": "mobile"}],
        **{ENTERPRISE: {"department": "Sales"}},
    ),
    dict(
        userName="bob@example.com",
        displayName="Bob Brown",
        externalId="ext-b",
        active=False,
        emails=[{"value": "bob@work.example", "type": "work", "display": "Bøb Brøwn"}],
        **{ENTERPRISE: {"department": "R&D"}},
    ),
    dict(
        userName="carol_100%@example.org",
        displayName="Carol",
        active=True,
        roles=[{"value": "ADMIN", "primary": True}],
    ),
]


@pytest.fixture
def people(client):
    names = {}
    for person in PEOPLE:
        body = client.post(f"{BASE}/Users", json={"schemas": [CORE], **person}).get_json()
        names[body["id"]] = person["userName"]
    return names


def found(client, expression: str) -> set[str]:
    response = client.get(f"{BASE}/Users", query_string={"filter": expression})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {u["userName"] for u in response.get_json()["Resources"]}


A, B, C = "Alice@Example.com", "bob@example.com", "carol_100%@example.org"


@pytest.mark.parametrize(
    "expression, expected",
    [
        ('userName eq "alice@example.com"', {A}),  # userName is caseExact=false
        ('USERNAME eq "BOB@EXAMPLE.COM"', {B}),  # attribute names too
        ('userName ne "bob@example.com"', {A, C}),
        ('userName co "example.com"', {A, B}),
        ('userName sw "ali"', {A}),
        ('userName ew ".org"', {C}),
        ('userName co "%"', {C}),  # wildcards are plain characters
        ('userName co "_"', {C}),
        ('userName sw "b_b"', set()),
        ('userName gt "bob@example.com"', {C}),
        ('userName le "bob@example.com"', {A, B}),
        ('externalId eq "ext-a"', set()),  # externalId is caseExact=true
        ('externalId eq "ext-A"', {A}),
        ("active eq true", {A, C}),
        ("active eq false", {B}),
        ("title pr", {A}),
        ("not (title pr)", {B, C}),
        ('name.givenName eq "ALICE"', {A}),
        ('displayName sw "b" or displayName sw "c"', {B, C}),
        ('active eq true and (userName sw "c" or title eq "engineer")', {A, C}),
        ('emails[type eq "work"].value eq "BOB@work.example"', {B}),
        ('emails[type eq "home" and value co "alice"]', {A}),
        ('emails[type eq "work" and primary eq true]', {A}),
        ('emails.value ew "home.example"', {A}),
        ('emails co "@work"', {A, B}),
        ("emails pr", {A, B}),
        ('emails[display eq "BØB BRØWN"]', {B}),  # non-ASCII in a stored item, folded
        ('emails.display co "ø"', {B}),
        ('phoneNumbers[type eq "mobile"].value eq "+1 555 0100"', {A}),
        ('roles[primary eq true].value eq "admin"', {C}),
        (f'{ENTERPRISE}:department eq "r&d"', {B}),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@example.com"', {B}),
        ('meta.resourceType eq "User"', {A, B, C}),
        ('meta.created gt "2000-01-01T00:00:00Z"', {A, B, C}),
        ('meta.lastModified lt "2000-01-01T00:00:00+09:00"', set()),
        ("title eq null", {B, C}),
    ],
)
def test_filter_finds_exactly(client, people, expression, expected):
    assert found(client, expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "userName eq",
        'userName xx "a"',
        "shoeSize eq 42",
        '(userName eq "a"',
        "active gt true",
        'active eq "yes"',
        'emails[type eq "work"',
        'title[value eq "x"]',
        'meta.created gt "yesterday"',
        'name eq "x"',
        'emails[shoeSize eq "x"]',
        "x" * 5000,
    ],
)
def test_bad_filters_get_400_invalid_filter(client, people, expression):
    response = client.get(f"{BASE}/Users", query_string={"filter": expression})
    assert_scim_error(response, 400, "invalidFilter")


def test_filters_compile_to_parameters_never_to_inline_values():
    sql, params = compile_filter(UserSchema(), 'userName eq "x\' OR 1=1 --"')
    assert "OR 1=1" not in sql
    assert params == ["x' or 1=1 --"]


def test_username_eq_uses_the_unique_index(store):
    sql, params = compile_filter(UserSchema(), 'userName eq "a@b.c" and active eq true')
    plan = " ".join(
        str(row[3])
        for row in store.db.execute(
            f"EXPLAIN QUERY PLAN SELECT id FROM users WHERE {sql}", params
        ).fetchall()
    )
    assert "USING INDEX" in plan and "user_name_norm" in plan


def test_value_path_filters_use_the_values_index(store):
    sql, params = compile_filter(UserSchema(), 'emails[type eq "work"].value eq "x@y.z"')
    plan = " ".join(
        str(row[3])
        for row in store.db.execute(
            f"EXPLAIN QUERY PLAN SELECT id FROM users WHERE {sql}", params
        ).fetchall()
    )
    assert "user_values USING PRIMARY KEY (attr=? AND value_norm=?)" in plan
