"""Provides `users`: list, get (by id or userPrincipalName), create, update, delete to the
recycle bin, and the manager relationship (Microsoft Graph v1.0: "List users", "Get user",
"Create user", "Update user", "Delete a user", "List manager", "Assign manager").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from sandbox.engine.tenant.model import DirectoryUser
from sandbox.graph.errors import bad_request, not_found
from sandbox.graph.odata import check_select, context_url, project
from sandbox.graph.shapes import (
    EXTENSION_ATTRIBUTES,
    RENAMED,
    SAME,
    USER_SPEC,
    object_key,
    typed,
    user_json,
)
from sandbox.graph.web import collection, context, read_json, respond, root

bp = Blueprint("graph_users", __name__)

REQUIRED_ON_CREATE = (
    "accountEnabled",
    "displayName",
    "mailNickname",
    "passwordProfile",
    "userPrincipalName",
)
"""What "Create user" requires in the body."""

IGNORED = ("passwordProfile", "@odata.type")
"""Taken and not kept: the tenant has no passwords (nobody signs in to it)."""

NOT_NULLABLE = ("accountEnabled", "displayName", "mailNickname", "userPrincipalName")
"""Required on create, so never cleared by an update ("user resource type": required)."""

_UPN_ALIAS = re.compile(r"[A-Za-z0-9'._!#^~-]+")
"""The characters a userPrincipalName's alias may hold ("user resource type",
userPrincipalName: "Only the following characters are allowed A - Z, a - z, 0 - 9, ' . - _ !
# ^ ~")."""

MAX_LENGTH = {
    "city": 128,
    "companyName": 64,
    "country": 128,
    "department": 64,
    "displayName": 256,
    "employeeId": 16,
    "givenName": 64,
    "jobTitle": 128,
    "mailNickname": 64,
    "mobilePhone": 64,
    "officeLocation": 128,
    "postalCode": 40,
    "state": 128,
    "streetAddress": 1024,
    "surname": 64,
}
"""The string properties whose length the "user resource type" page caps ("Maximum length is
64 characters."); Graph refuses a longer value."""

_DATE_TIME_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})", re.ASCII
)
"""An Edm.DateTimeOffset as Graph takes it (`2014-01-01T00:00:00Z`)."""


def live_user(key: str) -> DirectoryUser:
    """The user a `users/{id | userPrincipalName}` segment names, not in the recycle bin;
    Graph's 404 otherwise (a mail is not a key here, as in Graph)."""
    key = object_key(key)
    user = context().directory.find_user(key)
    if (
        user is None
        or user.deleted
        or (user.id != key and user.user_principal_name.casefold() != key.casefold())
    ):
        raise not_found(key)
    return user


def _invalid(name: str) -> Exception:
    return bad_request(f"Invalid value specified for property '{name}' of resource 'User'.")


def _check_password_profile(value: object) -> None:
    """A passwordProfile is an object whose password is a non-empty string (it is not kept)."""
    password = value.get("password") if isinstance(value, Mapping) else None
    if not isinstance(password, str) or not password:
        raise bad_request(
            "Invalid value specified for property 'passwordProfile' of resource 'User': an "
            'object with "password" (a string) is required.'
        )
    force = value.get("forceChangePasswordNextSignIn") if isinstance(value, Mapping) else None
    if force is not None and not isinstance(force, bool):
        raise _invalid("passwordProfile")


def verified_domains() -> set[str]:
    """The tenant's verified domains: its own, and the domains its users' UPNs are in (a
    seeded tenant's domain), lower case."""
    rows = context().store.query(
        "SELECT DISTINCT substr(upn_norm, instr(upn_norm, '@') + 1) AS domain FROM entra_users"
    )
    return {context().tenant_domain.lower(), *(str(r["domain"]) for r in rows)}


def _check_upn(upn: str) -> None:
    alias, _, domain = upn.rpartition("@")
    if not alias or not _UPN_ALIAS.fullmatch(alias) or alias.startswith(".") or ".." in alias:
        raise bad_request(
            f"Property userPrincipalName is invalid: '{upn}'. Its alias may hold A - Z, a - z, "
            "0 - 9 and ' . - _ ! # ^ ~ only (no accents), as alias@domain."
        )
    if domain.lower() not in verified_domains():
        raise bad_request(
            "The domain portion of the userPrincipalName property is invalid. You must use one "
            f"of the verified domain names in your organization ({context().tenant_domain})."
        )


def _check_value(name: str, value: object) -> None:
    """Graph's 400 for a value of the wrong type: accountEnabled a boolean, employeeHireDate a
    DateTimeOffset, every other property a string or null (never cleared when required), no
    longer than its maximum length (MAX_LENGTH)."""
    if name in NOT_NULLABLE and value in (None, ""):
        raise _invalid(name)
    if name == "accountEnabled":
        if not isinstance(value, bool):
            raise _invalid(name)
    elif value is not None and not isinstance(value, str):
        raise _invalid(name)
    elif value is not None and len(value) > MAX_LENGTH.get(name, len(value)):
        raise bad_request(
            f"Invalid value specified for property '{name}' of resource 'User': at most "
            f"{MAX_LENGTH[name]} characters, got {len(value)}."
        )
    elif name == "employeeHireDate" and value and not _DATE_TIME_OFFSET.fullmatch(str(value)):
        raise bad_request(
            "Invalid value specified for property 'employeeHireDate' of resource 'User': a "
            f"DateTimeOffset such as 2024-04-01T00:00:00Z, got '{value}'."
        )
    elif name == "employeeHireDate" and value:
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(name) from None
    elif name == "userPrincipalName":
        _check_upn(str(value))


def directory_properties(body: Mapping[str, Any]) -> dict[str, object]:
    """A Graph user body as the tenant's properties; Graph's 400 for a property the surface
    does not have or a value of the wrong shape."""
    out: dict[str, object] = {}
    for name, value in body.items():
        if name == "passwordProfile":
            _check_password_profile(value)
        if name in IGNORED:
            continue
        if name in SAME:
            _check_value(name, value)
            out[name] = value
        elif name in RENAMED:
            _check_value(name, value)
            out[RENAMED[name]] = value
        elif name == "businessPhones":
            if (
                not isinstance(value, list)
                or len(value) > 1
                or not all(isinstance(v, str) for v in value)
            ):
                raise bad_request(
                    "Invalid value specified for property 'businessPhones' of resource 'User': "
                    "a list of at most one phone number."
                )
            out["telephoneNumber"] = value[0] if value else None
        elif name == "onPremisesExtensionAttributes":
            if not isinstance(value, dict):
                raise _invalid(name)
            for attribute, text in value.items():
                if attribute not in EXTENSION_ATTRIBUTES:
                    raise bad_request(
                        f"Property '{attribute}' of onPremisesExtensionAttributes is not "
                        "modelled by the sandbox (it keeps extensionAttribute1 to 5)."
                    )
                if text is not None and not isinstance(text, str):
                    raise _invalid(f"onPremisesExtensionAttributes/{attribute}")
                out[attribute] = text
        else:
            raise bad_request(
                f"Property '{name}' does not exist as a declared property or extension "
                "property of the sandbox's user (docs/graph.md lists the modelled ones)."
            )
    return out


def _entity(user: DirectoryUser, select: tuple[str, ...] = ()) -> dict[str, object]:
    body = project(user_json(user), select, USER_SPEC)
    return {"@odata.context": context_url(root(), "users/$entity", select), **body}


@bp.get("/users")
def list_users() -> Response:
    users = context().directory.users(limit=None, include_deleted=False)
    return collection((user_json(u) for u in users), USER_SPEC, "users")


@bp.get("/users/<key>")
def get_user(key: str) -> Response:
    select = check_select(request, USER_SPEC)
    return respond(_entity(live_user(key), select))


@bp.post("/users")
def create_user() -> Response:
    body = read_json()
    for name in REQUIRED_ON_CREATE:
        if body.get(name) is None or body.get(name) == "":
            raise _invalid(name)
    props = directory_properties(body)
    with context().lock:
        user = context().directory.add_user(**props)
    location = f"{root()}/v1.0/users/{user.id}"
    return respond(_entity(user), 201, Location=location)


@bp.patch("/users/<key>")
def update_user(key: str) -> Response:
    body = read_json()
    props = directory_properties(body)
    with context().lock:
        user = live_user(key)
        if props:
            context().directory.edit_user(user.id, **props)
    return respond(None, 204)


@bp.delete("/users/<key>")
def delete_user(key: str) -> Response:
    with context().lock:
        user = live_user(key)
        context().directory.soft_delete(user.id)  # Graph: to deleted items for 30 days
    return respond(None, 204)


@bp.get("/users/<key>/manager")
def get_manager(key: str) -> Response:
    select = check_select(request, USER_SPEC)
    user = live_user(key)
    manager = context().directory.find_user(user.manager) if user.manager else None
    if manager is None or manager.deleted:
        raise not_found("manager")
    body = typed(project(user_json(manager), select, USER_SPEC), "user")
    fragment = context_url(root(), "directoryObjects/$entity", select)
    return respond({"@odata.context": fragment, **body})


_REFERENCE = re.compile(
    r"/(?:directoryObjects|users|groups)(?:/|\(')(?P<id>[^/')]+)'?\)?/?$", re.IGNORECASE
)


def referenced_id(body: Mapping[str, Any]) -> str:
    """The object id an `{"@odata.id": ".../directoryObjects/{id}"}` body points at."""
    url = body.get("@odata.id")
    match = _REFERENCE.search(url) if isinstance(url, str) else None
    if match is None:
        raise bad_request(
            'Invalid reference: the body needs "@odata.id" as '
            '"https://graph.microsoft.com/v1.0/directoryObjects/{id}".'
        )
    return object_key(match.group("id"))


@bp.put("/users/<key>/manager/$ref")
def set_manager(key: str) -> Response:
    manager_id = referenced_id(read_json())
    with context().lock:
        user = live_user(key)
        live_user(manager_id)
        context().directory.edit_user(user.id, manager=manager_id)
    return respond(None, 204)


@bp.delete("/users/<key>/manager/$ref")
def remove_manager(key: str) -> Response:
    with context().lock:
        user = live_user(key)
        if not user.manager:
            raise not_found("manager")
        context().directory.edit_user(user.id, manager=None)
    return respond(None, 204)
