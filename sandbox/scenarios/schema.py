"""Provides the schema of scenario files: every section, sub-table, step and expectation, with
the type and the values of each of its fields.

`sandbox.scenarios.validate` walks a file against it before the first step runs, so a mistake
is a ScenarioError naming the file, the line and the field, never an exception in mid-run.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sandbox.engine.mappings.mapping import MappingType, source_problem
from sandbox.engine.mappings.paths import parse_target_path
from sandbox.engine.tenant.app import APP_ROLES
from sandbox.engine.tenant.model import FIELDS, MAIL_SHAPE, UPN_SHAPE, clean_properties
from sandbox.errors import SandboxError
from sandbox.provider.faults import FAULT_STATUSES, MAX_LATENCY_MS
from sandbox.provider.org import EMAIL, LANGUAGES, ROLES, is_timezone
from sandbox.scenarios.fields import (
    Check,
    Invalid,
    Table,
    Tables,
    boolean,
    day,
    integer,
    number,
    number_between,
    text,
    texts,
)

MAX_OBJECTS = 1000
"""Most seeded users, members, groups or guests a scenario asks for (scenarios are small)."""
MAX_INT = 2**31 - 1
MAX_SEED = 2**32 - 1
MAX_CYCLES = 100
"""Most cycles one sync step runs."""

NAME = text()
EMAIL_ADDRESS = text(shape=EMAIL, like="an email address such as ada@example.com")
UPN = text(shape=UPN_SHAPE, like="a user principal name such as ada@contoso.onmicrosoft.com")
NULAB_ROLE = text(choices=ROLES, fold=True)
APP_ROLE = text(
    choices=[r.value for r in APP_ROLES] + [r.display_name for r in APP_ROLES], fold=True
)
LANGUAGE = text(choices=tuple(LANGUAGES), fold=True)
KIND = text(choices=("managed", "nulab"))
RESET_SCOPES = ("None", "ConnectorDataStore", "Escrows", "Watermark", "QuarantineState", "Full")
"""The scopes `restart` takes (ForceDeletes is what allow-deletes does)."""
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def timezone(value: Any) -> None:
    """An IANA time zone."""
    if not is_timezone(value):
        raise Invalid("an IANA time zone such as Asia/Tokyo")


def language(value: Any) -> None:
    """A language tag whose language Nulab has (en-US, ja...)."""
    text()(value)
    if value.strip().split("-")[0].split("_")[0].lower() not in LANGUAGES:
        raise Invalid("English or Japanese (en, ja, en-US...)")


def reset_scope(value: Any) -> None:
    """Restart scopes, comma-separated."""
    scopes = [s.strip() for s in value.split(",")] if isinstance(value, str) else [None]
    if not all(s in RESET_SCOPES for s in scopes if s != ""):
        raise Invalid(f"one or more of {', '.join(RESET_SCOPES)}, comma-separated")


def tenant_url(value: Any) -> None:
    """An http(s) URL."""
    text()(value)
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018  (reading it checks it)
    except ValueError:  # a malformed IPv6 host, a port past 65535
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise Invalid("an http(s) URL such as https://nulab.example/scim/v2")


def target_path(value: Any) -> None:
    """A SCIM attribute path a mapping can target."""
    text()(value)
    try:
        parse_target_path(value)
    except SandboxError as error:
        raise Invalid(f"a SCIM target attribute ({error})") from None


def status_code(value: Any) -> None:
    """An HTTP status."""
    integer(100, 599)(value)


def fault_status(value: Any) -> None:
    """A status a fault rule answers with."""
    if isinstance(value, bool) or value not in FAULT_STATUSES:
        raise Invalid(f"one of {', '.join(map(str, FAULT_STATUSES))}")


SCIM_ENDPOINTS = ("Users", "Groups", "Schemas", "ServiceProviderConfig", "ResourceTypes")
"""The first segment of every path a request expectation can see, below the tenant URL's
base path (the engine calls nothing else)."""


def glob(value: Any) -> None:
    """A path glob as request expectations match it (/Users, /Users/*): case-sensitive, below
    the tenant URL's base path, and able to match a path the engine calls (one that cannot
    would make `count = 0` or `max = 0` hold whatever was sent)."""
    text()(value)
    if not value.startswith(("/", "*")):
        raise Invalid("a path glob starting with / or * (such as /Users/*)")
    first = value.lstrip("/").split("/", 1)[0]
    if value.startswith("*") or any(fnmatch.fnmatchcase(e, first) for e in SCIM_ENDPOINTS):
        return
    folded = [e for e in SCIM_ENDPOINTS if fnmatch.fnmatch(e.lower(), first.lower())]
    if folded:
        raise Invalid(f"a case-sensitive path glob (/{folded[0]}, not /{first})")
    raise Invalid(
        "a path glob below the tenant URL's base path, starting with one of "
        + ", ".join(f"/{e}" for e in SCIM_ENDPOINTS)
        + " (/Users/*, not /scim/v2/Users/*)"
    )


def _entra(name: str) -> Check:
    def check(value: Any) -> None:
        if not isinstance(value, str | bool):
            raise Invalid("a string" if name not in ("accountEnabled",) else "true or false")
        try:
            clean_properties({name: value})
        except SandboxError as error:
            raise Invalid(f"a valid {name} ({error})") from None

    return check


def entra_properties(props: Mapping[str, Any]) -> None:
    """Entra user properties by their Entra names (the `set` of an edit step)."""
    for name, value in props.items():
        _entra(name)(value)


def steps(value: Any) -> None:
    """The steps: an array of one or more tables."""
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise Invalid("one or more [[step]] tables")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


USER_PROPERTIES: dict[str, Check] = {
    snake: _entra(name)
    for name, snake in FIELDS.items()
    if name != "userPrincipalName" and _camel(snake) == name
}
"""An Entra user's properties in snake_case (display_name, preferred_language...), as
[[tenant.user]] and add-user name them."""
USER_PROPERTIES["mail"] = text(shape=MAIL_SHAPE, like="an email address such as ada@example.com")


def _expression(table: Mapping[str, Any]) -> tuple[str, str] | None:
    """A mapping's source: a parsed expression (column shown) or a Direct attribute, reading
    only attributes a tenant user has (`source_problem`, the check every mapping edit makes)."""
    source, kind = table.get("source"), table.get("type")
    if not isinstance(source, str) or not isinstance(kind, str | None):
        return None
    if kind is None:
        kind = "Expression" if "(" in source else "Direct"
    if kind not in {t.value for t in MappingType}:
        return None
    problem = source_problem(source, kind)
    return None if problem is None else ("source", problem)


MAPPING = Table(
    {
        "target": target_path,
        "source": text(empty=True),
        "type": text(choices=[t.value for t in MappingType]),
        "default": text(empty=True),
        "create_only": boolean,
        "matching": integer(0, 100),
    },
    required=("target", "source"),
    rules=(_expression,),
)
FAULT_FIELDS: dict[str, Check] = {
    "method": text(choices=(*HTTP_METHODS, "*"), fold=True),
    "path": text(),
    "status": fault_status,
    "retry_after": integer(0, 86400),
    "latency_ms": integer(0, MAX_LATENCY_MS),
    "drop": boolean,
    "count": integer(1, MAX_INT),
    "probability": number(1),
    "seed": integer(0, MAX_SEED),
}
SETTINGS: dict[str, Check] = {
    "flag": boolean,
    "scope": text(choices=("assigned", "all")),
    "groups": boolean,
    "delete_threshold": integer(1, MAX_INT),
    "skip_out_of_scope_deletions": boolean,
    "escrow_threshold": integer(1, MAX_INT),
    "create": boolean,
    "update": boolean,
    "delete": boolean,
    "mappings": text(choices=("default", "nulab")),
    # the simulated time an object costs a cycle (§1.5)
    "object_minutes_min": number_between(0, 60),
    "object_minutes_max": number_between(0, 60),
    "create_factor": number_between(1, 10),
}
"""Provisioning settings a scenario sets in [provisioning] or changes with a configure step."""
PROVIDERS = ("nulab", "scim")
"""What the engine provisions into: the Nulab provider (default) or a plain SCIM 2.0 peer with
/Groups (sandbox/scenarios/peer.py), for scenarios that provision groups."""

TOP_LEVEL = Table(
    {
        "name": NAME,
        "description": text(empty=True),
        "seed": integer(0, MAX_SEED),
        "tenant": Table(
            {
                "users": integer(0, MAX_OBJECTS),
                "from_organization": boolean,
                "groups": integer(0, MAX_OBJECTS),
                "guests": integer(0, MAX_OBJECTS),
                "user": Tables(Table({"upn": UPN, **USER_PROPERTIES}, required=("upn",))),
                "group": Tables(
                    Table(
                        {"name": NAME, "description": text(empty=True), "members": texts},
                        required=("name",),
                    )
                ),
            }
        ),
        "organization": Table(
            {
                "members": integer(0, MAX_OBJECTS),
                "member": Tables(
                    Table(
                        {
                            "email": EMAIL_ADDRESS,
                            "name": NAME,
                            "kind": KIND,
                            "role": NULAB_ROLE,
                            "language": LANGUAGE,
                            "timezone": timezone,
                            "updated": day,
                            "active": boolean,
                            "owner": boolean,
                        },
                        required=("email",),
                    )
                ),
                "team": Tables(
                    Table(
                        {
                            "name": NAME,
                            "guests_allowed": boolean,
                            "members": texts,
                            "admins": texts,
                        },
                        required=("name",),
                    )
                ),
                "token_issuer": NAME,
                "seat_limit": integer(1, MAX_INT),
                "domain": text(
                    shape=re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"),
                    like="a domain such as example.com",
                ),
            }
        ),
        "provisioning": Table(
            {
                **SETTINGS,
                "provider": text(choices=PROVIDERS),
                "mapping": Tables(MAPPING),
                "fault": Tables(Table(FAULT_FIELDS)),
            }
        ),
        "step": steps,  # then each step against its action's schema
    },
    required=("seed",),
)
"""The file: its sections and their sub-tables."""
