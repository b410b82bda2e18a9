"""Provides seed_organization: a seeded Faker organization (members of every kind, teams, owner)."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from faker import Faker

from sandbox.errors import SandboxError
from sandbox.provider.org import ROLES, MemberRepository, member_record
from sandbox.provider.schema import UserSchema
from sandbox.store import Store
from sandbox.timestamps import format_timestamp, utc_now

TEAM_NAMES = ("Engineering", "Design", "Sales", "Support", "Marketing", "Research")
TIMEZONES = (
    "Asia/Tokyo",
    "America/New_York",
    "Europe/Amsterdam",
    "Europe/London",
    "America/Los_Angeles",
    "Asia/Singapore",
)
INELIGIBLE_UPDATED = datetime(2022, 11, 3, 9, 30)
"""When the seeded ineligible Managed Accounts were last updated (before 2023-01-16)."""


def seeded_ids(seed: int) -> Callable[[], str]:
    """Reproducible UUIDs from a seed."""
    rng = random.Random(f"ids-{seed}")
    return lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _email(first: str, last: str, domain: str, taken: set[str]) -> str:
    base = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    email, n = f"{base}@{domain}", 1
    while email in taken:
        n += 1
        email = f"{base}{n}@{domain}"
    taken.add(email)
    return email


def seed_organization(
    store: Store,
    *,
    seed: int = 1,
    members: int = 12,
    domain: str = "example.com",
    name: str | None = None,
    replace: bool = False,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, Any]:
    """Fill the organization: an owner admin, Managed Accounts (eligible and not), Nulab
    Accounts, and teams with admins; the same seed gives the same organization."""
    if members < 1:
        raise SandboxError("an organization needs at least one member (its owner)")
    existing = store.scalar("SELECT count(*) FROM users")
    if existing and not replace:
        raise SandboxError(
            f"the organization already has {existing} members; use --replace to start afresh"
        )
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    repo = MemberRepository(store, UserSchema(), clock=clock, new_id=seeded_ids(seed))
    now = format_timestamp(clock())
    taken: set[str] = set()
    ids: list[tuple[str, str, str]] = []  # (id, role, kind)
    with store.write() as db:
        if replace:
            for table in ("team_members", "teams", "user_values", "users"):
                db.execute(f"DELETE FROM {table}")
        for index in range(members):
            first, last = fake.first_name(), fake.last_name()
            email = _email(first, last, domain, taken)
            roll = rng.random()
            if index == 0:
                kind, updated, role = "managed", now, "ADMIN"
            else:
                kind = "nulab" if roll < 0.12 else "managed"
                ineligible = kind == "managed" and 0.12 <= roll < 0.24
                updated = format_timestamp(INELIGIBLE_UPDATED) if ineligible else now
                role = rng.choices(ROLES, weights=(2, 6, 2))[0]
            language = "ja" if index == 0 or rng.random() < 0.35 else "en"
            timezone = "Asia/Tokyo" if index == 0 else rng.choice(TIMEZONES)
            doc, org = member_record(
                email,
                f"{first} {last}",
                kind=kind,
                role=role,
                language=language,
                timezone=timezone,
                updated=updated,
            )
            user = repo.create(doc, org)
            ids.append((user.id, role, kind))
        owner_id = ids[0][0]
        team_count = min(len(TEAM_NAMES), max(2, members // 4))
        for t, team in enumerate(TEAM_NAMES[:team_count]):
            guests_allowed = t % 2 == 1  # alternate, so the guest cascade shows both ways
            team_id = db.execute(
                "INSERT INTO teams (name, guests_allowed) VALUES (?, ?)",
                [team, 1 if guests_allowed else 0],
            ).lastrowid
            picked = [m for m in ids if rng.random() < 0.5 or m[0] == owner_id]
            for user_id, role, _kind in picked:
                if role == "GUEST" and not guests_allowed:
                    continue
                is_admin = (
                    1 if (user_id == owner_id or (role != "GUEST" and rng.random() < 0.25)) else 0
                )
                db.execute(
                    "INSERT INTO team_members (team_id, user_id, is_admin) VALUES (?, ?, ?)",
                    [team_id, user_id, is_admin],
                )
        db.execute(
            "INSERT INTO provider_state (key, value) VALUES ('owner_id', ?), ('org_name', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [json.dumps(owner_id), json.dumps(name or fake.company())],
        )
    return {"members": members, "teams": team_count, "owner_id": owner_id}
