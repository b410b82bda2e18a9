"""Provides the request bodies and query strings Entra's SCIM client sends, in both dialects.

Pure functions, no I/O: `user_patch` and `group_member_patch` build PatchOp bodies from mapping
changes, `group_post` the group create body, `filter_query` the matching query. The dialect is
chosen by the tenant URL: without ``?aadOptscim062020`` Entra speaks its 2017-era SCIM
(PascalCase ops, "True"/"False" strings, one op per attribute); with it, the RFC-closer form
(docs/entra-behaviour.md §3). Provision on demand always speaks the old one (§1.6).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from urllib.parse import quote_plus

from sandbox.engine.mappings.mapping import Change, parse_target_path
from sandbox.engine.scim.tenant_url import FLAG, Dialect, TenantUrl
from sandbox.errors import MappingError
from sandbox.scim_names import CORE_GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA, PATCH_OP

ADSCIM_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
"""The Microsoft schema Entra lists in every group POST (§9 step 2)."""
ROLE_TYPE = "WindowsAzureActiveDirectoryRole"
MANAGER_PATH = f"{ENTERPRISE_USER_SCHEMA}:manager"
SINGLE_ROLE_PATH = 'roles[primary eq "True"].value'
"""SingleAppRoleAssignment's target; note the *string* "True" in the filter (§5.4)."""

__all__ = [
    "ADSCIM_GROUP_SCHEMA",
    "FLAG",
    "Dialect",
    "base_url",
    "dialect_from_url",
    "encode_query",
    "filter_params",
    "filter_query",
    "group_member_patch",
    "group_patch",
    "group_post",
    "is_role_target",
    "manager_removal",
    "user_patch",
]


def dialect_from_url(tenant_url: str) -> Dialect:
    """The dialect a tenant URL asks for (`TenantUrl.dialect`)."""
    return TenantUrl.parse(tenant_url).dialect


def base_url(tenant_url: str) -> str:
    """The tenant URL without its query and trailing slash (`TenantUrl.base`)."""
    return TenantUrl.parse(tenant_url).base


def _op(name: str, dialect: Dialect) -> str:
    # §2.1: PascalCase ops unless the flag is set; §3 item 6: all lower-case with it.
    return name.lower() if dialect is Dialect.SCIM062020 else name


def _empty(value: object) -> bool:
    return value is None or value == "" or value == []


def _active(value: object, dialect: Dialect) -> object:
    text = str(value).lower() if isinstance(value, bool | str) else None
    if text not in ("true", "false"):
        return value
    if dialect is Dialect.SCIM062020:
        return text == "true"  # §3 item 1: a JSON boolean with the flag
    return "True" if text == "true" else "False"  # §2.5: the string "False" without it


def _role(value: object) -> dict[str, object]:
    """An app role as ``{id, value, displayName}``; a bare string is its own display name."""
    if isinstance(value, dict):
        role: dict[str, object] = {}
        if value.get("id") is not None:
            role["id"] = value["id"]
        role["value"] = value.get("value")
        role["displayName"] = value.get("displayName", value.get("display", value.get("value")))
        return role
    return {"value": value, "displayName": value}


def _stringified(role: dict[str, object]) -> dict[str, str]:
    # §5.4/§5.5: without the flag a role travels as stringified JSON inside "value", compact
    # as .NET writes it: {"value":"{\"id\":\"…\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}
    return {"value": json.dumps(role, separators=(",", ":"), ensure_ascii=False)}


def _role_ops(change: Change, dialect: Dialect) -> list[dict[str, object]]:
    """The PATCH op(s) for a role change (§5.4, §5.5)."""
    if change.path == SINGLE_ROLE_PATH:
        role = _role(change.new)
        if dialect is Dialect.LEGACY:
            return [{"op": "Add", "path": "roles", "value": [_stringified(role)]}]
        # The flag makes POST and PATCH role forms consistent (§3 item 5, exact form
        # UNCONFIRMED): the POST entry of §5.4, replacing the one primary role.
        entry = {"primary": True, "type": ROLE_TYPE, "value": role["value"]}
        op = "add" if _empty(change.old) else "replace"
        return [{"op": op, "path": "roles", "value": [entry]}]
    roles = [r for r in change.new if isinstance(r, dict)] if isinstance(change.new, list) else []
    if any("display" in r for r in roles):
        # AssertiveAppRoleAssignmentsComplex: one replace of the whole list with real objects,
        # written lower-case in the docs' example whatever the flag (§5.5).
        return [{"op": "replace", "path": "roles", "value": list(roles)}]
    # AppRoleAssignmentsComplex: add-only, every assigned role (§5.5), each with its app role's
    # id without the flag (Microsoft's example); with the flag, the POST's entries (no id).
    if dialect is Dialect.LEGACY:
        return [{"op": "Add", "path": "roles", "value": [_stringified(_role(r)) for r in roles]}]
    entries = [{k: v for k, v in r.items() if k != "id"} for r in roles]
    return [{"op": "add", "path": "roles", "value": entries}]


def _is_role(path: str) -> bool:
    return path == SINGLE_ROLE_PATH or path == "roles"


def is_role_target(path: str) -> bool:
    """Whether a mapping's target is the user's roles (``roles``, ``roles[primary eq "True"]
    .value``, any sub-attribute of a role): what provision on demand does not send (§1.6)."""
    try:
        return parse_target_path(path).attribute.lower() == "roles"
    except MappingError:
        return False


def user_patch(
    changes: Iterable[Change],
    dialect: Dialect,
    *,
    on_demand: bool = False,
    flow_nulls: bool = False,
) -> dict[str, object]:
    """The PatchOp body Entra sends for `changes` (from `mapping.diff`) to a linked user.

    LEGACY (§2.4): one op per attribute, each with a path, ``Replace`` when the attribute had a
    value and ``Add`` when it was empty. SCIM062020 (§3 item 3): value-filtered paths keep their
    own op; the other attributes are folded into one path-less ``replace`` (had a value) and one
    path-less ``add`` (new) whose keys are the dotted / URN-qualified target paths; a fold of a
    single attribute keeps its path (§3 items 1-2). Roles use the §5.4/§5.5 forms, the manager
    (a reference) always its own op with a plain string value (§2.4). `on_demand` forces LEGACY:
    provision on demand ignores the flag (§1.6).

    Removals (``new is None``) are dropped by default: Entra does not flow null values to SCIM
    apps (§2.1: the "flow null values" preview is inbound-only). The manager is the
    exception: a cleared manager is always sent, as ``Replace``/``replace`` of the manager
    path with "" (§2.4; Microsoft's gallery validation suite removes a manager with "Replace
    with empty" and expects the provisioning log's newValue empty). With `flow_nulls` the other
    removals become ``Remove``/``remove`` with a path. No op at all gives an empty
    ``Operations`` list: send nothing and log Skipped / RedundantExport (§2.4).
    """
    dialect = Dialect.LEGACY if on_demand else dialect
    own: list[dict[str, object]] = []
    folds: dict[str, dict[str, object]] = {"Replace": {}, "Add": {}}
    for change in changes:
        path = change.path
        if path == "members":
            raise ValueError("group members are patched with group_member_patch")
        if path == 'roles[primary eq "True"].type':
            continue  # Entra overwrites a mapped role type (§5.4)
        if change.new is None:
            if _empty(change.old):
                continue
            if path == MANAGER_PATH:
                own.append(manager_removal(dialect))
            elif flow_nulls:
                own.append({"op": _op("Remove", dialect), "path": path})
            continue
        if _is_role(path):
            own.extend(_role_ops(change, dialect))
            continue
        verb = "Add" if _empty(change.old) else "Replace"
        value = _active(change.new, dialect) if path == "active" else change.new
        target = parse_target_path(path)
        if dialect is Dialect.LEGACY or target.filter_attribute is not None or path == MANAGER_PATH:
            own.append({"op": _op(verb, dialect), "path": path, "value": value})
        else:
            folds[verb][path] = value
    operations = own
    for verb, fold in folds.items():
        if len(fold) == 1:
            ((path, value),) = fold.items()
            operations.append({"op": _op(verb, dialect), "path": path, "value": value})
        elif fold:
            operations.append({"op": _op(verb, dialect), "value": fold})
    return {"schemas": [PATCH_OP], "Operations": operations}


def manager_removal(dialect: Dialect) -> dict[str, object]:
    """The op that clears a user's manager: the manager path replaced with "" in both dialects
    (lower-case with the flag), never a ``Remove`` (§2.4)."""
    return {"op": _op("Replace", dialect), "path": MANAGER_PATH, "value": ""}


def group_patch(changes: Iterable[Change], dialect: Dialect) -> dict[str, object]:
    """The PatchOp for a group's non-member attributes (§9 step 4), same rules as users."""
    return user_patch(changes, dialect)


def group_member_patch(
    add_ids: Sequence[str],
    remove_ids: Sequence[str],
    dialect: Dialect,
    *,
    null_ref: bool = True,
) -> dict[str, object]:
    """The PatchOp adding and removing group members by the target's user ids (§9, §3 item 4).

    Add: one ``Add``/``add`` op ``path: members`` listing ``{"$ref": null, "value": id}`` in both
    dialects. Remove: LEGACY one ``Remove`` op with the same value list; SCIM062020 one
    ``remove`` op per member with path ``members[value eq "id"]`` and no value. Adds come first.
    `null_ref=False` drops ``"$ref": null``, as §3 item 4's "before" example shows (a DOC CONFLICT
    with §9 step 6, which has it).
    """
    if not add_ids and not remove_ids:
        raise ValueError("a member PATCH needs at least one member to add or remove")

    def members(ids: Sequence[str]) -> list[dict[str, object]]:
        return [{"$ref": None, "value": i} if null_ref else {"value": i} for i in ids]

    operations: list[dict[str, object]] = []
    if add_ids:
        operations.append({"op": _op("Add", dialect), "path": "members", "value": members(add_ids)})
    if remove_ids and dialect is Dialect.LEGACY:
        operations.append({"op": "Remove", "path": "members", "value": members(remove_ids)})
    elif remove_ids:
        for member in remove_ids:
            operations.append({"op": "remove", "path": f"members[value eq {_quoted(member)}]"})
    return {"schemas": [PATCH_OP], "Operations": operations}


def group_post(display_name: str, external_id: str | None = None) -> dict[str, object]:
    """The POST /Groups body: created with no members, members come by PATCH (§9 step 2)."""
    body: dict[str, object] = {"schemas": [CORE_GROUP_SCHEMA, ADSCIM_GROUP_SCHEMA]}
    if external_id is not None:
        body["externalId"] = external_id
    body["displayName"] = display_name
    body["meta"] = {"resourceType": "Group"}
    return body


def _quoted(value: str) -> str:
    # RFC 7644 §3.4.2.2: a filter string is a JSON string, so " and \ are escaped.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_params(attribute: str, value: str, *, resource: str = "Users") -> list[tuple[str, str]]:
    """The matching query's parameters, in Entra's order (see `filter_query`)."""
    params = [("filter", f"{attribute} eq {_quoted(value)}")]
    if resource == "Groups":
        # Groups put excludedAttributes=members first: Entra never reads members back (§4, §9).
        params.insert(0, ("excludedAttributes", "members"))
    return params


def filter_query(attribute: str, value: str, *, resource: str = "Users") -> str:
    """The matching query as Entra writes it (decoded): ``filter=userName eq "x"``.

    For ``resource="Groups"``: ``excludedAttributes=members&filter=displayName eq "x"``.
    `encode_query` turns the parameters into what goes on the wire.
    """
    params = filter_params(attribute, value, resource=resource)
    return "&".join(f"{name}={text}" for name, text in params)


def encode_query(params: Iterable[tuple[str, str]]) -> str:
    """Percent-encode query parameters for the wire; spaces become ``+``.

    Entra's traffic shows ``filter=externalId+eq+"…"`` (MicrosoftDocs/azure-docs#21660);
    quotes go as %22 since a raw ``"`` is not allowed in a URL.
    """
    return "&".join(f"{name}={quote_plus(value, safe='')}" for name, value in params)
