"""Provides `sandbox entra users|groups|changes ...`: the tenant's users and security groups."""

from __future__ import annotations

import json
from typing import Any

import click

from sandbox.cli.entra import entra
from sandbox.cli.root import (
    COUNT,
    DOMAIN,
    SEED,
    SandboxGroup,
    db_option,
    emit_json,
    print_table,
    settings_for,
)
from sandbox.errors import SandboxError


def directory(seed_tenant: bool = True) -> Any:
    """The tenant directory over the database the command names, on the engine's simulated
    clock (so recycle-bin days count in the same time as cycles). A fresh database is set up
    as every `sandbox entra` command sets it up (organization, engine, and the seeded tenant
    unless the command seeds it itself)."""
    from sandbox.engine.sync.clock import SimClock
    from sandbox.engine.tenant.directory import Directory
    from sandbox.runtime import bootstrap_provider, bootstrap_tenant, open_store

    settings = settings_for()
    store = open_store(settings)
    bootstrap_provider(store, settings)
    if seed_tenant:
        bootstrap_tenant(store, settings)
    return Directory(store, SimClock(store).now)


def parse_assignments(pairs: tuple[str, ...]) -> dict[str, str]:
    """`prop=value` pairs as a dict (an empty value clears the property)."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise SandboxError(f"--set takes property=value (an Entra property name), got {pair!r}")
        out[name.strip()] = value
    return out


def show_user(user: Any, as_json: bool, verb: str) -> None:
    """Print one user (JSON, or a one-line summary)."""
    if as_json:
        emit_json(user.to_dict())
        return
    state = (
        "in the recycle bin" if user.deleted else "enabled" if user.account_enabled else "blocked"
    )
    click.echo(f"{verb} {user.user_principal_name} ({user.id}): mail {user.mail or '-'}, {state}")


# -- users -------------------------------------------------------------------------------


@entra.group("users", cls=SandboxGroup)
def users() -> None:
    """Tenant users: seed, list, add, edit, block, soft-delete, restore, hard-delete."""


@users.command("seed")
@db_option
@click.option(
    "--seed", "seed_value", type=SEED, default=None, help="Random seed (default SANDBOX_SEED or 1)."
)
@click.option(
    "--users",
    "count",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Tenant users in total: organization members first, then others, guests last.",
)
@click.option(
    "--domain",
    type=DOMAIN,
    default="contoso.onmicrosoft.com",
    show_default=True,
    help="The UPN domain.",
)
@click.option("--groups", type=COUNT, default=3, show_default=True, help="Security groups.")
@click.option(
    "--guests",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="B2B guests (counted in --users).",
)
@click.option(
    "--no-org", is_flag=True, help="Do not give tenant users the organization members' emails."
)
@click.option("--replace", is_flag=True, help="Remove the current users and groups first.")
def users_seed(
    seed_value: int | None,
    count: int,
    domain: str,
    groups: int,
    guests: int,
    no_org: bool,
    replace: bool,
) -> None:
    """Fill the tenant with --users seeded Faker users in total, B2B guests among them, a
    manager chain and groups; the organization's members come first, with their emails as mail
    (as many as fit beside the guests), then other members (same seed, same tenant)."""
    from sandbox.engine.tenant.seed import seed_tenant

    settings = settings_for(seed=seed_value)
    found = directory(seed_tenant=False)
    found.store.set_state("tenant_bootstrapped", True)  # this seed is the tenant's start
    people = [] if no_org else _organization_people(found.store)
    guests = min(guests, count)
    left_out = people[max(0, count - guests) :]
    people = people[: max(0, count - guests)]
    result = seed_tenant(
        found,
        seed=settings.seed,
        users=count,
        domain=domain,
        people=people,
        groups=groups,
        guests=guests,
        replace=replace,
    )
    missing = (
        f"; {len(left_out)} of the organization's {len(people) + len(left_out)} members have "
        "no tenant user (raise --users to include them)"
        if left_out
        else ""
    )
    click.echo(
        f"Seeded {result['users']} tenant users ({result['people']} with an organization "
        f"member's email as mail, {result['guests']} B2B guests) and {result['groups']} groups "
        f"(seed {settings.seed}){missing}."
    )


def _organization_people(store: Any) -> list[tuple[str, str, str]]:
    """(given name, surname, email) of each organization member, so tenant mail matches."""
    from sandbox.provider.org import Organization

    people = []
    for member in Organization(store).members():
        given, _, surname = (member.username or member.email.split("@")[0]).partition(" ")
        people.append((given, surname, member.email))
    return people


@users.command("list")
@db_option
@click.option("--search", default=None, help="Part of a UPN, mail or display name.")
@click.option("--limit", type=COUNT, default=100, show_default=True, help="At most this many.")
@click.option("--offset", type=COUNT, default=0, help="Skip this many first.")
@click.option("--active", is_flag=True, help="Leave out users in the recycle bin.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def users_list(search: str | None, limit: int, offset: int, active: bool, as_json: bool) -> None:
    """List tenant users: UPN, mail, type, sign-in, recycle bin, country, language."""
    found = directory()
    listed = found.users(search, limit=limit, offset=offset, include_deleted=not active)
    if as_json:
        emit_json([u.to_dict() for u in listed])
        return
    total = found.count(search, include_deleted=not active)
    print_table(
        ["userPrincipalName", "mail", "displayName", "type", "sign-in", "deleted", "country",
         "language"],
        [
            [u.user_principal_name, u.mail, u.display_name, u.user_type,
             "enabled" if u.account_enabled else "blocked", u.deleted_at, u.country,
             u.preferred_language]
            for u in listed
        ],
        title=f"Tenant users ({len(listed)} of {total})",
    )  # fmt: skip


@users.command("show")
@db_option
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def users_show(key: str, as_json: bool) -> None:
    """Show one user's Entra properties (KEY: objectId, UPN or mail)."""
    user = directory().get_user(key)
    if as_json:
        emit_json(user.to_dict())
        return
    for name, value in user.to_dict().items():
        click.echo(f"{name}: {'-' if value is None else value}")


@users.command("add")
@db_option
@click.option("--upn", required=True, help="userPrincipalName, alias@domain.")
@click.option("--mail", default=None, help="mail (may differ from the UPN).")
@click.option("--display-name", default=None, help="displayName.")
@click.option("--given-name", default=None, help="givenName.")
@click.option("--surname", default=None, help="surname.")
@click.option("--job-title", default=None, help="jobTitle.")
@click.option("--department", default=None, help="department.")
@click.option("--country", default=None, help="country, e.g. Japan.")
@click.option("--preferred-language", default=None, help="preferredLanguage, e.g. ja-JP.")
@click.option("--usage-location", default=None, help="usageLocation, e.g. JP.")
@click.option("--manager", default=None, help="The manager's objectId, UPN or mail.")
@click.option("--guest", is_flag=True, help="userType Guest (B2B).")
@click.option("--blocked", is_flag=True, help="accountEnabled false.")
@click.option("--set", "pairs", multiple=True, metavar="PROP=VALUE", help="Any other property.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def users_add(
    upn: str,
    guest: bool,
    blocked: bool,
    pairs: tuple[str, ...],
    as_json: bool,
    **options: str | None,
) -> None:
    """Create a tenant user (mailNickname and displayName default to the UPN's alias)."""
    names = {
        "mail": "mail",
        "display_name": "displayName",
        "given_name": "givenName",
        "surname": "surname",
        "job_title": "jobTitle",
        "department": "department",
        "country": "country",
        "preferred_language": "preferredLanguage",
        "usage_location": "usageLocation",
        "manager": "manager",
    }
    props: dict[str, Any] = {names[k]: v for k, v in options.items() if v is not None}
    props.update(parse_assignments(pairs))
    props["userPrincipalName"] = upn
    if guest:
        props["userType"] = "Guest"
    if blocked:
        props["accountEnabled"] = False
    show_user(directory().add_user(**props), as_json, "Added")


@users.command("edit")
@db_option
@click.argument("key")
@click.option(
    "--set", "pairs", multiple=True, required=True, metavar="PROP=VALUE",
    help="An Entra property (e.g. department=Sales, preferredLanguage=ja-JP); empty clears it.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def users_edit(key: str, pairs: tuple[str, ...], as_json: bool) -> None:
    """Change a user's properties (KEY: objectId, UPN or mail); the next cycle exports them."""
    show_user(directory().edit_user(key, **parse_assignments(pairs)), as_json, "Updated")


@users.command("block")
@db_option
@click.argument("key")
@click.option("--unblock", is_flag=True, help="Allow sign-in again.")
def users_block(key: str, unblock: bool) -> None:
    """Block sign-in (accountEnabled false): Entra then disables the account in the app."""
    user = directory().block(key, blocked=not unblock)
    click.echo(f"{user.user_principal_name}: sign-in {'allowed' if unblock else 'blocked'}.")


@users.command("soft-delete")
@db_option
@click.argument("key")
def users_soft_delete(key: str) -> None:
    """Delete a user to the recycle bin (restorable for 30 days): Entra disables the account."""
    user = directory().soft_delete(key)
    click.echo(f"{user.user_principal_name} is in the recycle bin (since {user.deleted_at}).")


@users.command("restore")
@db_option
@click.argument("key")
def users_restore(key: str) -> None:
    """Restore a user from the recycle bin: Entra re-enables the account."""
    user = directory().restore(key)
    click.echo(f"{user.user_principal_name} is restored.")


@users.command("hard-delete")
@db_option
@click.argument("key")
def users_hard_delete(key: str) -> None:
    """Delete a user for good, with its memberships and assignments: Entra deletes the account."""
    user = directory().hard_delete(key)
    click.echo(f"{user.user_principal_name} is deleted for good.")


@users.command("purge")
@db_option
def users_purge() -> None:
    """Delete for good the users that have been in the recycle bin 30 days or more."""
    purged = directory().purge_expired()
    click.echo(f"Purged {len(purged)} user{'s' if len(purged) != 1 else ''} from the recycle bin.")


# -- groups ------------------------------------------------------------------------------


@entra.group("groups", cls=SandboxGroup)
def groups() -> None:
    """Security groups and their direct members (nested groups are not expanded)."""


def show_groups(listed: list[Any], as_json: bool, title: str) -> None:
    """Print groups as JSON or a table."""
    if as_json:
        emit_json([g.to_dict() for g in listed])
        return
    print_table(
        ["displayName", "id", "members", "description"],
        [[g.display_name, g.id, g.member_count, g.description] for g in listed],
        title=title,
    )


@groups.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def groups_list(as_json: bool) -> None:
    """List the security groups with their direct user member counts."""
    show_groups(directory().groups(), as_json, "Groups")


@groups.command("add")
@db_option
@click.argument("name")
@click.option("--description", default="", help="Description.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def groups_add(name: str, description: str, as_json: bool) -> None:
    """Create a security group."""
    group = directory().add_group(name, description)
    if as_json:
        emit_json(group.to_dict())
        return
    click.echo(f"Added group {group.display_name} ({group.id}).")


@groups.command("delete")
@db_option
@click.argument("group")
def groups_delete(group: str) -> None:
    """Delete a group with its memberships and app assignments (no recycle bin)."""
    deleted = directory().delete_group(group)
    click.echo(f"Deleted group {deleted.display_name}.")


@groups.command("members")
@db_option
@click.argument("group")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def groups_members(group: str, as_json: bool) -> None:
    """List a group's direct members (users, then nested groups, whose members do not count)."""
    found = directory()
    listed, nested = found.members(group), found.member_groups(group)
    if as_json:
        emit_json({"users": [u.to_dict() for u in listed], "groups": [g.to_dict() for g in nested]})
        return
    print_table(
        ["userPrincipalName", "mail", "displayName", "deleted"],
        [[u.user_principal_name, u.mail, u.display_name, u.deleted_at] for u in listed],
        title=f"Members of {found.get_group(group).display_name}",
    )
    for nested_group in nested:
        click.echo(f"nested group (not expanded): {nested_group.display_name}")


@groups.command("add-member")
@db_option
@click.argument("group")
@click.argument("member")
def groups_add_member(group: str, member: str) -> None:
    """Add a user (objectId, UPN or mail), or nest a group, as a direct member."""
    found = directory()
    found.add_member(group, member)
    click.echo(f"Added {member} to {found.get_group(group).display_name}.")


@groups.command("remove-member")
@db_option
@click.argument("group")
@click.argument("member")
def groups_remove_member(group: str, member: str) -> None:
    """Remove a direct member from a group (Entra then disables the account if that was its
    only assignment)."""
    found = directory()
    found.remove_member(group, member)
    click.echo(f"Removed {member} from {found.get_group(group).display_name}.")


# -- change log --------------------------------------------------------------------------


@entra.command("changes")
@db_option
@click.option("--since", type=COUNT, default=0, help="Only changes after this seq (a watermark).")
@click.option("--limit", type=COUNT, default=100, show_default=True, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def changes(since: int, limit: int, as_json: bool) -> None:
    """List recorded directory and assignment changes (what incremental cycles read)."""
    listed = directory().changes_since(since, limit=limit)
    if as_json:
        emit_json([c.to_dict() for c in listed])
        return
    print_table(
        ["seq", "at", "type", "objectId", "change", "detail"],
        [
            [
                c.seq,
                c.at,
                c.object_type,
                c.object_id,
                c.change,
                json.dumps(c.detail) if c.detail else "",
            ]
            for c in listed
        ],
        title="Changes",
    )
