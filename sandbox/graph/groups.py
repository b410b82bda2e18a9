"""Provides `groups`: list, get, create and delete security groups, and their direct members
(`members`, `members/$ref`) (Microsoft Graph v1.0: "List groups", "Get group", "Create
group", "Delete group", "List group members", "Add members", "Remove member").

The tenant has security groups only (mailEnabled false, securityEnabled true, no
groupTypes); a group's members are users or nested groups, whose own members are not the
group's (Entra does not expand nesting for assignment).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, request

from sandbox.engine.tenant.model import DirectoryGroup
from sandbox.graph.errors import bad_request, not_found
from sandbox.graph.odata import check_select, context_url, project
from sandbox.graph.shapes import (
    DIRECTORY_OBJECT_SPEC,
    GROUP_SPEC,
    USER_SPEC,
    group_json,
    object_key,
    typed,
    user_json,
)
from sandbox.graph.users import referenced_id
from sandbox.graph.web import collection, context, read_json, respond, root

bp = Blueprint("graph_groups", __name__)

TAKEN = ("displayName", "description", "mailEnabled", "mailNickname", "securityEnabled")
"""What "Create group" takes here (mailNickname is required and not kept)."""


def group_by_id(group_id: str) -> DirectoryGroup:
    """The group `groups/{id}` names (by id only, as in Graph); Graph's 404 otherwise."""
    key = object_key(group_id)
    group = context().directory.find_group(key)
    if group is None or group.id != key:
        raise not_found(group_id)
    return group


def _invalid(name: str, why: str = "") -> Exception:
    return bad_request(f"Invalid value specified for property '{name}' of resource 'Group'.{why}")


def _check_create(body: dict[str, Any]) -> None:
    for name in ("displayName", "mailNickname"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise _invalid(name)
    for name in ("mailEnabled", "securityEnabled"):
        if not isinstance(body.get(name), bool):
            raise _invalid(name)
    if body.get("description") is not None and not isinstance(body["description"], str):
        raise _invalid("description")
    if body["mailEnabled"] or not body["securityEnabled"] or body.get("groupTypes"):
        raise bad_request(
            "The sandbox's tenant has security groups only: mailEnabled false, "
            "securityEnabled true and no groupTypes (Microsoft 365 groups are not modelled)."
        )
    for name in body:
        if name not in (*TAKEN, "groupTypes", "members@odata.bind", "@odata.type"):
            raise bad_request(
                f"Property '{name}' does not exist as a declared property or extension "
                "property of the sandbox's group (docs/graph.md lists the modelled ones)."
            )


@bp.get("/groups")
def list_groups() -> Response:
    return collection((group_json(g) for g in context().directory.groups()), GROUP_SPEC, "groups")


@bp.get("/groups/<group_id>")
def get_group(group_id: str) -> Response:
    select = check_select(request, GROUP_SPEC)
    body = project(group_json(group_by_id(group_id)), select, GROUP_SPEC)
    return respond({"@odata.context": context_url(root(), "groups/$entity", select), **body})


@bp.post("/groups")
def create_group() -> Response:
    body = read_json()
    _check_create(body)
    members = body.get("members@odata.bind", [])
    if not isinstance(members, list):
        raise _invalid("members@odata.bind")
    member_ids = [referenced_id({"@odata.id": url}) for url in members]
    if len(set(member_ids)) < len(member_ids):  # refused before anything is created
        raise bad_request(
            "One or more added object references already exist for the following modified "
            "properties: 'members'."
        )
    directory = context().directory
    with context().lock:
        for member_id in member_ids:
            _member_exists(member_id)
        group = directory.add_group(body["displayName"], body.get("description") or "")
        for member_id in member_ids:
            directory.add_member(group.id, member_id)
        group = directory.get_group(group.id)
    entity = {"@odata.context": context_url(root(), "groups/$entity"), **group_json(group)}
    return respond(entity, 201, Location=f"{root()}/v1.0/groups/{group.id}")


@bp.delete("/groups/<group_id>")
def delete_group(group_id: str) -> Response:
    with context().lock:
        context().directory.delete_group(group_by_id(group_id).id)
    return respond(None, 204)


def _members(group: DirectoryGroup) -> Iterator[dict[str, object]]:
    directory = context().directory
    for user in directory.members(group.id):
        yield typed(user_json(user), "user")
    for nested in directory.member_groups(group.id):
        yield typed(group_json(nested), "group")


@bp.get("/groups/<group_id>/members")
def list_members(group_id: str) -> Response:
    group = group_by_id(group_id)
    # without $select, each member with the default properties of its own type
    selected = "$select" in request.args
    items = (
        {"@odata.type": m["@odata.type"], **project(m, (), USER_SPEC)}
        if m["@odata.type"] == "#microsoft.graph.user" and not selected
        else m
        for m in _members(group)
    )
    return collection(items, DIRECTORY_OBJECT_SPEC, "directoryObjects")


def _member_exists(member_id: str) -> None:
    member_id = object_key(member_id)
    directory = context().directory
    user = directory.find_user(member_id)
    if user is not None and user.id == member_id:
        if user.deleted:
            raise not_found(member_id)
        return
    group = directory.find_group(member_id)
    if group is None or group.id != member_id:
        raise not_found(member_id)


@bp.post("/groups/<group_id>/members/$ref")
def add_member(group_id: str) -> Response:
    member_id = referenced_id(read_json())
    with context().lock:
        group = group_by_id(group_id)
        _member_exists(member_id)
        if any(m["id"] == member_id for m in _members(group)):
            raise bad_request(
                "One or more added object references already exist for the following "
                "modified properties: 'members'."
            )
        context().directory.add_member(group.id, member_id)
    return respond(None, 204)


@bp.delete("/groups/<group_id>/members/<member_id>/$ref")
def remove_member(group_id: str, member_id: str) -> Response:
    member_id = object_key(member_id)
    with context().lock:
        group = group_by_id(group_id)
        if not any(m["id"] == member_id for m in _members(group)):
            raise not_found(member_id)
        context().directory.remove_member(group.id, member_id)
    return respond(None, 204)
