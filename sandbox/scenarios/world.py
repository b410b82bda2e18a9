"""Provides World: a scenario's sandbox, built from its seed so every run is the same.

One in-memory database holds the Nulab organization, the tenant and the job; the engine
reaches the provider over httpx's WSGI transport (the same wire traffic, no socket). Both
sides use the engine's simulated clock and seeded ids, and log every exchange as it happens,
so the same seed gives byte-identical transcripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx

from sandbox.config import Settings
from sandbox.engine.mappings.mapping import Mapping
from sandbox.engine.mappings.presets import PRESETS
from sandbox.engine.scim.tenant_url import TenantUrl
from sandbox.engine.sync.clock import SimClock, format_time
from sandbox.engine.sync.job import with_mapping
from sandbox.engine.sync.service import Provisioning
from sandbox.engine.tenant.seed import seed_tenant
from sandbox.errors import SandboxError
from sandbox.provider import create_app
from sandbox.provider.auth import Credentials
from sandbox.provider.faults import Faults
from sandbox.provider.nulab import NulabRules, nulab_schema
from sandbox.provider.org import MemberRepository, Organization, member_record
from sandbox.provider.schema import UserSchema
from sandbox.provider.seed import seed_organization, seeded_ids
from sandbox.requestlog import RequestLog
from sandbox.scenarios.external import ExternalTarget
from sandbox.scenarios.model import Scenario, ScenarioError
from sandbox.scenarios.peer import create_peer_app
from sandbox.store import Store

TENANT_URL = "https://nulab.example/scim/v2"
"""Where the scenario's provider appears to live (only the WSGI transport is behind it)."""


class World:
    """The sandbox a scenario runs in."""

    def __init__(self, scenario: Scenario, target: ExternalTarget | None = None) -> None:
        self.scenario = scenario
        self.target = target
        """Another endpoint the engine is pointed at instead of the local provider (None:
        the local provider, in process)."""
        self.tenant_url = TENANT_URL if target is None else target.url
        seed = scenario.seed
        self.store = Store(":memory:")
        base_path = "/scim/v2" if target is None else urlsplit(target.url).path.rstrip("/")
        self.settings = Settings(db_path=":memory:", seed=seed, base_path=base_path)
        self.clock = SimClock(self.store)
        self.log = RequestLog(self.store, background=False)
        self.provider_app = create_app(
            self.store,
            self.settings,
            rules=NulabRules(Organization(self.store, self.clock.now), self.clock.now),
            schema=nulab_schema(),
            clock=self.clock.now,
            new_id=seeded_ids(seed + 1),
            request_log=self.log,
        )
        self.org = Organization(self.store, self.clock.now)
        self.credentials = Credentials(self.store)
        self.faults: Faults = self.provider_app.extensions["sandbox"].faults
        self.last_connection: Any = None
        """The result of the last test-connection step."""
        self.requests_checked = 0
        """The request log's newest seq when the last expect step was checked (where a
        `since = "expect"` requests expectation starts)."""
        self.peer_app = None
        target_app = self.provider_app
        if scenario.provisioning.get("provider") == "scim":
            # A plain SCIM peer with /Groups: only the engine's side of its exchanges is logged.
            self.peer_app = target_app = create_peer_app(seed + 4)
        self.engine = Provisioning(
            self.store,
            seed=seed,
            clock=self.clock,
            transport=httpx.WSGITransport(app=target_app) if target is None else target.transport,
            request_log=self.log,
        )
        ids = seeded_ids(seed + 2)
        self.engine.directory.new_id = ids
        self.engine.app.new_id = ids
        self._build_organization()
        self._build_tenant()
        with self._building("provisioning"):
            self._configure()

    @contextmanager
    def _building(self, table: str, nth: int | None = None) -> Iterator[None]:
        """What the sandbox refuses while building from table `table` (entry `nth` of an
        array of tables) is a ScenarioError naming that table's line."""
        try:
            yield
        except ScenarioError:
            raise
        except SandboxError as exc:
            label = table if nth is None else f"{table}[{nth + 1}]"
            at = self.scenario.at(table, nth or 0)
            raise ScenarioError(f"{at}: {label}: {exc}") from None

    # -- building --------------------------------------------------------------------------

    def _build_organization(self) -> None:
        spec = self.scenario.organization
        count = spec.get("members", 0)
        if count:
            with self._building("organization", None):
                seed_organization(
                    self.store,
                    seed=self.scenario.seed,
                    members=count,
                    domain=spec.get("domain", "example.com"),
                    clock=self.clock.now,
                )
        repo = MemberRepository(
            self.store,
            UserSchema(),
            clock=self.clock.now,
            new_id=seeded_ids(self.scenario.seed + 3),
        )
        for nth, member in enumerate(spec.get("member", [])):
            with self._building("organization.member", nth):
                email = member["email"]
                updated = member.get("updated", format_time(self.clock.now()))
                if not isinstance(updated, str):  # a TOML date or time
                    updated = updated.isoformat()
                if len(updated) == 10:
                    updated = f"{updated}T00:00:00.000Z"
                doc, org = member_record(
                    email,
                    member.get("name", email.split("@")[0]),
                    kind=member.get("kind", "managed"),
                    role=member.get("role", "USER").upper(),
                    language=member.get("language", "en").lower(),
                    timezone=member.get("timezone", "Asia/Tokyo"),
                    updated=updated,
                    active=member.get("active", True),
                )
                created = repo.create(doc, org)
                if member.get("owner") and not self.store.get_state("owner_id"):
                    self.store.set_state("owner_id", created.id)
        for nth, team in enumerate(spec.get("team", [])):
            with self._building("organization.team", nth), self.store.write() as db:
                team_id = db.execute(
                    "INSERT INTO teams (name, guests_allowed) VALUES (?, ?)",
                    [team["name"], 1 if team.get("guests_allowed", True) else 0],
                ).lastrowid
                admins = {a.lower() for a in team.get("admins", [])}
                for email in [*team.get("members", []), *team.get("admins", [])]:
                    member = self.org.member(email)
                    db.execute(
                        "INSERT OR IGNORE INTO team_members VALUES (?, ?, ?)",
                        [team_id, member.id, 1 if email.lower() in admins else 0],
                    )
        with self._building("organization"):
            if spec.get("seat_limit") is not None:
                self.org.set_seat_limit(spec["seat_limit"])
            issuer_key = spec.get("token_issuer")
            issuer = self.org.check_issuer(issuer_key) if issuer_key else self.org.owner()
        if issuer is None and self.org.members():
            issuer = next((m for m in self.org.members() if m.role == "ADMIN"), None)
        self.credentials.set_enabled(True)
        self.token = self.credentials.issue(
            format_time(self.clock.now()), issuer.id if issuer else None
        )

    def _build_tenant(self) -> None:
        spec = self.scenario.tenant
        directory = self.engine.directory
        people = []
        if spec.get("from_organization", True):
            for member in self.org.members():
                given, _, family = member.username.partition(" ")
                people.append((given or member.username, family or member.username, member.email))
        count = spec.get("users", len(people))
        if count or people:
            with self._building("tenant"):
                seed_tenant(
                    directory,
                    seed=self.scenario.seed,
                    users=max(count, len(people)),
                    people=people,
                    groups=spec.get("groups", 0),
                    guests=spec.get("guests", 0),
                )
        for nth, user in enumerate(spec.get("user", [])):
            with self._building("tenant.user", nth):
                props = {camel(k): v for k, v in user.items() if k != "upn"}
                directory.add_user(userPrincipalName=user["upn"], **props)
        for nth, group in enumerate(spec.get("group", [])):
            with self._building("tenant.group", nth):
                created = directory.add_group(group["name"], group.get("description", ""))
                for member in group.get("members", []):
                    directory.add_member(created.id, member)

    def _configure(self) -> None:
        spec = self.scenario.provisioning
        preset = spec.get("mappings", "default")
        mappings = list(PRESETS[preset].mappings)
        for nth, extra in enumerate(spec.get("mapping", [])):
            with self._building("provisioning.mapping", nth):
                mappings = apply_mapping(mappings, extra)
        if self.target is not None:  # "issued" now means the target's token
            self.token = self.target.token
        url = str(TenantUrl.parse(self.tenant_url).with_flag(bool(spec.get("flag"))))
        self.engine.configure(
            tenant_url=url,
            secret_token=self.token,
            user_mappings=tuple(mappings),
            mapping_preset=preset,
            scope=spec.get("scope", "assigned"),
            groups_enabled=bool(spec.get("groups", True)),
            delete_threshold=spec.get("delete_threshold"),  # off unless set (§8.3)
            skip_out_of_scope_deletions=bool(spec.get("skip_out_of_scope_deletions", False)),
            escrow_threshold=spec.get("escrow_threshold", 5000),
            create=bool(spec.get("create", True)),
            update=bool(spec.get("update", True)),
            delete=bool(spec.get("delete", True)),
            max_concurrency=1,
        )
        if any(key in spec for key in DURATION_SETTINGS):
            config = self.engine.config()
            self.engine.configure(
                object_minutes_min=float(spec.get("object_minutes_min", config.object_minutes_min)),
                object_minutes_max=float(spec.get("object_minutes_max", config.object_minutes_max)),
                create_factor=float(spec.get("create_factor", config.create_factor)),
            )
        for nth, fault in enumerate(spec.get("fault", [])):
            with self._building("provisioning.fault", nth):
                self.add_fault(fault)

    def add_fault(self, fault: dict[str, Any]) -> None:
        """A fault rule from a scenario table."""
        self.faults.add(
            method=fault.get("method", "*"),
            path=fault.get("path", "*"),
            status=fault.get("status"),
            retry_after=fault.get("retry_after"),
            latency_ms=fault.get("latency_ms", 0),
            drop=bool(fault.get("drop", False)),
            count=fault.get("count"),
            probability=fault.get("probability"),
            seed=fault.get("seed", self.scenario.seed),
        )

    def close(self) -> None:
        """Release the in-memory database."""
        self.store.close()


DURATION_SETTINGS = ("object_minutes_min", "object_minutes_max", "create_factor")
"""The [provisioning] keys (and configure step fields) of a cycle's simulated time (§1.5)."""


def apply_mapping(mappings: list[Mapping], spec: dict[str, Any]) -> list[Mapping]:
    """Add or replace one mapping from a scenario table."""
    return list(
        with_mapping(
            mappings,
            spec["target"],
            spec["source"],
            kind=spec.get("type"),
            default=spec.get("default"),
            create_only=spec.get("create_only", False),
            matching=spec.get("matching"),
        )
    )


def camel(name: str) -> str:
    """snake_case scenario keys to Entra's camelCase property names."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
