"""Provides seed_tenant: a seeded Faker tenant (members, B2B guests, a manager chain, groups),
and add_random_user: one more seeded Faker member.

Faker is slow (tens of microseconds a name), so it fills small per-locale name pools once and a
`random.Random(seed)` draws from them: 100k users take a few seconds, and the same seed gives
the same tenant, ids included.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import itertools
import random
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from faker import Faker

from sandbox import jsontext
from sandbox.engine.tenant.model import USER_INSERT, Property, user_row
from sandbox.errors import SandboxError
from sandbox.store import Transaction
from sandbox.timestamps import format_timestamp

if TYPE_CHECKING:
    from sandbox.engine.tenant.directory import Directory
    from sandbox.engine.tenant.model import DirectoryUser

T = TypeVar("T")


@dataclass(frozen=True)
class Country:
    """Where seeded users live: Entra's country text, usageLocation, language, cities."""

    name: str
    usage_location: str
    language: str
    locale: str  # Faker locale of the name pool
    phone_prefix: str
    cities: tuple[tuple[str, str | None], ...]  # (city, state)
    weight: int


COUNTRIES = (
    Country(
        "United States",
        "US",
        "en-US",
        "en_US",
        "+1",
        (("Seattle", "WA"), ("New York", "NY"), ("Austin", "TX"), ("Chicago", "IL")),
        40,
    ),
    Country(
        "Japan",
        "JP",
        "ja-JP",
        "ja_JP",
        "+81",
        (("Tokyo", "Tokyo"), ("Osaka", "Osaka"), ("Fukuoka", "Fukuoka")),
        25,
    ),
    Country(
        "Netherlands",
        "NL",
        "nl-NL",
        "nl_NL",
        "+31",
        (("Amsterdam", "Noord-Holland"), ("Utrecht", "Utrecht"), ("Eindhoven", "Noord-Brabant")),
        15,
    ),
    Country(
        "United Kingdom",
        "GB",
        "en-GB",
        "en_US",
        "+44",
        (("London", "England"), ("Manchester", "England"), ("Edinburgh", "Scotland")),
        10,
    ),
    Country(
        "Germany", "DE", "de-DE", "de_DE", "+49", (("Berlin", "Berlin"), ("Munich", "Bavaria")), 5
    ),
    Country("Singapore", "SG", "en-SG", "en_US", "+65", (("Singapore", None),), 5),
)
UNSUPPORTED_LANGUAGES = ("fr-FR", "ko-KR", "es-ES")
"""Languages Nulab does not support: the provider falls back to the token issuer's."""

DEPARTMENTS = {
    "Engineering": ("Software Engineer", "Senior Software Engineer", "Engineering Manager", "SRE"),
    "Sales": ("Account Executive", "Sales Manager", "Sales Engineer"),
    "Marketing": ("Marketing Specialist", "Content Writer", "Marketing Manager"),
    "Support": ("Support Engineer", "Support Lead"),
    "Finance": ("Accountant", "Financial Analyst", "Controller"),
    "Human Resources": ("HR Generalist", "Recruiter"),
    "Design": ("Product Designer", "UX Researcher"),
}
GROUPS = (
    # (name, description, share of users who are direct members)
    ("Nulab Pass Users", "Everyone who uses Nulab Pass", 0.5),
    ("Nulab Pass Admins", "Nulab Pass administrators", 0.05),
    ("Contractors", "External contractors (nested in Nulab Pass Users)", 0.1),
    ("Engineering", "The engineering department", 0.25),
    ("Sales Team", "The sales department", 0.15),
    ("Support Desk", "First-line support", 0.1),
)
"""Seeded security groups; the third is nested in the first, to show nesting is not expanded."""

_KEY = {False: "user", True: "memberGroup"}
"""The memberAdd detail names a user member or a nested group."""

POOL = 200
"""Names drawn from Faker per locale (first names and surnames each)."""


_VERSION_4 = (0xF000 << 64, 0x4000 << 64)
_VARIANT = (0xC000 << 48, 0x8000 << 48)


def seeded_ids(seed: int) -> Callable[[], str]:
    """Reproducible GUIDs from a seed (the same as uuid.UUID(int=..., version=4), faster)."""
    rng = random.Random(f"entra-ids-{seed}")

    def new_id() -> str:
        n = rng.getrandbits(128)
        n = (n & ~_VERSION_4[0]) | _VERSION_4[1]
        n = (n & ~_VARIANT[0]) | _VARIANT[1]
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    return new_id


@functools.lru_cache(maxsize=4096)
def _ascii(part: str) -> str:
    plain = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9-]", "", plain.lower())


def ascii_alias(*parts: str) -> str:
    """first.last in lower-case ASCII: accents dropped, spaces and punctuation removed."""
    return ".".join(p for p in map(_ascii, parts) if p) or "user"


class _Unique:
    """Hands out addresses, adding 2, 3... to the alias when one is taken (aliases and
    domains are lower-case already, so no casefold per call)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, alias: str, domain: str) -> str:
        address = f"{alias}@{domain}"
        n = 1
        while address in self.taken:
            n += 1
            address = f"{alias}{n}@{domain}"
        self.taken.add(address)
        return address


def _pools(seed: int) -> dict[str, tuple[list[str], list[str]]]:
    pools = {}
    for locale in sorted({c.locale for c in COUNTRIES}):
        fake = Faker(locale)
        fake.seed_instance(seed)
        if locale == "ja_JP":  # romanized, so UPNs stay ASCII like real Japanese tenants
            first = [fake.first_romanized_name() for _ in range(POOL)]
            last = [fake.last_romanized_name() for _ in range(POOL)]
        else:
            first = [fake.first_name() for _ in range(POOL)]
            last = [fake.last_name() for _ in range(POOL)]
        pools[locale] = (first, last)
    return pools


def seed_tenant(
    directory: Directory,
    *,
    seed: int = 1,
    users: int = 50,
    domain: str = "contoso.onmicrosoft.com",
    people: Sequence[tuple[str, str, str]] = (),
    groups: int = 3,
    guests: int = 2,
    replace: bool = False,
) -> dict[str, object]:
    """Fill the tenant with seeded Faker users, B2B guests, a manager chain and groups;
    returns the counts and the seed.

    `people` (given name, surname, email) become users whose mail is that email and whose
    UPN is first.last@domain; they and the guests count towards `users`. Same seed, same
    tenant (ids included)."""
    if users < 0 or guests < 0 or groups < 0:
        raise SandboxError("users, guests and groups must not be negative")
    store = directory.store
    total = max(users, len(people) + guests)
    domain = domain.strip().lower()  # DNS names are case-insensitive
    rng = random.Random(seed)
    new_id = seeded_ids(seed)
    pools = _pools(seed)
    extra = Faker("en_US")
    extra.seed_instance(seed)
    streets = [extra.street_name() for _ in range(50)]
    guest_domains = [extra.domain_name() for _ in range(20)]
    company = extra.company()
    now = format_timestamp(directory.clock())
    unique_upn, unique_mail = _Unique(), _Unique()
    cumulative = list(itertools.accumulate(c.weight for c in COUNTRIES))
    departments = list(DEPARTMENTS)
    rows: list[tuple[object, ...]] = []
    user_ids: list[str] = []
    member_ids: list[str] = []
    draw = rng.random

    def pick(seq: Sequence[T]) -> T:  # rng.choice, without its per-call overhead
        return seq[int(draw() * len(seq))]

    def number(low: int, high: int) -> int:  # rng.randint, likewise
        return low + int(draw() * (high - low + 1))

    for index in range(total):
        object_id = new_id()
        country = COUNTRIES[bisect.bisect(cumulative, draw() * cumulative[-1])]
        city, state = pick(country.cities)
        if index < len(people):
            given, surname, email = people[index]
            if email.casefold() in unique_mail.taken:
                raise SandboxError(f"{email} is given twice in people")
            unique_mail.taken.add(email.casefold())
        else:
            firsts, lasts = pools[country.locale]
            given, surname, email = pick(firsts), pick(lasts), None
        alias = ascii_alias(given, surname)
        props: dict[str, Property]
        if index >= total - guests:  # B2B guest: alias_theirdomain#EXT#@ourdomain
            mail = unique_mail(alias, pick(guest_domains))
            local = mail.replace("@", "_") + "#EXT#"
            props = {
                "userPrincipalName": unique_upn(local, domain),
                "mail": mail,
                "mailNickname": local,
                "userType": "Guest",
                "accountEnabled": True,
                "country": country.name,
                "usageLocation": country.usage_location,
            }
        else:
            upn = unique_upn(alias, domain)
            nickname = upn.partition("@")[0]
            department = pick(departments)
            prefix = country.phone_prefix
            props = {
                "userPrincipalName": upn,
                "mail": email or unique_mail(nickname, domain),
                "mailNickname": nickname,
                "userType": "Member",
                # a few extra users are blocked: Entra does not provision them until unblocked
                "accountEnabled": email is not None or draw() >= 0.03,
                "department": department,
                "jobTitle": pick(DEPARTMENTS[department]),
                "employeeId": f"E{100000 + index}",
                "companyName": company,
                "country": country.name,
                "city": city,
                "streetAddress": f"{number(1, 999)} {pick(streets)}",
                "postalCode": f"{number(10000, 99999)}",
                "physicalDeliveryOfficeName": f"{city} {number(1, 4)}F",
                "usageLocation": country.usage_location,
                "telephoneNumber": f"{prefix} {number(100, 999)} {number(1000, 9999)}",
            }
            roll = draw()  # a few without a language, a few with one Nulab does not support
            if roll >= 0.08:
                props["preferredLanguage"] = (
                    pick(UNSUPPORTED_LANGUAGES) if roll < 0.12 else country.language
                )
            if state:
                props["state"] = state
            if draw() < 0.6:
                props["mobile"] = f"{prefix} {number(100, 999)} {number(1000, 9999)}"
            if member_ids:  # a manager chain: everyone reports to someone seeded before them
                props["manager"] = member_ids[(len(member_ids) - 1) // 6]
            member_ids.append(object_id)
        props["displayName"] = f"{given} {surname}".strip()
        if given:
            props["givenName"] = given
        if surname:
            props["surname"] = surname
        rows.append(user_row(object_id, props, now))
        user_ids.append(object_id)
    group_rows, memberships = _groups(rng, new_id, groups, user_ids, now)
    with store.write() as db, _big_cache(db):
        _clear(directory, db, replace)
        db.conn.executemany(USER_INSERT, rows)
        db.conn.executemany(
            "INSERT INTO entra_groups (id, display_name, description, security_enabled, created) "
            "VALUES (?, ?, ?, 1, ?)",
            group_rows,
        )
        db.conn.executemany(
            "INSERT INTO entra_group_members (group_id, user_id) VALUES (?, ?)", memberships
        )
        changes: list[tuple[str, str, str, Mapping[str, object] | str]] = [
            ("User", r[0], "add", f'{{"userPrincipalName":{jsontext.dumps(r[1])}}}')
            for r in zip(user_ids, (row[1] for row in rows), strict=True)
        ]
        changes += [("Group", g[0], "add", {"displayName": g[1]}) for g in group_rows]
        group_ids = {g[0] for g in group_rows}
        changes += [  # ids are GUIDs: nothing to escape
            ("Group", g, "memberAdd", f'{{"group":"{g}","{_KEY[u in group_ids]}":"{u}"}}')
            for g, u in memberships
        ]
        directory.record_changes(db, changes)
    return {
        "seed": seed,
        "users": total,
        "people": len(people),
        "guests": guests,
        "groups": len(group_rows),
        "memberships": len(memberships),
        "domain": domain,
    }


@contextlib.contextmanager
def _big_cache(db: Transaction) -> Iterator[None]:
    """A 128 MB page cache while seeding: inserting 100k rows keyed by random GUIDs into
    several indexes otherwise spills pages, which nearly doubles the time."""
    before = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute("PRAGMA cache_size = -131072")
    try:
        yield
    finally:
        db.execute(f"PRAGMA cache_size = {int(before)}")


def _groups(
    rng: random.Random, new_id: Callable[[], str], count: int, user_ids: list[str], now: str
) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    rows = []
    memberships: list[tuple[str, str]] = []
    for n in range(count):
        name, description, share = GROUPS[n] if n < len(GROUPS) else (f"Group {n + 1}", "", 0.1)
        group_id = new_id()
        rows.append((group_id, name, description, now))
        memberships += [(group_id, u) for u in user_ids if rng.random() < share]
    if count >= 3:  # Contractors nested in Nulab Pass Users: its members are not in scope
        memberships.append((rows[0][0], rows[2][0]))
    return rows, memberships


def _clear(directory: Directory, db: Transaction, replace: bool) -> None:
    users = directory.store.query("SELECT id, upn FROM entra_users ORDER BY rowid")
    groups = directory.store.query("SELECT id, display_name FROM entra_groups ORDER BY rowid")
    if (users or groups) and not replace:
        raise SandboxError(
            f"the tenant already has {len(users)} users and {len(groups)} groups; "
            "use --replace to start afresh"
        )
    if not (users or groups):
        return
    for table in ("entra_group_members", "app_assignments", "entra_groups", "entra_users"):
        db.execute(f"DELETE FROM {table}")
    directory.record_changes(
        db,
        [("User", r["id"], "hardDelete", {"userPrincipalName": r["upn"]}) for r in users]
        + [("Group", r["id"], "hardDelete", {"displayName": r["display_name"]}) for r in groups],
    )


def add_random_user(directory: Directory, *, seed: int, domain: str) -> DirectoryUser:
    """A new seeded Faker member of the tenant on `domain` (same database and seed, same
    user): up to 20 names are tried for a free UPN, then ``user{n}@domain``."""
    fake = Faker("en_US")
    fake.seed_instance(f"{seed}-user-{directory.count()}")
    for _ in range(20):
        given, family = fake.first_name(), fake.last_name()
        upn = f"{ascii_alias(given, family)}@{domain}"
        if directory.find_user(upn) is None:
            break
    else:
        upn = f"user{directory.count() + 1}@{domain}"
    return directory.add_user(
        userPrincipalName=upn,
        mail=upn,
        displayName=f"{given} {family}",
        givenName=given,
        surname=family,
        jobTitle=fake.job()[:60],
        department=fake.random_element(
            ("Sales", "Engineering", "Marketing", "Support", "Research")
        ),
        preferredLanguage="en-US",
        country="United States",
        usageLocation="US",
    )
