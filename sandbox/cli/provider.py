"""Provides `sandbox provider ...`: the service provider's side (Nulab's) of the guide."""

from __future__ import annotations

from typing import Any

import click

from sandbox.cli.root import (
    COUNT,
    DOMAIN,
    PORT,
    SEED,
    SandboxGroup,
    cli,
    db_option,
    emit_json,
    print_table,
    settings_for,
)

# -- provider --------------------------------------------------------------------------------


@cli.group(cls=SandboxGroup)
def provider() -> None:
    """The service provider (Nulab's side): provisioning switch, SCIM token, members, faults."""


def _credentials() -> Any:
    from sandbox.provider.auth import Credentials
    from sandbox.runtime import open_sandbox

    return Credentials(open_sandbox(settings_for()))


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
    from sandbox.runtime import open_sandbox

    return Organization(open_sandbox(settings_for()))


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
    "--seed", "seed_value", type=SEED, default=None, help="Random seed (default SANDBOX_SEED or 1)."
)
@click.option("--members", type=COUNT, default=24, show_default=True, help="How many members.")
@click.option(
    "--domain", type=DOMAIN, default="example.com", show_default=True, help="Email domain."
)
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
@click.option("--limit", type=COUNT, default=None, help="Licence seats (active accounts).")
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
@click.option("--port", type=PORT, default=None, help="Port shown in the SCIM URL.")
@click.option(
    "--use-in-engine",
    is_flag=True,
    help="Also enter the token as the mock Entra's secret token (guide step 3 done for you).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def provider_token_issue(
    issuer: str | None, host: str, port: int | None, use_in_engine: bool, as_json: bool
) -> None:
    """Issue a new SCIM token (replacing the old one) and print it with the SCIM URL, once."""
    from sandbox.provider.auth import Credentials
    from sandbox.runtime import open_provisioning, scim_url
    from sandbox.timestamps import format_timestamp, utc_now

    settings = settings_for(port=port)
    org = _org()
    owner = org.owner()
    # the owner issues by default, under the same rule as anyone named: an active admin
    admin = org.check_issuer(issuer or owner.email) if (issuer or owner) else None
    credentials = Credentials(org.store)
    token = credentials.issue(format_timestamp(utc_now()), admin.id if admin else None)
    url = scim_url(host, settings.port, settings)
    engine = open_provisioning(settings, org.store)
    local = engine.config().is_local
    if use_in_engine:
        engine.configure(secret_token=token)
    if as_json:
        emit_json(
            {
                "scim_url": url,
                "token": token,
                "issuer": admin.email if admin else None,
                "engine_uses_it": use_in_engine,
            }
        )
        return
    click.echo(f"SCIM URL: {url} (while `sandbox serve` or `sandbox up` listens on it)")
    click.echo(f"SCIM token: {token}")
    if admin:
        click.echo(
            f"Token issuer: {admin.email} (this account cannot be deleted, deactivated "
            "or have its role changed over SCIM)"
        )
    click.echo("The token is shown only once. If you lose it, issue a new one.")
    if use_in_engine:
        click.echo("The mock Entra's secret token is now this one.")
    elif local:
        click.echo(
            "The mock Entra still holds the previous token; enter this one (guide step 3):\n"
            f"  sandbox entra configure --secret-token {token}"
        )
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
    from sandbox.runtime import open_sandbox

    return Faults(open_sandbox(settings_for()))


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
@click.option(
    "--retry-after",
    type=click.IntRange(0, 86400),
    default=None,
    help="Retry-After seconds (429 or 503).",
)
@click.option("--latency-ms", type=COUNT, default=0, help="Delay before answering.")
@click.option("--drop", is_flag=True, help="Drop the connection instead of answering.")
@click.option("--count", type=COUNT, default=None, help="Only the next N matching requests.")
@click.option(
    "--probability", type=float, default=None, help="Fire with this probability (seeded)."
)
@click.option(
    "--seed", "seed_value", type=SEED, default=1, show_default=True, help="Seed for --probability."
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
    source = click.get_current_context().get_parameter_source("seed_value")
    if probability is None and source is click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--seed seeds --probability: give --probability too")
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
@click.argument("rule_id", type=COUNT, required=False)
def provider_faults_clear(rule_id: int | None) -> None:
    """Remove one fault rule (by id) or all of them."""
    removed = _faults().clear(rule_id)
    click.echo(f"Removed {removed} fault rule{'s' if removed != 1 else ''}.")
