"""A scenario file is checked whole before its first step: every field's type and values, unknown
fields with a suggestion, expectations that compare something; and no check holds because
nothing happened."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.scenarios import ScenarioError, load, run_scenario
from tests.scenario_texts import ASSIGN_ADA, MINIMAL


def expect(fields: str) -> str:
    """MINIMAL (assign Ada, sync) then an expect step (its header on line 30)."""
    return MINIMAL + f'\n[[step]]\naction = "expect"\n{fields}\n'


BAD_FILES = [
    # (file text, the line, what the message says)
    (
        expect('requests = { method = "POST", count = "two" }'),
        32,
        "expect.requests.count must be an integer",
    ),
    (expect('log = { min = "x" }'), 32, "expect.log.min must be an integer"),
    # a path glob that can match no path the engine calls would make count = 0 hold
    (
        expect('requests = { path = "/scim/v2/Users", count = 0 }'),
        32,
        "expect.requests.path must be a path glob below the tenant URL's base path, starting "
        "with one of /Users, /Groups",
    ),
    (
        expect('requests = { path = "/users/*", max = 0 }'),
        32,
        "expect.requests.path must be a case-sensitive path glob (/Users, not /users)",
    ),
    (expect('requests = { path = "/Nope/*" }'), 32, "expect.requests.path must be a path glob"),
    (
        expect('requests = { method = "GET", since = "yesterday" }'),
        32,
        "expect.requests.since must be one of",
    ),
    (
        ASSIGN_ADA + '\n[[step]]\naction = "sync"\ncycles = "many"\n',
        29,
        "sync.cycles must be an integer from 1 to 100, got 'many'",
    ),
    (
        MINIMAL.replace("users = 0", 'users = "lots"'),
        11,
        "tenant.users must be an integer from 0 to 1000, got 'lots'",
    ),
    (expect("member = { email = 5 }"), 32, "expect.member.email must be a non-empty string, got 5"),
    (
        MINIMAL + '\n[[step]]\naction = "configure"\ntenant_url = 5\n',
        32,
        "configure.tenant_url must be a non-empty string, got 5",
    ),
    (
        MINIMAL + '\n[[step]]\naction = "configure"\ntenant_url = "ftp://x"\n',
        32,
        "configure.tenant_url must be an http(s) URL",
    ),
    (
        MINIMAL
        + '\n[[step]]\naction = "mapping"\ntarget = "displayName"\nsource = \'Join(" ", [givenName]\'\n',
        33,
        "mapping.source: invalid expression at column 22: unclosed call to Join",
    ),
    (
        MINIMAL.replace(
            "groups = false",
            'groups = false\n\n[[provisioning.mapping]]\ntarget = "title"\nsource = "Upper("',
        ),
        25,
        "provisioning.mapping.source: invalid expression at column 7",
    ),
    (
        MINIMAL
        + '\n[[step]]\naction = "mapping"\ntarget = "title"\nsource = "x"\ntype = "Magic"\n',
        34,
        "mapping.type must be one of 'Direct'",
    ),
    (
        MINIMAL + '\n[[step]]\naction = "advance"\nby = "31 days"\n',
        32,
        "advance.by must be a duration such as 40m",
    ),
    (
        MINIMAL + '\n[[step]]\naction = "advance"\nby = "99999999d"\n',
        32,
        "advance.by must be a duration",
    ),
    (
        MINIMAL
        + '\n[[step]]\naction = "assign"\nprincipal = "ada@contoso.onmicrosoft.com"\nrole = "BOSS"\n',
        33,
        "assign.role must be one of 'ADMIN'",
    ),
    (
        MINIMAL + '\n[[step]]\naction = "restart"\nreset = "Everything"\n',
        32,
        "restart.reset must be one or more of None, ConnectorDataStore",
    ),
    (
        MINIMAL.replace('role = "ADMIN"', 'role = "OWNER"'),
        7,
        "organization.member.role must be one of 'ADMIN', 'USER', 'GUEST', got 'OWNER'",
    ),
    (MINIMAL.replace('mail = "ada@example.com"', "mail = 5"), 16, "tenant.user.mail must be"),
    (
        MINIMAL.replace('mappings = "nulab"', 'mappings = "groups"'),
        20,
        "provisioning.mappings must be one of 'default', 'nulab'",
    ),
    (
        expect('job = { status = "Running" }'),
        32,
        "expect.job.status must be one of 'NotConfigured'",
    ),
    (expect('log = { status = "Sucess" }'), 32, "expect.log.status must be one of 'Success'"),
    (
        expect('requests = { side = "entra" }'),
        32,
        "expect.requests.side must be one of 'engine', 'provider'",
    ),
    (
        expect('requests = { path = "Users" }'),
        32,
        "expect.requests.path must be a path glob starting with / or *",
    ),
    (
        expect('log = { cycle = "first" }'),
        32,
        "expect.log.cycle must be one of 'last' or an integer",
    ),
    (
        expect('member = [\n  { email = "ada@example.com" },\n  { email = "x", role = 1 },\n]'),
        34,
        "expect.member[2].role must be one of",
    ),
    (MINIMAL.replace("seed = 5", 'seed = "5"'), 2, "seed must be an integer"),
    # unknown fields: the closest known one is suggested
    (
        MINIMAL + '\n[[step]]\naction = "sync"\ncylces = 2\n',
        32,
        "sync has no field 'cylces' (did you mean 'cycles'?)",
    ),
    (
        MINIMAL.replace("users = 0", "usres = 0"),
        11,
        "tenant has no field 'usres' (did you mean 'users'?)",
    ),
    (
        expect('member = { email = "ada@example.com", rol = "USER" }'),
        32,
        "expect.member has no field 'rol' (did you mean 'role'?)",
    ),
    (
        MINIMAL + '\n[[step]]\naction = "synch"\n',
        31,
        "unknown action 'synch'; did you mean 'sync'?",
    ),
    # an expectation must compare something
    (expect("requests = {}"), 32, "expect.requests has nothing to compare: give at least one of"),
    (expect("log = {}"), 32, "expect.log has nothing to compare"),
    (expect("job = {}"), 32, "expect.job has nothing to compare"),
    (expect("connection = {}"), 32, "expect.connection has nothing to compare"),
    (expect("member = {}"), 32, "expect.member needs email"),
    (expect("team = {}"), 32, "expect.team needs name"),
    (expect('note = "only words"'), 30, "expect has nothing to check"),
    (expect("requests = []"), 32, "expect.requests must be a table or a non-empty array of tables"),
    (
        expect('requests = { method = "GET", min = 0 }'),
        32,
        "expect.requests.min must be an integer from 1",
    ),
    (expect('requests = { method = "GET", count = 1, max = 3 }'), 32, "count is an exact number"),
    (expect('requests = { method = "GET", min = 3, max = 1 }'), 32, "min 3 is above max 1"),
    (expect('log = { body = "x" }'), 32, "expect.log has no field 'body'"),
    (expect('log = { reason = "" }'), 32, "expect.log.reason must be a non-empty string"),
    (
        expect('connection = { message = "" }'),
        32,
        "expect.connection.message must be a non-empty string",
    ),
    (
        expect('member = { email = "ada@example.com", exists = false, role = "USER" }'),
        32,
        "nothing to compare on a member expected not to exist",
    ),
    (
        MINIMAL + '\n[[step]]\naction = "admin-edit"\nmember = "ada@example.com"\n',
        30,
        "admin-edit has nothing to change",
    ),
]


@pytest.mark.parametrize("text, line, message", BAD_FILES, ids=[m for _, _, m in BAD_FILES])
def test_a_mistake_anywhere_names_file_line_and_field_before_any_step(
    tmp_path, text, line, message
):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as error:
        load(path)
    assert str(error.value).startswith(f"{path}:{line}"), str(error.value)
    assert message in str(error.value)
    result = CliRunner().invoke(cli, ["scenario", "run", str(path)])
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: {error.value}\n"


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.replace('name = "minimal"', '\nname = "café"').encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin1.toml:2: not UTF-8 text \(byte 0xe9\)"):
        load(path)
    listed = CliRunner().invoke(cli, ["scenario", "list", "--dir", str(tmp_path)])
    assert listed.exit_code == 0 and "latin1.toml" in listed.output


@pytest.mark.parametrize(
    "fields, failure",
    [
        (
            'requests = { method = "DELETE" }',
            "requests {'method': 'DELETE'}: expected at least 1, got 0",
        ),
        (
            'requests = { path = "/Groups*" }',
            "requests {'path': '/Groups*'}: expected at least 1, got 0",
        ),
        (
            'requests = { method = "GET", max = 0 }',
            "requests {'method': 'GET'}: expected at most 0, got 1",
        ),
        ("log = { cycle = 7 }", "log {'cycle': 7}: cycle 7 has not run (last cycle: 1)"),
        # a stored name compares exactly: a change of case alone is a change
        (
            'member = { email = "ada@example.com", username = "ADA" }',
            "member ada@example.com username: expected 'ADA', got 'Ada'",
        ),
        # an absence or a count of 0 on a name the world never had would hold whatever happened
        (
            'member = { email = "adda@example.com", exists = false }',
            "member adda@example.com: no tenant user, organization member or request sent has "
            "this email, so its absence holds whatever happened (a typo?)",
        ),
        (
            'log = { user = "adda@contoso.onmicrosoft.com", count = 0 }',
            "log {'user': 'adda@contoso.onmicrosoft.com'}: no tenant user or group has this "
            "objectId, UPN, mail or name, and no record names it, so the check holds whatever "
            "happened (a typo?)",
        ),
        # a mail finds its user's records (they name the user by UPN)
        (
            'log = { user = "ada@example.com", action = "Create", count = 0 }',
            "log {'user': 'ada@example.com', 'action': 'Create'}: expected 0 record(s), found 1"
            " (last records: ada@contoso.onmicrosoft.com Create/Success)",
        ),
        (
            'log = { action = "Delete" }',
            "log {'action': 'Delete'}: expected at least 1 record(s), found 0"
            " (last records: ada@contoso.onmicrosoft.com Create/Success)",
        ),
    ],
)
def test_an_expectation_fails_when_nothing_it_names_happened(tmp_path, fields, failure):
    path = tmp_path / "nothing.toml"
    path.write_text(expect(fields))
    result = run_scenario(str(path))
    assert result.failures == [f"{path}:30 (step 3): {failure}"]
    assert (result.checks, result.held) == (1, 0)


def test_a_log_expectation_on_the_last_cycle_fails_before_any_cycle(tmp_path):
    path = tmp_path / "early.toml"
    path.write_text(
        ASSIGN_ADA + '\n[[step]]\naction = "expect"\nlog = { cycle = "last", count = 0 }\n'
    )
    (failure,) = run_scenario(str(path)).failures
    assert failure.endswith("log {'cycle': 'last'}: no cycle has run yet")


def test_the_eighteen_shipped_scenarios_pass_the_schema():
    from sandbox.scenarios import shipped_files

    files = shipped_files()
    assert len(files) == 18
    for path in files:
        load(path)


def test_a_refused_world_names_the_table_it_was_built_from(tmp_path):
    path = tmp_path / "team.toml"
    path.write_text(
        MINIMAL.replace(
            "[tenant]",
            '[[organization.team]]\nname = "Ops"\nmembers = ["nobody@example.com"]\n\n[tenant]',
        )
    )
    with pytest.raises(ScenarioError) as error:
        run_scenario(str(path))
    assert str(error.value).startswith(f"{path}:10: organization.team[1]: no member with email")


@pytest.mark.parametrize("tail", ['\n[[step]]\naction = "sync"\ncycles = "many"\n', ""])
def test_up_with_a_bad_scenario_is_one_line_and_exit_1(tmp_path, tail):
    path = tmp_path / "bad.toml"
    text = MINIMAL + tail if tail else MINIMAL.replace("users = 0", 'users = "lots"')
    path.write_text(text)
    result = CliRunner().invoke(cli, ["up", "--scenario", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}:") and result.output.count("\n") == 1
    assert "must be an integer" in result.output


def test_a_run_with_no_expect_step_does_not_pass(tmp_path):
    path = tmp_path / "unchecked.toml"
    path.write_text(MINIMAL)
    result = run_scenario(str(path))
    assert not result.passed and result.checks == 0
    assert result.failures == [
        f"{path}: the file has no expect step: the run checked nothing, so it cannot pass"
    ]
    run = CliRunner().invoke(cli, ["scenario", "run", str(path)])
    assert run.exit_code == 1 and "FAIL" in run.output


def test_requests_since_the_previous_expect_step_leave_out_earlier_traffic(tmp_path):
    second = (
        '\n[[step]]\naction = "expect"\nrequests = { method = "POST", count = 1 }\n'
        '\n[[step]]\naction = "sync"\n'
        '\n[[step]]\naction = "expect"\nrequests = [\n'
        '  { method = "POST", count = 1 },\n'
        '  { method = "POST", since = "expect", count = 1 },\n'
        '  { method = "POST", since = "start", count = 1 },\n]\n'
    )
    path = tmp_path / "since.toml"
    path.write_text(MINIMAL + second)
    result = run_scenario(str(path))
    assert result.failures == [
        f"{path}:37 (step 5): requests {{'method': 'POST', 'since': 'expect'}}: expected 1, got 0"
    ]
    assert (result.checks, result.held) == (4, 3)


def test_the_peer_refuses_what_reads_the_nulab_provider_when_loaded(tmp_path):
    peer = MINIMAL.replace('mappings = "nulab"', 'mappings = "nulab"\nprovider = "scim"')
    for fields, problem in [
        ('member = { email = "ada@example.com" }', "a member expectation reads"),
        ('team = { name = "Sales" }', "a team expectation reads"),
        ('requests = { side = "provider", method = "POST" }', "a requests expectation on the"),
    ]:
        path = tmp_path / "peer.toml"
        path.write_text(peer + f'\n[[step]]\naction = "expect"\n{fields}\n')
        with pytest.raises(ScenarioError, match=f'provider = "scim" plays .*{problem}'):
            load(path)
    path.write_text(peer + '\n[[step]]\naction = "expect"\nrequests = { method = "POST" }\n')
    assert run_scenario(str(path)).passed


def test_a_sub_table_with_no_header_of_its_parent_is_named_at_its_own_line(tmp_path):
    """[[provisioning.mapping]] with no [provisioning] header: the mistake's line was 1."""
    path = tmp_path / "sub.toml"
    path.write_text(
        'seed = 1\n\n[[provisioning.mapping]]\ntarget = 5\nsource = "mail"\n\n'
        '[[tenant.user]]\nupn = "a@b.com"\n\n[[step]]\naction = "sync"\n'
    )
    with pytest.raises(ScenarioError, match=r"sub.toml:4: provisioning.mapping.target must be"):
        load(path)
