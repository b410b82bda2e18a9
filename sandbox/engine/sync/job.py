"""Provides the provisioning job: its configuration and its state, stored in engine_state.

The configuration is what the portal's Provisioning blade holds (tenant URL with or without
?aadOptscim062020, secret token, scope, scoping filters, target object actions, group
provisioning, skip out-of-scope deletions, the accidental-deletion threshold, attribute
mappings). The state is what the service keeps between cycles (watermark, quarantine,
whether the next cycle must be initial).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import NotRequired, TypedDict
from urllib.parse import urlsplit

from sandbox.engine.mappings.mapping import (
    FlowType,
    Mapping,
    MappingType,
    check_source,
    validate_mappings,
)
from sandbox.engine.mappings.presets import PRESETS
from sandbox.engine.mappings.scoping import ScopingFilter, parse_scoping_filters
from sandbox.engine.scim.tenant_url import TenantUrl
from sandbox.errors import SandboxError
from sandbox.store import Store
from sandbox.text import is_text

DEFAULT_DELETE_THRESHOLD = 500
"""The threshold accidental-deletion prevention takes when it is turned on without one:
Graph's QuarantineTooManyDeletesThreshold example value (§8.3). The check itself is an
opt-in check box, off by default."""

ESCROW_BASE_THRESHOLD = 5000
"""Quarantine evaluation starts at this many failures (§8.2)."""

OBJECT_MINUTES_MIN = 0.01
OBJECT_MINUTES_MAX = 0.08
"""An initial cycle takes between 0.01 and 0.08 minutes per user, group and group member in
scope (§1.5, "Check the status of user provisioning")."""

CREATE_FACTOR = 2.0
"""Jobs in which every user is created take about twice as long as jobs in which every user
is matched (§1.5)."""

MAX_OBJECT_MINUTES = 60.0
"""The most simulated minutes one object may be set to cost."""

STATUSES = ("NotConfigured", "NotRun", "Active", "Paused", "Quarantine")


class StoredMapping(TypedDict):
    """An attribute mapping as the job configuration stores it."""

    target: str
    source: NotRequired[str]
    type: NotRequired[str]
    default: NotRequired[str | None]
    flow: NotRequired[str]
    matching_precedence: NotRequired[int]
    required: NotRequired[bool]


def _mapping_to_dict(mapping: Mapping) -> StoredMapping:
    return {
        "target": mapping.target,
        "source": mapping.source,
        "type": str(mapping.type),
        "default": mapping.default,
        "flow": str(mapping.flow),
        "matching_precedence": mapping.matching_precedence,
        "required": mapping.required,
    }


def mapping_from_dict(data: StoredMapping) -> Mapping:
    """Rebuild a stored mapping (re-parsing its expression)."""
    return Mapping(
        target=data["target"],
        source=data.get("source", ""),
        type=MappingType(data.get("type", "Direct")),
        default=data.get("default"),
        flow=FlowType(data.get("flow", "Always")),
        matching_precedence=int(data.get("matching_precedence", 0)),
        required=bool(data.get("required", False)),
    )


def with_mapping(
    mappings: tuple[Mapping, ...] | list[Mapping],
    target: str,
    source: str,
    *,
    kind: str | None = None,
    default: str | None = None,
    create_only: bool = False,
    matching: int | None = None,
    replacing: str | None = None,
    object_type: str = "User",
) -> tuple[Mapping, ...]:
    """The mapping set with TARGET's mapping added or replaced (an Expression when SOURCE has a
    '(' and no type is given); a replaced mapping keeps its matching precedence and required
    flag unless told otherwise. `replacing` names the target an edited mapping had before.

    SOURCE is checked on what a tenant user (`object_type` "Group": group) has
    (`check_source`): every edit of a mapping, from the CLI, the UI, a scenario or a mappings
    file, comes here."""
    old_target = replacing or target
    old = next((m for m in mappings if m.target == old_target), None)
    mapping_type = MappingType(kind or ("Expression" if "(" in source else "Direct"))
    check_source(target, source, mapping_type, object_type)
    mapping = Mapping(
        target=target.strip(),
        source=source,
        type=mapping_type,
        default=default,
        flow=FlowType.OBJECT_ADD_ONLY if create_only else FlowType.ALWAYS,
        matching_precedence=matching
        if matching is not None
        else (old.matching_precedence if old else 0),
        required=old.required if old else False,
    )
    if old is None:
        return (*mappings, mapping)
    return tuple(mapping if m.target == old_target else m for m in mappings)


@dataclass(frozen=True)
class JobConfig:
    """The provisioning configuration (Provisioning > Admin credentials, Mappings, Settings)."""

    tenant_url: str = ""
    secret_token: str = ""
    scope: str = "assigned"
    """"assigned" (sync only assigned users and groups, recommended) or "all"."""
    scoping_filters: tuple[ScopingFilter, ...] = ()
    """The user scoping filters (§7)."""
    group_scoping_filters: tuple[ScopingFilter, ...] = ()
    """The group scoping filters, evaluated in the group pass on the group's properties (§7)."""
    create: bool = True
    update: bool = True
    delete: bool = True
    groups_enabled: bool = True
    """"Provision Microsoft Entra ID Groups" is enabled by default (guide step 5)."""
    skip_out_of_scope_deletions: bool = False
    delete_threshold: int | None = None
    """Prevent accidental deletions: most disables+deletes of users and groups per cycle
    (None: off, the default; §8.3)."""
    escrow_threshold: int = ESCROW_BASE_THRESHOLD
    """Failures before the 40 % quarantine rule applies; scale it down for small tenants."""
    user_mappings: tuple[Mapping, ...] = field(default_factory=lambda: PRESETS["default"].mappings)
    group_mappings: tuple[Mapping, ...] = field(default_factory=lambda: PRESETS["groups"].mappings)
    mapping_preset: str = "default"
    max_concurrency: int = 4
    """Requests the engine sends at once."""
    object_minutes_min: float = OBJECT_MINUTES_MIN
    object_minutes_max: float = OBJECT_MINUTES_MAX
    """The range of simulated minutes an object costs a cycle (§1.5): the job's pace (what a
    matched object costs) is drawn once from the seed within [min, max / create_factor]."""
    create_factor: float = CREATE_FACTOR
    """How many times a match a created object costs (§1.5)."""

    @property
    def configured(self) -> bool:
        """Whether admin credentials were entered."""
        return bool(self.tenant_url)

    @property
    def url(self) -> TenantUrl:
        """The tenant URL, read (local or not, its dialect, its base)."""
        return TenantUrl.parse(self.tenant_url)

    @property
    def is_local(self) -> bool:
        """Whether the tenant URL is "local": the sandbox's own provider, wherever it runs."""
        return self.url.is_local

    @property
    def flag(self) -> bool:
        """Whether the tenant URL carries ?aadOptscim062020 (the SCIM 2020 dialect), as the
        engine reads it when it sends."""
        return self.url.flagged

    def to_json(self) -> str:
        data = asdict(self)
        data["user_mappings"] = [_mapping_to_dict(m) for m in self.user_mappings]
        data["group_mappings"] = [_mapping_to_dict(m) for m in self.group_mappings]
        data["scoping_filters"] = [f.to_dict() for f in self.scoping_filters]
        data["group_scoping_filters"] = [f.to_dict() for f in self.group_scoping_filters]
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str) -> JobConfig:
        data = json.loads(raw)
        data["user_mappings"] = tuple(mapping_from_dict(m) for m in data["user_mappings"])
        data["group_mappings"] = tuple(mapping_from_dict(m) for m in data["group_mappings"])
        data["scoping_filters"] = parse_scoping_filters(data.get("scoping_filters", []))
        data["group_scoping_filters"] = parse_scoping_filters(data.get("group_scoping_filters", []))
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def check(self) -> None:
        """Refuse a configuration Entra would refuse, with the reason."""
        if self.tenant_url and not self.tenant_url.isprintable() or not is_text(self.tenant_url):
            raise SandboxError(f"tenant URL {self.tenant_url!r} holds characters a URL cannot")
        if self.tenant_url and not self.is_local:
            example = "such as http://127.0.0.1:8000/scim/v2"
            try:
                parts = urlsplit(self.tenant_url)
                parts.port  # noqa: B018  (reading it checks it: a bad host or port raises)
            except ValueError as exc:  # a malformed IPv6 host, a port past 65535...
                raise SandboxError(
                    f"tenant URL {self.tenant_url!r} is not a valid URL ({exc}); use one {example}"
                ) from None
            if any(c.isspace() for c in self.tenant_url.strip()):
                raise SandboxError(
                    f"tenant URL {self.tenant_url!r} holds a space; use one {example}"
                )
            if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
                raise SandboxError(
                    f"tenant URL must be an http(s) URL {example}, got {self.tenant_url!r}"
                )
        if self.scope not in ("assigned", "all"):
            raise SandboxError("scope must be 'assigned' or 'all'")
        if self.delete_threshold is not None and self.delete_threshold < 1:
            raise SandboxError("the accidental-deletion threshold must be at least 1")
        if self.escrow_threshold < 1:
            raise SandboxError("the escrow threshold must be at least 1")
        if not 1 <= self.max_concurrency <= 32:
            raise SandboxError("max concurrency must be between 1 and 32")
        self._check_duration()
        validate_mappings(self.user_mappings, object_type="User")
        validate_mappings(self.group_mappings, object_type="Group")

    def _check_duration(self) -> None:
        """The §1.5 figures: 0 <= min <= max, and a create (min x factor) within the range."""
        low, high, factor = self.object_minutes_min, self.object_minutes_max, self.create_factor
        if not 0 <= low <= high <= MAX_OBJECT_MINUTES:
            raise SandboxError(
                "object minutes must satisfy 0 <= min <= max <= "
                f"{MAX_OBJECT_MINUTES:g}, got min {low:g} and max {high:g}"
            )
        if not 1 <= factor <= 10:
            raise SandboxError(f"the create factor must be between 1 and 10, got {factor:g}")
        if low * factor > high + 1e-12:
            raise SandboxError(
                f"a created object costs {factor:g} x a matched one, so object minutes min "
                f"x create factor ({low * factor:g}) must not exceed max ({high:g})"
            )


class JobChanges(TypedDict, total=False):
    """Settings to change in a JobConfig (what `Provisioning.configure` takes)."""

    tenant_url: str
    secret_token: str
    scope: str
    scoping_filters: tuple[ScopingFilter, ...]
    group_scoping_filters: tuple[ScopingFilter, ...]
    create: bool
    update: bool
    delete: bool
    groups_enabled: bool
    skip_out_of_scope_deletions: bool
    delete_threshold: int | None
    escrow_threshold: int
    user_mappings: tuple[Mapping, ...]
    group_mappings: tuple[Mapping, ...]
    mapping_preset: str
    max_concurrency: int
    object_minutes_min: float
    object_minutes_max: float
    create_factor: float


@dataclass(frozen=True)
class Quarantine:
    """Why and since when the job is quarantined (Graph synchronizationQuarantine)."""

    reason: str
    error: str
    current_began: str
    series_began: str
    next_attempt: str
    series_count: int = 1


@dataclass(frozen=True)
class JobState:
    """What the provisioning service remembers between cycles."""

    running: bool = False
    watermark: int = 0
    initial_needed: bool = True
    quarantine: Quarantine | None = None
    last_cycle_id: int | None = None
    last_cycle_end: str | None = None
    next_cycle: str | None = None
    force_deletes: bool = False
    """Set by "Allow deletes": the next cycle pushes through staged deletions."""
    disabled: str | None = None
    """When the service disabled the job after 28 days in quarantine (§8.2); None: not
    disabled. Start or restart enables it again."""
    applied_scope: str | None = None
    """The scope cycles apply when it differs from the configured one: switching from "all"
    to "assigned" takes effect only after a restart (§1.4, §7); None: the configured one."""

    def status(self, config: JobConfig) -> str:
        """Graph job status code (§1.1): NotRun until a cycle has completed, started or not
        (Graph: "Job was configured, and possibly started, but hasn't completed its first
        run"), then Active when started and Paused when stopped; Quarantine first."""
        if not config.configured:
            return "NotConfigured"
        if self.quarantine is not None:
            return "Quarantine"
        if self.last_cycle_id is None:
            return "NotRun"
        return "Active" if self.running else "Paused"

    def schedule(self) -> str:
        """Graph synchronizationSchedule.state: Active, Paused (stopped) or Disabled."""
        if self.disabled is not None:
            return "Disabled"
        return "Active" if self.running else "Paused"

    def scope(self, config: JobConfig) -> str:
        """The scope cycles apply: the configured one, unless a switch from "all" to
        "assigned" waits for a restart."""
        return self.applied_scope or config.scope

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> JobState:
        data = json.loads(raw)
        quarantine = data.get("quarantine")
        data["quarantine"] = Quarantine(**quarantine) if quarantine else None
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def forces_initial(old: JobConfig, new: JobConfig) -> bool:
    """Whether going from `old` to `new` makes the next cycle initial: mappings, scoping
    filters (user or group) or group provisioning changed, or the scope went from "assigned"
    to "all" (§1.4). From "all" to "assigned" waits for a restart (Microsoft Learn, "Known
    issues for provisioning in Microsoft Entra ID": "After you change scope from Sync All to
    Sync Assigned, make sure to also perform a restart to ensure that the change takes
    effect")."""
    return (
        old.user_mappings != new.user_mappings
        or old.group_mappings != new.group_mappings
        or old.scoping_filters != new.scoping_filters
        or old.group_scoping_filters != new.group_scoping_filters
        or (old.scope != new.scope and new.scope == "all")
        or old.groups_enabled != new.groups_enabled
    )


def scope_waiting(old: JobConfig, new: JobConfig, state: JobState) -> str | None:
    """The state's applied_scope after the configuration goes from `old` to `new`: "all" stays
    applied after a switch to "assigned" until a restart (once a cycle has run); any other
    switch applies at once."""
    if old.scope == "all" and new.scope == "assigned" and state.last_cycle_id is not None:
        return state.applied_scope or "all"
    if new.scope == state.applied_scope or old.scope != new.scope:
        return None
    return state.applied_scope


class JobStore:
    """Reads and writes the job's configuration and state."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _get(self, key: str) -> str | None:
        row = self.store.db.execute(
            "SELECT value FROM engine_state WHERE key = ?", [key]
        ).fetchone()
        return None if row is None else str(row[0])

    def _put(self, key: str, value: str) -> None:
        with self.store.write() as db:
            db.execute(
                "INSERT INTO engine_state(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )

    def count(self, key: str) -> int:
        """Add one to a stored counter and return it (1 the first time), in one transaction:
        two processes never draw the same number."""
        with self.store.write() as db:
            row = db.execute("SELECT value FROM engine_state WHERE key = ?", [key]).fetchone()
            number = (int(row[0]) if row else 0) + 1
            db.execute(
                "INSERT INTO engine_state(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, str(number)],
            )
        return number

    def config(self) -> JobConfig:
        """The stored configuration (defaults when never configured)."""
        raw = self._get("job.config")
        return JobConfig.from_json(raw) if raw else JobConfig()

    def save_config(self, config: JobConfig) -> JobConfig:
        """Check and store a configuration. Changing mappings, scoping filters (user or group)
        or group provisioning, or the scope to "all", forces the next cycle to be initial; a
        switch of the scope to "assigned" waits for a restart (§1.4)."""
        config.check()
        old = self.config()
        self._put("job.config", config.to_json())
        state = self.state()
        changed = replace(
            state,
            applied_scope=scope_waiting(old, config, state),
            initial_needed=state.initial_needed or forces_initial(old, config),
        )
        if changed != state:
            self.save_state(changed)
        return config

    def state(self) -> JobState:
        """The stored state."""
        raw = self._get("job.state")
        return JobState.from_json(raw) if raw else JobState()

    def save_state(self, state: JobState) -> JobState:
        """Store the state."""
        self._put("job.state", state.to_json())
        return state
