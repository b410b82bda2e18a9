"""Provides Provisioning: the mock Entra provisioning service that the CLI and the TUI drive.

It holds the tenant directory, the enterprise app, the job (configuration and state), the
simulated clock, the links and the provisioning logs, and builds the SCIM target from the
configured tenant URL and secret token. The secret token is kept out of the database, in a
file beside it readable by its owner only (`<db>.secrets`), as a credential should be.
"""

from __future__ import annotations

import json
import os
import random
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from sandbox.engine.scim.target_errors import ConnectionResult
from sandbox.engine.sync.changes import ChangeFeed
from sandbox.engine.sync.clock import SimClock, format_time, parse_time
from sandbox.engine.sync.collector import fewer_collections
from sandbox.engine.sync.cycle import (
    CycleReport,
    ScopeInputs,
    next_cycle_estimate,
    run_cycle,
    run_on_demand,
    run_on_demand_group,
)
from sandbox.engine.sync.duration import Estimate
from sandbox.engine.sync.graph_job import synchronization_job
from sandbox.engine.sync.graph_schema import parse_expression, synchronization_schema
from sandbox.engine.sync.job import JobChanges, JobConfig, JobState, JobStore, forces_initial
from sandbox.engine.sync.links import LinkStore
from sandbox.engine.sync.logs import LogRecord, ProvisioningLogs
from sandbox.engine.sync.parts import CycleParts, Progress, Target
from sandbox.engine.sync.quarantine import DISABLED_STATUS
from sandbox.engine.tenant.app import EnterpriseApp
from sandbox.engine.tenant.directory import Directory
from sandbox.errors import NotFoundError, SandboxError
from sandbox.requestlog import RequestLog
from sandbox.store import LeaseHeld, Store

if TYPE_CHECKING:  # httpx and the SCIM client load when a target is first built
    import httpx

    from sandbox.engine.scim.target import ScimTarget
    from sandbox.engine.tenant.model import DirectoryGroup, DirectoryUser

TARGETS_COUNTER = "engine.targets"
"""The engine_state key counting the SCIM targets built (each seeds its own generator)."""

CYCLE_LEASE = "cycle"
"""The store lease a cycle or a provision on demand holds while it runs (`<db>.cycle.lock`)."""


class CycleRunningError(SandboxError):
    """A cycle of this job (or a provision on demand) is running already, in this process or
    another one: `pid` is its process (0 when unknown)."""

    def __init__(self, pid: int) -> None:
        super().__init__(
            f"a cycle is already running (pid {pid})" if pid else "a cycle is already running"
        )
        self.pid = pid


RESET_SCOPES = {
    name.lower(): name
    for name in (
        "None",
        "ConnectorDataStore",
        "Escrows",
        "Watermark",
        "QuarantineState",
        "Full",
        "ForceDeletes",
    )
}
"""Graph synchronizationJobRestartScope values, by their lower-case spelling."""


class JobDisabledError(SandboxError):
    """The service disabled the job after 28 days in quarantine: no cycle runs until it is
    started or restarted (§8.2)."""

    def __init__(self, since: str) -> None:
        super().__init__(
            f"the provisioning job was disabled on {since} after more than four weeks in "
            "quarantine: fix the cause, then `sandbox entra restart` (or start it again)"
        )


class TooManyMembers(SandboxError):
    """Provision on demand was given a group with more than five selectable members and no
    choice among them; each front end says how to choose (the CLI's --member, Graph's
    links.members, the UI's list)."""


class OnDemandRefused(SandboxError):
    """Provision on demand cannot select this user: it is soft-deleted or blocked in the
    directory (§1.6)."""


def on_demand_refusal(user: DirectoryUser) -> str | None:
    """Why provision on demand refuses `user`, or None. Microsoft Learn, "On-demand
    provisioning in Microsoft Entra ID", known limitations: it "doesn't support disabling or
    deleting users that have been disabled or deleted from Microsoft Entra ID. Those users
    don't appear when you search for a user" (§1.6); a cycle deprovisions them."""
    if user.deleted:
        state = "soft-deleted (in the recycle bin)"
    elif not user.account_enabled:
        state = "disabled (accountEnabled false)"
    else:
        return None
    return (
        f"{user.user_principal_name} cannot be provisioned on demand: the user is {state} in "
        "Microsoft Entra ID, and on-demand provisioning does not support users disabled or "
        "deleted there (they don't appear when you search for a user); the next cycle "
        "deprovisions it"
    )


class SecretStore:
    """The engine's secret token, outside the database (a 0600 file, or memory)."""

    def __init__(self, db_path: str, memory: dict[str, str] | None = None) -> None:
        self.path = None if db_path == ":memory:" else Path(db_path + ".secrets")
        self._memory: dict[str, str] = {} if memory is None else memory
        """An in-memory database's secrets (`memory`: shared with every engine over it)."""

    def _read(self) -> dict[str, object]:
        """The stored secrets; a file that is not ours is an error, never overwritten."""
        assert self.path is not None
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "it is not JSON"
            raise SandboxError(f"cannot read the secret token file {self.path}: {why}") from None
        if not isinstance(data, dict):
            raise SandboxError(
                f"cannot read the secret token file {self.path}: it is not a JSON object"
            )
        return data

    def get(self, key: str) -> str:
        if self.path is None:
            return self._memory.get(key, "")
        return str(self._read().get(key, ""))

    def put(self, key: str, value: str) -> None:
        if self.path is None:
            self._memory[key] = value
            return
        data = self._read()
        data[key] = value
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)


_MEMORY_SECRETS: weakref.WeakKeyDictionary[Store, dict[str, str]] = weakref.WeakKeyDictionary()
"""The secrets of each in-memory database, kept as long as its Store: every engine over one
store reads the token another set (the bootstrap's engine configures it, the command's engine
sends it), as every engine over a file database reads its `<db>.secrets`."""


ON_DEMAND_GROUP_MEMBERS = 5
"""Provision on demand takes a group with up to five members at a time (§1.6)."""


@dataclass(frozen=True)
class OnDemandResult:
    """Provision on demand: the steps and outcome for one user or group (§1.6); for a group,
    its chosen members' records too."""

    record: LogRecord
    connection: ConnectionResult | None = None
    members: tuple[LogRecord, ...] = ()


class Provisioning:
    """The provisioning service of the mock tenant."""

    def __init__(
        self,
        store: Store,
        *,
        seed: int = 1,
        clock: SimClock | None = None,
        transport: httpx.BaseTransport | None = None,
        request_log: RequestLog | None = None,
        tenant_domain: str = "contoso.onmicrosoft.com",
    ) -> None:
        self.store = store
        self.seed = seed
        self.clock = clock or SimClock(store)
        self.directory = Directory(store, self.clock.now)
        self.app = EnterpriseApp(store, self.directory)
        self.jobs = JobStore(store)
        self.links = LinkStore(store)
        self.changes = ChangeFeed(store, self.directory)
        self.logs = ProvisioningLogs(store, seed, tenant_domain)
        self.request_log = request_log or RequestLog(store)
        self.transport = transport
        """An httpx transport for every request (tests: WSGITransport; None: real HTTP)."""
        self.tenant_domain = tenant_domain
        self.secrets = SecretStore(store.path, _MEMORY_SECRETS.setdefault(store, {}))
        self.url_override: str | None = None
        """At run time, where the special tenant URL "local" points (the embedded provider)."""
        self.local_ready: Callable[[], None] | None = None
        """Called before each target of the "local" tenant URL is made: blocks until the local
        provider (started in the background) answers, or raises why it cannot."""

    # -- configuration -------------------------------------------------------------------

    def config(self) -> JobConfig:
        """The job configuration with its secret token."""
        return replace(self.jobs.config(), secret_token=self.secrets.get("secret_token"))

    def configure(self, **changes: Unpack[JobChanges]) -> JobConfig:
        """Change settings (tenant_url, secret_token, scope, groups_enabled, ...) and save."""
        config = self.config()
        unknown = set(changes) - set(JobConfig.__dataclass_fields__)
        if unknown:
            raise SandboxError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        token = changes.pop("secret_token", None)
        if token is not None and not (token.isascii() and token.isprintable()):
            raise SandboxError(
                "the secret token must be printable ASCII: it is sent in the Authorization header"
            )
        config = replace(config, **changes)
        self.jobs.save_config(replace(config, secret_token=""))
        if token is not None:
            self.secrets.put("secret_token", token)
        return self.config()

    def state(self) -> JobState:
        """The job state."""
        return self.jobs.state()

    def status(self) -> dict[str, object]:
        """What the Provisioning overview shows."""
        config, state = self.config(), self.state()
        return {
            "status": state.status(config),
            "schedule": state.schedule(),
            "disabled": None
            if state.disabled is None
            else f"{DISABLED_STATUS} (disabled {state.disabled})",
            "tenant_url": config.tenant_url,
            "dialect": "aadOptscim062020" if config.flag else "default",
            "scope": config.scope
            if state.scope(config) == config.scope
            else f"{config.scope} ({state.scope(config)} until a restart)",
            "groups_enabled": config.groups_enabled,
            "running": state.running,
            "quarantine": None if state.quarantine is None else state.quarantine.__dict__,
            "initial_needed": state.initial_needed,
            "watermark": state.watermark,
            "last_cycle_id": state.last_cycle_id,
            "last_cycle_end": state.last_cycle_end,
            "last_cycle_minutes": self._last_cycle_minutes(),
            "next_cycle": state.next_cycle,
            "next_cycle_estimate": self.estimate_next_cycle().to_dict(),
            "now": format_time(self.clock.now()),
            "escrows": self.links.escrow_count(),
            "staged_deletes": len(self.links.staged()),
            "linked_users": len(self.links.linked_ids("User")),
            # The portal's Users and Groups "in the connector data store": a delete does not
            # lower them, unlike the links (§1.7).
            "synchronized_entries": self.links.entry_counts(),
        }

    def _last_cycle_minutes(self) -> float | None:
        """How long the last cycle took on the simulated clock (§1.5), None before one ran."""
        raw = self.store.scalar(
            "SELECT counts FROM cycles WHERE counts IS NOT NULL AND kind != 'pod' "
            "ORDER BY id DESC LIMIT 1"
        )
        if raw is None:
            return None
        report = json.loads(raw)
        value = report.get("simulated_minutes")
        return float(value) if isinstance(value, int | float) else 0.0

    def estimate_next_cycle(self) -> Estimate:
        """How long the next cycle would take on the simulated clock (§1.5)."""
        inputs = ScopeInputs(
            self.config(),
            self.state(),
            self.links,
            self.changes,
            self.app,
            self.directory,
            self.clock,
            self.seed,
        )
        return next_cycle_estimate(inputs)

    # -- the target ----------------------------------------------------------------------

    def target(self, config: JobConfig | None = None) -> ScimTarget:
        """A SCIM client for the configured tenant URL and secret token."""

        from sandbox.engine.scim.target import ScimTarget

        config = config or self.config()
        if not config.configured:
            raise SandboxError(
                "provisioning is not configured: enter the Tenant URL and Secret token (the "
                "Provisioning screen's Admin credentials, or `sandbox entra configure "
                "--tenant-url URL --secret-token TOKEN`)"
            )
        url = config.tenant_url
        if config.is_local:
            if self.url_override is None:
                raise SandboxError(
                    "the tenant URL is 'local' but the local provider is not running"
                )
            url = str(config.url.resolved(self.url_override))
            if self.local_ready is not None:
                self.local_ready()
        log, clock, workers = self.request_log, self.clock.now, config.max_concurrency
        # Each target draws from its own generator, seeded by the sandbox's seed and how many
        # targets came before: Test connection's GUID is new every time, the same under the
        # same seed and history (§2.2; STYLE rule 6).
        rng = random.Random(f"target-{self.seed}-{self.jobs.count(TARGETS_COUNTER)}")
        if self.transport is not None:
            return ScimTarget(
                self.transport,
                url,
                config.secret_token,
                request_log=log,
                clock=clock,
                max_concurrency=workers,
                rng=rng,
            )
        return ScimTarget.over_http(
            url,
            config.secret_token,
            request_log=log,
            clock=clock,
            max_concurrency=workers,
            rng=rng,
        )

    def test_connection(self, config: JobConfig | None = None) -> ConnectionResult:
        """Entra's Test Connection with the configured credentials (or those of `config`,
        unsaved: Graph's validateCredentials)."""
        config = config or self.config()
        with self.target(config) as target:
            matching = [m for m in config.user_mappings if m.is_matching]
            attribute = matching[0].target if matching else "userName"
            result = target.test_connection(attribute)
        self.request_log.flush()
        return result

    # -- the job -------------------------------------------------------------------------

    def start(self) -> JobState:
        """Start provisioning: cycles run on the simulated clock from now. A paused job goes
        on where it stopped; a quarantined one has its quarantine cleared (Graph's Start
        synchronizationJob, §1.1)."""
        if not self.config().configured:
            raise SandboxError("configure the tenant URL and secret token before starting")
        state = self.state()
        state = replace(
            state,
            running=True,
            quarantine=None,
            disabled=None,  # Start enables a job the service disabled (§8.2)
            next_cycle=state.next_cycle
            if state.disabled is None and state.quarantine is None and state.next_cycle
            else format_time(self.clock.now()),  # a lifted quarantine's retry comes now
        )
        return self.jobs.save_state(state)

    def cycle_due(self) -> bool:
        """Whether a started job's next cycle has come on the simulated clock."""
        state = self.state()
        return bool(
            state.running and state.next_cycle and parse_time(state.next_cycle) <= self.clock.now()
        )

    def stop(self) -> JobState:
        """Stop provisioning (the current cycle finishes; no new one starts)."""
        return self.jobs.save_state(replace(self.state(), running=False))

    def restart(self, reset_scope: str = "") -> JobState:
        """Restart provisioning with Graph's synchronizationJobRestartCriteria (§1.4).

        `reset_scope` is a comma list of resetScope values; empty is the portal's Restart
        provisioning (Escrows, Watermark and QuarantineState). Escrows: failures are no longer
        retried. Watermark: the next cycle evaluates every object (initial). QuarantineState:
        the quarantine is lifted. ConnectorDataStore: the links are forgotten and the next
        cycle reprocesses every object, matching each again. Full: all four. ForceDeletes: the
        staged deletions go through. None: resets nothing. Every restart starts the job
        (Graph: "Restart a stopped synchronization job, forcing it to reprocess all the
        objects"), a stopped one or one the service disabled after 28 days in quarantine
        alike, with its next cycle now, and applies a scope switch waiting for it."""
        scopes = {s.strip() for s in reset_scope.split(",") if s.strip()}
        unknown = {s for s in scopes if s.lower() not in RESET_SCOPES}
        if unknown:
            raise SandboxError(
                f"unknown reset scope(s): {', '.join(sorted(unknown))} "
                f"(known: {', '.join(RESET_SCOPES.values())})"
            )
        scopes = {RESET_SCOPES[s.lower()] for s in scopes}
        if not scopes:
            scopes = {"Escrows", "Watermark", "QuarantineState"}
        if "Full" in scopes:
            scopes |= {"ConnectorDataStore", "Escrows", "Watermark", "QuarantineState"}
        if not self.config().configured:  # a restart starts the job
            raise SandboxError("configure the tenant URL and secret token before restarting")
        state = replace(self.state(), applied_scope=None, disabled=None, running=True)
        if "Escrows" in scopes:
            self.links.clear_escrows()
        if scopes & {"Watermark", "ConnectorDataStore"}:
            state = replace(state, initial_needed=True)
        if "QuarantineState" in scopes:
            state = replace(state, quarantine=None)
        if "ConnectorDataStore" in scopes:
            self.links.clear()
        if "ForceDeletes" in scopes:
            state = replace(state, force_deletes=True, quarantine=None)
        else:
            self.links.clear_staged()
        return self.jobs.save_state(replace(state, next_cycle=format_time(self.clock.now())))

    def allow_deletes(self) -> JobState:
        """Accidental-deletion prevention: push the staged deletions through (§8.3)."""
        if not self.links.staged():
            raise SandboxError("no deletions are staged")
        return self.restart("ForceDeletes")

    # -- cycles --------------------------------------------------------------------------

    def parts(self, target: Target, config: JobConfig, state: JobState) -> CycleParts:
        """The collaborators of one cycle or provision on demand, sending to `target`, with the
        scope the state applies (a switch to "assigned" waits for a restart, §1.4)."""
        config = replace(config, scope=state.scope(config))
        return CycleParts(
            clock=self.clock,
            seed=self.seed,
            tenant_domain=self.tenant_domain,
            directory=self.directory,
            app=self.app,
            links=self.links,
            logs=self.logs,
            changes=self.changes,
            target=target,
            config=config,
            state=state,
        )

    def _record_start(self, kind: str) -> int:
        """Record a cycle as running, with its GUID (Graph cycleId, §8.4); its id. The GUID is
        drawn from the seed and the cycle's number: the same in a replay, unique per database."""
        with self.store.write() as db:
            cycle_id = int(
                db.execute(
                    "INSERT INTO cycles (kind, started, status) VALUES (?, ?, 'running')",
                    [kind, format_time(self.clock.now())],
                ).lastrowid
                or 0
            )
            draw = random.Random(f"cycle-guid-{self.seed}-{cycle_id}").getrandbits(128)
            guid = str(uuid.UUID(int=draw, version=4))
            db.execute("UPDATE cycles SET guid = ? WHERE id = ?", [guid, cycle_id])
        return cycle_id

    def _record_finish(
        self, report: CycleReport, started_from: JobState, ran_with: JobConfig
    ) -> None:
        """Record the cycle and save the job state it ends with. What was saved while it ran
        (stop, start, restart, allow deletes) is kept: each field the stored state no longer
        has as the cycle found it keeps the stored value. A setting changed meanwhile that
        forces an initial cycle (the cycle ran with the old one) makes the next one initial."""
        current = self.state()
        state = JobState(
            **{
                name: getattr(current, name)
                if getattr(current, name) != getattr(started_from, name)
                else getattr(report.state, name)
                for name in JobState.__dataclass_fields__
            }
        )
        if forces_initial(ran_with, self.config()):
            state = replace(state, initial_needed=True)
        with self.store.write() as db:
            db.execute(
                "UPDATE cycles SET finished = ?, status = ?, counts = ?, wall_ms = ? WHERE id = ?",
                [
                    report.finished,
                    "quarantined" if report.quarantine else "done",
                    json.dumps(report.to_dict()),
                    report.wall_ms,
                    report.id,
                ],
            )
        self.jobs.save_state(state)
        self.request_log.flush()

    def graph_job(self) -> dict[str, object]:
        """The job as Graph's synchronizationJob (sync/graph_job.py): its schedule, status,
        last executions (the finished scheduled cycles; provision on demand is not a run of
        the job) and quarantine."""
        rows = self.store.query(
            "SELECT counts, guid FROM cycles WHERE counts IS NOT NULL AND kind != 'pod' ORDER BY id"
        )
        cycles = [(json.loads(r["counts"]), str(r["guid"] or "")) for r in rows]
        entries = self.links.entry_counts()  # not the links: a delete keeps its entry (§1.7)
        return synchronization_job(self.config(), self.state(), cycles, entries, self.tenant_domain)

    def graph_schema(self) -> dict[str, object]:
        """The job's synchronization schema in Graph's shape (sync/graph_schema.py)."""
        return synchronization_schema(self.config(), self.tenant_domain)

    def parse_expression(
        self, expression: str, source: Mapping[str, object] | None
    ) -> dict[str, object]:
        """Graph's parseExpression: parse `expression` and, given a test object, evaluate it
        on the simulated clock and the tenant's domain."""
        return parse_expression(
            expression, source, clock=self.clock.now(), tenant_domain=self.tenant_domain
        )

    def cycles(self, limit: int = 50) -> list[dict[str, object]]:
        """The latest cycles' reports, oldest first."""
        rows = self.store.query(
            "SELECT counts FROM cycles WHERE counts IS NOT NULL ORDER BY id DESC LIMIT ?", [limit]
        )
        return [json.loads(r["counts"]) for r in reversed(rows)]

    @contextmanager
    def one_cycle(self) -> Iterator[None]:
        """Hold the job's cycle lease for the duration: one cycle or provision on demand at a
        time per database, across threads and processes (two at once would each save the job
        state they read at their start, and export the same users twice). Raises
        CycleRunningError at once, before anything is sent, when another holds it."""
        with ExitStack() as stack:
            try:
                stack.enter_context(self.store.lease(CYCLE_LEASE))
            except LeaseHeld as held:
                raise CycleRunningError(held.pid) from None
            self.logs.resume()  # another process may have written logs since this one did
            yield

    def run_cycle(self, progress: Progress | None = None) -> CycleReport:
        """Run one cycle now (initial or incremental as the state says); `progress(done,
        total, phase)` hears how far it is (its users, then its manager references)."""
        with self.one_cycle():
            return self._run_cycle(progress)

    def _run_cycle(self, progress: Progress | None) -> CycleReport:
        config, state = self.config(), self.state()
        if state.disabled is not None:
            raise JobDisabledError(state.disabled)
        self.directory.purge_expired(self.clock.now())  # 30 days in the recycle bin (§2.7)
        kind = "initial" if state.initial_needed else "incremental"
        with self.target(config) as target, fewer_collections():
            cycle_id = self._record_start(kind)
            report = run_cycle(
                self.parts(target, config, state), cycle_id, kind=kind, progress=progress
            )
            self._record_finish(report, started_from=state, ran_with=config)
        return report

    def sync(
        self,
        cycles: int = 1,
        *,
        until_idle: bool = False,
        max_cycles: int = 50,
        progress: Progress | None = None,
    ) -> list[CycleReport]:
        """Run the next scheduled cycles now, back to back: the simulated clock moves to each
        cycle's start time (40 minutes apart, a day apart in quarantine).
        `until_idle` runs until a cycle changes nothing (at most `max_cycles`)."""
        if cycles < 1:
            raise SandboxError("--cycles must be at least 1")
        reports: list[CycleReport] = []
        limit = max_cycles if until_idle else cycles
        with self.one_cycle():  # held across the run: no other cycle comes in between
            for _ in range(limit):
                due = self.state().next_cycle
                if due:  # "next cycle now": simulated time jumps to the scheduled start
                    self.clock.advance_to(parse_time(due))
                report = self._run_cycle(progress)
                reports.append(report)
                changed = sum(
                    report.counts[k] for k in ("created", "updated", "disabled", "deleted")
                )
                if until_idle and (changed == 0 or report.quarantine is not None):
                    break
                if report.state.disabled is not None:
                    break  # 28 days in quarantine: the job stopped running (§8.2)
        return reports

    def provision_on_demand(self, key: str, members: Sequence[str] = ()) -> OnDemandResult:
        """Provision one user, or one group with at most five members (`members` picks them
        among its direct members; without it the group must have five or fewer), now,
        through the same steps, ignoring the ?aadOptscim062020 flag and sending no role
        (§1.6); the watermark and the schedule are not touched. A user soft-deleted or
        blocked in the directory is refused (OnDemandRefused), as a chosen member is. It
        waits for no cycle: one running refuses it (CycleRunningError), as it would
        otherwise save the job state it read over the cycle's."""
        user = None if members else self.directory.find_user(key)
        group = None if user is not None else self.directory.find_group(key)
        if user is None and group is None:
            if members:
                raise NotFoundError(f"no group with id or display name {key!r}")
            self.directory.get_user(key)  # raises: no such user (or group)
        if group is not None:
            if not self.config().groups_enabled:
                raise SandboxError(
                    "group provisioning is off: `sandbox entra groups-provisioning on` first "
                    "to provision a group on demand"
                )
            chosen = self._on_demand_members(group, members)
            with self.one_cycle():
                return self._provision_group_on_demand(group, chosen)
        assert user is not None
        refusal = on_demand_refusal(user)
        if refusal is not None:
            raise OnDemandRefused(refusal)
        with self.one_cycle():
            return self._provision_on_demand(user)

    def _on_demand_members(self, group: DirectoryGroup, keys: Sequence[str]) -> list[str]:
        """The ids of the members a group's provision on demand takes, refused past five."""
        limit = ON_DEMAND_GROUP_MEMBERS
        direct = self.directory.members(group.id)
        if not keys:
            # Users soft-deleted or blocked in Entra cannot be selected (§1.6): the group is
            # taken with the members that can.
            selectable = [m for m in direct if on_demand_refusal(m) is None]
            left_out = len(direct) - len(selectable)
            if len(selectable) > limit:
                among = f" ({left_out} soft-deleted or blocked left out)" if left_out else ""
                raise TooManyMembers(
                    f"group {group.display_name!r} has {len(direct)} members, "
                    f"{len(selectable)} that can be selected{among}: provision on demand takes "
                    f"a group with at most {limit} members (choose up to {limit} of them)"
                )
            direct = selectable
            return [m.id for m in direct]
        if len(keys) > limit:
            raise TooManyMembers(
                f"provision on demand takes at most {limit} members of a group, got {len(keys)}"
            )
        ids = {m.id for m in direct}
        chosen: list[str] = []
        for key in keys:
            user = self.directory.get_user(key)
            if user.id not in ids:
                raise SandboxError(
                    f"{user.user_principal_name} is not a direct member of {group.display_name}"
                )
            refusal = on_demand_refusal(user)
            if refusal is not None:
                raise OnDemandRefused(refusal)
            if user.id not in chosen:
                chosen.append(user.id)
        return chosen

    def _connection_failed(
        self, object_type: str, object_id: str, name: str, connection: ConnectionResult
    ) -> OnDemandResult:
        record = LogRecord(
            0,
            format_time(self.clock.now()),
            object_type,
            object_id,
            name,
            status="Failure",
            reason=connection.message,
        )
        return OnDemandResult(record, connection)

    def _provision_on_demand(self, user: DirectoryUser) -> OnDemandResult:
        config, state = self.config(), self.state()
        with self.target(config) as target:
            connection = target.test_connection()
            if not connection.ok:
                return self._connection_failed(
                    "User", user.id, user.user_principal_name, connection
                )
            cycle_id = self._record_start("pod")
            done = run_on_demand(self.parts(target, config, state), cycle_id, user)
            self._record_finish(done.report, started_from=state, ran_with=config)
        return OnDemandResult(done.record, None)

    def _provision_group_on_demand(
        self, group: DirectoryGroup, member_ids: list[str]
    ) -> OnDemandResult:
        config, state = self.config(), self.state()
        with self.target(config) as target:
            connection = target.test_connection()
            if not connection.ok:
                return self._connection_failed("Group", group.id, group.display_name, connection)
            cycle_id = self._record_start("pod")
            done = run_on_demand_group(
                self.parts(target, config, state), cycle_id, group, member_ids
            )
            self._record_finish(done.report, started_from=state, ran_with=config)
        return OnDemandResult(done.record, None, tuple(done.members))

    def mapping_source(self, user_key: str) -> dict[str, object]:
        """What the attribute mappings read for one tenant user, as a cycle builds it: its
        Entra properties plus IsSoftDeleted and appRoleAssignments (the expression playground
        evaluates against this)."""
        from sandbox.engine.sync.read_ahead import UserReads
        from sandbox.engine.sync.user_steps import entra_source

        user = self.directory.get_user(user_key)
        config = self.config()
        config = replace(config, scope=self.state().scope(config))
        return entra_source(UserReads(self.directory, self.app, self.links), config, user)[0]
