"""A small, hand-built Nulab organization for the provider's rule tests."""

from __future__ import annotations

from sandbox.provider.org import MemberRepository, member_record
from sandbox.provider.schema import UserSchema
from sandbox.store import Store

RECENT = "2025-06-01T09:00:00.000Z"


def add_member(
    store: Store,
    email: str,
    *,
    kind: str = "managed",
    updated: str = RECENT,
    role: str = "USER",
    language: str = "en",
    timezone: str = "Europe/London",
    active: bool = True,
) -> str:
    """Insert a member as the organization holds it; returns its id."""
    doc, org = member_record(
        email,
        email.split("@")[0].title(),
        kind=kind,
        role=role,
        language=language,
        timezone=timezone,
        updated=updated,
        active=active,
    )
    return MemberRepository(store, UserSchema()).create(doc, org).id


def add_team(store: Store, name: str, guests_allowed: bool, members: dict[str, bool]) -> int:
    """A team with {member_id: is_team_admin}."""
    with store.write() as db:
        team_id = db.execute(
            "INSERT INTO teams (name, guests_allowed) VALUES (?, ?)",
            [name, 1 if guests_allowed else 0],
        ).lastrowid
        for user_id, admin in members.items():
            db.execute(
                "INSERT INTO team_members VALUES (?, ?, ?)", [team_id, user_id, 1 if admin else 0]
            )
    return int(team_id)
