"""`sandbox check --mappings FILE`: a JSON file as `sandbox entra mappings list --json` prints
it, or a TOML one with a preset and [[mapping]] tables as in scenarios; every entry checked, a
mistake one line naming the file, the entry and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_type_hints

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.engine.mappings.presets import PRESETS
from sandbox.engine.sync.job import StoredMapping
from sandbox.scenarios.schema import MAPPING

UNREACHABLE = "http://127.0.0.1:9/scim/v2"
"""The file is read before the endpoint is reached: its mistakes come first."""

OK_JSON = '{"target": "userName", "source": "mail", "matching_precedence": 1}'
ACTIVE = '{"target": "active", "source": "Not([IsSoftDeleted])", "type": "Expression"}'

BAD_FILES = [
    # (file name, its bytes, what the line says after "Error: <path>: ")
    ("m.json", b'[{"target": 5, "source": "mail"}]', "mapping 1: target must be a non-empty string, got 5"),
    ("m.toml", b'[[mapping]]\ntarget = 5\nsource = "mail"\n', "[[mapping]] 1: target must be a non-empty string, got 5"),
    ("m.toml", b'[[mapping]]\ntarget = "title"\nsource = ["a"]\n', "[[mapping]] 1 (title): source must be a string, got ['a']"),
    ("m.toml", b'[[mapping]]\ntarget = "title"\nsource = "mail\xff"\n', "not UTF-8 text (byte 0xff at offset 43)"),
    ("m.json", b'[{"target": "title", "source": "\xffmail"}]', "not UTF-8 text (byte 0xff at offset 32)"),
    ("m.toml", b'[[mapping]]\ntarget = "title"\n', "[[mapping]] 1 (title): source is required"),
    ("m.json", b"[1]", "mapping 1: must be an object with target, got 1"),
    ("m.json", b'["x"]', "mapping 1: must be an object with target, got 'x'"),
    ("m.json", b'{"target": "userName"}', "a JSON mappings file is a list of mappings, as `sandbox entra mappings list --json` prints, got an object"),
    (
        "m.json",
        f'[{{"target": "userName", "source": "mail", "matching": 1}}, {ACTIVE}]'.encode(),
        "mapping 1 (userName): unknown field 'matching' (in the JSON form it is matching_precedence)",
    ),
    ("m.json", f'[{{"target": "userName", "sorce": "mail"}}, {ACTIVE}]'.encode(), "mapping 1 (userName): unknown field 'sorce' (did you mean 'source'?)"),
    ("m.json", f'[{OK_JSON}, {{"target": "active", "source": "x", "flow": "Once"}}]'.encode(), "mapping 2 (active): flow must be one of 'Always', 'ObjectAddOnly', got 'Once'"),
    ("m.json", b'[{"target": "userName", "source": "mail", "matching_precedence": true}]', "mapping 1 (userName): matching_precedence must be an integer from 0 to 100, got True"),
    ("m.json", f'[{OK_JSON}, {{"target": "title", "source": "mial"}}]'.encode(), "mapping 2 (title): unknown source attribute 'mial'; did you mean mail, mobile?"),
    ("m.json", b'[{"target": "userName"', "not valid JSON: Expecting ',' delimiter: line 1 column 23 (char 22)"),
    ("m.json", b'[{"target": "userName", "matching_precedence": NaN}]', "not valid JSON: NaN is not a JSON value"),
    ("m.json", b"[" * 100_000 + b"]" * 100_000, "not valid JSON: nested too deeply"),
    ("m.json", b'[{"target": "userName", "matching_precedence": ' + b"9" * 5000 + b"}]", "not valid JSON: a number has too many digits"),
    ("m.json", f"[{OK_JSON}]".encode(), "active is a required attribute and cannot be removed"),
    ("m.toml", b'[[mappings]]\ntarget = "title"\nsource = "mail"\n', "unknown key 'mappings' (did you mean 'mapping'?)"),
    ("m.toml", b'preset = "groups"\n', "preset must be one of 'default', 'nulab', got 'groups'"),
    ("m.toml", b"mapping = 5\n", "mapping must be [[mapping]] tables, got 5"),
    ("m.toml", b'[[mapping]]\ntarget = "title"\nsource = "mail"\nmatching_precedence = 2\n', "[[mapping]] 1 (title): unknown field 'matching_precedence' (in the TOML form it is matching)"),
    ("m.toml", b'[[mapping]]\ntarget = "title"\nsource = "Upper(["\n', "[[mapping]] 1 (title): invalid expression at column 7: unterminated attribute reference: expected ']'"),
    ("m.toml", b'[[mapping]]\ntarget = "title"\nsource = "mail]"\n', "[[mapping]] 1 (title): a Direct mapping's source is one attribute name, such as mail or [mail], got 'mail]'"),
    ("m.toml", b"x = [", "not valid TOML: Invalid value (at end of document)"),
]  # fmt: skip


@pytest.mark.parametrize("name, data, says", BAD_FILES, ids=[s[:60] for _, _, s in BAD_FILES])
def test_a_bad_mappings_file_is_one_line_naming_the_file_entry_and_field(
    tmp_path, name, data, says
):
    path = tmp_path / name
    path.write_bytes(data)
    result = CliRunner().invoke(
        cli, ["check", UNREACHABLE, "--token", "t", "--mappings", str(path)]
    )
    assert result.exit_code == 1
    assert result.output == f"Error: {path}: {says}\n"


def test_the_json_form_is_what_entra_mappings_list_json_prints(tmp_path):
    from sandbox.engine.sync.mapping_file import JSON_FIELDS, read_mapping_file

    db = str(tmp_path / "sandbox.db")
    CliRunner().invoke(cli, ["--db", db, "entra", "mappings", "preset", "nulab"])
    exported = CliRunner().invoke(cli, ["--db", db, "entra", "mappings", "list", "--json"])
    path = tmp_path / "mine.json"
    path.write_text(exported.output)
    assert read_mapping_file(path) == (PRESETS["nulab"].mappings, "custom")
    assert set(JSON_FIELDS) == set(get_type_hints(StoredMapping))
    assert set(json.loads(exported.output)[0]) == set(JSON_FIELDS)


def test_the_toml_form_takes_a_scenarios_mapping_fields(tmp_path):
    from sandbox.engine.sync.mapping_file import TOML_FIELDS, read_mapping_file

    assert set(TOML_FIELDS) == set(MAPPING.fields)
    path = tmp_path / "m.toml"
    path.write_text(
        'preset = "nulab"\n[[mapping]]\ntarget = "title"\nsource = "ToUpper([jobTitle])"\n'
        "create_only = true\n"
    )
    mappings, preset = read_mapping_file(path)
    title = next(m for m in mappings if m.target == "title")
    assert preset == "nulab" and str(title.type) == "Expression" and title.create_only


def test_docs_describe_every_field_of_both_forms():
    from sandbox.engine.sync.mapping_file import JSON_FIELDS, TOML_FIELDS

    text = (Path(__file__).parent.parent / "docs" / "check.md").read_text()
    section = text.split("### Mappings files", 1)[1].split("\n### ", 1)[0]
    json_part, toml_part = section.split("**TOML**", 1)
    for field in JSON_FIELDS:
        assert f"`{field}`" in json_part, field
    for field in TOML_FIELDS:
        assert f"`{field}`" in toml_part, field


def test_the_docs_examples_load(tmp_path):
    from sandbox.engine.sync.mapping_file import read_mapping_file

    text = (Path(__file__).parent.parent / "docs" / "check.md").read_text()
    section = text.split("### Mappings files", 1)[1].split("\n### ", 1)[0]
    for form in ("json", "toml"):
        example = section.split(f"```{form}\n", 1)[1].split("```", 1)[0]
        path = tmp_path / f"example.{form}"
        path.write_text(example)
        mappings, _ = read_mapping_file(path)
        assert mappings
