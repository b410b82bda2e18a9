"""Provides `sandbox entra graph`: the mock Entra's Microsoft Graph v1.0 surface under the
production server of `sandbox serve` (granian), with the local provider served beside it
for the job's SCIM requests."""

from __future__ import annotations

import os
from dataclasses import replace

import click

from sandbox.cli.entra import entra
from sandbox.cli.root import db_option, settings_for

DEFAULT_GRAPH_PORT = 8001
"""sandbox.graph.worker.DEFAULT_PORT, written here so that loading the CLI does not load
Flask (tests check the two agree)."""


@entra.command("graph")
@db_option
@click.option(
    "--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1, loopback only)."
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=DEFAULT_GRAPH_PORT,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--token",
    default=None,
    metavar="TOKEN",
    help="The one bearer token accepted (default: any token, as a local emulator).",
)
def graph(host: str, port: int, token: str | None) -> None:
    """Serve the mock Entra as Microsoft Graph v1.0 (users, groups, the app's roles and
    assignments) for scripts and SDKs written against the real Graph."""
    from sandbox.graph.worker import (
        APP,
        PROVIDER_URL_ENV,
        SCHEDULE_ENV,
        THREADS,
        TOKEN_ENV,
        base_url,
    )
    from sandbox.provider_process import ProviderProcess
    from sandbox.runtime import open_provisioning
    from sandbox.server import check_address, exposure_warning, run_server, server_log_path

    settings = settings_for()
    log_path = server_log_path(settings.db_path)
    if log_path is None:
        raise click.ClickException(
            "sandbox entra graph needs a database file (its server's worker opens it): "
            "give --db PATH"
        )
    if token is not None and not token.strip():
        raise click.BadParameter("the token is empty", param_hint="'--token'")
    check_address(host, port)
    warning = exposure_warning(host, "the Microsoft Graph surface")
    if warning:
        click.echo(warning, err=True)
    engine = open_provisioning(settings)  # the same seeded sandbox as every entry point
    local = engine.config().is_local
    engine.request_log.close()
    engine.store.close()  # the server's worker opens its own connection
    provider = None
    os.environ[TOKEN_ENV] = token or ""
    os.environ[SCHEDULE_ENV] = "1"  # the started job's cycles run in the server's worker
    try:
        if local:  # the job's SCIM requests go to the local provider, served for this command
            provider = ProviderProcess(settings, log_path=log_path).start()
            provider.wait_ready()
            os.environ[PROVIDER_URL_ENV] = provider.url + settings.base_path
        click.echo(f"Microsoft Graph base URL: {base_url(host, port)}")
        if token:
            click.echo("Bearer token: the one given with --token")
        else:
            click.echo("Bearer token: any (none configured; --token sets one)")
        click.echo("Press Ctrl+C to stop.")
        served = replace(settings, host=host, port=port)
        run_server(served, 1, app=APP, threads=THREADS)
    finally:
        if provider is not None:
            provider.stop()
