"""Provides PrincipalSuggester: completes a tenant user's UPN or mail, or a group's name, as
you type (looked up off the UI thread)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.suggester import Suggester

if TYPE_CHECKING:
    from sandbox.engine.tenant.directory import Directory


class PrincipalSuggester(Suggester):
    """Suggests users (UPN, then mail) and, unless `users_only`, groups by display name."""

    def __init__(self, directory: Directory, *, users_only: bool = False) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.directory = directory
        self.users_only = users_only

    def _lookup(self, value: str) -> str | None:
        if not value:
            return None
        if not self.users_only:
            for group in self.directory.groups():
                if group.display_name.casefold().startswith(value):
                    return group.display_name
        for user in self.directory.users(search=value, limit=20):
            for name in (user.user_principal_name, user.mail or ""):
                if name.casefold().startswith(value):
                    return name
        return None

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(self._lookup, value)
