"""Provides `sandbox up`: the provider, the engine and the terminal UI in one process."""

from __future__ import annotations

import click

from sandbox.cli.root import cli, db_option, settings_for


@cli.command("up")
@db_option
@click.option(
    "--port",
    type=int,
    default=None,
    help="Loopback port of the provider (default 8000; a free one if taken).",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of a fresh sandbox's organization and tenant (default SANDBOX_SEED or 1).",
)
@click.option(
    "--target",
    metavar="URL",
    default=None,
    help="Drive another SCIM endpoint: its tenant URL (needs --token).",
)
@click.option("--token", metavar="T", default=None, help="The SCIM token of --target.")
def up(port: int | None, seed: int | None, target: str | None, token: str | None) -> None:
    """Start the sandbox with its terminal UI: the provider on a loopback port (curl it while
    the UI runs) and the mock Entra engine against it, or against --target."""
    from sandbox.runtime import Sandbox

    if (target is None) != (token is None):
        raise click.UsageError("give --target and --token together")
    settings = settings_for(seed=seed)
    sandbox = Sandbox.open(settings, port=port, target=target, token=token)
    try:
        from tui.app import SandboxApp  # the core never imports the UI; only this command does

        SandboxApp(sandbox).run()
    finally:
        sandbox.close()
