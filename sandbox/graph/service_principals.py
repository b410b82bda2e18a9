"""Provides `servicePrincipals` (the enterprise app, with its `appRoles`), its
`appRoleAssignedTo` (list, grant, delete), and the `appRoleAssignments` of users and groups
(Microsoft Graph v1.0: "List servicePrincipals", "Get servicePrincipal", "List
appRoleAssignments granted for a service principal", "Grant an appRoleAssignment for a
service principal", "Delete an appRoleAssignment granted for a service principal", "List
appRoleAssignments granted to a user" / "to a group").

The tenant has one service principal, the guide's non-gallery app; its id and appId are
fixed per tenant domain (graph_log's), so the provisioning logs' `servicePrincipal.id` is
this one. A service principal is addressed by id or as `servicePrincipals(appId='...')`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, request

from sandbox.engine.sync.graph_log import application_id, service_principal_id
from sandbox.engine.tenant.app import AppRole, Assignment
from sandbox.graph.errors import bad_request, not_found
from sandbox.graph.groups import group_by_id
from sandbox.graph.odata import check_select, context_url, project
from sandbox.graph.shapes import (
    ASSIGNMENT_SPEC,
    DEFAULT_ACCESS_ROLE_ID,
    SERVICE_PRINCIPAL_SPEC,
    assignment_json,
    object_key,
    service_principal_json,
)
from sandbox.graph.users import live_user
from sandbox.graph.web import collection, context, read_json, respond, root

bp = Blueprint("graph_service_principals", __name__)


def sp_route(
    rule: str, **options: Any
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Route `rule` (what follows the service principal's segment: "", "/appRoleAssignedTo"...)
    under both `servicePrincipals/{id}` and `servicePrincipals(appId='{appId}')`; the view
    gets `sp_key` and `by` ("id" or "appId"), for `check_service_principal`."""

    def register(view: Callable[..., Response]) -> Callable[..., Response]:
        name = view.__name__
        bp.add_url_rule(
            f"/servicePrincipals/<sp_key>{rule}", name, view, defaults={"by": "id"}, **options
        )
        bp.add_url_rule(
            f"/servicePrincipals(appId='<sp_key>'){rule}",
            f"{name}_by_app_id",
            view,
            defaults={"by": "appId"},
            **options,
        )
        return view

    return register


def check_service_principal(sp_key: str, by: str = "id") -> str:
    """The service principal's id when `sp_key` names it (its id, or its appId when `by` is
    "appId"); Graph's 404 otherwise."""
    domain = context().tenant_domain
    expected = application_id(domain) if by == "appId" else service_principal_id(domain)
    if sp_key.lower() != expected:
        raise not_found(sp_key)
    return service_principal_id(domain)


def _service_principal() -> dict[str, object]:
    return service_principal_json(context().tenant_domain, context().app.roles())


@bp.get("/servicePrincipals")
def list_service_principals() -> Response:
    return collection([_service_principal()], SERVICE_PRINCIPAL_SPEC, "servicePrincipals")


@sp_route("", methods=["GET"])
def get_service_principal(sp_key: str, by: str) -> Response:
    select = check_select(request, SERVICE_PRINCIPAL_SPEC)
    check_service_principal(sp_key, by)
    entity = {"@odata.context": context_url(root(), "servicePrincipals/$entity", select)}
    return respond({**entity, **project(_service_principal(), select, SERVICE_PRINCIPAL_SPEC)})


# -- app role assignments ------------------------------------------------------------------


def _role_of(app_role_id: str) -> AppRole:
    """The app role an appRoleId names; Graph's 400 otherwise. The all-zero GUID is refused:
    the app declares roles, and Default Access is its msiam_access role (appRoleAssignment
    resource type: the all-zero id only "if the resource application has not declared any
    app roles")."""
    app = context().app
    key = object_key(app_role_id)
    for role in app.roles():
        if role.id == key:
            return role
    hint = ""
    if key == DEFAULT_ACCESS_ROLE_ID:
        hint = (
            " The application declares app roles, so the default app role id cannot be "
            f"used: Default Access is appRoleId {app.role('msiam_access').id}."
        )
    raise bad_request(
        f"Permission being assigned was not found on application "
        f"'{application_id(context().tenant_domain)}'.{hint}"
    )


def _principal_name(assignment: Assignment) -> str:
    directory = context().directory
    if assignment.principal_type == "User":
        user = directory.find_user(assignment.principal_id)
        return (user.display_name or user.user_principal_name) if user else ""
    group = directory.find_group(assignment.principal_id)
    return group.display_name if group else ""


def _assignment_json(assignment: Assignment) -> dict[str, object]:
    role = context().app.role(assignment.role)
    name = _principal_name(assignment)
    return assignment_json(assignment, role, name, context().tenant_domain)


def _assignments(principal_id: str | None = None) -> Iterator[dict[str, object]]:
    for assignment in context().app.assignments():
        if principal_id is None or assignment.principal_id == principal_id:
            yield _assignment_json(assignment)


def _principal(principal_id: object) -> tuple[str, str]:
    """(id, "User" or "Group") of an assignable principal; Graph's 404 otherwise."""
    key = object_key(str(principal_id))
    directory = context().directory
    user = directory.find_user(key)
    if user is not None and user.id == key and not user.deleted:
        return user.id, "User"
    group = directory.find_group(key)
    if group is not None and group.id == key:
        return group.id, "Group"
    raise not_found(key)


def _grant(fragment: str, principal_id: str | None = None) -> Response:
    """POST an appRoleAssignment body; `principal_id`: the one the path names (users/{id}/...)."""
    body = read_json()
    for name in ("principalId", "resourceId", "appRoleId"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise bad_request(
                f"Invalid value specified for property '{name}' of resource 'AppRoleAssignment'."
            )
    if principal_id is not None and object_key(body["principalId"]) != principal_id:
        raise bad_request("The principalId must be the id of the user or group in the path.")
    check_service_principal(body["resourceId"])
    with context().lock:
        key, _kind = _principal(body["principalId"])
        role = _role_of(body["appRoleId"])
        held = [a for a in context().app.assignments() if a.principal_id == key]
        if any(a.role == role.value for a in held):
            raise bad_request("Permission being assigned already exists on the object.")
        assignment = context().app.assign(key, role.value)
    entity = {"@odata.context": context_url(root(), f"{fragment}/$entity")}
    return respond({**entity, **_assignment_json(assignment)}, 201)


def _revoke(assignment_id: str, principal_id: str | None = None) -> Response:
    with context().lock:
        for assignment in context().app.assignments():
            if assignment.id == assignment_id and principal_id in (None, assignment.principal_id):
                context().app.unassign(assignment.principal_id, assignment.role)
                return respond(None, 204)
    raise not_found(assignment_id)


@sp_route("/appRoleAssignedTo", methods=["GET"])
def list_assigned_to(sp_key: str, by: str) -> Response:
    sp_id = check_service_principal(sp_key, by)
    fragment = f"servicePrincipals('{sp_id}')/appRoleAssignedTo"
    return collection(_assignments(), ASSIGNMENT_SPEC, fragment)


@sp_route("/appRoleAssignedTo", methods=["POST"])
def grant_assigned_to(sp_key: str, by: str) -> Response:
    sp_id = check_service_principal(sp_key, by)
    return _grant(f"servicePrincipals('{sp_id}')/appRoleAssignedTo")


@sp_route("/appRoleAssignedTo/<assignment_id>", methods=["DELETE"])
def revoke_assigned_to(sp_key: str, by: str, assignment_id: str) -> Response:
    check_service_principal(sp_key, by)
    return _revoke(assignment_id)


def _user_id(key: str) -> str:
    return live_user(key).id


def _group_id(key: str) -> str:
    return group_by_id(key).id


_PRINCIPALS = {"users": _user_id, "groups": _group_id}


@bp.get("/<any(users, groups):kind>/<key>/appRoleAssignments")
def list_principal_assignments(kind: str, key: str) -> Response:
    principal_id = _PRINCIPALS[kind](key)
    fragment = f"{kind}('{principal_id}')/appRoleAssignments"
    return collection(_assignments(principal_id), ASSIGNMENT_SPEC, fragment)


@bp.post("/<any(users, groups):kind>/<key>/appRoleAssignments")
def grant_principal_assignment(kind: str, key: str) -> Response:
    principal_id = _PRINCIPALS[kind](key)
    return _grant(f"{kind}('{principal_id}')/appRoleAssignments", principal_id)


@bp.delete("/<any(users, groups):kind>/<key>/appRoleAssignments/<assignment_id>")
def revoke_principal_assignment(kind: str, key: str, assignment_id: str) -> Response:
    return _revoke(assignment_id, _PRINCIPALS[kind](key))
