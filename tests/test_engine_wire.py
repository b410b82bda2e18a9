"""Entra's wire forms: every PATCH, POST and query example of the behaviour reference, in both
dialects.

The expected bodies are the wire forms docs/entra-behaviour.md describes: Microsoft's examples,
or real Entra traffic where the engine follows it (section noted on each row); bodies are
compared as compact JSON text, so key order counts too.
"""

from __future__ import annotations

import json

import pytest

from sandbox.engine.mappings.mapping import Change, compute, diff, to_scim_document
from sandbox.engine.mappings.presets import default_user_mappings
from sandbox.engine.scim.wire import (
    Dialect,
    base_url,
    dialect_from_url,
    encode_query,
    filter_params,
    filter_query,
    group_member_patch,
    group_patch,
    group_post,
    user_patch,
)

LEGACY, FLAG = Dialect.LEGACY, Dialect.SCIM062020
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
WORK_EMAIL = 'emails[type eq "work"].value'
ROLE = 'roles[primary eq "True"].value'


def compact(body: object) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def ops(*operations: dict) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


# §3 item 3: the six attributes Entra replaces in its compatibility example.
REPLACE_SIX = [
    Change("displayName", "Old", "Bjfe"),
    Change(WORK_EMAIL, "old@test.microsoft.com", "TestMhvaes@test.microsoft.com"),
    Change("name.givenName", "Old", "Kkom"),
    Change("name.familyName", "Old", "Unua"),
    Change(f"{ENT}:employeeNumber", "0", "Aklq"),
]

USER_PATCH_EXAMPLES = [
    pytest.param(
        # §2.4, real traffic: Replace for attributes that had a value, Add for the empty one.
        [
            Change(WORK_EMAIL, "AdeleV@contoso.onmicrosoft.com", "AdeleV2@contoso.onmicrosoft.com"),
            Change('addresses[type eq "work"].formatted', "18/2110", "18/2111"),
            Change(f"{ENT}:department", None, "Retail"),
        ],
        LEGACY,
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
        '"Operations":['
        '{"op":"Replace","path":"emails[type eq \\"work\\"].value","value":"AdeleV2@contoso.onmicrosoft.com"},'
        '{"op":"Replace","path":"addresses[type eq \\"work\\"].formatted","value":"18/2111"},'
        '{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Retail"}]}',
        id="2.4-legacy-replace-and-add",
    ),
    pytest.param(
        # §2.4 with the flag: filtered paths keep their op; the lone new attribute keeps its path.
        [
            Change(WORK_EMAIL, "AdeleV@contoso.onmicrosoft.com", "AdeleV2@contoso.onmicrosoft.com"),
            Change('addresses[type eq "work"].formatted', "18/2110", "18/2111"),
            Change(f"{ENT}:department", None, "Retail"),
        ],
        FLAG,
        compact(
            ops(
                {"op": "replace", "path": WORK_EMAIL, "value": "AdeleV2@contoso.onmicrosoft.com"},
                {
                    "op": "replace",
                    "path": 'addresses[type eq "work"].formatted',
                    "value": "18/2111",
                },
                {"op": "add", "path": f"{ENT}:department", "value": "Retail"},
            )
        ),
        id="2.4-flag-replace-and-add",
    ),
    pytest.param(
        # §2.4: manager set = Add with a plain string (the target's id), not {value,$ref}.
        [Change(f"{ENT}:manager", None, "271")],
        LEGACY,
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
        '{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"271"}]}',
        id="2.4-manager-add",
    ),
    pytest.param(
        # §3: the manager stays a plain string with the flag; a reference is never folded.
        [Change(f"{ENT}:manager", "270", "271"), Change("title", None, "Boss")],
        FLAG,
        compact(
            ops(
                {"op": "replace", "path": f"{ENT}:manager", "value": "271"},
                {"op": "add", "path": "title", "value": "Boss"},
            )
        ),
        id="3-manager-change-flag",
    ),
    pytest.param(
        # §2.5 disable, default dialect: the string "False".
        [Change("active", "True", "False")],
        LEGACY,
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
        '"Operations":[{"op":"Replace","path":"active","value":"False"}]}',
        id="2.5-disable-legacy",
    ),
    pytest.param(
        # §2.5 / §3 item 1 with the flag: a boolean.
        [Change("active", "True", "False")],
        FLAG,
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
        '"Operations":[{"op":"replace","path":"active","value":false}]}',
        id="3.1-disable-flag",
    ),
    pytest.param(
        # §2.5 re-enable flips back to "True" / true; a boolean source value reads the same.
        [Change("active", False, True)],
        LEGACY,
        compact(ops({"op": "Replace", "path": "active", "value": "True"})),
        id="2.5-enable-legacy",
    ),
    pytest.param(
        [Change("active", "False", "True")],
        FLAG,
        compact(ops({"op": "replace", "path": "active", "value": True})),
        id="2.5-enable-flag",
    ),
    pytest.param(
        # §3 item 2 before.
        [Change("nickName", None, "Babs")],
        LEGACY,
        compact(ops({"op": "Add", "path": "nickName", "value": "Babs"})),
        id="3.2-add-legacy",
    ),
    pytest.param(
        # §3 item 2 after: op casing only.
        [Change("nickName", None, "Babs")],
        FLAG,
        compact(ops({"op": "add", "path": "nickName", "value": "Babs"})),
        id="3.2-add-flag",
    ),
    pytest.param(
        # §3 item 3 before: one Replace per attribute, each with its path.
        REPLACE_SIX,
        LEGACY,
        compact(
            ops(
                {"op": "Replace", "path": "displayName", "value": "Bjfe"},
                {"op": "Replace", "path": WORK_EMAIL, "value": "TestMhvaes@test.microsoft.com"},
                {"op": "Replace", "path": "name.givenName", "value": "Kkom"},
                {"op": "Replace", "path": "name.familyName", "value": "Unua"},
                {"op": "Replace", "path": f"{ENT}:employeeNumber", "value": "Aklq"},
            )
        ),
        id="3.3-replace-several-legacy",
    ),
    pytest.param(
        # §3 item 3 after, verbatim.
        REPLACE_SIX,
        FLAG,
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
        '{"op":"replace","path":"emails[type eq \\"work\\"].value","value":"TestMhvaes@test.microsoft.com"},'
        '{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua",'
        '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}]}',
        id="3.3-replace-several-flag",
    ),
    pytest.param(
        # §3 item 3, real traffic: a path-less add with dotted keys for new attributes.
        [
            Change("displayName", None, "Ada Lovelace"),
            Change("title", None, "Analyst"),
            Change("name.givenName", None, "Ada"),
            Change("name.formatted", None, "Ada Lovelace"),
        ],
        FLAG,
        compact(
            ops(
                {
                    "op": "add",
                    "value": {
                        "displayName": "Ada Lovelace",
                        "title": "Analyst",
                        "name.givenName": "Ada",
                        "name.formatted": "Ada Lovelace",
                    },
                }
            )
        ),
        id="3.3-pathless-add-flag",
    ),
    pytest.param(
        # Both folds at once: replace first, then add; active folds as a boolean.
        [
            Change("displayName", "Ada", "Ada L."),
            Change("title", None, "Analyst"),
            Change("active", "True", "False"),
            Change("name.givenName", None, "Ada"),
        ],
        FLAG,
        compact(
            ops(
                {"op": "replace", "value": {"displayName": "Ada L.", "active": False}},
                {"op": "add", "value": {"title": "Analyst", "name.givenName": "Ada"}},
            )
        ),
        id="3.3-both-folds-flag",
    ),
    pytest.param(
        # §5.4: SingleAppRoleAssignment PATCH, stringified JSON inside value (documented example).
        [
            Change(
                ROLE,
                None,
                {
                    "id": "06b07648-ecfe-589f-9d2f-6325724a46ee",
                    "value": "25",
                    "displayName": "Role1234",
                },
            )
        ],
        LEGACY,
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
        '{"op":"Add","path":"roles","value":[{"value":"{\\"id\\":\\"06b07648-ecfe-589f-9d2f-6325724a46ee\\",'
        '\\"value\\":\\"25\\",\\"displayName\\":\\"Role1234\\"}"}]}]}',
        id="5.4-single-role-legacy",
    ),
    pytest.param(
        # §5.4: a role known only by its value (what compute yields) is its own display name;
        # a role change is still an Add (Entra adds the new role beside the old one).
        [Change(ROLE, "USER", "ADMIN")],
        LEGACY,
        compact(
            ops(
                {
                    "op": "Add",
                    "path": "roles",
                    "value": [{"value": '{"value":"ADMIN","displayName":"ADMIN"}'}],
                }
            )
        ),
        id="5.4-single-role-by-value-legacy",
    ),
    pytest.param(
        # §3 item 5: the flag makes PATCH roles look like POST roles (exact form UNCONFIRMED).
        [Change(ROLE, "USER", "ADMIN")],
        FLAG,
        compact(
            ops(
                {
                    "op": "replace",
                    "path": "roles",
                    "value": [
                        {
                            "primary": True,
                            "type": "WindowsAzureActiveDirectoryRole",
                            "value": "ADMIN",
                        }
                    ],
                }
            )
        ),
        id="5.4-single-role-flag",
    ),
    pytest.param(
        # §5.4: a mapped roles[...].type is overwritten by Entra, so it never travels.
        [Change('roles[primary eq "True"].type', None, "custom")],
        LEGACY,
        compact(ops()),
        id="5.4-role-type-never-sent",
    ),
    pytest.param(
        # §5.5: AppRoleAssignmentsComplex, add-only, one stringified JSON per role. The ids are
        # put in by the cycle (`_with_role_ids` in sync/user_steps.py; the expression's entries
        # have none): test_engine_cycle's complex-roles test checks that path.
        [
            Change(
                "roles",
                None,
                [
                    {
                        "id": "a1",
                        "primary": False,
                        "type": "WindowsAzureActiveDirectoryRole",
                        "displayName": "Admin",
                        "value": "Admin",
                    },
                    {
                        "id": "u1",
                        "primary": False,
                        "type": "WindowsAzureActiveDirectoryRole",
                        "displayName": "User",
                        "value": "User",
                    },
                ],
            )
        ],
        LEGACY,
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
        '{"op":"Add","path":"roles","value":['
        '{"value":"{\\"id\\":\\"a1\\",\\"value\\":\\"Admin\\",\\"displayName\\":\\"Admin\\"}"},'
        '{"value":"{\\"id\\":\\"u1\\",\\"value\\":\\"User\\",\\"displayName\\":\\"User\\"}"}]}]}',
        id="5.5-complex-legacy",
    ),  # fmt: skip
    pytest.param(
        # §5.5: AssertiveAppRoleAssignmentsComplex replaces the whole list with real objects.
        [
            Change(
                "roles",
                [
                    {
                        "primary": False,
                        "type": "WindowsAzureActiveDirectoryRole",
                        "display": "Admin",
                        "value": "Admin",
                    }
                ],
                [
                    {
                        "primary": False,
                        "type": "WindowsAzureActiveDirectoryRole",
                        "display": "User",
                        "value": "User",
                    }
                ],
            )
        ],
        FLAG,
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
        '{"op":"replace","path":"roles","value":[{"primary":false,'
        '"type":"WindowsAzureActiveDirectoryRole","display":"User","value":"User"}]}]}',
        id="5.5-assertive",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("changes", "dialect", "expected"), USER_PATCH_EXAMPLES)
def test_user_patch_reproduces_the_reference_examples(changes, dialect, expected):
    assert compact(user_patch(changes, dialect)) == expected


def test_assertive_roles_replace_is_lower_case_in_both_dialects_as_documented():
    roles = [{"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"}]  # fmt: skip
    legacy = user_patch([Change("roles", None, roles)], LEGACY)
    assert legacy == ops({"op": "replace", "path": "roles", "value": roles})


def test_complex_roles_with_the_flag_are_sent_as_their_post_entries():
    roles = [{"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"}]  # fmt: skip
    assert user_patch([Change("roles", None, roles)], FLAG) == ops(
        {"op": "add", "path": "roles", "value": roles}
    )


def test_complex_roles_with_the_flag_leave_out_the_id_the_legacy_form_carries():
    # The cycle gives each role its app role's id (§5.5, for the legacy stringified form); with
    # the flag the entries stay the POST's, which have none.
    role = {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"}  # fmt: skip
    assert user_patch([Change("roles", None, [{"id": "a1", **role}])], FLAG) == ops(
        {"op": "add", "path": "roles", "value": [role]}
    )


@pytest.mark.parametrize("changes", [p.values[0] for p in USER_PATCH_EXAMPLES])
def test_every_flag_op_is_lower_case(changes):
    # §3 item 6: with the flag all op values are lower-case.
    body = user_patch(changes, FLAG)
    assert all(op["op"] == op["op"].lower() for op in body["Operations"])


@pytest.mark.parametrize("changes", [REPLACE_SIX, [Change("active", "True", "False")]])
def test_provision_on_demand_ignores_the_flag(changes):
    # §1.6 / §3: the flag is not applied to provision on demand.
    assert user_patch(changes, FLAG, on_demand=True) == user_patch(changes, LEGACY)


def test_removals_are_not_sent_by_default_because_entra_does_not_flow_nulls():
    # §2.1: null attribute values are not provisioned.
    changes = [Change("title", "Boss", None), Change("displayName", "A", "B")]
    assert user_patch(changes, LEGACY) == ops(
        {"op": "Replace", "path": "displayName", "value": "B"}
    )


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            LEGACY,
            ops(
                {"op": "Remove", "path": "title"},
                {"op": "Replace", "path": f"{ENT}:manager", "value": ""},
            ),
        ),
        (
            FLAG,
            ops(
                {"op": "remove", "path": "title"},
                {"op": "replace", "path": f"{ENT}:manager", "value": ""},
            ),
        ),
    ],
)
def test_flowing_nulls_removes_with_a_path_and_clears_the_manager_with_an_empty_string(
    dialect, expected
):
    changes = [Change("title", "Boss", None), Change(f"{ENT}:manager", "271", None)]
    assert user_patch(changes, dialect, flow_nulls=True) == expected


def test_no_change_gives_no_operation():
    # §2.4: no change, no request (Skipped / RedundantExport).
    assert user_patch([], LEGACY)["Operations"] == []
    assert user_patch([Change("title", None, None)], FLAG, flow_nulls=True)["Operations"] == []


def test_members_are_refused_by_user_patch():
    with pytest.raises(ValueError, match="group_member_patch"):
        user_patch([Change("members", None, ["u1"])], LEGACY)


def test_a_diff_of_computed_states_patches_only_what_changed():
    mappings = default_user_mappings()
    before = {"userPrincipalName": "ada@contoso.com", "mail": "ada@contoso.com",
              "displayName": "Ada", "accountEnabled": True, "IsSoftDeleted": False}  # fmt: skip
    after = {**before, "displayName": "Ada Lovelace", "jobTitle": "Analyst"}
    changes = diff(compute(mappings, before), compute(mappings, after, on_create=False))
    assert user_patch(changes, LEGACY) == ops(
        {"op": "Replace", "path": "displayName", "value": "Ada Lovelace"},
        {"op": "Add", "path": "title", "value": "Analyst"},
    )
    assert user_patch(changes, FLAG) == ops(
        {"op": "replace", "path": "displayName", "value": "Ada Lovelace"},
        {"op": "add", "path": "title", "value": "Analyst"},
    )
    assert to_scim_document(compute(mappings, before))["active"] is True


GROUP_EXAMPLES = [
    pytest.param(
        # §9 step 5: add members (same in both dialects but the op casing).
        group_member_patch(["f648f8d5ea4e4cd38e9c"], [], LEGACY),
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
        '{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]}',
        id="9.5-add-member-legacy",
    ),
    pytest.param(
        group_member_patch(["f648f8d5ea4e4cd38e9c"], [], FLAG),
        compact(
            ops(
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"$ref": None, "value": "f648f8d5ea4e4cd38e9c"}],
                }
            )
        ),  # fmt: skip
        id="9.5-add-member-flag",
    ),
    pytest.param(
        # §9 step 6, default.
        group_member_patch([], ["f648f8d5ea4e4cd38e9c"], LEGACY),
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
        '{"op":"Remove","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]}',
        id="9.6-remove-member-legacy",
    ),
    pytest.param(
        # §3 item 4 before (its example has no "$ref": a DOC CONFLICT with §9 step 6).
        group_member_patch([], ["u1091"], LEGACY, null_ref=False),
        compact(ops({"op": "Remove", "path": "members", "value": [{"value": "u1091"}]})),
        id="3.4-remove-member-before",
    ),
    pytest.param(
        # §3 item 4 after / §9 step 6 with the flag: a filter path and no value.
        group_member_patch([], ["7f4bc1a3-285e-48ae-8202-5accb43efb0e"], FLAG),
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
        '{"op":"remove","path":"members[value eq \\"7f4bc1a3-285e-48ae-8202-5accb43efb0e\\"]"}]}',
        id="3.4-remove-member-flag",
    ),
    pytest.param(
        group_member_patch(["a", "b"], ["c", "d"], FLAG),
        compact(
            ops(
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"$ref": None, "value": "a"}, {"$ref": None, "value": "b"}],
                },
                {"op": "remove", "path": 'members[value eq "c"]'},
                {"op": "remove", "path": 'members[value eq "d"]'},
            )
        ),
        id="9-batch-flag",
    ),  # fmt: skip
    pytest.param(
        group_member_patch(["a"], ["c", "d"], LEGACY),
        compact(
            ops(
                {"op": "Add", "path": "members", "value": [{"$ref": None, "value": "a"}]},
                {
                    "op": "Remove",
                    "path": "members",
                    "value": [{"$ref": None, "value": "c"}, {"$ref": None, "value": "d"}],
                },
            )
        ),
        id="9-batch-legacy",
    ),  # fmt: skip
    pytest.param(
        # §9 step 4: non-member updates.
        group_patch([Change("displayName", "Old", "Sales")], LEGACY),
        compact(ops({"op": "Replace", "path": "displayName", "value": "Sales"})),
        id="9.4-rename-legacy",
    ),
    pytest.param(
        # §9 step 2: created with no members; key order as sent.
        group_post("displayName", "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"),
        '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group",'
        '"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],'
        '"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName",'
        '"meta":{"resourceType":"Group"}}',
        id="9.2-group-post",
    ),
]


@pytest.mark.parametrize(("body", "expected"), GROUP_EXAMPLES)
def test_group_bodies_reproduce_the_reference_examples(body, expected):
    assert compact(body) == expected


def test_a_member_patch_needs_a_member():
    with pytest.raises(ValueError):
        group_member_patch([], [], LEGACY)


def test_member_filter_paths_escape_quotes_and_backslashes():
    body = group_member_patch([], ['we"ird\\id'], FLAG)
    assert body["Operations"][0]["path"] == 'members[value eq "we\\"ird\\\\id"]'


@pytest.mark.parametrize(
    ("attribute", "value", "resource", "expected"),
    [
        # §2.2 / §4: users.
        ("userName", "alice@contoso.com", "Users", 'filter=userName eq "alice@contoso.com"'),
        # §4 / §9 step 1: excludedAttributes=members first for groups.
        ("displayName", "displayName", "Groups",
         'excludedAttributes=members&filter=displayName eq "displayName"'),
        # RFC 7644 §3.4.2.2: the value is a JSON string.
        ("userName", 'a"b\\c', "Users", 'filter=userName eq "a\\"b\\\\c"'),
    ],
)  # fmt: skip
def test_filter_query_is_entras_decoded_query(attribute, value, resource, expected):
    assert filter_query(attribute, value, resource=resource) == expected


def test_encoded_query_uses_plus_for_spaces_and_escapes_quotes_and_ampersands():
    assert encode_query(filter_params("userName", "a&b=c d")) == (
        "filter=userName+eq+%22a%26b%3Dc+d%22"
    )
    assert encode_query(filter_params("displayName", "Sales", resource="Groups")) == (
        "excludedAttributes=members&filter=displayName+eq+%22Sales%22"
    )


@pytest.mark.parametrize(
    ("tenant_url", "dialect", "base"),
    [
        ("https://host/scim/v2", LEGACY, "https://host/scim/v2"),
        ("https://host/scim/v2/", LEGACY, "https://host/scim/v2"),
        # §3: the flag is appended to the Tenant URL, with or without a trailing slash.
        ("https://host/scim/v2?aadOptscim062020", FLAG, "https://host/scim/v2"),
        ("https://host/scim/v2/?aadOptscim062020", FLAG, "https://host/scim/v2"),
        ("http://127.0.0.1:8000/scim/v2?aadoptscim062020=", FLAG, "http://127.0.0.1:8000/scim/v2"),
        ("https://host/scim/v2?other=1", LEGACY, "https://host/scim/v2"),
    ],
)
def test_the_tenant_url_chooses_the_dialect_and_gives_the_base(tenant_url, dialect, base):
    assert dialect_from_url(tenant_url) is dialect
    assert base_url(tenant_url) == base
