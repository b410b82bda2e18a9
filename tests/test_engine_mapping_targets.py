"""A new user mapping must target an attribute of the target: its /Schemas, or the default SCIM
User attributes; the CLI, the UI's mapping dialog and scenario steps share that check."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.config import Settings
from sandbox.engine.mappings.paths import ENTERPRISE_USER_SCHEMA
from sandbox.engine.mappings.targets import (
    UnknownTargetAttribute,
    attributes_from_schemas,
    default_user_attributes,
)
from sandbox.runtime import Sandbox
from sandbox.scenarios import ScenarioError, run_scenario
from tests.scenario_texts import ASSIGN_ADA

ACME = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
PUBLISHED = [
    {"id": "urn:ietf:params:scim:schemas:core:2.0:User", "attributes": [
        {"name": "userName"}, {"name": "active"},
        {"name": "emails", "multiValued": True, "subAttributes": [
            {"name": "value"}, {"name": "type", "canonicalValues": ["work", "home"]}]},
    ]},
    {"id": ACME, "attributes": [{"name": "badgeNumber"}]},
    {"id": "urn:ietf:params:scim:schemas:core:2.0:Group", "attributes": [{"name": "members"}]},
]  # fmt: skip


@pytest.fixture
def sandbox(tmp_path: Path):
    """The sandbox the terminal UI drives (its provider reached in process)."""
    opened = Sandbox.open(Settings(db_path=str(tmp_path / "sandbox.db")), serve=False)
    yield opened
    opened.close()


def test_published_schemas_give_the_attributes_and_their_spelling():
    attributes = attributes_from_schemas(PUBLISHED, "the target's /Schemas")
    assert attributes.resolve("USERNAME") == "userName"
    assert attributes.resolve('Emails[TYPE eq "home"].VALUE') == 'emails[type eq "home"].value'
    assert attributes.resolve(f"{ACME}:badgenumber") == f"{ACME}:badgeNumber"
    assert attributes.resolve("externalId") == "externalId"  # a common attribute
    with pytest.raises(UnknownTargetAttribute) as refused:
        attributes.resolve("members")  # a Group attribute, not a User one
    assert "checked against the target's /Schemas" in refused.value.message
    with pytest.raises(UnknownTargetAttribute) as refused:
        attributes.resolve("badgeNumber")
    assert refused.value.suggestions == [f"{ACME}:badgeNumber"]
    with pytest.raises(UnknownTargetAttribute) as refused:
        attributes.resolve('emails[type eq "work"].display')
    assert "emails has no sub-attribute 'display'" in refused.value.message
    assert 'emails[type eq "work"].value' in refused.value.suggestions


def test_the_default_scim_user_attributes_are_the_core_schema_and_enterprise_extension():
    attributes = default_user_attributes()
    assert attributes.resolve(f"{ENTERPRISE_USER_SCHEMA}:manager") == (
        f"{ENTERPRISE_USER_SCHEMA}:manager"
    )
    assert attributes.resolve('phoneNumbers[type eq "fax"].value') == (
        'phoneNumbers[type eq "fax"].value'
    )
    with pytest.raises(UnknownTargetAttribute) as refused:
        attributes.resolve("timezon")
    assert refused.value.suggestions[0] == "timezone"


def test_the_ui_mapping_dialog_path_refuses_what_the_target_does_not_publish(sandbox):
    with pytest.raises(UnknownTargetAttribute) as refused:
        sandbox.set_mapping("nonsense", "mail", "Direct")
    assert "checked against the local provider's /Schemas" in refused.value.message
    assert "nonsense" not in [m.target for m in sandbox.engine.config().user_mappings]
    config = sandbox.set_mapping("nickname", "mailNickname", "Direct")
    assert "nickName" in [m.target for m in config.user_mappings]
    # an existing mapping's own target is not checked again when its source is edited
    edited = sandbox.set_mapping("title", "department", "Direct", replacing="title")
    assert next(m for m in edited.user_mappings if m.target == "title").source == "department"


def test_a_scenario_mapping_step_is_checked_the_same_way_unless_forced(tmp_path):
    step = '\n[[step]]\naction = "mapping"\ntarget = "nonsense"\nsource = "mail"\n'
    scenario = tmp_path / "mapping.toml"
    scenario.write_text(ASSIGN_ADA + step)
    with pytest.raises(ScenarioError) as error:
        run_scenario(str(scenario))
    assert "nonsense: the target has no such attribute" in str(error.value)
    checked = '\n[[step]]\naction = "expect"\njob = { initial_needed = true }\n'
    scenario.write_text(ASSIGN_ADA + step + "force = true\n" + checked)
    assert run_scenario(str(scenario)).passed
