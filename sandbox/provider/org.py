"""Provides Organization: the Nulab-like organization behind the provider (members, teams, issuer).

Members are the users table's rows: Managed Accounts (eligible for provisioning when created
or updated on or after 2023-01-16) and Nulab Accounts (not managed, never synchronized).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import available_timezones

from sandbox.errors import NotFoundError, SandboxError
from sandbox.provider.rules import OrgRules
from sandbox.provider.schema import UserSchema
from sandbox.provider.users import ConcurrentUpdate, OrgStorage, UserRepository
from sandbox.store import Store
from sandbox.timestamps import format_timestamp, utc_now

ELIGIBLE_SINCE = "2023-01-16"
"""Guide, Requirements: only Managed Accounts created or updated after January 16, 2023."""

ROLES = ("ADMIN", "USER", "GUEST")
"""Nulab's roles; Entra's app roles carry the same values (guide step 4)."""

LANGUAGES = {"en": "English", "ja": "Japanese"}
"""Nulab supports English and Japanese only."""

MANAGED = "Managed Account"
PROVISIONED = "Provisioned Managed Account"

EMAIL = re.compile(
    r"^[^@\s\"(),:;<>\[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
"""An email syntax check; reserved test domains (.test, .example, example.com) pass."""

MEMBER_COLUMNS = ("kind", "label", "role", "language", "timezone", "org_updated")
"""What the organization stores on a member beside the SCIM core's columns (schema v2)."""


def leave_teams(db: Any, user_id: str) -> None:
    """A deleted member leaves every team (team_members refers to users)."""
    db.execute("DELETE FROM team_members WHERE user_id = ?", [user_id])


MEMBER_STORAGE = OrgStorage(MEMBER_COLUMNS, leave_teams)
"""The organization's part of a stored user: its member columns, and its team places, which a
deleted user leaves."""


class MemberRepository(UserRepository):
    """The users as the organization stores them, its member columns included (for its own
    writes beside SCIM: admin edits, seeding, scenarios)."""

    def __init__(
        self,
        store: Store,
        schema: UserSchema,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(store, schema, clock, new_id, storage=MEMBER_STORAGE)


class CoreOverOrganization(OrgRules):
    """The plain SCIM core's rules over a store that also holds the organization (`sandbox
    serve --rules core`): no rule on any request, no member columns, but a deleted user still
    leaves its teams, whose rows refer to it."""

    storage = OrgStorage(on_delete=leave_teams)


def language_code(value: Any) -> str | None:
    """Map a language tag (en-US, ja-JP, ja, EN...) to Nulab's "en" or "ja"; None otherwise."""
    if not isinstance(value, str) or not value.strip():
        return None
    primary = re.split(r"[-_]", value.strip())[0].lower()
    return primary if primary in LANGUAGES else None


_ZONES: frozenset[str] | None = None


def is_timezone(value: Any) -> bool:
    """Whether `value` names an IANA time zone."""
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return isinstance(value, str) and value in _ZONES


@dataclass(frozen=True)
class Member:
    """One member of the organization as its member list shows it."""

    id: str
    email: str
    username: str
    kind: str
    label: str | None
    role: str
    active: bool
    language: str | None
    timezone: str | None
    updated: str | None
    eligible: bool
    teams: list[str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Team:
    """A team: members, team admins, and whether guests may join."""

    id: int
    name: str
    guests_allowed: bool
    members: list[str]
    admins: list[str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def is_eligible(kind: str | None, updated: str | None) -> bool:
    """A Managed Account created or updated on or after the cut-off date."""
    return kind == "managed" and bool(updated) and str(updated)[:10] >= ELIGIBLE_SINCE


class Organization:
    """Reads and edits the organization directly (the admin's side, not SCIM)."""

    def __init__(self, store: Store, clock: Any = utc_now) -> None:
        self.store = store
        self.clock = clock

    # -- settings ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The organization's name."""
        return str(self.store.get_state("org_name", "Sandbox Organization"))

    @property
    def seat_limit(self) -> int | None:
        """Licence seats (None: unlimited). Inactive accounts do not take a seat."""
        return self.store.get_state("seat_limit")

    def set_seat_limit(self, seats: int | None) -> None:
        """Set or lift the licence seat limit."""
        if seats is not None and seats < 1:
            raise SandboxError("the seat limit must be at least 1")
        self.store.set_state("seat_limit", seats)

    def seats_used(self, db: Any = None) -> int:
        """Active members, each taking a licence seat."""
        runner = db or self.store.db
        return int(runner.execute("SELECT count(*) FROM users WHERE active = 1").fetchone()[0])

    # -- members -------------------------------------------------------------------------

    _COLUMNS = (
        "id, user_name, display_name, kind, label, role, active, language, timezone, org_updated"
    )

    def _member(self, row: Any, teams: dict[str, list[str]]) -> Member:
        return Member(
            id=row[0],
            email=row[1],
            username=row[2] or "",
            kind=row[3],
            label=row[4],
            role=row[5],
            active=bool(row[6]),
            language=row[7],
            timezone=row[8],
            updated=row[9],
            eligible=is_eligible(row[3], row[9]),
            teams=teams.get(row[0], []),
        )

    def _team_names(self) -> dict[str, list[str]]:
        names: dict[str, list[str]] = {}
        for user_id, team in self.store.db.execute(
            "SELECT m.user_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id "
            "ORDER BY t.name"
        ).fetchall():
            names.setdefault(user_id, []).append(team)
        return names

    def members(self, limit: int | None = None) -> list[Member]:
        """Every member, in the order they joined."""
        sql = f"SELECT {self._COLUMNS} FROM users ORDER BY rowid"
        if limit:
            sql += f" LIMIT {int(limit)}"
        teams = self._team_names()
        return [self._member(row, teams) for row in self.store.db.execute(sql).fetchall()]

    def member(self, key: str) -> Member:
        """A member by email (case-insensitive) or id."""
        row = self.store.db.execute(
            f"SELECT {self._COLUMNS} FROM users WHERE user_name_norm = ? OR id = ?",
            [key.casefold(), key],
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no member with email or id {key!r}")
        return self._member(row, self._team_names())

    def teams(self) -> list[Team]:
        """Every team with its members' and admins' emails."""
        out = []
        for team_id, name, guests in self.store.db.execute(
            "SELECT id, name, guests_allowed FROM teams ORDER BY name"
        ).fetchall():
            rows = self.store.db.execute(
                "SELECT u.user_name, m.is_admin FROM team_members m JOIN users u ON u.id = m.user_id"
                " WHERE m.team_id = ? ORDER BY u.user_name",
                [team_id],
            ).fetchall()
            out.append(
                Team(
                    team_id, name, bool(guests), [r[0] for r in rows], [r[0] for r in rows if r[1]]
                )
            )
        return out

    # -- the token issuer ----------------------------------------------------------------

    def issuer(self) -> Member | None:
        """The admin who issued the current SCIM token, if any."""
        issuer_id = self.store.get_state("token_issuer")
        if not issuer_id:
            return None
        try:
            return self.member(issuer_id)
        except NotFoundError:
            return None

    def owner(self) -> Member | None:
        """The organization's owner admin (the default token issuer)."""
        owner_id = self.store.get_state("owner_id")
        return self.member(owner_id) if owner_id else None

    def check_issuer(self, key: str) -> Member:
        """The member who may issue a token: an active admin."""
        member = self.member(key)
        if member.role != "ADMIN" or not member.active:
            raise SandboxError(f"{member.email} is not an active admin: only admins issue tokens")
        return member

    # -- admin edits (not SCIM): allowed, and overwritten by the next synchronization ----

    def edit(
        self,
        key: str,
        *,
        role: str | None = None,
        language: str | None = None,
        timezone: str | None = None,
        username: str | None = None,
        active: bool | None = None,
    ) -> Member:
        """Change a member as an admin would on the member screen; it counts as an update."""
        member = self.member(key)
        changes: dict[str, Any] = {}
        doc_changes: dict[str, Any] = {}
        if role is not None:
            if role.upper() not in ROLES:
                raise SandboxError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
            changes["role"] = role.upper()
            doc_changes["roles"] = [{"primary": True, "value": role.upper()}]
        if language is not None:
            code = language_code(language)
            if code is None:
                raise SandboxError(
                    f"language must be English (en) or Japanese (ja), got {language!r}"
                )
            changes["language"] = code
            doc_changes["preferredLanguage"] = code
        if timezone is not None:
            if not is_timezone(timezone):
                raise SandboxError(f"{timezone!r} is not an IANA time zone (e.g. Asia/Tokyo)")
            changes["timezone"] = timezone
            doc_changes["timezone"] = timezone
        if username is not None:
            if not username.strip():
                raise SandboxError("the username cannot be empty")
            doc_changes["displayName"] = username
        if active is not None:
            doc_changes["active"] = active
        if not changes and not doc_changes:
            raise SandboxError(
                "nothing to change: give --role, --language, --timezone, --name or --active"
            )
        changes["org_updated"] = format_timestamp(self.clock())
        repo = MemberRepository(self.store, UserSchema(), clock=self.clock)
        for _ in range(8):  # re-read and retry if a SCIM write lands in between
            current = repo.get(member.id)
            demote = changes.get("role") == "GUEST" and current.org.get("role") != "GUEST"
            try:
                repo.update(
                    current,
                    {**current.doc, **doc_changes},
                    changes,
                    _demote if demote else None,
                )
                break
            except ConcurrentUpdate:
                continue
        return self.member(member.id)


def _demote(db: Any, user_id: str) -> None:
    demote_to_guest(db, user_id)


def member_record(
    email: str,
    name: str,
    *,
    kind: str = "managed",
    role: str = "USER",
    language: str = "en",
    timezone: str = "Asia/Tokyo",
    updated: str = "",
    active: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A member as the organization stores it: its SCIM document and its organization columns
    (for seeding and scenarios, which add members directly, not over SCIM)."""
    doc = {
        "userName": email,
        "displayName": name,
        "active": active,
        "emails": [{"value": email, "type": "work", "primary": True}],
        "preferredLanguage": language,
        "timezone": timezone,
        "roles": [{"primary": True, "value": role}],
    }
    org = {
        "kind": kind,
        "label": MANAGED if kind == "managed" else None,
        "role": role,
        "language": language,
        "timezone": timezone,
        "org_updated": updated,
    }
    return doc, org


def demote_to_guest(db: Any, user_id: str) -> list[str]:
    """Guide, step 6: a downgrade to guest loses team-admin rights everywhere and leaves the
    teams that do not allow guests. Returns what changed, in words."""
    changes = []
    for (name,) in db.execute(
        "SELECT t.name FROM team_members m JOIN teams t ON t.id = m.team_id"
        " WHERE m.user_id = ? AND m.is_admin = 1 ORDER BY t.name",
        [user_id],
    ).fetchall():
        changes.append(f"lost team admin rights in team {name!r}")
    db.execute("UPDATE team_members SET is_admin = 0 WHERE user_id = ?", [user_id])
    for team_id, name in db.execute(
        "SELECT t.id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id"
        " WHERE m.user_id = ? AND t.guests_allowed = 0 ORDER BY t.name",
        [user_id],
    ).fetchall():
        db.execute("DELETE FROM team_members WHERE team_id = ? AND user_id = ?", [team_id, user_id])
        changes.append(f"removed from team {name!r} (guests not allowed)")
    return changes


def today_iso(clock: Any = utc_now) -> str:
    """The clock's date as ISO text."""
    now = clock()
    return (now.date() if isinstance(now, datetime) else date.today()).isoformat()
