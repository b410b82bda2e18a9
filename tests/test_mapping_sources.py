"""A mapping being added or edited reads only attributes a tenant user (group) has: a Direct
source is one attribute name, an expression's attributes are known ones; the CLI, the UI's
mapping dialog, scenario files and steps, and `sandbox check`'s mappings files share the check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.config import Settings
from sandbox.errors import MappingError
from sandbox.runtime import Sandbox
from sandbox.scenarios import ScenarioError, load
from tests.scenario_texts import ASSIGN_ADA, MINIMAL


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "sandbox.db")


def run(db: str, *args: str):
    return CliRunner().invoke(cli, ["--db", db, *args])


REFUSED = [
    (
        ["displayName", "nosuchsource"],
        "displayName: unknown source attribute 'nosuchsource' (docs/expressions.md lists the "
        "source attributes)",
    ),
    (
        ["displayName", "[nosuch"],
        "displayName: a Direct mapping's source is one attribute name, such as mail or [mail], "
        "got '[nosuch'",
    ),
    (
        ["title", "mail]"],
        "title: a Direct mapping's source is one attribute name, such as mail or [mail], "
        "got 'mail]'",
    ),
    (["title", "jobTitel"], "title: unknown source attribute 'jobTitel'; did you mean jobTitle?"),
    (
        ["title", 'Join(" ", [givenName], [surnam])'],
        "title: unknown source attribute 'surnam' at column 24; did you mean surname?",
    ),
    (["title", "nosuch", "--type", "Direct"], "title: unknown source attribute 'nosuch'"),
]


@pytest.mark.parametrize("args, message", REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_mappings_set_refuses_an_unknown_source_in_one_line_and_keeps_the_mappings(
    db, args, message
):
    before = run(db, "entra", "mappings", "list", "--json").output
    result = run(db, "entra", "mappings", "set", *args)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {message}") and result.output.count("\n") == 1
    assert run(db, "entra", "mappings", "list", "--json").output == before


@pytest.mark.parametrize("source", ["mail", "[mail]", " Mail ", 'Join(" ", [givenName])'])
def test_known_sources_are_still_accepted(db, source):
    result = run(db, "entra", "mappings", "set", "title", source)
    assert result.exit_code == 0, result.output
    rows = json.loads(run(db, "entra", "mappings", "list", "--json").output)
    assert next(r for r in rows if r["target"] == "title")["source"] == source


def test_constant_and_none_mappings_read_no_attribute(db):
    assert (
        run(db, "entra", "mappings", "set", "title", "nosuch", "--type", "Constant").exit_code == 0
    )
    assert run(db, "entra", "mappings", "set", "title", "", "--type", "None").exit_code == 0


@pytest.fixture
def sandbox(db: str):
    """The sandbox the terminal UI drives (its mapping dialog saves through it)."""
    opened = Sandbox.open(Settings(db_path=db), serve=False)
    yield opened
    opened.close()


def test_the_ui_mapping_dialog_path_refuses_an_unknown_source(sandbox):
    before = sandbox.engine.config().user_mappings
    with pytest.raises(MappingError, match="displayName: unknown source attribute 'nosuch'"):
        sandbox.set_mapping("displayName", "nosuch", "Direct", replacing="displayName")
    with pytest.raises(MappingError, match="did you mean mailNickname"):
        sandbox.set_mapping("title", "[mailNicname]", "Direct", replacing="title")
    assert sandbox.engine.config().user_mappings == before


def test_a_group_mapping_reads_what_a_group_has(sandbox):
    before = sandbox.engine.config().group_mappings
    with pytest.raises(MappingError, match="externalId: unknown source attribute 'jobTitle'"):
        sandbox.set_group_mapping("externalId", "jobTitle", "Direct", replacing="externalId")
    assert sandbox.engine.config().group_mappings == before
    config = sandbox.set_group_mapping("externalId", "mailNickname", "Direct")
    assert next(m for m in config.group_mappings if m.target == "externalId").source == (
        "mailNickname"
    )


def test_a_scenario_mapping_step_with_an_unknown_source_is_refused_at_its_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        ASSIGN_ADA + '\n[[step]]\naction = "mapping"\ntarget = "title"\nsource = "jobTitel"\n'
    )
    with pytest.raises(ScenarioError) as error:
        load(path)
    assert str(error.value) == (
        f"{path}:30 (step 2): mapping.source: unknown source attribute 'jobTitel'; "
        "did you mean jobTitle?"
    )


def test_a_scenario_provisioning_mapping_with_an_unknown_source_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        MINIMAL.replace(
            "groups = false\n",
            'groups = false\n\n[[provisioning.mapping]]\ntarget = "title"\nsource = "mail]"\n',
        )
    )
    with pytest.raises(ScenarioError, match=r"provisioning.mapping.source: a Direct mapping's"):
        load(path)


def test_docs_list_every_source_attribute():
    from sandbox.engine.mappings.mapping import ENTRA_GROUP_ATTRIBUTES, ENTRA_USER_ATTRIBUTES

    text = (Path(__file__).parent.parent / "docs" / "expressions.md").read_text()
    section = text.split("## Source attributes", 1)[1].split("\n## ", 1)[0].strip()
    users, groups = section.split("Of a group:", 1)
    listed = set(re.findall(r"`(\w+)`", users.split("\n\n")[0]))
    listed |= {f"extensionAttribute{n}" for n in range(1, 6)}
    assert listed == set(ENTRA_USER_ATTRIBUTES)
    assert set(re.findall(r"`(\w+)`", groups.split("\n\n")[0])) == set(ENTRA_GROUP_ATTRIBUTES)
