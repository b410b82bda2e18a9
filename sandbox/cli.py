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
    "--workers", type=int, default=None, help="Server worker processes (default: one per CPU core)."
)
@click.option(
    "--rules",
    type=click.Choice(["nulab", "core"]),
    default=None,
    help="nulab (default): Nulab Pass's organization rules; core: a plain SCIM provider.",
)
def serve(host: str | None, port: int | None, workers: int | None, rules: str | None) -> None:
    """Run the SCIM service provider under a production server (granian, WSGI)."""
    from sandbox.runtime import bootstrap_provider, open_store, scim_url
    from sandbox.server import default_workers, run_server

    settings = settings_for(host=host, port=port, workers=workers, rules=rules)
    store = open_store(settings)
    first = bootstrap_provider(store, settings)
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


def _org() -> Any:
    from sandbox.provider.org import Organization
    from sandbox.runtime import open_store

    return Organization(open_store(settings_for()))


def print_table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    """A rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["-" if v is None else str(v) for v in row])
    Console().print(table)


@provider.command("show")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provider_show(as_json: bool) -> None:
    """Show the organization and its User Provisioning screen: enabled, token, issuer, seats."""
    from sandbox.provider.auth import Credentials

    org = _org()
    state = Credentials(org.store).state()
    issuer = org.issuer()
    data = {
        "organization": org.name,
        "members": len(org.members()),
        "provisioning_enabled": state.enabled,
        "token_issued": state.token_issued,
        "token_issued_at": state.token_issued_at,
        "token_issuer": issuer.email if issuer else None,
        "seat_limit": org.seat_limit,
        "seats_used": org.seats_used(),
    }
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key.replace('_', ' ')}: {'-' if value is None else value}")


SHORT_LABELS = {"Managed Account": "Managed", "Provisioned Managed Account": "Provisioned"}


@provider.command("members")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provider_members(as_json: bool) -> None:
    """List the organization's members with label, role, status, language, time zone, teams."""
    members = _org().members()
    if as_json:
        emit_json([m.to_dict() for m in members])
        return
    print_table(
        [
            "email",
            "username",
            "label",
            "role",
            "active",
            "language",
            "time zone",
            "teams",
            "eligible",
        ],
        [
            [
                m.email,
                m.username,
                m.label or "Nulab Account",
                m.role,
                "yes" if m.active else "no",
                m.language,
                m.timezone,
                ", ".join(m.teams),
                "yes" if m.eligible else "no",
            ]
            for m in members
        ],
        title="Members",
    )


@provider.command("teams")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provider_teams(as_json: bool) -> None:
    """List the teams: guests allowed or not, members and team admins."""
    teams = _org().teams()
    if as_json:
        emit_json([t.to_dict() for t in teams])
        return
    print_table(
        ["team", "guests allowed", "members", "team admins"],
        [
            [t.name, "yes" if t.guests_allowed else "no", len(t.members), ", ".join(t.admins)]
            for t in teams
        ],
        title="Teams",
    )


@provider.command("edit")
@db_option
@click.argument("email")
@click.option("--role", type=click.Choice(["ADMIN", "USER", "GUEST"], case_sensitive=False))
@click.option("--language", help="en or ja (Nulab supports English and Japanese).")
@click.option("--timezone", help="An IANA time zone, e.g. Asia/Tokyo.")
@click.option("--name", help="The username (display name).")
@click.option("--active/--inactive", default=None, help="Activate or deactivate the account.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provider_edit(
    email: str,
    role: str | None,
    language: str | None,
    timezone: str | None,
    name: str | None,
    active: bool | None,
    as_json: bool,
) -> None:
    """Edit a member as an admin would (not over SCIM); the next synchronization may overwrite it."""
    member = _org().edit(
        email, role=role, language=language, timezone=timezone, username=name, active=active
    )
    if as_json:
        emit_json(member.to_dict())
        return
    click.echo(
        f"{member.email}: role {member.role}, language {member.language}, time zone "
        f"{member.timezone}, {'active' if member.active else 'inactive'}"
        f"{', teams ' + ', '.join(member.teams) if member.teams else ''}"
    )


@provider.command("seed")
@db_option
@click.option(
    "--seed", "seed_value", type=int, default=None, help="Random seed (default SANDBOX_SEED or 1)."
)
@click.option("--members", type=int, default=24, show_default=True, help="How many members.")
@click.option("--domain", default="example.com", show_default=True, help="Email domain.")
@click.option("--replace", is_flag=True, help="Remove the current members and teams first.")
def provider_seed(seed_value: int | None, members: int, domain: str, replace: bool) -> None:
    """Fill the organization with Faker members of every kind and teams (same seed, same org)."""
    from sandbox.provider.seed import seed_organization
    from sandbox.runtime import open_store

    settings = settings_for(seed=seed_value)
    result = seed_organization(
        open_store(settings), seed=settings.seed, members=members, domain=domain, replace=replace
    )
    click.echo(
        f"Seeded {result['members']} members and {result['teams']} teams (seed {settings.seed})."
    )


@provider.command("seats")
@db_option
@click.option("--limit", type=int, default=None, help="Licence seats (active accounts).")
@click.option("--unlimited", is_flag=True, help="Remove the seat limit (the default).")
def provider_seats(limit: int | None, unlimited: bool) -> None:
    """Show or set the licence seat limit; inactive accounts take no seat."""
    org = _org()
    if unlimited and limit is not None:
        raise click.UsageError("give --limit N or --unlimited, not both")
    if unlimited:
        org.set_seat_limit(None)
    elif limit is not None:
        org.set_seat_limit(limit)
    click.echo(f"seats used: {org.seats_used()} of {org.seat_limit or 'unlimited'}")


@provider.group("token", cls=SandboxGroup)
def provider_token() -> None:
    """Issue or delete the SCIM token (shown once when issued)."""


@provider_token.command("issue")
@db_option
@click.option(
    "--issuer",
    metavar="EMAIL",
    default=None,
    help="The admin issuing the token (default: the owner admin).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Host shown in the SCIM URL.")
@click.option("--port", type=int, default=None, help="Port shown in the SCIM URL.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provider_token_issue(issuer: str | None, host: str, port: int | None, as_json: bool) -> None:
    """Issue a new SCIM token (replacing the old one) and print it with the SCIM URL, once."""
    from sandbox.provider.auth import Credentials
    from sandbox.provider.filters import format_datetime
    from sandbox.provider.users import utc_now
    from sandbox.runtime import scim_url

    settings = settings_for(port=port)
    org = _org()
    admin = org.check_issuer(issuer) if issuer else org.owner()
    credentials = Credentials(org.store)
    token = credentials.issue(format_datetime(utc_now()), admin.id if admin else None)
    url = scim_url(host, settings.port, settings)
    if as_json:
        emit_json({"scim_url": url, "token": token, "issuer": admin.email if admin else None})
        return
    click.echo(f"SCIM URL: {url}")
    click.echo(f"SCIM token: {token}")
    if admin:
        click.echo(
            f"Token issuer: {admin.email} (this account cannot be deleted, deactivated "
            "or have its role changed over SCIM)"
        )
    click.echo("The token is shown only once. If you lose it, issue a new one.")
    if not credentials.state().enabled:
        click.echo("Note: user provisioning is disabled; enable it with: sandbox provider enable")


@provider_token.command("delete")
@db_option
def provider_token_delete() -> None:
    """Delete the SCIM token; requests carrying it get 401 from now on."""
    _credentials().delete()
    click.echo("SCIM token deleted.")


@provider.group("faults", cls=SandboxGroup)
def provider_faults() -> None:
    """Make SCIM requests fail on purpose: statuses, latency, dropped connections."""


def _faults() -> Any:
    from sandbox.provider.faults import Faults
    from sandbox.runtime import open_store

    return Faults(open_store(settings_for()))


@provider_faults.command("add")
@db_option
@click.option(
    "--method", default="*", show_default=True, help="GET, POST, PUT, PATCH, DELETE or *."
)
@click.option(
    "--path",
    default="*",
    show_default=True,
    help="Glob on the path after the SCIM base, e.g. '/Users*' or '/Groups*'.",
)
@click.option(
    "--status",
    type=int,
    default=None,
    help="Status to answer: 401, 403, 404, 409, 429, 500, 502, 503.",
)
@click.option("--retry-after", type=int, default=None, help="Retry-After seconds (429 or 503).")
@click.option("--latency-ms", type=int, default=0, help="Delay before answering.")
@click.option("--drop", is_flag=True, help="Drop the connection instead of answering.")
@click.option("--count", type=int, default=None, help="Only the next N matching requests.")
@click.option(
    "--probability", type=float, default=None, help="Fire with this probability (seeded)."
)
@click.option(
    "--seed", "seed_value", type=int, default=1, show_default=True, help="Seed for --probability."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provider_faults_add(
    method: str,
    path: str,
    status: int | None,
    retry_after: int | None,
    latency_ms: int,
    drop: bool,
    count: int | None,
    probability: float | None,
    seed_value: int,
    as_json: bool,
) -> None:
    """Add a fault rule; it applies at once, even to a running server."""
    rule = _faults().add(
        method=method,
        path=path,
        status=status,
        retry_after=retry_after,
        latency_ms=latency_ms,
        drop=drop,
        count=count,
        probability=probability,
        seed=seed_value,
    )
    if as_json:
        emit_json(rule.to_dict())
        return
    click.echo(f"Added fault {rule.describe()}")


@provider_faults.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provider_faults_list(as_json: bool) -> None:
    """List the fault rules in force."""
    rules = _faults().list()
    if as_json:
        emit_json([r.to_dict() for r in rules])
        return
    if not rules:
        click.echo("No fault rules.")
    for rule in rules:
        click.echo(rule.describe())


@provider_faults.command("clear")
@db_option
@click.argument("rule_id", type=int, required=False)
def provider_faults_clear(rule_id: int | None) -> None:
    """Remove one fault rule (by id) or all of them."""
    removed = _faults().clear(rule_id)
    click.echo(f"Removed {removed} fault rule{'s' if removed != 1 else ''}.")


# -- eval ------------------------------------------------------------------------------------


@cli.command("eval")
@click.argument("expression")
@click.option("--user", "user_json", metavar="JSON", default=None,
              help="The source user as a JSON object of Entra properties.")
@click.option("--user-file", type=click.File("r"), default=None,
              help="Read the source user from a JSON file ('-' for stdin).")
@click.option("--seed", "seed_value", type=int, default=None,
              help="Seed for Guid() and RandomString() (default SANDBOX_SEED or 1).")
@click.option("--now", "now_text", metavar="ISO", default=None,
              help="The time Now() returns, e.g. 2026-01-31T09:00:00Z (default: the real clock).")
@click.option("--domain", default="contoso.onmicrosoft.com", show_default=True,
              help="The tenant domain DefaultDomain() returns.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_command(expression: str, user_json: str | None, user_file: Any, seed_value: int | None,
                 now_text: str | None, domain: str, as_json: bool) -> None:
    """Evaluate an Entra attribute-mapping expression against a user, as Entra would."""
    import random
    from datetime import UTC, datetime

    from sandbox.errors import ExpressionError
    from sandbox.expressions import EvaluationContext, display_value, evaluate_text, to_json

    if user_json is not None and user_file is not None:
        raise click.UsageError("give --user or --user-file, not both")
    raw = user_json if user_json is not None else (user_file.read() if user_file else "{}")
    try:
        user = json.loads(raw)
    except ValueError as exc:
        raise click.ClickException(f"the user is not valid JSON: {exc}") from None
    if not isinstance(user, dict):
        raise click.ClickException("the user must be a JSON object of Entra properties")
    clock = None
    if now_text is not None:
        try:
            fixed = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
        except ValueError:
            raise click.ClickException(f"--now must be an ISO 8601 time, got {now_text!r}") from None
        fixed = fixed if fixed.tzinfo else fixed.replace(tzinfo=UTC)
        clock = lambda: fixed  # noqa: E731
    settings = settings_for(seed=seed_value)
    context = EvaluationContext(rng=random.Random(settings.seed), tenant_domain=domain,
                                **({"clock": clock} if clock else {}))
    try:
        value = evaluate_text(expression, user, context)
    except ExpressionError as exc:
        if as_json:
            emit_json({"ok": False, "error": exc.message, "column": exc.column})
        else:
            click.echo(exc.caret(), err=True)
        raise SystemExit(1) from None
    if as_json:
        emit_json({"ok": True, "value": to_json(value)})
    else:
        click.echo(display_value(value))


def main() -> None:  # pragma: no cover - console entry alias
    """Entry point for `python -m sandbox`."""
    cli()
