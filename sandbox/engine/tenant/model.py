"""Provides the tenant directory's values: DirectoryUser, DirectoryGroup, Change and their rules.

Property names are Entra's (Microsoft Graph `user` resource); the records are what the
attribute mappings read (`DirectoryUser.source()`), so they use exactly the names listed in
`sandbox.engine.mappings.mapping.ENTRA_USER_ATTRIBUTES`.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from sandbox import jsontext
from sandbox.errors import SandboxError

PROPERTY_NAMES: tuple[str, ...] = tuple(
    """userPrincipalName mail mailNickname displayName givenName surname jobTitle department
    employeeId employeeType employeeHireDate companyName preferredLanguage country city state
    streetAddress postalCode physicalDeliveryOfficeName usageLocation telephoneNumber mobile
    facsimileTelephoneNumber manager accountEnabled userType extensionAttribute1
    extensionAttribute2 extensionAttribute3 extensionAttribute4 extensionAttribute5""".split()
)
"""The user properties the tenant stores (Entra names), in the order listings show them."""

USER_TYPES = ("Member", "Guest")
"""Entra's userType values; B2B guests are "Guest"."""

CHANGE_KINDS = frozenset(
    """add update softDelete restore hardDelete block unblock memberAdd memberRemove assign
    unassign roleChange""".split()
)
"""What a `changes` row can record."""

RECYCLE_BIN_DAYS = 30
"""Entra keeps a soft-deleted user in the recycle bin 30 days, then deletes it for good."""

EXT_MARK = "#EXT#"
"""B2B guest UPNs: alias_theirdomain.com#EXT#@yourtenant.onmicrosoft.com."""

_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
UPN_SHAPE = re.compile(rf"^[^@\s]+@{_DOMAIN}$")
"""A UPN is alias@domain, the domain one of the tenant's (any dotted name here)."""
MAIL_SHAPE = re.compile(rf"^[^@\s#]+@{_DOMAIN}$")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


FIELDS: dict[str, str] = {name: _snake(name) for name in PROPERTY_NAMES}
"""Entra property name -> DirectoryUser field name (userPrincipalName -> user_principal_name)."""


Property = str | bool | None
"""A user property's value: accountEnabled is a bool, the others strings (None clears one)."""


def random_id() -> str:
    """A new objectId (GUID)."""
    return str(uuid.uuid4())


def external_upn(upn: str) -> str:
    """The UPN a B2B guest is matched and provisioned with: `alias_theirdomain#EXT#@yours`
    becomes `alias@theirdomain` (Entra docs, how-provisioning-works: guests)."""
    if EXT_MARK not in upn:
        return upn
    local = upn.split(EXT_MARK, 1)[0]
    alias, sep, domain = local.rpartition("_")
    return f"{alias}@{domain}" if sep and alias and domain else local


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """One tenant user: Entra properties, plus when it was created and soft-deleted."""

    id: str
    user_principal_name: str
    mail: str | None = None
    mail_nickname: str | None = None
    display_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    department: str | None = None
    employee_id: str | None = None
    employee_type: str | None = None
    employee_hire_date: str | None = None
    company_name: str | None = None
    preferred_language: str | None = None
    country: str | None = None
    city: str | None = None
    state: str | None = None
    street_address: str | None = None
    postal_code: str | None = None
    physical_delivery_office_name: str | None = None
    usage_location: str | None = None
    telephone_number: str | None = None
    mobile: str | None = None
    facsimile_telephone_number: str | None = None
    manager: str | None = None
    """The manager's objectId."""
    account_enabled: bool = True
    user_type: str = "Member"
    extension_attribute1: str | None = None
    extension_attribute2: str | None = None
    extension_attribute3: str | None = None
    extension_attribute4: str | None = None
    extension_attribute5: str | None = None
    created: str | None = None
    deleted_at: str | None = None
    """When the user went to the recycle bin (None: not deleted)."""

    @property
    def deleted(self) -> bool:
        """Whether the user is soft-deleted (in the recycle bin)."""
        return self.deleted_at is not None

    @property
    def is_guest(self) -> bool:
        """Whether the user is a B2B guest."""
        return self.user_type == "Guest"

    def properties(self) -> dict[str, Property]:
        """The stored Entra properties by their Entra names (nulls omitted)."""
        out: dict[str, Property] = {}
        for name, attr in FIELDS.items():
            value = getattr(self, attr)
            if value is not None:
                out[name] = value
        return out

    def source(self) -> dict[str, object]:
        """What attribute mappings read: Entra-named properties, nulls omitted.

        `objectId` is the id; for B2B guests `userPrincipalName` is the external form
        (`#EXT#` and the tenant domain stripped) and `originalUserPrincipalName` the raw UPN
        (Entra docs, how-provisioning-works). The engine adds IsSoftDeleted and
        appRoleAssignments itself.
        """
        out: dict[str, object] = {"objectId": self.id, **self.properties()}
        out["originalUserPrincipalName"] = self.user_principal_name
        out["userPrincipalName"] = external_upn(self.user_principal_name)
        return out

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict with Graph names (id, createdDateTime, deletedDateTime)."""
        return {
            "id": self.id,
            **self.properties(),
            "createdDateTime": self.created,
            "deletedDateTime": self.deleted_at,
        }

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> DirectoryUser:
        """Build from an entra_users row (its `props` JSON holds the Entra properties)."""
        props = jsontext.loads(row["props"])
        values = {FIELDS[name]: value for name, value in props.items() if name in FIELDS}
        return cls(id=row["id"], created=row["created"], deleted_at=row["deleted_at"], **values)


def user_row(
    object_id: str, props: Mapping[str, Property], created: str, deleted_at: str | None = None
) -> tuple[object, ...]:
    """The entra_users row of a user whose Entra properties (nulls omitted) are `props`."""
    upn = str(props["userPrincipalName"])
    return (
        object_id,
        upn,
        upn.casefold(),
        props.get("mail"),
        props.get("displayName"),
        1 if props.get("accountEnabled", True) else 0,
        props.get("userType", "Member"),
        created,
        deleted_at,
        jsontext.dumps(props),
    )


USER_INSERT = (
    "INSERT INTO entra_users (id, upn, upn_norm, mail, display_name, account_enabled, "
    "user_type, created, deleted_at, props) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""The statement `user_row` values go into."""


def clean_properties(props: Mapping[str, object]) -> dict[str, Property]:
    """Check property names and value types; "" and None clear a property.

    Raises SandboxError naming unknown or read-only properties and bad values.
    """
    unknown = sorted(set(props) - set(PROPERTY_NAMES))
    if unknown:
        readonly = [n for n in unknown if n in ("id", "objectId", "created", "deleted_at")]
        if readonly:
            raise SandboxError(
                f"read-only user propert{'ies' if len(readonly) > 1 else 'y'}: "
                f"{', '.join(readonly)}"
            )
        raise SandboxError(
            f"unknown user propert{'ies' if len(unknown) > 1 else 'y'}: {', '.join(unknown)} "
            f"(known: {', '.join(PROPERTY_NAMES)})"
        )
    out: dict[str, Property] = {}
    for name, value in props.items():
        if name == "accountEnabled":
            out[name] = _boolean(value)
        elif name == "userType":
            out[name] = _user_type(value)
        elif value is None or value == "":
            out[name] = None
        elif not isinstance(value, str):
            raise SandboxError(f"{name} must be a string, got {value!r}")
        else:
            out[name] = value.strip()
    if "userPrincipalName" in out:
        check_upn(out["userPrincipalName"])
    mail = out.get("mail")
    if mail is not None and not (isinstance(mail, str) and MAIL_SHAPE.match(mail)):
        raise SandboxError(f"mail {out['mail']!r} is not an email address (alias@domain)")
    return out


def check_upn(upn: object) -> None:
    """A UPN is required and shaped `alias@domain`."""
    if not upn:
        raise SandboxError("a user needs a userPrincipalName (alias@domain)")
    if not isinstance(upn, str) or not UPN_SHAPE.match(upn):
        raise SandboxError(
            f"userPrincipalName {upn!r} is not alias@domain (e.g. adele.vance@contoso.onmicrosoft.com)"
        )


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise SandboxError(f"accountEnabled must be true or false, got {value!r}")


def _user_type(value: object) -> str:
    for kind in USER_TYPES:
        if isinstance(value, str) and value.strip().casefold() == kind.casefold():
            return kind
    raise SandboxError(f"userType must be Member or Guest, got {value!r}")


@dataclass(frozen=True, slots=True)
class DirectoryGroup:
    """A security group; only its direct members count (nested groups are not expanded)."""

    id: str
    display_name: str
    description: str = ""
    created: str | None = None
    member_count: int = 0
    """Direct user members."""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict with Graph names."""
        return {
            "id": self.id,
            "displayName": self.display_name,
            "description": self.description,
            "securityEnabled": True,
            "createdDateTime": self.created,
            "memberCount": self.member_count,
        }


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded directory or assignment change; incremental cycles read them by `seq`."""

    seq: int
    at: str
    object_type: str
    """"User" or "Group"."""
    object_id: str
    change: str
    """One of CHANGE_KINDS."""
    detail: dict[str, object] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "seq": self.seq,
            "at": self.at,
            "objectType": self.object_type,
            "objectId": self.object_id,
            "change": self.change,
            "detail": self.detail,
        }
