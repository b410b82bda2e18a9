"""Provides `directory/deletedItems` (the recycle bin: list deleted users, get one, restore
it, delete it for good) and `directoryObjects/{id}` (Microsoft Graph v1.0: "List
deletedItems", "Get deleted item", "Restore deleted item", "Permanently delete an item",
"Get directoryObject").

Security groups are deleted at once, not recycled (the restore page: "not applicable to
security groups, which are deleted permanently"), so the deleted groups list is empty.
"""

from __future__ import annotations

from flask import Blueprint, Response

from sandbox.engine.tenant.model import DirectoryUser
from sandbox.graph.errors import not_found
from sandbox.graph.odata import context_url, project
from sandbox.graph.shapes import GROUP_SPEC, USER_SPEC, group_json, typed, user_json
from sandbox.graph.web import collection, context, respond, root

bp = Blueprint("graph_directory_objects", __name__)


def deleted_user(object_id: str) -> DirectoryUser:
    """A user in the recycle bin, by id; Graph's 404 otherwise."""
    user = context().directory.find_user(object_id)
    if user is None or user.id != object_id or not user.deleted:
        raise not_found(object_id)
    return user


def _entity(user: DirectoryUser) -> dict[str, object]:
    body = typed(project(user_json(user), (), USER_SPEC), "user")
    return {"@odata.context": context_url(root(), "directoryObjects/$entity"), **body}


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
    return respond(_entity(deleted_user(object_id)))


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
    directory = context().directory
    user = directory.find_user(object_id)
    if user is not None and user.id == object_id and not user.deleted:
        body = typed(project(user_json(user), (), USER_SPEC), "user")
    else:
        group = directory.find_group(object_id)
        if group is None or group.id != object_id:
            raise not_found(object_id)
        body = typed(group_json(group), "group")
    return respond({"@odata.context": context_url(root(), "directoryObjects/$entity"), **body})
