"""Provides `directory/deletedItems` (the recycle bin: list deleted users, get one, restore
it, delete it for good) and `directoryObjects/{id}` (Microsoft Graph v1.0: "List
deletedItems", "Get deleted item", "Restore deleted item", "Permanently delete an item",
"Get directoryObject").

Security groups are deleted at once, not recycled (the restore page: "not applicable to
security groups, which are deleted permanently"), so the deleted groups list is empty.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from sandbox.engine.sync.graph_log import service_principal_id
from sandbox.engine.tenant.model import DirectoryUser
from sandbox.graph.errors import not_found
from sandbox.graph.odata import check_select, context_url, project
from sandbox.graph.shapes import (
    DIRECTORY_OBJECT_SPEC,
    GROUP_SPEC,
    SERVICE_PRINCIPAL_SPEC,
    USER_SPEC,
    group_json,
    object_key,
    service_principal_json,
    typed,
    user_json,
)
from sandbox.graph.web import collection, context, respond, root

bp = Blueprint("graph_directory_objects", __name__)


def deleted_user(object_id: str) -> DirectoryUser:
    """A user in the recycle bin, by id; Graph's 404 otherwise."""
    key = object_key(object_id)
    user = context().directory.find_user(key)
    if user is None or user.id != key or not user.deleted:
        raise not_found(object_id)
    return user


def _entity(user: DirectoryUser, select: tuple[str, ...] = ()) -> dict[str, object]:
    body = typed(project(user_json(user), select, USER_SPEC), "user")
    return {"@odata.context": context_url(root(), "directoryObjects/$entity", select), **body}


@bp.get("/directory/deletedItems/microsoft.graph.user")
@bp.get("/directory/deletedItems/graph.user")  # the SDK's spelling of the type cast
def list_deleted_users() -> Response:
    users = [u for u in context().directory.users(limit=None) if u.deleted]
    users.sort(key=lambda u: u.deleted_at or "")
    return collection(
        (user_json(u) for u in users), USER_SPEC, "directory/deletedItems/microsoft.graph.user"
    )


@bp.get("/directory/deletedItems/microsoft.graph.group")
@bp.get("/directory/deletedItems/graph.group")
def list_deleted_groups() -> Response:
    return collection((), GROUP_SPEC, "directory/deletedItems/microsoft.graph.group")


@bp.get("/directory/deletedItems/<object_id>")
def get_deleted(object_id: str) -> Response:
    select = check_select(request, USER_SPEC)
    return respond(_entity(deleted_user(object_id), select))


@bp.post("/directory/deletedItems/<object_id>/restore")
def restore(object_id: str) -> Response:
    with context().lock:
        user = context().directory.restore(deleted_user(object_id).id)
    return respond(_entity(user))


@bp.delete("/directory/deletedItems/<object_id>")
def delete_for_good(object_id: str) -> Response:
    with context().lock:
        context().directory.hard_delete(deleted_user(object_id).id)
    return respond(None, 204)


@bp.get("/directoryObjects/<object_id>")
def get_directory_object(object_id: str) -> Response:
    """A user, group or the app's service principal by id, with its `@odata.type` (a user
    with its default properties unless $select names others)."""
    select = check_select(request, DIRECTORY_OBJECT_SPEC)
    key = object_key(object_id)
    directory = context().directory
    user = directory.find_user(key)
    group = directory.find_group(key)
    if user is not None and user.id == key and not user.deleted:
        body = typed(project(user_json(user), select, USER_SPEC), "user")
    elif group is not None and group.id == key:
        body = typed(project(group_json(group), select, GROUP_SPEC), "group")
    elif key == service_principal_id(context().tenant_domain):
        found = service_principal_json(context().tenant_domain, context().app.roles())
        body = typed(project(found, select, SERVICE_PRINCIPAL_SPEC), "servicePrincipal")
    else:
        raise not_found(object_id)
    fragment = context_url(root(), "directoryObjects/$entity", select)
    return respond({"@odata.context": fragment, **body})
