"""Settings read from SANDBOX_* variables: a value the sandbox cannot work with is refused up
front, in one line naming the variable it came from (or the option, for a command's option)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.config import Settings
from sandbox.errors import ConfigError


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SANDBOX_PATCH_STATUS", "201", "SANDBOX_PATCH_STATUS must be 200 or 204, got 201"),
        ("SANDBOX_MAX_RESULTS", "-1", "SANDBOX_MAX_RESULTS must be at least 1, got -1"),
        ("SANDBOX_PORT", "0", "SANDBOX_PORT must be between 1 and 65535, got 0"),
        ("SANDBOX_WORKERS", "-5", "SANDBOX_WORKERS must be between 0 (one per core) and 64"),
        ("SANDBOX_THREADS", "0", "SANDBOX_THREADS must be at least 1, got 0"),
        ("SANDBOX_RULES", "x", "SANDBOX_RULES must be nulab or core, got 'x'"),
        ("SANDBOX_HOST", "foo", "SANDBOX_HOST must be an IP address of this machine"),
        ("SANDBOX_BASE_PATH", "foo", "SANDBOX_BASE_PATH must be a path such as /scim/v2"),
        ("SANDBOX_BASE_PATH", "/scim/v2/", "got '/scim/v2/'"),
        ("SANDBOX_BASE_PATH", "/", "or empty for the server's root; got '/'"),
        ("SANDBOX_BASE_PATH", "/scim//v2", "got '/scim//v2'"),
        ("SANDBOX_BASE_PATH", "/scim v2", "got '/scim v2'"),
        ("SANDBOX_BASE_PATH", "/scim/<kind>", "got '/scim/<kind>'"),
    ],
)
def test_a_setting_that_cannot_work_is_refused_naming_its_variable(variable, value, says):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({variable: value})
    assert says in refused.value.message
    assert "\n" not in refused.value.message


@pytest.mark.parametrize("base_path", ["/scim/v2", "/api/scim", "", "/v2.0~x"])
def test_a_base_path_the_provider_can_be_mounted_at_is_taken(base_path):
    assert Settings.from_env({"SANDBOX_BASE_PATH": base_path}).base_path == base_path


def test_a_value_given_as_an_option_is_named_by_the_option():
    with pytest.raises(ConfigError, match=r"^--host must be an IP address .* not 'foo'$"):
        Settings.from_env({}, host="foo")
    with pytest.raises(ConfigError, match=r"^SANDBOX_HOST must be an IP address"):
        Settings.from_env({"SANDBOX_HOST": "foo"}, port=8000)  # the host was not an option


def test_the_cli_names_the_variable_in_one_line(tmp_path):
    db = str(tmp_path / "sandbox.db")
    for variable, value, says in [
        ("SANDBOX_PATCH_STATUS", "201", "Error: SANDBOX_PATCH_STATUS must be 200 or 204"),
        ("SANDBOX_BASE_PATH", "foo", "Error: SANDBOX_BASE_PATH must be a path such as /scim/v2"),
    ]:
        for args in (["serve", "--port", "18509"], ["entra", "test-connection"]):
            result = CliRunner().invoke(cli, ["--db", db, *args], env={variable: value})
            assert result.exit_code == 1, result.output
            assert isinstance(result.exception, SystemExit)  # no traceback
            assert result.output.splitlines() == [result.output.strip()]
            assert result.output.startswith(says)
    assert not (tmp_path / "sandbox.db").exists()  # refused before anything was created
