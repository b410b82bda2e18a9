"""Provides OrgRules, the hooks an organization's rules plug into the SCIM core.

The SCIM core is a plain RFC 7644 provider; an organization (such as the Nulab one) can
restrict what searches see, reshape writes, add its own columns and side effects, and
refuse actions, by overriding these hooks. What it stores beside the core's user rows (its
columns, what a deletion takes with it) it declares as `storage`, which the core's
UserRepository is built with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ScimError
from sandbox.provider.users import CORE_STORAGE, Effects, OrgStorage, StoredUser


@dataclass
class WritePlan:
    """What a create or update will store: the document, organization columns (those its
    storage declares), side effects."""

    doc: dict[str, Any]
    org: dict[str, Any] = field(default_factory=dict)
    effects: Effects | None = None
    """Writes run in the same transaction as the user's (e.g. team changes)."""


class OrgRules:
    """The plain SCIM core: every hook lets the request through unchanged."""

    storage: OrgStorage = CORE_STORAGE
    """The organization's columns and deletion effects (the plain core: none)."""

    def restrict_search(self, where: str, params: list[Any]) -> tuple[str, list[Any]]:
        """Narrow a list/search WHERE clause (e.g. to accounts eligible for provisioning)."""
        return where, params

    def visible(self, user: StoredUser) -> StoredUser:
        """Return the user if SCIM may see it; raise a 404 ScimError otherwise."""
        return user

    def plan_create(self, doc: dict[str, Any], notes: list[str]) -> WritePlan:
        """Check or reshape a new user's document before it is stored."""
        return WritePlan(doc)

    def plan_update(self, current: StoredUser, doc: dict[str, Any], notes: list[str]) -> WritePlan:
        """Check or reshape a replaced or patched document before it is stored."""
        return WritePlan(doc)

    def explain_conflict(self, doc: dict[str, Any]) -> ScimError | None:
        """A more telling 409 for a create whose userName is taken (None: keep the plain one)."""
        return None

    def before_delete(self, user: StoredUser) -> None:
        """Refuse a DELETE by raising a ScimError."""
