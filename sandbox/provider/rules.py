"""Provides OrgRules, the hooks an organization's rules plug into the SCIM core.

The SCIM core is a plain RFC 7644 provider; an organization (such as the Nulab one) can
restrict what searches see, reshape writes and refuse actions by overriding these hooks.
"""

from __future__ import annotations

from typing import Any

from sandbox.provider.users import StoredUser


class OrgRules:
    """The plain SCIM core: every hook lets the request through unchanged."""

    def restrict_search(self, where: str, params: list[Any]) -> tuple[str, list[Any]]:
        """Narrow a list/search WHERE clause (e.g. to accounts eligible for provisioning)."""
        return where, params

    def visible(self, user: StoredUser) -> StoredUser:
        """Return the user if SCIM may see it; raise a 404 ScimError otherwise."""
        return user

    def before_create(self, doc: dict[str, Any], notes: list[str]) -> dict[str, Any]:
        """Check or reshape a new user's document before it is stored."""
        return doc

    def before_update(
        self, current: StoredUser, doc: dict[str, Any], notes: list[str]
    ) -> dict[str, Any]:
        """Check or reshape a replaced or patched document before it is stored."""
        return doc

    def after_write(self, previous: StoredUser | None, user: StoredUser, notes: list[str]) -> None:
        """React to a stored create or update (side effects such as team changes)."""

    def before_delete(self, user: StoredUser) -> None:
        """Refuse a DELETE by raising a ScimError."""
