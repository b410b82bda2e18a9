"""The rules behind the screens' one-call actions live with the engine: removing a user
mapping (a required one refused) beside set_user_mapping, a seeded Faker user beside the
tenant's seed; the sandbox's methods only delegate."""

from __future__ import annotations

import pytest

from sandbox.engine.sync.mapping_edit import remove_user_mapping
from sandbox.engine.tenant.seed import add_random_user
from sandbox.errors import MappingError
from tests.engine_env import EngineEnv


def test_removing_a_mapping_saves_the_set_without_it(tmp_path):
    env = EngineEnv(tmp_path)
    before = [m.target for m in env.engine.config().user_mappings]
    assert "title" in before
    saved = remove_user_mapping(env.engine, "title")
    assert [m.target for m in saved.user_mappings] == [t for t in before if t != "title"]
    assert env.engine.config().mapping_preset == "custom"
    assert env.engine.state().initial_needed


@pytest.mark.parametrize(("preset", "target"), [("default", "userName"), ("nulab", "displayName")])
def test_a_required_mapping_is_refused_and_the_set_kept(tmp_path, preset, target):
    env = EngineEnv(tmp_path)
    env.preset(preset)
    before = env.engine.config().user_mappings
    with pytest.raises(MappingError, match=f"{target} is required: it can be edited, not removed"):
        remove_user_mapping(env.engine, target)
    assert env.engine.config().user_mappings == before


def test_a_random_user_is_seeded_and_on_the_tenant_domain(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = EngineEnv(tmp_path / "a"), EngineEnv(tmp_path / "b")
    users = [
        add_random_user(env.engine.directory, seed=7, domain="contoso.onmicrosoft.com")
        for env in (first, second)
    ]
    assert users[0].user_principal_name == users[1].user_principal_name
    assert users[0].user_principal_name.endswith("@contoso.onmicrosoft.com")
    assert first.engine.directory.find_user(users[0].user_principal_name) is not None
    again = add_random_user(first.engine.directory, seed=7, domain="contoso.onmicrosoft.com")
    assert again.user_principal_name != users[0].user_principal_name
