"""Provides the schema of each step action and of each expectation kind of an expect step.

An expectation must compare something: one with no field to compare is a file error, and a
count bound that every result meets (`min = 0`) is refused, so a check can fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.engine.sync.job import STATUSES as JOB_STATUSES
from sandbox.engine.sync.logs import ACTIONS as LOG_ACTIONS
from sandbox.engine.sync.logs import STATUSES as LOG_STATUSES
from sandbox.provider.org import MANAGED, PROVISIONED
from sandbox.scenarios.fields import (
    Table,
    Tables,
    boolean,
    duration,
    either,
    integer,
    text,
    texts,
)
from sandbox.scenarios.schema import (
    APP_ROLE,
    FAULT_FIELDS,
    HTTP_METHODS,
    KIND,
    LANGUAGE,
    MAPPING,
    MAX_CYCLES,
    MAX_INT,
    NAME,
    NULAB_ROLE,
    SETTINGS,
    UPN,
    USER_PROPERTIES,
    entra_properties,
    glob,
    language,
    reset_scope,
    status_code,
    tenant_url,
    timezone,
)


def _alone(key: str, *others: str) -> Any:
    def rule(table: Mapping[str, Any]) -> tuple[str, str] | None:
        given = [o for o in others if o in table]
        if key in table and given:
            return key, f"{key} is an exact number: give it or {' / '.join(given)}, not both"
        return None

    return rule


def _min_max(table: Mapping[str, Any]) -> tuple[str, str] | None:
    if "min" in table and "max" in table and table["min"] > table["max"]:
        return "min", f"min {table['min']} is above max {table['max']}: nothing can match"
    return None


def _exists_alone(table: Mapping[str, Any]) -> tuple[str, str] | None:
    others = sorted(set(table) - {"email", "exists"})
    if table.get("exists") is False and others:
        return "exists", f"nothing to compare on a member expected not to exist: drop {others[0]}"
    return None


MEMBER = Table(
    {
        "email": NAME,
        "exists": boolean,
        "role": NULAB_ROLE,
        "active": boolean,
        "label": text(choices=(MANAGED, PROVISIONED), fold=True),
        "language": LANGUAGE,
        "timezone": timezone,
        "teams": texts,
        "kind": KIND,
        "username": NAME,
    },
    required=("email",),
    rules=(_exists_alone,),
)
"""A member's state (`exists` defaults to true: a member with only its email must exist)."""
TEAM = Table({"name": NAME, "members": texts, "admins": texts}, required=("name",))
"""A team (with only its name: the team must exist)."""
LOG_FILTERS = ("user", "action", "status", "error_code", "cycle", "reason")
LOG = Table(
    {
        "user": NAME,
        "action": text(choices=LOG_ACTIONS, fold=True),
        "status": text(choices=LOG_STATUSES, fold=True),
        "error_code": NAME,
        "cycle": either(text(choices=("last",)), integer(1, MAX_INT)),
        "reason": NAME,
        "count": integer(0, MAX_INT),
        "min": integer(1, MAX_INT),
    },
    one_of=(*LOG_FILTERS, "count", "min"),
    empty="nothing to compare",
    rules=(_alone("count", "min"),),
)
"""Provisioning-log records matching the filters: `count` exactly, else at least `min` (1)."""
REQUEST_FILTERS = ("side", "method", "path", "status", "body")
REQUESTS = Table(
    {
        "side": text(choices=("engine", "provider")),
        "method": text(choices=HTTP_METHODS, fold=True),
        "path": glob,
        "status": status_code,
        "body": NAME,
        "since": text(choices=("start", "expect")),
        "count": integer(0, MAX_INT),
        "min": integer(1, MAX_INT),
        "max": integer(0, MAX_INT),
    },
    one_of=(*REQUEST_FILTERS, "count", "min", "max"),
    empty="nothing to compare",
    rules=(_alone("count", "min", "max"), _min_max),
)
"""HTTP exchanges matching the filters, since the run began (`since = "start"`, the default) or
the previous expect step (`since = "expect"`): `count` exactly, else between `min` (1) and
`max`."""
JOB = Table(
    {
        "status": text(choices=JOB_STATUSES, fold=True),
        "quarantined": boolean,
        "quarantine_reason": NAME,
        "initial_needed": boolean,
        "linked_users": integer(0, MAX_INT),
        "running": boolean,
        "schedule": text(choices=("Active", "Paused", "Disabled"), fold=True),
    },
    one_of=(
        "status",
        "quarantined",
        "quarantine_reason",
        "initial_needed",
        "linked_users",
        "running",
        "schedule",
    ),
    empty="nothing to compare",
)
CONNECTION = Table(
    {"ok": boolean, "message": NAME}, one_of=("ok", "message"), empty="nothing to compare"
)
"""The last test-connection: its result and a part of its message."""

EXPECTATIONS: dict[str, Table] = {
    "member": MEMBER,
    "team": TEAM,
    "log": LOG,
    "requests": REQUESTS,
    "job": JOB,
    "connection": CONNECTION,
}
"""The expectation kinds of an expect step, in the order they are checked."""

_USER = {"user": NAME}
ACTIONS: dict[str, Table] = {
    "assign": Table({"principal": NAME, "role": APP_ROLE}, required=("principal",)),
    "set-role": Table({"principal": NAME, "role": APP_ROLE}, required=("principal", "role")),
    "unassign": Table({"principal": NAME, "role": APP_ROLE}, required=("principal",)),
    "soft-delete": Table(_USER, required=("user",)),
    "restore": Table(_USER, required=("user",)),
    "hard-delete": Table(_USER, required=("user",)),
    "block": Table({**_USER, "blocked": boolean}, required=("user",)),
    "edit": Table(
        {
            **_USER,
            "set": Table({}, keys=entra_properties, one_of=("*",), empty="nothing to change"),
        },
        required=("user", "set"),
    ),
    "add-user": Table({"upn": UPN, **USER_PROPERTIES}, required=("upn",)),
    "add-member": Table({"group": NAME, **_USER}, required=("group", "user")),
    "remove-member": Table({"group": NAME, **_USER}, required=("group", "user")),
    "sync": Table({"cycles": integer(1, MAX_CYCLES), "until_idle": boolean}),
    "advance": Table({"by": duration}, required=("by",)),
    "pod": Table({**_USER, "refused": NAME}, required=("user",)),
    # refused: the step expects the sandbox to refuse the user, with this in the reason
    "fault": Table(FAULT_FIELDS),
    "clear-faults": Table({}),
    "test-connection": Table({}),
    "restart": Table({"reset": reset_scope}),
    "allow-deletes": Table({}),
    "configure": Table(
        {**SETTINGS, "tenant_url": tenant_url, "secret_token": NAME},
        one_of=(*SETTINGS, "tenant_url", "secret_token"),
        empty="nothing to change",
    ),
    "mapping": Table(
        {**MAPPING.fields, "force": boolean},  # force: a custom attribute the target lacks
        required=MAPPING.required,
        rules=MAPPING.rules,
    ),
    "admin-edit": Table(
        {
            "member": NAME,
            "role": NULAB_ROLE,
            "language": language,
            "timezone": timezone,
            "name": NAME,
            "active": boolean,
        },
        required=("member",),
        one_of=("role", "language", "timezone", "name", "active"),
        empty="nothing to change",
    ),
    "reissue-token": Table({"issuer": NAME}, required=("issuer",)),
    "expect": Table(
        {**{k: Tables(t, single=True) for k, t in EXPECTATIONS.items()}, "note": text(empty=True)},
        one_of=tuple(EXPECTATIONS),
        empty="nothing to check",
    ),
}
"""Every step action with the schema of its fields (besides `action`)."""
