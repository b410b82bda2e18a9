"""Provides the `sandbox` command: thin click commands that call the runtime and print.

Commands are grouped by the side of the guide they act on: `sandbox provider ...` (the
service provider, Nulab's side) and `sandbox entra ...` (the mock Entra ID).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click

from sandbox import __version__
from sandbox.config import Settings
from sandbox.errors import SandboxError


class SandboxGroup(click.Group):
    """A click group that turns the sandbox's own errors into one-line CLI errors."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SandboxError as exc:
            raise click.ClickException(exc.message) from None


def db_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--db PATH` on a command (it overrides the group's --db and SANDBOX_DB_PATH)."""

    @click.option(
        "--db",
        "db_path",
        metavar="PATH",
        default=None,
        help="SQLite file of the sandbox (default ./sandbox.db).",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, db_path: str | None = None, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if db_path is not None:
            ctx.ensure_object(dict)["db_path"] = db_path
        return command(*args, **kwargs)

    return wrapper


def settings_for(**overrides: Any) -> Settings:
    """Settings from SANDBOX_* variables, the --db given anywhere, and command options."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    db_path = (ctx.obj or {}).get("db_path") or (root.obj or {}).get("db_path")
    return Settings.from_env(db_path=db_path, **overrides)


def emit_json(data: Any) -> None:
    """Print machine-readable output."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group(cls=SandboxGroup)
@click.option(
    "--db",
    "db_path",
    metavar="PATH",
    default=None,
    help="SQLite file of the sandbox (default ./sandbox.db).",
)
@click.version_option(__version__, prog_name="sandbox")
@click.pass_context
def cli(ctx: click.Context, db_path: str | None) -> None:
    """A local sandbox where SCIM provisioning (Entra ID -> Nulab Pass) can be watched, driven
    and broken on purpose."""
    ctx.ensure_object(dict)
    if db_path:
        ctx.obj["db_path"] = db_path


# -- serve -------------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1, loopback only).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
@click.option(
    "--workers", type=int, default=None, help="Server worker processes (default: two per CPU core)."
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the SCIM service provider under a production server (granian, WSGI)."""
    from sandbox.runtime import bootstrap_provider, open_store, scim_url
    from sandbox.server import default_workers, run_server

    settings = settings_for(host=host, port=port, workers=workers)
    store = open_store(settings)
    first = bootstrap_provider(store)
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


# -- provider --------------------------------------------------------------------------------


@cli.group(cls=SandboxGroup)
def provider() -> None:
    """The service provider (Nulab's side): provisioning switch, SCIM token, members, faults."""


def _credentials() -> Any:
    from sandbox.provider.auth import Credentials
    from sandbox.runtime import open_store

    return Credentials(open_store(settings_for()))


@provider.command("enable")
@db_option
def provider_enable() -> None:
    """Enable user provisioning (Organization Settings > User Provisioning > Enable)."""
    _credentials().set_enabled(True)
    click.echo("User provisioning enabled.")


@provider.command("disable")
@db_option
def provider_disable() -> None:
    """Disable user provisioning; every SCIM request then gets 401."""
    _credentials().set_enabled(False)
    click.echo("User provisioning disabled: SCIM requests now get 401.")


@provider.command("show")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provider_show(as_json: bool) -> None:
    """Show the provider's provisioning settings: enabled, token issued, when."""
    state = _credentials().state()
    data = {
        "provisioning_enabled": state.enabled,
        "token_issued": state.token_issued,
        "token_issued_at": state.token_issued_at,
        "token_issuer": state.token_issuer,
    }
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key.replace('_', ' ')}: {'-' if value is None else value}")


@provider.group("token", cls=SandboxGroup)
def provider_token() -> None:
    """Issue or delete the SCIM token (shown once when issued)."""


@provider_token.command("issue")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Host shown in the SCIM URL.")
@click.option("--port", type=int, default=None, help="Port shown in the SCIM URL.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provider_token_issue(host: str, port: int | None, as_json: bool) -> None:
    """Issue a new SCIM token (replacing the old one) and print it with the SCIM URL, once."""
    from sandbox.provider.filters import format_datetime
    from sandbox.provider.users import utc_now
    from sandbox.runtime import scim_url

    settings = settings_for(port=port)
    credentials = _credentials()
    token = credentials.issue(format_datetime(utc_now()))
    url = scim_url(host, settings.port, settings)
    if as_json:
        emit_json({"scim_url": url, "token": token})
        return
    click.echo(f"SCIM URL: {url}")
    click.echo(f"SCIM token: {token}")
    click.echo("The token is shown only once. If you lose it, issue a new one.")
    if not credentials.state().enabled:
        click.echo("Note: user provisioning is disabled; enable it with: sandbox provider enable")


@provider_token.command("delete")
@db_option
def provider_token_delete() -> None:
    """Delete the SCIM token; requests carrying it get 401 from now on."""
    _credentials().delete()
    click.echo("SCIM token deleted.")


def main() -> None:  # pragma: no cover - console entry alias
    """Entry point for `python -m sandbox`."""
    cli()
