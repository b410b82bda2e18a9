"""Provides `sandbox entra assign|unassign|set-role|assignments|roles`: the enterprise app's
Users and groups blade (guide steps 4 and 7)."""

from __future__ import annotations

from typing import Any

import click

from sandbox.cli.entra import entra
from sandbox.cli.entra_directory import directory
from sandbox.cli.root import db_option, emit_json, print_table
from sandbox.errors import SandboxError


def enterprise_app() -> Any:
    """The enterprise app over the database the command names."""
    from sandbox.engine.tenant.app import EnterpriseApp

    found = directory()
    return EnterpriseApp(found.store, found)


@entra.command("roles")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def roles(as_json: bool) -> None:
    """List the app roles: ADMIN, USER, GUEST (guide step 4) and Default Access."""
    listed = enterprise_app().roles()
    if as_json:
        emit_json([r.to_dict() for r in listed])
        return
    print_table(
        ["value", "displayName", "allowedMemberTypes", "id"],
        [[r.value, r.display_name, ", ".join(r.allowed_member_types), r.id] for r in listed],
        title="App roles",
    )


@entra.command("assign")
@db_option
@click.argument("principal", required=False)
@click.option("--role", default="USER", show_default=True, help="App role value.")
@click.option("--all-users", is_flag=True, help="Assign every active user (not PRINCIPAL).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def assign(principal: str | None, role: str, all_users: bool, as_json: bool) -> None:
    """Assign a user (objectId, UPN, mail) or group (id, name) to the app with a role (guide
    step 7); only assigned users, and direct members of assigned groups, are provisioned."""
    app = enterprise_app()
    if all_users == (principal is not None):
        raise SandboxError("give a user or group to assign, or --all-users (not both)")
    if all_users:
        count = app.assign_all_users(role)
        if as_json:
            emit_json({"assigned": count, "role": app.role(role).value})
            return
        click.echo(
            f"Assigned {count} user{'s' if count != 1 else ''} the role {app.role(role).value}."
        )
        return
    assert principal is not None
    assignment = app.assign(principal, role)
    if as_json:
        emit_json(assignment.to_dict())
        return
    click.echo(
        f"Assigned {assignment.principal_type.lower()} {assignment.principal_name} the role "
        f"{assignment.role}."
    )


@entra.command("unassign")
@db_option
@click.argument("principal")
@click.option("--role", default=None, help="Only this role (default: all of its roles).")
def unassign(principal: str, role: str | None) -> None:
    """Remove a user's or group's assignment: Entra then disables the account in the app."""
    removed = enterprise_app().unassign(principal, role)
    click.echo(f"Unassigned {removed[0].principal_name} ({', '.join(a.role for a in removed)}).")


@entra.command("set-role")
@db_option
@click.argument("principal")
@click.argument("role")
def set_role(principal: str, role: str) -> None:
    """Replace a user's or group's role(s) with one role; the next cycle updates the account."""
    assignment = enterprise_app().set_role(principal, role)
    click.echo(f"{assignment.principal_name} now has the role {assignment.role}.")


@entra.command("assignments")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def assignments(as_json: bool) -> None:
    """List the app's assignments (users and groups with their roles)."""
    listed = enterprise_app().assignments()
    if as_json:
        emit_json([a.to_dict() for a in listed])
        return
    print_table(
        ["type", "name", "role", "principalId", "assigned"],
        [[a.principal_type, a.principal_name, a.role, a.principal_id, a.created] for a in listed],
        title=f"Assignments ({len(listed)})",
    )
