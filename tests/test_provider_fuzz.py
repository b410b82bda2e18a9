"""Fuzzing the provider's wire surface: filters, PATCH bodies, POST payloads and headers.

Whatever arrives, the provider answers with a status it means: never a 500, and every
non-2xx answer is RFC 7644 §3.12 SCIM error JSON.
"""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from sandbox.provider.resources import multi_value_rows
from tests.conftest import ENTERPRISE, patch_body, user_body

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,  # STYLE.md: everything random is seeded; CI sees the same examples
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NOT_IMPLEMENTED = {"/scim/v2/Bulk", "/scim/v2/Me"}
"""Endpoints ServiceProviderConfig says are unsupported: 501 is their honest answer."""


def assert_scim_answer(response, path: str = "") -> None:
    """No 500; a 2xx/304 or a well-formed SCIM error (RFC 7644 §3.12)."""
    status = response.status_code
    event(f"status {status}")
    body = response.get_data(as_text=True)
    assert status != 500, body
    if status >= 500:
        assert status == 501 and path.rstrip("/") in NOT_IMPLEMENTED, (status, path, body)
    if status < 300 or status == 304 or response.request.method == "HEAD":
        return  # HEAD: the status line and headers of GET, never a body (RFC 9110 §9.3.2)
    assert response.mimetype == "application/scim+json", (status, body)
    error = response.get_json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], body
    assert error["status"] == str(status), body
    assert isinstance(error["detail"], str) and error["detail"], body
    if "scimType" in error:
        assert error["scimType"] in SCIM_TYPES, body


SCIM_TYPES = {
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
}
"""RFC 7644 §3.12 Table 9: the only scimType values there are."""


# -- well-formed filters from the RFC 7644 §3.4.2.2 grammar -------------------------------

ATTR_PATHS = [
    "userName",
    "USERNAME",
    "displayName",
    "externalId",
    "id",
    "title",
    "active",
    "name.givenName",
    "name.familyName",
    "emails",
    "emails.value",
    "emails.type",
    "emails.primary",
    "phoneNumbers.value",
    "roles.value",
    "addresses.locality",
    "meta.created",
    "meta.lastModified",
    "meta.resourceType",
    "meta.version",
    f"{ENTERPRISE}:department",
    f"{ENTERPRISE}:manager.value",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "nickName",
    "unknownAttr",
]
SUB_ATTRS = ["value", "type", "primary", "display"]
COMPARE_OPS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]
WORDS = ["ada", "ADA", "work", "home", "x", "", "Ada Lovelace", 'q"uote', "back\\slash", "é"]

comp_values = st.one_of(
    st.sampled_from(WORDS).map(json.dumps),
    st.text(max_size=12).map(json.dumps),
    st.sampled_from(["true", "false", "null", "42", "-1.5", '"2026-01-01T00:00:00Z"']),
)


def attr_expr(paths: list[str]) -> st.SearchStrategy[str]:
    """attrPath SP compareOp SP compValue, or attrPath SP "pr"."""
    return st.one_of(
        st.builds(
            lambda p, o, v: f"{p} {o} {v}",
            st.sampled_from(paths),
            st.sampled_from(COMPARE_OPS),
            comp_values,
        ),
        st.sampled_from(paths).map(lambda p: f"{p} pr"),
    )


value_filter = st.recursive(
    attr_expr(SUB_ATTRS),
    lambda inner: st.one_of(
        st.builds(lambda a, b, o: f"{a} {o} {b}", inner, inner, st.sampled_from(["and", "or"])),
        inner.map(lambda f: f"not ({f})"),
    ),
    max_leaves=3,
)

well_formed_filters = st.recursive(
    st.one_of(
        attr_expr(ATTR_PATHS),
        st.builds(
            lambda a, f: f"{a}[{f}]",
            st.sampled_from(["emails", "phoneNumbers", "roles", "addresses", "userName"]),
            value_filter,
        ),
    ),
    lambda inner: st.one_of(
        st.builds(lambda a, b, o: f"{a} {o} {b}", inner, inner, st.sampled_from(["and", "or"])),
        inner.map(lambda f: f"({f})"),
        inner.map(lambda f: f"not ({f})"),
    ),
    max_leaves=5,
)

SEED_USERS = [
    user_body(
        "ada",
        displayName="Ada Lovelace",
        title="Countess",
        active=True,
        name={"givenName": "Ada", "familyName": "Lovelace"},
        emails=[
            {"value": "ada@example.com", "type": "work", "primary": True},
            {"value": "ADA@home.example", "type": "home"},
        ],
        **{ENTERPRISE: {"department": "Engines", "manager": {"value": "grace"}}},
    ),
    user_body(
        "grace",
        displayName="Grace Hopper",
        active=False,
        externalId="x",
        phoneNumbers=[{"value": "+1 555", "type": "work"}],
        roles=[{"value": "ADMIN", "primary": True}],
    ),
    user_body("é-user", nickName="", addresses=[{"locality": "Paris", "type": "work"}]),
    user_body("bare"),
]


def _seed(client) -> int:
    for body in SEED_USERS:
        response = client.post("/scim/v2/Users", json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
    return len(SEED_USERS)


def _total(client, text: str) -> tuple[Any, int | None]:
    response = client.get(f"/scim/v2/Users?filter={quote(text)}")
    if response.status_code != 200:
        return response, None
    return response, response.get_json()["totalResults"]


@FUZZ
@given(text=st.text(max_size=60))
def test_random_filter_text_is_a_list_or_invalid_filter(client, text: str) -> None:
    response = client.get(f"/scim/v2/Users?filter={quote(text)}")
    assert_scim_answer(response)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.get_json()["scimType"] == "invalidFilter"


def _tree_or_error(parse: Any, text: str) -> Any:
    try:
        return parse(text)
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))


@FUZZ
@given(text=st.one_of(well_formed_filters, st.text(max_size=40), comp_values))
@example(text='userName eq "a" "b"')
@example(text='emails[value eq "x\\u00e9" and type eq "0"].value co "1"')
def test_a_filter_parsed_once_per_shape_is_the_tree_a_fresh_parse_gives(text: str) -> None:
    # The provider keeps one parse per shape (literals lifted out) and fills the literals
    # back in: the tree, or the error, must be exactly what scim2-models gives for the text.
    from sandbox.provider.syntax import _parse, parse_filter_tree

    assert _tree_or_error(parse_filter_tree, text) == _tree_or_error(_parse, text)
    assert _tree_or_error(parse_filter_tree, text) == _tree_or_error(_parse, text)  # cached


@FUZZ
@given(text=well_formed_filters)
def test_a_well_formed_filter_and_its_negation_split_the_users(client, text: str) -> None:
    # Every leaf compiles to 0 or 1, never NULL, so F and not (F) partition the users.
    users = client.get("/scim/v2/Users?count=0").get_json()["totalResults"] or _seed(client)
    response, matched = _total(client, text)
    assert_scim_answer(response)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if matched is None:
        assert response.get_json()["scimType"] == "invalidFilter"
        return
    negated, unmatched = _total(client, f"not ({text})")
    assert negated.status_code == 200, negated.get_data(as_text=True)
    assert matched + unmatched == users, text
    searched = client.post(
        "/scim/v2/Users/.search",
        json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": text},
    )
    assert searched.status_code == 200
    assert searched.get_json()["totalResults"] == matched


list_params = st.fixed_dictionaries(
    {},
    optional={
        "filter": st.one_of(well_formed_filters, st.text(max_size=20)),
        "attributes": st.sampled_from(["userName", "emails.value", "name", "meta", "bogus", ""]),
        "excludedAttributes": st.sampled_from(["emails", "name.givenName", ENTERPRISE, "x"]),
        "sortBy": st.one_of(st.sampled_from(ATTR_PATHS), st.text(max_size=10)),
        "sortOrder": st.sampled_from(["ascending", "descending", "DESCENDING", "up", ""]),
        "startIndex": st.one_of(st.integers(-5, 10).map(str), st.text(max_size=4)),
        "count": st.one_of(st.integers(-5, 5000).map(str), st.text(max_size=4)),
    },
)


@FUZZ
@given(params=list_params)
def test_any_list_query_parameters_answer_a_list_or_an_error(client, params: dict) -> None:
    if not client.get("/scim/v2/Users?count=0").get_json()["totalResults"]:
        _seed(client)
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    response = client.get(f"/scim/v2/Users?{query}")
    assert_scim_answer(response)
    if response.status_code == 200:
        body = response.get_json()
        assert body["itemsPerPage"] == len(body["Resources"]) <= 1000


# -- PATCH bodies ------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["True", "false", "ada", "", "work", '{"value":"ADMIN"}']),
        st.text(max_size=10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(
                st.sampled_from(SUB_ATTRS + ["givenName", "department", "schemas"]),
                st.text(max_size=6),
            ),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=6,
)

patch_paths = st.one_of(
    st.sampled_from(
        ATTR_PATHS
        + [
            'emails[type eq "work"].value',
            'emails[type eq "work" and primary eq true]',
            'emails[value co "ada"].type',
            'roles[primary eq "True"].value',
            f"{ENTERPRISE}:manager",
            ENTERPRISE,
            "meta.version",
            "id",
            "groups",
            "name",
            "emails[",
            "",
        ]
    ),
    st.text(max_size=20),
)

wild_operations = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "replace", "remove", "Add", "REPLACE", "Remove", "bogus"])},
    optional={
        "path": st.one_of(patch_paths, st.integers(), st.none()),
        "value": json_values,
    },
)

short_text = st.sampled_from(["ada", "Ada", "work", "home", "x@example.com", "", "True"])
emails = st.lists(
    st.fixed_dictionaries(
        {"value": short_text},
        optional={"type": st.sampled_from(["work", "home"]), "primary": st.booleans()},
    ),
    max_size=3,
)
# (path, value) pairs an Entra-like client would plausibly send, so that many PATCHes succeed
plausible = st.one_of(
    st.tuples(st.sampled_from(["displayName", "title", "nickName", "externalId"]), short_text),
    st.tuples(st.just("active"), st.sampled_from([True, False, "True", "False", "maybe"])),
    st.tuples(st.sampled_from(["name.givenName", "name.familyName"]), short_text),
    st.tuples(st.just("name"), st.fixed_dictionaries({}, optional={"givenName": short_text})),
    st.tuples(st.just("emails"), emails),
    st.tuples(
        st.sampled_from(['emails[type eq "work"].value', 'emails[type eq "home"].value']),
        short_text,
    ),
    st.tuples(st.just('emails[type eq "work"].primary'), st.sampled_from([True, "True", False])),
    st.tuples(st.just("roles"), st.lists(st.fixed_dictionaries({"value": short_text}), max_size=2)),
    st.tuples(st.just('roles[primary eq "True"].value'), st.just('{"id":"1","value":"ADMIN"}')),
    st.tuples(st.sampled_from([f"{ENTERPRISE}:department", f"{ENTERPRISE}:manager"]), short_text),
    st.tuples(st.just(ENTERPRISE), st.fixed_dictionaries({"department": short_text})),
    st.tuples(
        st.none(),
        st.fixed_dictionaries(
            {},
            optional={
                "displayName": short_text,
                "name.givenName": short_text,
                "active": st.booleans(),
                f"{ENTERPRISE}:department": short_text,
            },
        ),
    ),
)
plausible_operations = st.builds(
    lambda op, pair: {
        "op": op,
        **({"path": pair[0]} if pair[0] else {}),
        **({} if op.lower() == "remove" else {"value": pair[1]}),
    },
    st.sampled_from(["add", "replace", "remove", "Replace", "Add"]),
    plausible,
)
operations = st.one_of(plausible_operations, plausible_operations, wild_operations)


def assert_index_matches(app, user_id: str) -> None:
    """The user_values index holds exactly the rows the stored document implies."""
    ctx = app.extensions["sandbox"]
    user = ctx.users.get(user_id)
    stored = ctx.store.db.execute(
        "SELECT attr, value_norm, user_id, n, type_norm, value, is_primary, item FROM user_values"
        " WHERE user_id = ?",
        [user_id],
    ).fetchall()
    assert sorted(map(tuple, stored), key=repr) == sorted(
        multi_value_rows(ctx.schema, user_id, user.doc), key=repr
    )


@FUZZ
@given(
    ops=st.one_of(
        st.lists(plausible_operations, min_size=1, max_size=3),
        st.lists(operations, min_size=1, max_size=4),
    ),
    envelope=st.integers(0, 5).map(bool),  # mostly with the PatchOp schemas
)
def test_any_patch_body_answers_the_user_or_an_error(app, client, ops, envelope: bool) -> None:
    created = client.post("/scim/v2/Users", json=user_body("patched-" + str(id(ops))))
    assert created.status_code == 201
    user_id = created.get_json()["id"]
    body: Any = patch_body(*ops) if envelope else {"Operations": ops}
    response = client.patch(f"/scim/v2/Users/{user_id}", json=body)
    assert_scim_answer(response)
    if not envelope:
        assert response.status_code == 400
    after = client.get(f"/scim/v2/Users/{user_id}")
    assert after.status_code == 200
    assert after.get_json()["userName"]
    if response.status_code == 200:
        assert response.get_json() == after.get_json()
    else:
        assert after.get_json()["meta"]["version"] == 'W/"1"'  # a failed PATCH changes nothing
    assert_index_matches(app, user_id)
    assert client.delete(f"/scim/v2/Users/{user_id}").status_code == 204


@FUZZ
@given(raw=st.one_of(st.binary(max_size=80), json_values.map(json.dumps)))
def test_any_patch_bytes_answer_an_error_not_a_crash(client, raw: bytes | str) -> None:
    response = client.patch("/scim/v2/Users/nobody", data=raw, content_type="application/scim+json")
    assert_scim_answer(response)
    assert response.status_code in (400, 404, 413)


# -- POST payloads -----------------------------------------------------------------------

payloads = st.one_of(
    json_values,
    st.dictionaries(
        st.one_of(
            st.sampled_from(
                [
                    "schemas",
                    "userName",
                    "displayName",
                    "active",
                    "emails",
                    "name",
                    "roles",
                    "phoneNumbers",
                    "addresses",
                    "groups",
                    "id",
                    "meta",
                    "password",
                    "externalId",
                    ENTERPRISE,
                    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                ]
            ),
            st.text(max_size=8),
        ),
        json_values,
        max_size=6,
    ),
    st.builds(
        lambda name, pairs: {
            **user_body(name),
            **{p: v for p, v in pairs if p and "." not in p and "[" not in p},
        },
        st.sampled_from(["fuzzed", "Fuzzed", "fuzzé"]),
        st.lists(plausible, max_size=4),
    ),
    st.builds(
        lambda extra: {**user_body("fuzzed"), **extra},
        st.dictionaries(
            st.sampled_from(["emails", "active", "name", ENTERPRISE, "roles", "schemas"]),
            json_values,
            max_size=2,
        ),
    ),
)


@FUZZ
@given(payload=payloads)
def test_any_post_payload_creates_a_user_or_answers_an_error(app, client, payload) -> None:
    response = client.post("/scim/v2/Users", json=payload)
    assert_scim_answer(response)
    if response.status_code == 201:
        created = response.get_json()
        assert created["userName"] and "password" not in created
        assert client.get(f"/scim/v2/Users/{created['id']}").get_json() == created
        assert_index_matches(app, created["id"])
        assert client.delete(f"/scim/v2/Users/{created['id']}").status_code == 204
    else:
        assert response.status_code in (400, 409), response.get_data(as_text=True)


@FUZZ
@given(raw=st.binary(max_size=120))
def test_any_post_bytes_answer_an_error_not_a_crash(client, raw: bytes) -> None:
    response = client.post("/scim/v2/Users", data=raw, content_type="application/scim+json")
    assert_scim_answer(response)


# -- headers, methods and paths ---------------------------------------------------------

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=40,
)
paths = st.one_of(
    st.sampled_from(
        [
            "/scim/v2/Users",
            "/scim/v2/Users/{id}",
            "/scim/v2/Users/.search",
            "/scim/v2/.search",
            "/scim/v2/ServiceProviderConfig",
            "/scim/v2/ResourceTypes",
            "/scim/v2/ResourceTypes/User",
            "/scim/v2/Schemas",
            f"/scim/v2/Schemas/{ENTERPRISE}",
            "/scim/v2/Bulk",
            "/scim/v2/Me",
            "/scim/v2/Groups",
            "/",
            "/scim/v2/Users/{id}/x",
        ]
    ),
    st.text(alphabet=string.ascii_letters + string.digits + "/.-_%", max_size=20).map(
        lambda p: "/scim/v2/" + p
    ),
)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    path=paths,
    authorization=st.one_of(
        st.none(), st.just("valid"), header_text, header_text.map(lambda t: "Bearer " + t)
    ),
    headers=st.dictionaries(
        st.sampled_from(["If-Match", "If-None-Match", "Accept", "Content-Type", "X-Forwarded-For"]),
        st.one_of(header_text, st.sampled_from(['W/"1"', "*", '"1"', "application/scim+json"])),
        max_size=3,
    ),
    body=st.one_of(st.none(), payloads.map(json.dumps), st.just(json.dumps(user_body("h")))),
)
@example(  # once a 308 redirect with an HTML body, before authentication
    method="GET", path="/scim/v2//Users", authorization=None, headers={}, body=None
)
def test_any_request_answers_a_scim_status(
    app, token, method, path, authorization, headers, body
) -> None:
    plain = app.test_client()
    user = plain.post(
        "/scim/v2/Users", json=user_body("target"), headers={"Authorization": f"Bearer {token}"}
    )
    user_id = (user.get_json() or {}).get("id") or plain.get(
        "/scim/v2/Users?filter=userName%20eq%20%22target%22",
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()["Resources"][0]["id"]
    path = path.replace("{id}", user_id)
    sent = dict(headers)
    if authorization == "valid":
        sent["Authorization"] = f"Bearer {token}"
    elif authorization is not None:
        sent["Authorization"] = authorization
    response = plain.open(path, method=method, headers=sent, data=body)
    assert_scim_answer(response, path)
    if authorization != "valid" and path.startswith("/scim/v2/"):
        assert response.status_code in (401, 404, 405), response.get_data(as_text=True)
