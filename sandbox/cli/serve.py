"""Provides `sandbox serve`: the SCIM provider under a production server."""

from __future__ import annotations

import click

from sandbox.cli.root import (
    cli,
    db_option,
    settings_for,
)

# -- serve -------------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1, loopback only).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port to listen on (default 8000)."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Server worker processes (default: one per CPU core).",
)
@click.option(
    "--rules",
    type=click.Choice(["nulab", "core"]),
    default=None,
    help="nulab (default): Nulab Pass's organization rules; core: a plain SCIM provider.",
)
def serve(host: str | None, port: int | None, workers: int | None, rules: str | None) -> None:
    """Run the SCIM service provider under a production server (granian, WSGI)."""
    from sandbox.runtime import bootstrap, open_store, scim_url
    from sandbox.server import check_address, default_workers, exposure_warning, run_server

    settings = settings_for(host=host, port=port, workers=workers, rules=rules)
    if settings.db_path == ":memory:":
        raise click.ClickException(
            "sandbox serve cannot serve an in-memory database (:memory:): each of its worker "
            "processes opens the database itself and would get a new, empty one (the token "
            "shown would never work); give --db PATH"
        )
    # Before the first start's token is issued: a server that cannot listen shows none.
    check_address(settings.host, settings.port)
    warning = exposure_warning(settings.host, "the SCIM provider")
    if warning:
        click.echo(warning, err=True)
    store = open_store(settings)
    first = bootstrap(store, settings)  # the same seeded sandbox as every entry point
    store.close()  # each server worker opens its own connection after the fork
    url = scim_url(settings.host, settings.port, settings)

    click.echo(f"SCIM URL (Tenant URL): {url}")
    if first.token:
        click.echo(f"SCIM token (shown once): {first.token}")
        click.echo(f'Try: curl -H "Authorization: Bearer {first.token}" {url}/Users')
    else:
        click.echo("SCIM token: issued earlier (reissue with: sandbox provider token issue)")
    click.echo("Press Ctrl+C to stop.", nl=True)
    run_server(settings, settings.workers or default_workers())
