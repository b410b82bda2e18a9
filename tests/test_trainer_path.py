"""The README's trainer path ("For trainers: the guide in ten minutes"), run as written.

The commands are read from the README itself, in order, and run on a fresh database in an
empty directory, as a trainer would type them; every outcome the section promises is
checked after the command that shows it. `NEW_TOKEN` is the only placeholder: it stands for
the token the last `sandbox provider token issue` printed.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sandbox.cli import cli
from sandbox.store import Store

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # serves the local provider on loopback ports, command by command


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def shell_commands(section: str) -> list[str]:
    """The commands of the section's ```sh blocks, in order, comments stripped."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(shlex.join(words))
    return commands


class Trainer:
    """Runs the commands in one directory as a user's shell would, remembering the last token."""

    def __init__(self) -> None:
        self.token: str | None = None

    def run(self, command: str) -> Result:
        words = shlex.split(command)
        assert words[0] == "sandbox", command
        words = [self.token if w == "NEW_TOKEN" else w for w in words[1:]]
        assert None not in words, f"{command}: no token was issued before it"
        result = CliRunner().invoke(cli, words, catch_exceptions=False)
        issued = re.search(r"^SCIM token: (\S+)$", result.output, flags=re.M)
        if issued:
            self.token = issued.group(1)
        return result


def members() -> dict[str, dict]:
    result = CliRunner().invoke(cli, ["provider", "members", "--json"], catch_exceptions=False)
    return {m["email"]: m for m in json.loads(result.output)}


def teams() -> dict[str, dict]:
    result = CliRunner().invoke(cli, ["provider", "teams", "--json"], catch_exceptions=False)
    return {t["name"]: t for t in json.loads(result.output)}


def cycle_counts(output: str) -> dict[str, int]:
    line = next(x for x in output.splitlines() if x.startswith("Cycle #"))
    return {
        k: int(v) for k, v in re.findall(r"(created|updated|disabled|skipped|failed) (\d+)", line)
    }


def ok(*texts: str) -> Callable[[Result], None]:
    def check(result: Result) -> None:
        assert result.exit_code == 0, result.output
        for text in texts:
            assert text in result.output, f"{text!r} not in:\n{result.output}"

    return check


def step_3_fails_before_the_token_is_entered(result: Result) -> None:
    assert result.exit_code == 1
    assert "You appear to have entered invalid credentials" in result.output
    assert "sandbox entra configure --secret-token" in result.output  # says what to run


def first_cycle(result: Result) -> None:
    assert result.exit_code != 2, result.output
    counts = cycle_counts(result.output)
    assert counts == {"created": 6, "updated": 9, "disabled": 0, "skipped": 1, "failed": 4}
    assert "Cycle #1 (initial)" in result.output


def labels(result: Result) -> None:
    assert result.exit_code == 0
    people = members()
    for email in (
        "mary.hawkins@example.com",
        "david.cook@example.com",
        "tyler.cole@example.com",
        "kathryn.scott@example.com",
    ):
        assert people[email]["label"] == "Provisioned Managed Account", email
    assert people["mary.hawkins@example.com"]["role"] == "ADMIN"
    assert "Provisioned Managed Account" in result.output


def four_entry_conflicts(result: Result) -> None:
    assert result.exit_code == 0
    logs = json.loads(
        CliRunner()
        .invoke(cli, ["entra", "logs", "--status", "Failure", "--json"], catch_exceptions=False)
        .output
    )
    conflicted = {r["sourceIdentity"]["displayName"].split("@")[0] for r in logs}
    assert conflicted == {"kathryn.smith", "jeremy.landry", "samuel.simpson", "sharon.henderson"}
    errors = [r["provisioningStatusInfo"]["errorInformation"] for r in logs]
    assert {e["errorCode"] for e in errors} == {"EntryConflict"}
    assert result.output.count("(EntryConflict)") == 4
    # the provider's reason, in words, for the Nulab Account and a stale Managed Account
    assert "kathryn.smith@example.com belongs to a Nulab Account" in result.output
    assert "last updated before 2023-01-16" in result.output


def second_cycle(result: Result) -> None:
    counts = cycle_counts(result.output)
    assert counts["updated"] == 1 and counts["failed"] == 3, result.output
    assert members()["jeremy.landry@example.com"]["label"] == "Provisioned Managed Account"


def downgraded(result: Result) -> None:
    assert result.exit_code == 0
    mary = members()["mary.hawkins@example.com"]
    assert mary["role"] == "GUEST"
    by_name = teams()
    for name in ("Engineering", "Sales"):  # guests not allowed
        assert "mary.hawkins@example.com" not in by_name[name]["members"], name
    for name in ("Design", "Engineering"):
        assert "mary.hawkins@example.com" not in by_name[name]["admins"], name
    assert "mary.hawkins@example.com" in by_name["Design"]["members"]


def two_disabled(result: Result) -> None:
    assert cycle_counts(result.output)["disabled"] == 2, result.output


def deactivated(result: Result) -> None:
    people = members()
    assert people["tyler.cole@example.com"]["active"] is False
    assert people["kathryn.scott@example.com"]["active"] is False
    assert people["david.cook@example.com"]["active"] is True


def issuer_refused(result: Result) -> None:
    assert cycle_counts(result.output)["failed"] == 1, result.output
    assert members()["dennis.boone@example.com"]["role"] == "ADMIN"


def issuer_role_changed(result: Result) -> None:
    assert cycle_counts(result.output)["updated"] == 1, result.output
    assert cycle_counts(result.output)["failed"] == 0, result.output
    assert members()["dennis.boone@example.com"]["role"] == "USER"


def token_issued_by_the_owner(result: Result) -> None:
    assert result.exit_code == 0
    assert "Token issuer: dennis.boone@example.com" in result.output
    assert "sandbox entra configure --secret-token" in result.output


def token_issued_by_david(result: Result) -> None:
    assert result.exit_code == 0 and "Token issuer: david.cook@example.com" in result.output


def no_token(result: Result) -> None:
    assert result.exit_code == 1 and "invalid credentials" in result.output


STEPS: list[tuple[str, Callable[[Result], None]]] = [
    ("sandbox provider enable", ok("enabled")),
    (
        "sandbox provider show",
        ok("provisioning enabled: True", "token issuer: dennis.boone@example.com", "members: 24"),
    ),
    ("sandbox provider token issue", token_issued_by_the_owner),
    ("sandbox entra test-connection", step_3_fails_before_the_token_is_entered),
    ("sandbox entra configure --secret-token NEW_TOKEN", ok()),
    (
        "sandbox entra test-connection",
        ok("The specified credentials have permission to enable provisioning."),
    ),
    ("sandbox entra roles", ok("ADMIN", "USER", "GUEST", "msiam_access")),
    ("sandbox entra groups-provisioning off", ok("disabled")),
    ("sandbox entra mappings list", ok("userPrincipalName")),
    ("sandbox entra mappings preset nulab", ok("Nulab")),
    (
        "sandbox entra mappings list",
        ok('roles[primary eq "True"].value', "SingleAppRoleAssignment([appRoleAssignments])"),
    ),
    ("sandbox entra assign 'Nulab Pass Users' --role USER", ok("Nulab Pass Users")),
    ("sandbox entra assign mary.hawkins@contoso.onmicrosoft.com --role ADMIN", ok("ADMIN")),
    ("sandbox entra assign david.cook@contoso.onmicrosoft.com --role ADMIN", ok("ADMIN")),
    ("sandbox entra sync", first_cycle),
    ("sandbox provider members", labels),
    ("sandbox entra logs --status Failure --details", four_entry_conflicts),
    ("sandbox provider edit jeremy.landry@example.com --name 'Jeremy Landry'", ok()),
    ("sandbox entra sync", second_cycle),
    ("sandbox entra set-role mary.hawkins@contoso.onmicrosoft.com GUEST", ok("GUEST")),
    ("sandbox entra sync", ok()),
    ("sandbox provider teams", downgraded),
    ("sandbox entra users soft-delete tyler.cole@contoso.onmicrosoft.com", ok("recycle bin")),
    (
        "sandbox entra groups remove-member 'Nulab Pass Users' "
        "kathryn.scott@contoso.onmicrosoft.com",
        ok(),
    ),
    ("sandbox entra sync", two_disabled),
    ("sandbox provider members", deactivated),
    ("sandbox entra assign dennis.boone@contoso.onmicrosoft.com --role USER", ok()),
    ("sandbox entra sync", issuer_refused),
    ("sandbox entra logs --user dennis.boone@contoso.onmicrosoft.com", ok("InsufficientRights")),
    ("sandbox provider token issue --issuer david.cook@example.com", token_issued_by_david),
    ("sandbox entra configure --secret-token NEW_TOKEN", ok()),
    ("sandbox entra sync", issuer_role_changed),
    ("sandbox entra stop", ok()),
    ("sandbox provider token delete", ok("deleted")),
    ("sandbox entra test-connection", no_token),
]


def test_the_readme_lists_exactly_the_commands_this_test_runs():
    assert shell_commands(readme_section("For trainers: the guide in ten minutes")) == [
        command for command, _ in STEPS
    ]


def test_the_trainer_path_works_as_written_on_a_fresh_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("SANDBOX_DB_PATH", "SANDBOX_SEED", "SANDBOX_PORT"):
        monkeypatch.delenv(name, raising=False)
    trainer = Trainer()
    for number, (command, check) in enumerate(STEPS, 1):
        result = trainer.run(command)
        try:
            check(result)
        except AssertionError as exc:
            raise AssertionError(f"command {number}, `{command}`:\n{exc}") from None
    assert (tmp_path / "sandbox.db").exists()


@pytest.mark.parametrize(
    "first",
    [
        ["provider", "enable"],
        ["provider", "token", "issue"],
        ["provider", "show"],
        ["provider", "members", "--json"],
        ["provider", "faults", "list"],
        ["entra", "status"],
        ["entra", "users", "list"],
        ["entra", "roles"],
    ],
)
def test_every_entry_point_starts_the_same_seeded_sandbox(tmp_path, first):
    db = str(tmp_path / "sandbox.db")
    CliRunner().invoke(cli, ["--db", db, *first], catch_exceptions=False)
    store = Store(db)
    try:
        issuer = store.get_state("token_issuer")
        assert issuer is not None and issuer == store.get_state("owner_id")
        assert store.scalar("SELECT count(*) FROM users") >= 24
        assert store.get_state("tenant_bootstrapped") is True
    finally:
        store.close()
    shown = json.loads(
        CliRunner()
        .invoke(cli, ["--db", db, "provider", "show", "--json"], catch_exceptions=False)
        .output
    )
    assert shown["token_issuer"] == "dennis.boone@example.com" and shown["members"] == 24


def test_a_hand_issued_token_is_never_replaced_behind_the_users_back(tmp_path):
    db = str(tmp_path / "sandbox.db")
    runner = CliRunner()
    issued = json.loads(
        runner.invoke(
            cli, ["--db", db, "provider", "token", "issue", "--json"], catch_exceptions=False
        ).output
    )["token"]
    runner.invoke(cli, ["--db", db, "entra", "status"], catch_exceptions=False)
    runner.invoke(
        cli, ["--db", db, "entra", "configure", "--secret-token", issued], catch_exceptions=False
    )
    result = runner.invoke(cli, ["--db", db, "entra", "test-connection"], catch_exceptions=False)
    assert result.exit_code == 0 and "permission to enable provisioning" in result.output


def test_the_engine_says_which_command_fixes_a_reissued_token(tmp_path):
    db = str(tmp_path / "sandbox.db")
    runner = CliRunner()
    runner.invoke(cli, ["--db", db, "provider", "token", "issue"], catch_exceptions=False)
    result = runner.invoke(cli, ["--db", db, "entra", "sync"], catch_exceptions=False)
    assert "sandbox entra configure --secret-token" in result.output
    assert "--use-in-engine" in result.output
    runner.invoke(
        cli, ["--db", db, "provider", "token", "issue", "--use-in-engine"], catch_exceptions=False
    )
    result = runner.invoke(cli, ["--db", db, "entra", "test-connection"], catch_exceptions=False)
    assert result.exit_code == 0 and "--secret-token" not in result.output


def test_the_readme_scenario_example_passes_as_written(tmp_path):
    section = readme_section("For testers: scenarios")
    (example,) = re.findall(r"```toml\n(.*?)```", section, flags=re.S)
    path = tmp_path / "readme.toml"
    path.write_text(example, encoding="utf-8")
    result = CliRunner().invoke(cli, ["scenario", "run", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"PASS {path}")
