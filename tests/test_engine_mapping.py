"""Attribute mappings: presets, the POST document, create/update rules, diff and save-time checks."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime

import pytest

from sandbox.engine.mappings.mapping import (
    ENTERPRISE_USER_SCHEMA,
    ENTRA_USER_ATTRIBUTES,
    Change,
    FlowType,
    Mapping,
    MappingType,
    TargetPath,
    apply_changes,
    compute,
    constant,
    diff,
    direct,
    expression,
    matching_mappings,
    parse_target_path,
    to_scim_document,
    validate_mappings,
)
from sandbox.engine.mappings.presets import (
    PRESETS,
    default_group_mappings,
    default_user_mappings,
    nulab_user_mappings,
)
from sandbox.engine.mappings.scoping import clause_holds, make_clause
from sandbox.errors import MappingError, MappingEvaluationError
from sandbox.expressions import EvaluationContext

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"


def ada(**changes: object) -> dict[str, object]:
    user: dict[str, object] = {
        "objectId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userPrincipalName": "ada@contoso.onmicrosoft.com",
        "mail": "ada.lovelace@contoso.com",
        "mailNickname": "ada",
        "displayName": "Ada Lovelace",
        "givenName": "Ada",
        "surname": "Lovelace",
        "jobTitle": "Analyst",
        "department": "Engineering",
        "employeeId": "1815",
        "preferredLanguage": "en-GB",
        "country": "Netherlands",
        "city": "Amsterdam",
        "telephoneNumber": "+31 20 000 0000",
        "mobile": "+31 6 0000 0000",
        "manager": "b5c1e7e2-0000-4000-8000-000000000001",
        "accountEnabled": True,
        "userType": "Member",
        "IsSoftDeleted": "False",
        "appRoleAssignments": [{"id": "r-admin", "value": "ADMIN", "displayName": "Admin"}],
        "proxyAddresses": ["SMTP:ada.lovelace@contoso.com"],
    }
    user.update(changes)
    return user


@pytest.fixture
def context() -> EvaluationContext:
    return EvaluationContext(
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        rng=random.Random(1),
        tenant_domain="contoso.com",
    )


# --- presets ----------------------------------------------------------------------------------


def test_the_default_user_set_produces_entras_post_shape(context):
    flat = compute(default_user_mappings(), ada(), context=context)
    assert to_scim_document(flat) == {
        "schemas": [CORE, ENTERPRISE_USER_SCHEMA],
        "userName": "ada@contoso.onmicrosoft.com",
        "active": True,
        "displayName": "Ada Lovelace",
        "title": "Analyst",
        "emails": [{"primary": True, "type": "work", "value": "ada.lovelace@contoso.com"}],
        "preferredLanguage": "en-GB",
        "name": {"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"},
        "addresses": [
            {"primary": True, "type": "work", "locality": "Amsterdam", "country": "Netherlands"}
        ],
        "phoneNumbers": [
            {"type": "work", "value": "+31 20 000 0000"},
            {"type": "mobile", "value": "+31 6 0000 0000"},
        ],
        "externalId": "ada",
        ENTERPRISE_USER_SCHEMA: {"employeeNumber": "1815", "department": "Engineering"},
        "meta": {"resourceType": "User"},
    }


def test_the_default_set_matches_on_user_principal_name_and_lists_every_documented_row():
    mappings = default_user_mappings()
    assert len(mappings) == 22
    assert [m.target for m in matching_mappings(mappings)] == ["userName"]
    by_target = {m.target: m for m in mappings}
    assert by_target["userName"].source == "userPrincipalName"
    assert (
        by_target["active"].source == 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'
    )
    assert by_target["name.formatted"].type is MappingType.EXPRESSION
    assert all(m.flow is FlowType.ALWAYS for m in mappings)
    validate_mappings(mappings, known_attributes=ENTRA_USER_ATTRIBUTES)


def test_the_manager_reference_is_left_out_of_the_post_unless_asked_for(context):
    flat = compute(default_user_mappings(), ada(), context=context)
    assert f"{ENTERPRISE_USER_SCHEMA}:manager" in flat
    with_refs = to_scim_document(flat, include_references=True)
    assert with_refs[ENTERPRISE_USER_SCHEMA]["manager"] == "b5c1e7e2-0000-4000-8000-000000000001"


def test_the_enterprise_urn_is_listed_only_when_an_enterprise_attribute_is_present(context):
    user = ada(department=None, employeeId=None, manager=None)
    document = to_scim_document(compute(default_user_mappings(), user, context=context))
    assert document["schemas"] == [CORE]
    assert ENTERPRISE_USER_SCHEMA not in document


def test_null_and_empty_source_values_are_never_produced(context):
    user = ada(jobTitle=None, mobile="", telephoneNumber=None, city=None, country=None)
    flat = compute(default_user_mappings(), user, context=context)
    assert None not in flat.values() and "" not in flat.values()
    document = to_scim_document(flat)
    assert (
        "title" not in document and "phoneNumbers" not in document and "addresses" not in document
    )


def test_a_soft_deleted_user_is_sent_inactive(context):
    flat = compute(default_user_mappings(), ada(IsSoftDeleted="True"), context=context)
    assert flat["active"] == "False"
    assert to_scim_document(flat)["active"] is False


def test_the_nulab_preset_matches_on_mail_and_sends_the_single_role(context):
    preset = PRESETS["nulab"]
    assert preset.title == "Nulab Pass recommended"
    flat = compute(preset.mappings, ada(), context=context)
    assert to_scim_document(flat) == {
        "schemas": [CORE],
        "userName": "ada.lovelace@contoso.com",
        "externalId": "ada@contoso.onmicrosoft.com",
        "displayName": "Ada Lovelace",
        "preferredLanguage": "en-GB",
        "timezone": "Europe/Amsterdam",
        "active": True,
        "roles": [{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "ADMIN"}],
        "emails": [{"primary": True, "type": "work", "value": "ada.lovelace@contoso.com"}],
        "meta": {"resourceType": "User"},
    }
    assert [m.target for m in matching_mappings(preset.mappings)] == ["userName"]
    validate_mappings(preset.mappings, known_attributes=ENTRA_USER_ATTRIBUTES)


def test_the_nulab_timezone_defaults_to_tokyo(context):
    flat = compute(nulab_user_mappings(), ada(country="Japan"), context=context)
    assert flat["timezone"] == "Asia/Tokyo"


def test_two_app_roles_fail_the_nulab_role_mapping_with_entras_message(context):
    roles = [
        {"id": "a", "value": "ADMIN", "displayName": "A"},
        {"id": "u", "value": "USER", "displayName": "U"},
    ]
    with pytest.raises(MappingEvaluationError) as caught:
        compute(nulab_user_mappings(), ada(appRoleAssignments=roles), context=context)
    assert caught.value.target == 'roles[primary eq "True"].value'
    assert caught.value.message.endswith("this many where found: 2")
    assert caught.value.expression == "SingleAppRoleAssignment([appRoleAssignments])"


def test_the_default_group_set_matches_on_display_name_and_keeps_members_for_a_later_patch():
    flat = compute(
        default_group_mappings(), {"displayName": "Ops", "objectId": "g1", "members": ["u1", "u2"]}
    )
    assert to_scim_document(flat, object_type="Group") == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Ops",
        "externalId": "g1",
        "meta": {"resourceType": "Group"},
    }
    with_members = to_scim_document(flat, object_type="Group", include_references=True)
    assert with_members["members"] == [{"value": "u1"}, {"value": "u2"}]
    validate_mappings(default_group_mappings(), object_type="Group")


# --- create and update rules ------------------------------------------------------------------


def test_default_values_fill_nulls_on_create_only(context):
    mappings = (*default_user_mappings(), direct("nickName", "nickname", default="n/a"))
    assert compute(mappings, ada(), context=context, on_create=True)["nickName"] == "n/a"
    assert "nickName" not in compute(mappings, ada(), context=context, on_create=False)


def test_only_during_creation_mappings_are_skipped_on_update(context):
    mappings = (
        *default_user_mappings()[:2],
        direct("preferredLanguage", "preferredLanguage", flow=FlowType.OBJECT_ADD_ONLY),
    )
    assert "preferredLanguage" in compute(mappings, ada(), context=context, on_create=True)
    assert "preferredLanguage" not in compute(mappings, ada(), context=context, on_create=False)


def test_a_none_mapping_only_ever_provides_its_default_on_create(context):
    mappings = (Mapping("nickName", type=MappingType.NONE, default="guest"),)
    assert compute(mappings, ada(), context=context) == {"nickName": "guest"}
    assert compute(mappings, ada(), context=context, on_create=False) == {}


def test_ignore_flow_if_null_or_empty_drops_the_attribute_even_with_a_default(context):
    mappings = (expression("title", "IgnoreFlowIfNullOrEmpty([jobTitle])", default="Staff"),)
    assert compute(mappings, ada(jobTitle=""), context=context) == {}
    assert compute(mappings, ada(), context=context) == {"title": "Analyst"}


def test_constant_mappings_always_send_their_value(context):
    assert compute((constant("userType", "Employee"),), ada(), context=context) == {
        "userType": "Employee"
    }


def test_direct_mappings_read_graph_booleans_as_true_false_strings(context):
    assert compute((direct("active", "accountEnabled"),), ada(), context=context) == {
        "active": "True"
    }


def test_a_mapped_role_type_is_overwritten_with_entras_role_type(context):
    mappings = (
        expression(
            'roles[primary eq "True"].value', "SingleAppRoleAssignment([appRoleAssignments])"
        ),
        constant('roles[primary eq "True"].type', "Custom"),
    )
    document = to_scim_document(compute(mappings, ada(), context=context))
    assert document["roles"] == [
        {"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "ADMIN"}
    ]


def test_complex_roles_go_to_the_roles_attribute_as_a_list(context):
    mappings = (expression("roles", "AppRoleAssignmentsComplex([appRoleAssignments])"),)
    document = to_scim_document(compute(mappings, ada(), context=context))
    assert document["roles"] == [
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin",
         "value": "ADMIN"}
    ]  # fmt: skip


# --- diff ---------------------------------------------------------------------------------------


def test_an_unchanged_user_gives_no_changes(context):
    old = compute(default_user_mappings(), ada(), context=context)
    new = compute(default_user_mappings(), ada(), context=context, on_create=False)
    assert diff(old, new) == []


def test_diff_lists_only_the_changed_attributes_in_mapping_order(context):
    old = compute(default_user_mappings(), ada(), context=context)
    new = compute(
        default_user_mappings(), ada(givenName="Augusta", department="Research"), on_create=False
    )
    assert diff(old, new) == [
        Change("name.givenName", "Ada", "Augusta"),
        Change("name.formatted", "Ada Lovelace", "Augusta Lovelace"),
        Change(f"{ENTERPRISE_USER_SCHEMA}:department", "Engineering", "Research"),
    ]


def test_an_attribute_gaining_a_value_is_a_change_from_none(context):
    old = compute(default_user_mappings(), ada(jobTitle=None), context=context)
    new = compute(default_user_mappings(), ada(jobTitle="Lead"), context=context, on_create=False)
    assert diff(old, new) == [Change("title", None, "Lead")]


def test_disabling_a_user_is_one_change_of_active(context):
    old = compute(default_user_mappings(), ada(), context=context)
    new = compute(default_user_mappings(), ada(IsSoftDeleted="True"), on_create=False)
    assert diff(old, new) == [Change("active", "True", "False")]


def test_attributes_that_became_null_are_not_changes_unless_removals_are_asked_for(context):
    old = compute(default_user_mappings(), ada(), context=context)
    new = compute(default_user_mappings(), ada(mobile=None), context=context, on_create=False)
    assert diff(old, new) == []
    assert diff(old, new, include_removals=True) == [
        Change('phoneNumbers[type eq "mobile"].value', "+31 6 0000 0000", None)
    ]


def test_create_only_targets_are_not_removed_by_an_update(context):
    mappings = (
        *default_user_mappings()[:2],
        direct("preferredLanguage", "preferredLanguage", flow=FlowType.OBJECT_ADD_ONLY),
    )
    old = compute(mappings, ada(), context=context)
    new = compute(mappings, ada(preferredLanguage="ja-JP"), context=context, on_create=False)
    assert diff(old, new) == []


def test_apply_changes_gives_the_state_after_the_export(context):
    old = {"userName": "a", "title": "x"}
    changes = [
        Change("title", "x", "y"),
        Change("displayName", None, "A"),
        Change("userName", "a", None),
    ]
    assert apply_changes(old, changes) == {"title": "y", "displayName": "A"}


# --- the Mapping value --------------------------------------------------------------------------


def test_a_mapping_is_frozen_and_its_expression_is_parsed_when_built():
    mapping = expression("name.formatted", 'Join(" ", [givenName], [surname])')
    assert mapping.node is not None and mapping.compiled is not None
    assert mapping.function_name == "Join"
    with pytest.raises(dataclasses.FrozenInstanceError):
        mapping.target = "displayName"  # type: ignore[misc]


def test_an_invalid_expression_is_refused_when_the_mapping_is_built():
    with pytest.raises(MappingError) as caught:
        expression("active", 'switch([IsSoftDeleted], , "False", "True", "True", "False")')
    assert "active: invalid expression at column 1" in caught.value.message
    assert "did you mean 'Switch'?" in caught.value.message


def test_a_direct_mapping_needs_a_source():
    with pytest.raises(MappingError, match="needs a source attribute"):
        direct("title", " ")


# --- target paths and save-time validation ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        ("userName", TargetPath(None, "userName")),
        ("name.givenName", TargetPath(None, "name", sub_attribute="givenName")),
        ('emails[type eq "work"].value', TargetPath(None, "emails", "type", "work", "value")),
        ('roles[primary eq "True"].value', TargetPath(None, "roles", "primary", "True", "value")),
        ('addresses[type eq "work"].locality', TargetPath(None, "addresses", "type", "work", "locality")),
        (f"{ENTERPRISE_USER_SCHEMA}:department", TargetPath(ENTERPRISE_USER_SCHEMA, "department")),
        (
            "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:CustomAttribute",
            TargetPath(
                "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User",
                "CustomAttribute",
            ),
        ),
    ],
)  # fmt: skip
def test_scim_target_paths_are_parsed(path, parsed):
    assert parse_target_path(path) == parsed


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("", "empty"),
        ("user name", "not a SCIM attribute path"),
        ("emails[type eq work].value", "not a SCIM attribute path"),
        ('emails[type eq "work" and primary eq "True"].value', "not a SCIM attribute path"),
        ('emails[type eq "work"]', "needs a sub-attribute"),
        ("name.given.name", "not a SCIM attribute path"),
        ("1stName", "not a SCIM attribute path"),
        ("urn:example:department", "schema URN"),
    ],
)
def test_invalid_target_paths_are_refused_with_the_reason(path, fragment):
    mappings = (*default_user_mappings(), direct(path or "x", "mail"))
    if not path:
        with pytest.raises(MappingError, match=fragment):
            parse_target_path(path)
        return
    with pytest.raises(MappingError, match=fragment):
        validate_mappings(mappings)


@pytest.mark.parametrize("required", ["userName", "active"])
def test_required_user_attributes_cannot_be_removed(required):
    mappings = tuple(m for m in default_user_mappings() if m.target != required)
    if required == "userName":
        mappings = (direct("externalId2", "mail", matching_precedence=1), *mappings)
    with pytest.raises(MappingError, match=f"{required} is a required attribute"):
        validate_mappings(mappings)


def test_a_group_set_needs_its_display_name():
    with pytest.raises(MappingError, match="displayName is a required attribute"):
        validate_mappings(default_group_mappings()[1:], object_type="Group")


def test_a_set_without_a_matching_attribute_is_refused():
    mappings = (direct("userName", "userPrincipalName"), *default_user_mappings()[1:])
    with pytest.raises(MappingError, match="at least one mapping must be a matching attribute"):
        validate_mappings(mappings)


def test_matching_precedences_must_be_distinct():
    mappings = (*default_user_mappings(), direct("externalId2", "objectId", matching_precedence=1))
    with pytest.raises(MappingError, match="distinct"):
        validate_mappings(mappings)


def test_a_target_mapped_twice_is_refused():
    with pytest.raises(MappingError, match="title: mapped twice"):
        validate_mappings((*default_user_mappings(), direct("title", "department")))


def test_unknown_source_attributes_are_refused_when_the_tenant_attributes_are_given():
    mappings = (*default_user_mappings(), expression("nickName", "ToLower([nickName])"))
    validate_mappings(mappings)  # without the known names an unknown attribute is just NULL
    with pytest.raises(MappingError, match=r"nickName: unknown source attribute \[nickName\]"):
        validate_mappings(mappings, known_attributes=ENTRA_USER_ATTRIBUTES)


def test_select_unique_value_is_refused_for_a_scim_app():
    mappings = (
        *default_user_mappings(),
        expression("nickName", 'SelectUniqueValue([mailNickname], Join("", [mailNickname], "1"))'),
    )
    with pytest.raises(MappingError, match="not supported for SCIM apps"):
        validate_mappings(mappings)


# --- scoping clauses on null and empty values (§7) ----------------------------------------------


@pytest.mark.parametrize("value", [None, ""])
@pytest.mark.parametrize(
    ("operator", "operand", "holds"),
    [
        # The operators' own definitions: IS NULL is "true" if the attribute is empty...
        ("IS NULL", "", True),
        ("IS NOT NULL", "", False),
        # ...and every other clause is false ("Scoping filters will return 'false' if the
        # value is null / empty"), negative operators included.
        ("EQUALS", "Sales", False),
        ("NOT EQUALS", "Sales", False),
        ("!&", "Sales", False),
        ("NOT REGEX MATCH", "^x$", False),
        ("IS FALSE", "", False),
    ],
)
def test_a_null_or_empty_value_fails_every_clause_but_is_null(value, operator, operand, holds):
    clause = make_clause("department", operator, operand)
    assert clause_holds(clause, {"department": value}) is holds
