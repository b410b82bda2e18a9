"""Provides `sandbox up`: the provider, the engine and the terminal UI in one process."""

from __future__ import annotations

import importlib

import click

from sandbox.cli.root import PORT, SEED, cli, db_option, settings_for

WEB_PORT = 8080
"""The web page's port for `sandbox up --web` (beside the provider's 8000)."""


@cli.command("up")
@db_option
@click.option(
    "--port",
    type=PORT,
    default=None,
    help="Loopback port of the provider (default 8000; a free one if taken); with --web, "
    f"the port of the web page (default {WEB_PORT}).",
)
@click.option(
    "--web",
    is_flag=True,
    help="Serve the same UI to web browsers instead of this terminal (textual-serve); each "
    "browser tab runs its own `sandbox up` on the same database.",
)
@click.option(
    "--host",
    default=None,
    help="With --web: the address the page listens on (default 127.0.0.1, loopback only; "
    "0.0.0.0 shares it on the network).",
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
    web: bool,
    host: str | None,
    seed: int | None,
    target: str | None,
    token: str | None,
    scenario: str | None,
) -> None:
    """Start the sandbox with its terminal UI: the provider on a loopback port (curl it while
    the UI runs) and the mock Entra engine against it, or against --target, with its
    Microsoft Graph surface on a second loopback port (8001, a free one if taken; the header
    shows it); or a scenario's
    world, played step by step (--scenario). --web serves that UI to browsers instead."""
    from sandbox.runtime import Sandbox

    if (target is None) != (token is None):
        raise click.UsageError("give --target and --token together")
    if host is not None and not web:
        raise click.UsageError("--host is the web page's address: give it with --web")
    if scenario is not None and (target is not None or seed is not None or (port and not web)):
        raise click.UsageError("--scenario brings its own world: no --port, --seed or --target")
    if web:
        _serve_web(host or "127.0.0.1", WEB_PORT if port is None else port, seed, target,
                   token, scenario)  # fmt: skip
        return
    session = None
    if scenario is not None:
        if port is not None:
            raise click.UsageError("--scenario brings its own world: no --port, --seed or --target")
        # only here: it loads Faker and httpx. A bad file is a ScenarioError (one line, exit 1).
        from sandbox.scenarios import ScenarioSession, resolve

        session = ScenarioSession(resolve(scenario))
        sandbox = Sandbox.from_world(session.world)
    else:
        from sandbox.cli.entra_graph import DEFAULT_GRAPH_PORT

        sandbox = Sandbox.open(
            settings_for(seed=seed),
            port=port,
            target=target,
            token=token,
            graph_port=DEFAULT_GRAPH_PORT,
        )
    # The core never imports the UI; this command loads it by name when it runs (STYLE B2).
    sandbox_app = importlib.import_module("tui.app").SandboxApp
    app = sandbox_app(sandbox, session=session)
    try:
        app.run()
    finally:
        sandbox.close()
        if app.session is not None:  # the scenario opened last (the app closed the others)
            app.session.close()
    if app.return_code:  # the UI ended on an error (Textual printed it): not a clean exit
        raise SystemExit(app.return_code)


def _serve_web(
    host: str,
    port: int,
    seed: int | None,
    target: str | None,
    token: str | None,
    scenario: str | None,
) -> None:
    """`sandbox up --web`: the same `sandbox up` per browser tab, on this database."""
    import sys
    from pathlib import Path

    from sandbox.runtime import open_sandbox
    from sandbox.server import check_address, exposure_warning

    check_address(host, port)  # one line (exit 1) when the page cannot listen there
    command = [sys.executable, "-m", "sandbox", "up"]
    if scenario is not None:
        from sandbox.scenarios import ScenarioSession, resolve

        path = Path(resolve(scenario)).resolve()
        ScenarioSession(path).close()  # a broken file is one line here, not in every tab
        command += ["--scenario", str(path)]
    else:
        settings = settings_for(seed=seed)
        open_sandbox(settings).close()  # set up once here, not raced by two first tabs
        command += ["--db", str(Path(settings.db_path).resolve())]
        if seed is not None:
            command += ["--seed", str(seed)]
        if target is not None and token is not None:
            command += ["--target", target, "--token", token]
    warning = exposure_warning(host, "the sandbox's UI (tokens, tenant, settings: no password)")
    if warning:
        click.echo(warning, err=True)
    # The core never imports the UI; loaded by name, as the terminal UI is (STYLE B2).
    importlib.import_module("tui.web").serve_in_browser(command, host, port)
