"""Any TOML value in any field of any step kind or section gives a ScenarioError naming the file,
the line and the field, or a run (passed, failed, or a step the sandbox refused, told with its
file and line), never another exception."""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.scenarios import ScenarioError, load, run_scenario

ADA = "ada@contoso.onmicrosoft.com"

STEPS: dict[str, dict[str, Any]] = {
    # every action with a valid value for each of its fields
    "assign": {"principal": ADA, "role": "USER"},
    "set-role": {"principal": ADA, "role": "GUEST"},
    "unassign": {"principal": ADA, "role": "USER"},
    "soft-delete": {"user": ADA},
    "restore": {"user": ADA},
    "hard-delete": {"user": ADA},
    "block": {"user": ADA, "blocked": True},
    "edit": {"user": ADA, "set": {"displayName": "Ada K"}},
    "add-user": {
        "upn": "new@contoso.onmicrosoft.com",
        "mail": "new@example.com",
        "display_name": "New",
    },
    "add-member": {"group": "Team", "user": ADA},
    "remove-member": {"group": "Team", "user": ADA},
    "sync": {"cycles": 1, "until_idle": False},
    "advance": {"by": "1h"},
    "pod": {"user": ADA},
    "fault": {"method": "PUT", "path": "/Nothing", "status": 500, "count": 1},
    "clear-faults": {},
    "test-connection": {},
    "restart": {"reset": "Full"},
    "allow-deletes": {},
    "configure": {
        "flag": False,
        "scope": "assigned",
        "groups": False,
        "delete_threshold": 500,
        "skip_out_of_scope_deletions": False,
        "escrow_threshold": 5000,
        "create": True,
        "update": True,
        "delete": True,
        "mappings": "nulab",
        "tenant_url": "https://nulab.example/scim/v2",
        "secret_token": "issued",
    },
    "mapping": {
        "target": "title",
        "source": "[jobTitle]",
        "type": "Direct",
        "default": "x",
        "create_only": False,
        "matching": 0,
    },
    "admin-edit": {
        "member": "owner@example.com",
        "role": "ADMIN",
        "language": "en",
        "timezone": "Asia/Tokyo",
        "name": "Olive",
        "active": True,
    },
    "reissue-token": {"issuer": "owner@example.com"},
}
EXPECTATIONS: dict[str, dict[str, Any]] = {
    "member": {
        "email": "ada@example.com",
        "role": "USER",
        "active": True,
        "language": "en",
        "timezone": "Asia/Tokyo",
        "teams": [],
        "kind": "managed",
        "username": "Ada",
        "label": "Provisioned Managed Account",
        "exists": True,
    },
    "team": {"name": "Ops", "members": [], "admins": []},
    "log": {
        "user": ADA,
        "action": "Create",
        "status": "Success",
        "error_code": "X",
        "cycle": "last",
        "reason": "x",
    },
    "requests": {"side": "engine", "method": "GET", "path": "/Users", "status": 200, "body": "x"},
    "job": {
        "status": "Paused",
        "quarantined": False,
        "quarantine_reason": "x",
        "initial_needed": False,
        "linked_users": 1,
    },
    "connection": {"ok": True, "message": "credentials"},
}
SECTIONS: dict[str, dict[str, Any]] = {
    "": {"name": "fuzz", "description": "", "seed": 5},
    "tenant": {"users": 0, "from_organization": False, "groups": 0, "guests": 0},
    "organization": {
        "members": 0,
        "token_issuer": "owner@example.com",
        "seat_limit": 10,
        "domain": "example.com",
    },
    "provisioning": {
        **{k: v for k, v in STEPS["configure"].items() if k not in ("tenant_url", "secret_token")},
        "mappings": "nulab",
    },
    "tenant.user": {
        "upn": ADA,
        "mail": "ada@example.com",
        "display_name": "Ada",
        "preferred_language": "en-US",
        "country": "Japan",
    },
    "tenant.group": {"name": "Team", "description": "", "members": []},
    "organization.member": {
        "email": "owner@example.com",
        "name": "Olive",
        "kind": "managed",
        "role": "ADMIN",
        "language": "en",
        "timezone": "Asia/Tokyo",
        "updated": "2024-01-01",
        "active": True,
        "owner": True,
    },
    "organization.team": {"name": "Ops", "guests_allowed": True, "members": [], "admins": []},
    "provisioning.mapping": STEPS["mapping"],
    "provisioning.fault": STEPS["fault"],
}


def toml(value: Any) -> str:
    """A TOML value (inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(value)
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(text, text)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml(v)}" for k, v in value.items()) + "}"


def table(header: str, fields: dict[str, Any]) -> str:
    lines = [header] if header else []
    lines += [
        f"{json.dumps(k) if not k.replace('_', '').isalnum() else k} = {toml(v)}"
        for k, v in fields.items()
    ]
    return "\n".join(lines) + "\n\n"


def scenario(sections: dict[str, dict[str, Any]], last: dict[str, Any]) -> str:
    text = table("", sections[""])
    for name in ("tenant", "organization", "provisioning"):
        text += table(f"[{name}]", sections[name])
    for name in (
        "tenant.user",
        "tenant.group",
        "organization.member",
        "organization.team",
        "provisioning.mapping",
        "provisioning.fault",
    ):
        text += table(f"[[{name}]]", sections[name])
    text += table("[[step]]", {"action": "assign", "principal": ADA})
    text += table("[[step]]", {"action": "sync"})
    return text + table("[[step]]", last)


scalars = st.one_of(
    st.none().map(lambda _: ""),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-3, max_value=3000),
    st.floats(),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
    st.sampled_from(
        [
            "last",
            "*",
            "GET",
            "USER",
            "31d",
            "0d",
            "en",
            "Full",
            "/Users/*",
            ADA,
            "ada@example.com",
            "Join(",
            "[mail]",
            "Expression",
            "2023-01-16",
        ]
    ),
    st.dates(),
    st.datetimes(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), inner, max_size=3)
    ),
    max_leaves=6,
)
unknown = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)


def outcome(text: str, field: str) -> None:
    """The property: a load error naming `field` with file:line, or a run."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load(path)
        except ScenarioError as error:
            message = str(error)
            assert message.startswith(f"{path}:"), message
            assert field in message or "invalid TOML" in message, message
            return
        try:
            run_scenario(str(path))
        except ScenarioError as error:  # the world or a step refused: file and line
            assert str(error).startswith(f"{path}:"), str(error)


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.data())
def test_any_value_in_any_step_field(data):
    kinds = [*STEPS, *(f"expect.{k}" for k in EXPECTATIONS)]
    kind = data.draw(st.sampled_from(kinds))
    if kind.startswith("expect."):
        fields = dict(EXPECTATIONS[kind.split(".")[1]])
    else:
        fields = dict(STEPS[kind])
    field = data.draw(st.sampled_from([*fields, "action"]) | unknown)
    fields[field] = data.draw(values)
    if kind.startswith("expect."):
        last = {"action": "expect", kind.split(".")[1]: fields}
    else:
        last = {"action": kind, **fields}
    outcome(scenario(SECTIONS, last), field)


@FAST
@given(st.data())
def test_any_value_in_any_section_field(data):
    name = data.draw(st.sampled_from(list(SECTIONS)))
    sections = {k: dict(v) for k, v in SECTIONS.items()}
    field = data.draw(st.sampled_from(list(sections[name])) | unknown)
    sections[name][field] = data.draw(values)
    outcome(scenario(sections, {"action": "expect", "job": {"quarantined": False}}), field)
