"""Provides `sandbox up`: the provider, the engine and the terminal UI in one process."""

from __future__ import annotations

import importlib

import click

from sandbox.cli.root import PORT, SEED, cli, db_option, settings_for


@cli.command("up")
@db_option
@click.option(
    "--port",
    type=PORT,
    default=None,
    help="Loopback port of the provider (default 8000; a free one if taken).",
)
@click.option(
    "--seed",
    type=SEED,
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
@click.option(
    "--scenario",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    default=None,
    help="Open on this scenario's seeded in-memory world (not the database) and step "
    "through it on the Scenario screen (7); a file, or the name of a shipped one.",
)
def up(
    port: int | None,
    seed: int | None,
    target: str | None,
    token: str | None,
    scenario: str | None,
) -> None:
    """Start the sandbox with its terminal UI: the provider on a loopback port (curl it while
    the UI runs) and the mock Entra engine against it, or against --target; or a scenario's
    world, played step by step (--scenario)."""
    from sandbox.runtime import Sandbox

    if (target is None) != (token is None):
        raise click.UsageError("give --target and --token together")
    session = None
    if scenario is not None:
        if target is not None or port is not None or seed is not None:
            raise click.UsageError("--scenario brings its own world: no --port, --seed or --target")
        # only here: it loads Faker and httpx. A bad file is a ScenarioError (one line, exit 1).
        from sandbox.scenarios import ScenarioSession, resolve

        session = ScenarioSession(resolve(scenario))
        sandbox = Sandbox.from_world(session.world)
    else:
        sandbox = Sandbox.open(settings_for(seed=seed), port=port, target=target, token=token)
    # The core never imports the UI; this command loads it by name when it runs (STYLE B2).
    sandbox_app = importlib.import_module("tui.app").SandboxApp
    app = sandbox_app(sandbox, session=session)
    try:
        app.run()
    finally:
        sandbox.close()
        if app.session is not None:  # the scenario opened last (the app closed the others)
            app.session.close()
