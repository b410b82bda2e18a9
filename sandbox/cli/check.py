"""Provides `sandbox check URL --token T`: will Entra work with this SCIM endpoint?"""

from __future__ import annotations

from pathlib import Path

import click

from sandbox.cli.root import cli, emit_json


def _writable(path: str | None, option: str) -> None:
    if path is not None and not Path(path).parent.is_dir():
        raise click.BadParameter(
            f"the directory {Path(path).parent} does not exist", param_hint=option
        )


@cli.command("check")
@click.argument("url")
@click.option(
    "--token",
    required=True,
    envvar="SANDBOX_CHECK_TOKEN",
    help="The endpoint's bearer token (Entra's Secret Token); or SANDBOX_CHECK_TOKEN.",
)
@click.option(
    "--dialect",
    type=click.Choice(["legacy", "aadOptscim062020", "both"]),
    default="both",
    show_default=True,
    help="Which of Entra's PATCH dialects to check (without or with ?aadOptscim062020).",
)
@click.option(
    "--groups/--no-groups",
    default=None,
    help="Check groups (default: when /ResourceTypes or /Groups says the endpoint has them).",
)
@click.option(
    "--mappings",
    default="default",
    show_default=True,
    metavar="PRESET|FILE",
    help="User attribute mappings: a preset (default, nulab) or a TOML/JSON file.",
)
@click.option("--keep", is_flag=True, help="Leave the test users and groups on the endpoint.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--junit",
    "junit",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write JUnit XML here (for CI).",
)
@click.option(
    "--har",
    "har",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every exchange here as HAR 1.2 (Authorization redacted).",
)
def check(
    url: str,
    token: str,
    dialect: str,
    groups: bool | None,
    mappings: str,
    keep: bool,
    as_json: bool,
    junit: str | None,
    har: str | None,
) -> None:  # fmt: skip
    """Check a SCIM endpoint the way Entra provisions it: a throwaway tenant and job are made,
    test users (and groups) are provisioned, updated and deprovisioned through the engine,
    and the endpoint's state is read back after each step. Exits 0 only when every required
    check passed."""
    from rich.console import Console
    from rich.progress import Progress

    from sandbox.check import CheckOptions, run_checks
    from sandbox.check.reports import text_lines, to_har, to_junit

    _writable(junit, "'--junit'")
    _writable(har, "'--har'")
    options = CheckOptions(url, token, dialect, groups, mappings, keep)
    err = Console(stderr=True)
    if as_json or not err.is_terminal:
        report = run_checks(options)
    else:
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("checks", total=None)

            def progress(done: int, total: int, title: str) -> None:
                bar.update(task, completed=done, total=total, description=title)

            report = run_checks(options, progress)
    if junit:
        Path(junit).write_text(to_junit(report), encoding="utf-8")
    if har:
        Path(har).write_text(to_har(report), encoding="utf-8")
    if as_json:
        emit_json(report.to_dict())
    else:
        for line in text_lines(report):
            click.echo(line)
    if not report.ok:
        raise SystemExit(1)
