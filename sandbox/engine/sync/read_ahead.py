"""Provides UserReads: what processing a user reads from the tenant and the connector's links
(the user, its link, its roles, its manager's target id), read ahead CHUNK users at a time
for a users pass.

A pass's threads each read four things before their user's first request; read one user at a
time, those were some six queries a user, and every query lets the interpreter lock go to
another of the cycle's threads and come back, which cost more than the query. With a
transport answering in process (no server, 8 threads, 5,000 users) the engine's CPU per user
went from about 800 to 480 us; in `python bench/engine.py --only a --initial-users 10000`,
together with the concurrency slots of scim/target.py as tokens, from 832-973 to 707-731 us.
The threads take the users in order, so a chunk is read once, by the first thread that needs
it, and dropped a few chunks later.

What is read ahead is what the user's own reads would have found: the pass writes none of it
(links are saved, and escrows kept, once every user is through, sync/users_pass.py), so only
another process's change between the chunk's read and the user's turn, a few hundred
milliseconds at most, is seen later than before. A user outside the pass, or in a chunk
already dropped, is read on its own, as without a pass.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sandbox.engine.sync.links import Link, LinkStore
from sandbox.engine.tenant.app import AppRoleAssignment, EnterpriseApp
from sandbox.engine.tenant.directory import Directory
from sandbox.engine.tenant.model import DirectoryUser

CHUNK = 200
"""Users read ahead at a time (a query each for users, links, roles and managers' links)."""
KEPT = 4
"""Chunks kept behind the newest: a thread slower than the others still finds its user's."""


@dataclass(frozen=True)
class _Chunk:
    users: dict[str, DirectoryUser]
    links: dict[str, Link]
    roles: dict[str, list[AppRoleAssignment]]
    managers: dict[str, str]
    """A manager's objectId -> its target id, for the chunk's users' managers that are linked."""


class UserReads:
    """The reads of UserProcessor, each user's on its own or `user_ids` read ahead."""

    def __init__(
        self,
        directory: Directory,
        app: EnterpriseApp,
        links: LinkStore,
        user_ids: Sequence[str] = (),
        chunk: int = CHUNK,
    ) -> None:
        self.directory, self.app, self.links = directory, app, links
        self._ids = list(user_ids)
        self._size = max(1, chunk)
        self._position = {user_id: n for n, user_id in enumerate(self._ids)}
        self._chunks: dict[int, _Chunk] = {}
        self._lock = threading.Lock()

    # -- what a user's processing reads ------------------------------------------------------

    def user(self, user_id: str) -> DirectoryUser | None:
        """The tenant user by objectId, or None (hard-deleted)."""
        chunk = self._chunk_of(user_id)
        if chunk is None:
            return self.directory.user_by_id(user_id)
        return chunk.users.get(user_id)

    def link(self, user_id: str) -> Link | None:
        """The user's link to its target object, if any."""
        chunk = self._chunk_of(user_id)
        if chunk is None:
            return self.links.get("User", user_id)
        return chunk.links.get(user_id)

    def roles(self, user_id: str) -> list[AppRoleAssignment]:
        """The app roles the user holds (EnterpriseApp.assignments_for_user)."""
        chunk = self._chunk_of(user_id)
        if chunk is None:
            return self.app.assignments_for_user(user_id)
        return chunk.roles.get(user_id, [])

    def manager_target(self, user: DirectoryUser) -> str | None:
        """The target id of the user's manager once the manager is linked, else None."""
        if not user.manager:
            return None
        chunk = self._chunk_of(user.id)
        if chunk is None:
            return self.links.target_ids("User", [user.manager]).get(user.manager)
        return chunk.managers.get(user.manager)

    # -- chunks ----------------------------------------------------------------------------

    def _chunk_of(self, user_id: str) -> _Chunk | None:
        position = self._position.get(user_id)
        if position is None:
            return None
        number = position // self._size
        chunk = self._chunks.get(number)
        if chunk is not None:
            return chunk
        with self._lock:  # one thread reads it; the others wanting it wait for it
            chunk = self._chunks.get(number)
            if chunk is None:
                chunk = self._read(number)
                self._chunks[number] = chunk
                for old in [n for n in self._chunks if n < number - KEPT]:
                    del self._chunks[old]
            return chunk

    def _read(self, number: int) -> _Chunk:
        ids = self._ids[number * self._size : (number + 1) * self._size]
        users = self.directory.users_by_ids(ids)
        managers = sorted({u.manager for u in users.values() if u.manager})
        return _Chunk(
            users=users,
            links=self.links.get_many("User", ids),
            roles=self.app.assignments_for_users(list(users)),
            managers=self.links.target_ids("User", managers),
        )
