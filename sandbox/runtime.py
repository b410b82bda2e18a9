"""Provides the composition root: opening the database and building the provider, for CLI and TUI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask

from sandbox.config import Settings
from sandbox.engine.scim.tenant_url import LOCAL, TenantUrl
from sandbox.errors import ConfigError, SandboxError
from sandbox.provider import create_app
from sandbox.provider.auth import Credentials
from sandbox.provider.nulab import NulabRules, nulab_schema
from sandbox.provider.org import CoreOverOrganization, Organization
from sandbox.requestlog import RequestLog
from sandbox.store import Store
from sandbox.timestamps import format_timestamp, utc_now

if TYPE_CHECKING:  # the engine is imported lazily, to keep `sandbox serve` light
    from sandbox.cycle_process import CycleWorker
    from sandbox.engine.scim.target_errors import ConnectionResult
    from sandbox.engine.sync.cycle import CycleReport
    from sandbox.engine.sync.job import JobConfig
    from sandbox.engine.sync.parts import Progress
    from sandbox.engine.sync.service import Provisioning
    from sandbox.engine.tenant.model import DirectoryUser
    from sandbox.provider_process import ProviderProcess
    from sandbox.scenarios.world import World
    from sandbox.server import EmbeddedServer

    LocalServer = EmbeddedServer | ProviderProcess

IN_PROCESS_URL = "in process (WSGI transport, no loopback port)"
"""A scenario world's provider_url: nothing listens; only its engine reaches the provider."""

DEFAULT_MEMBERS = 24
"""Members of the organization a fresh sandbox starts with."""


@dataclass(frozen=True)
class Effect:
    """What the provider noted while one object of a cycle was written (see
    Sandbox.last_cycle_effects)."""

    identity: str
    action: str
    notes: tuple[str, ...]


def open_store(settings: Settings) -> Store:
    """Open (creating and migrating if needed) the database the settings name."""
    return Store(settings.db_path)


def build_provider(
    store: Store, settings: Settings, request_log: RequestLog | None = None
) -> Flask:
    """The provider app over `store`, with the Nulab organization's rules in force (unless the
    settings ask for the plain SCIM core). Sharing the engine's `request_log` in one process
    keeps both sides' exchanges in the order they happened."""
    if settings.rules == "core":  # the store still holds the organization and its teams
        return create_app(store, settings, rules=CoreOverOrganization(), request_log=request_log)
    return create_app(
        store,
        settings,
        rules=NulabRules(Organization(store)),
        schema=nulab_schema(),
        request_log=request_log,
    )


@dataclass(frozen=True)
class Bootstrap:
    """What a first start did: the token is shown once, then never again."""

    token: str | None


LOCAL_TARGET = LOCAL
"""The tenant URL meaning "the sandbox's own provider"; resolved to its loopback URL at run time."""

DEFAULT_TENANT_USERS = 40
"""Tenant users a fresh sandbox starts with (the organization's people and some more)."""


def bootstrap_provider(store: Store, settings: Settings) -> Bootstrap:
    """On a fresh database: seed the organization, enable provisioning and issue a token
    (its issuer the owner admin), and configure the engine against the local provider with
    that token, so the provider and the engine work at once."""
    if store.get_state("bootstrapped", False):
        return Bootstrap(token=None)
    credentials = Credentials(store)
    token = None
    with store.write():
        if not store.scalar("SELECT count(*) FROM users"):
            from sandbox.provider.seed import seed_organization  # Faker loads only to seed

            seed_organization(store, seed=settings.seed, members=DEFAULT_MEMBERS)
        state = credentials.state()
        if not state.token_issued:  # never clobber a token issued by hand
            credentials.set_enabled(True)
            token = credentials.issue(format_timestamp(utc_now()), store.get_state("owner_id"))
        elif state.token_issuer is None:  # issued before the organization had its admins
            store.set_state("token_issuer", store.get_state("owner_id"))
        store.set_state("bootstrapped", True)
    if token is not None:
        # The engine starts configured against the local provider, with this same token.
        from sandbox.engine.sync.service import Provisioning

        engine = Provisioning(store, seed=settings.seed)
        if not engine.config().configured:
            engine.configure(tenant_url=LOCAL_TARGET, secret_token=token)
    return Bootstrap(token=token)


def bootstrap_tenant(store: Store, settings: Settings) -> bool:
    """On a fresh database, seed the mock tenant from the organization's people (their emails
    become users' mail; UPNs are on the tenant's domain, as in real tenants)."""
    from sandbox.engine.sync.service import Provisioning
    from sandbox.engine.tenant.seed import seed_tenant

    if store.get_state("tenant_bootstrapped", False):
        return False
    store.set_state("tenant_bootstrapped", True)  # once: a tenant emptied on purpose stays so
    engine = Provisioning(store, seed=settings.seed)
    if engine.directory.count():
        return False
    people = []
    for member in Organization(store).members():
        given, _, family = member.username.partition(" ")
        people.append((given or member.username, family or member.username, member.email))
    seed_tenant(
        engine.directory,
        seed=settings.seed,
        users=max(DEFAULT_TENANT_USERS, len(people)),
        people=people,
    )
    return True


def bootstrap(store: Store, settings: Settings, *, tenant: bool = True) -> Bootstrap:
    """Set up a fresh database as every entry point does, whichever runs first: the seeded
    organization, provisioning enabled with a token its owner admin issued, the engine
    configured against the local provider with that token, and (unless `tenant` is false,
    for a command that seeds the tenant itself) the seeded tenant. Nothing on a database set
    up before."""
    first = bootstrap_provider(store, settings)
    if tenant:
        bootstrap_tenant(store, settings)
    return first


def open_sandbox(settings: Settings, *, tenant: bool = True) -> Store:
    """The settings' database, set up as every entry point sets it up (see `bootstrap`)."""
    store = open_store(settings)
    bootstrap(store, settings, tenant=tenant)
    return store


def open_provisioning(settings: Settings, store: Store | None = None) -> Provisioning:
    """The mock Entra provisioning service over the settings' database (a fresh one set up by
    `bootstrap`). An engine left without credentials keeps none: it never takes a token the
    provider has not shown to the user (`sandbox entra configure --secret-token` sets one)."""
    from sandbox.engine.sync.service import Provisioning

    store = store or open_store(settings)
    bootstrap(store, settings)
    return Provisioning(store, seed=settings.seed)


def engine_token_is_current(engine: Provisioning) -> bool | None:
    """Whether the engine's secret token is the local provider's current SCIM token (None when
    the engine targets another endpoint, whose tokens the sandbox cannot know)."""
    config = engine.config()
    if not config.is_local:
        return None
    return Credentials(engine.store).is_current(config.secret_token)


STALE_TOKEN_HINT = (
    "the engine's secret token is not the provider's current SCIM token (deleted or reissued "
    "since it was entered): enter the new one with `sandbox entra configure --secret-token "
    "TOKEN` (guide step 3), or issue one straight into the engine with `sandbox provider "
    "token issue --use-in-engine`"
)
"""What a user is told when the local engine would send a token the provider no longer takes."""


@contextmanager
def running_engine(settings: Settings, store: Store | None = None) -> Iterator[Provisioning]:
    """The provisioning service, with the local provider served on a loopback port for the
    duration when the tenant URL is "local" (the engine reaches it over real HTTP): by
    `sandbox serve`'s server in a child process (`ProviderProcess`, started at once, waited
    for by the engine's first request, stopped however the block ends); an in-memory
    database, which no other process can open, in a thread of this one."""
    from sandbox.provider_process import ProviderProcess
    from sandbox.server import EmbeddedServer, server_log_path

    engine = open_provisioning(settings, store)
    if not engine.config().is_local:
        yield engine
        return
    log_path = server_log_path(settings.db_path)
    server: LocalServer
    if log_path is None:
        server = EmbeddedServer(
            build_provider(engine.store, settings, engine.request_log),
            threads=settings.threads,
        )
    else:
        server = ProviderProcess(settings, log_path=log_path)
        engine.local_ready = server.wait_ready
    try:
        server.start()
        engine.url_override = server.url + settings.base_path
        yield engine
    finally:
        server.stop()
        engine.request_log.flush()


def in_process_engine(settings: Settings, store: Store) -> Provisioning:
    """The provisioning service reaching the local provider through httpx's WSGI transport
    (tests and scenarios: same wire traffic, no socket)."""
    import httpx

    engine = open_provisioning(settings, store)
    engine.transport = httpx.WSGITransport(app=build_provider(store, settings, engine.request_log))
    engine.url_override = "http://sandbox.local" + settings.base_path
    return engine


def scim_url(host: str, port: int, settings: Settings) -> str:
    """The SCIM base URL (Entra's Tenant URL) of a provider listening on host:port."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{settings.base_path}"


# -- `sandbox up`: the whole sandbox in one process ------------------------------------------


def serve_locally(app: Flask, settings: Settings, port: int) -> EmbeddedServer:
    """Serve `app` on a loopback port: `port` if free, else any free one (the UI shows which).
    A port that is not one (out of range), or one this user may not open, is a ConfigError."""
    import errno

    from sandbox.server import EmbeddedServer, server_log_path

    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {port}")
    log_path = server_log_path(settings.db_path)
    try:
        server = EmbeddedServer(app, port=port, threads=settings.threads, log_path=log_path)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise ConfigError(f"cannot listen on 127.0.0.1 port {port}: {exc.strerror}") from None
        # taken: fall back to a port the system picks
        server = EmbeddedServer(app, port=0, threads=settings.threads, log_path=log_path)
    return server.start()


def graph_process(settings: Settings, port: int, provider_url: str) -> ProviderProcess:
    """The Microsoft Graph surface served by a child process (granian, one worker, as
    `sandbox entra graph` serves it) on loopback `port` (a free one if taken), its job's
    SCIM requests to the local provider at `provider_url`; not started, and not running
    the job's cycles (the process that starts it does)."""
    from sandbox.cycle_process import NICENESS
    from sandbox.graph.worker import APP, PROVIDER_URL_ENV, THREADS, TOKEN_ENV
    from sandbox.provider_process import ProviderProcess, port_or_free
    from sandbox.server import server_log_path

    return ProviderProcess(
        settings,
        port=port_or_free(port),
        log_path=server_log_path(settings.db_path),
        workers=1,
        niceness=NICENESS,
        app=APP,
        threads=THREADS,
        name="the Microsoft Graph surface",
        env={PROVIDER_URL_ENV: provider_url, TOKEN_ENV: ""},
    )


class Sandbox:
    """The sandbox of `sandbox up` and the terminal UI: the store, the provider served on a
    loopback port (by a child process, or a thread of this one, or reached in process), and
    the engine against it.

    A screen's one-call actions (the ?aadOptscim062020 toggle, one mapping's edit, a Faker
    user) delegate to the rules' homes (`TenantUrl.with_flag`, `sync.mapping_edit`,
    `tenant.seed`); everything else is reached through `engine`, `org`, `credentials` and
    `faults`, the same objects the CLI uses.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Provisioning,
        provider: Flask | None,
        server: LocalServer | None,
        provider_url: str,
    ) -> None:
        from sandbox.provider.faults import Faults

        self.settings = settings
        self.engine = engine
        self.store = engine.store
        self.provider = provider
        """The provider app of this process (None: it is served by a child process)."""
        self.server = server
        self.provider_url = provider_url
        """The local provider's SCIM base URL (what curl and the engine reach)."""
        self.org = Organization(self.store)
        self.credentials = Credentials(self.store)
        self.faults = Faults(self.store)
        self.cycle_worker: CycleWorker | None = None
        """The child process that runs this sandbox's cycles (`run_cycle`), when its provider
        is a child process too (a database file); None: cycles run in this process."""
        self.graph: ProviderProcess | None = None
        """The child process serving the Microsoft Graph surface (`sandbox up`), or None."""
        self.graph_error: str | None = None
        """Why the Graph surface could not start, once the warm-up has found out."""

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        port: int | None = None,
        target: str | None = None,
        token: str | None = None,
        serve: bool = True,
        in_thread: bool = False,
        graph_port: int | None = None,
    ) -> Sandbox:
        """Open (creating and seeding if missing) the settings' database and point the engine
        at the local provider, or at `target` with `token` when given. The provider is served
        on a loopback port (`port` if free, else any free one) by a child process that
        `warm_up` starts (or the engine's first request: it waits for it to answer);
        `in_thread=True` (or an in-memory database): by a thread of this process, at once;
        `serve=False`: reached in process, no socket. With `graph_port` (and a provider of a
        child process), the Microsoft Graph surface is served too, by a child process of its
        own on that loopback port (a free one if taken; 0: any), started by `warm_up`; its
        scheduled cycles are the caller's (the terminal UI runs them)."""
        from sandbox.provider_process import ProviderProcess, port_or_free
        from sandbox.server import server_log_path

        if target is not None and not token:
            raise ConfigError("--target needs --token (the SCIM token of that endpoint)")
        store = open_store(settings)
        engine = open_provisioning(settings, store)
        if target is not None and token:  # checked above: a target comes with its token
            engine.configure(tenant_url=target, secret_token=token)
        port = settings.port if port is None else port
        log_path = server_log_path(settings.db_path)
        server: LocalServer | None = None
        provider = None
        if serve and not in_thread and log_path is not None:
            from sandbox.cycle_process import NICENESS

            # At the cycle process's priority: the UI's process is served first by the cores
            # both fill during a cycle (keys are answered at once).
            process = ProviderProcess(
                settings, port=port_or_free(port), log_path=log_path, niceness=NICENESS
            )
            engine.local_ready = process.wait_ready
            server, root = process, process.url
        else:
            provider = build_provider(store, settings, engine.request_log)
            if serve:
                server = serve_locally(provider, settings, port)
                root = server.url
            else:
                import httpx

                engine.transport = httpx.WSGITransport(app=provider)
                root = "http://sandbox.local"
        engine.url_override = root + settings.base_path
        sandbox = cls(settings, engine, provider, server, root + settings.base_path)
        if isinstance(server, ProviderProcess):
            from sandbox.cycle_process import CycleWorker

            sandbox.cycle_worker = CycleWorker(settings, engine.url_override)
            if graph_port is not None:
                sandbox.graph = graph_process(settings, graph_port, engine.url_override)
        return sandbox

    @classmethod
    def from_world(cls, world: World) -> Sandbox:
        """A scenario's world seen as a sandbox (for the terminal UI): its in-memory store,
        engine, organization and faults; the provider has no port, the engine reaches it
        through httpx's WSGI transport. Closing it leaves the world open (its owner closes it)."""
        sandbox = cls(world.settings, world.engine, world.provider_app, None, IN_PROCESS_URL)
        sandbox.org = world.org
        sandbox.credentials = world.credentials
        sandbox.faults = world.faults
        return sandbox

    @property
    def provider_ready(self) -> bool:
        """Whether the local provider answers (a child process that has not yet is starting)."""
        return self.server is None or getattr(self.server, "ready", True)

    @property
    def graph_url(self) -> str | None:
        """The Graph surface's base URL once it answers (`http://127.0.0.1:8001/v1.0`)."""
        if self.graph is None or not self.graph.ready:
            return None
        from sandbox.graph.worker import base_url

        return base_url(self.graph.host, self.graph.port)

    def stop_provider(self) -> None:
        """Stop serving the local provider (a child process: it and its workers end), and the
        cycle process and the Graph surface with it."""
        if self.graph is not None:
            self.graph.stop()
        if self.cycle_worker is not None:
            self.cycle_worker.stop()
        if self.server is not None:
            self.server.stop()

    def close(self) -> None:
        """Stop the provider and write what the request logs still hold."""
        self.stop_provider()
        if self.provider is not None:
            self.provider.extensions["sandbox"].request_log.close()
        self.engine.request_log.close()

    def warm_up(self) -> None:
        """What the first cycle would otherwise wait for, which start-up leaves out so the
        first screen paints sooner; the UI calls this from a thread once it has painted. A
        provider of a child process: start it and wait until it answers (a ConfigError when
        it cannot). One of this process: load its filter and PATCH-path parser (scim2-models,
        about half a second), as `sandbox serve` workers do as they start."""
        from sandbox.provider.syntax import preload
        from sandbox.provider_process import ProviderProcess

        if self.cycle_worker is not None:
            self.cycle_worker.start()  # it imports the engine while the provider starts
        if self.graph is not None:
            self.graph.start()
        if isinstance(self.server, ProviderProcess):
            self.server.wait_ready()
        elif self.provider is not None:
            preload()
        if self.graph is not None:
            try:
                self.graph.wait_ready()
            except ConfigError as failed:  # the provider serves on: say why Graph does not
                self.graph_error = failed.message

    def flush_logs(self) -> None:
        """Write this process's buffered HTTP exchanges now (before reading the request log;
        a child process's provider writes its own every FLUSH_INTERVAL_S)."""
        if self.provider is not None:
            self.provider.extensions["sandbox"].request_log.flush()
        self.engine.request_log.flush()

    # -- the Provisioning blade -------------------------------------------------------------

    def set_flag(self, on: bool) -> JobConfig:
        """Add or remove ?aadOptscim062020 on the tenant URL (the SCIM 2020 dialect)."""
        current = self.engine.config().tenant_url
        if on and not current.strip():
            raise SandboxError(
                "enter a Tenant URL first: ?aadOptscim062020 is a query parameter of it"
            )
        url = TenantUrl.parse(current).with_flag(on)
        return self.engine.configure(tenant_url=str(url))

    def test_connection(self) -> ConnectionResult:
        """Entra's Test connection; when it fails because the engine holds a token the local
        provider no longer takes, the message says how to enter the current one."""
        from dataclasses import replace

        result = self.engine.test_connection()
        if not result.ok and engine_token_is_current(self.engine) is False:
            hint = (
                "The engine's secret token is not the provider's current SCIM token (deleted "
                "or reissued since it was entered): paste the new one here, or issue one on "
                'the Provider screen (6, key i) and choose "Use in engine".'
            )
            result = replace(result, message=f"{result.message}\n{hint}")
        return result

    def cycle_due(self) -> bool:
        """Whether the started job's next cycle is due on the simulated clock."""
        return self.engine.cycle_due()

    def next_cycle_now(self, progress: Progress | None = None) -> CycleReport:
        """ "Next cycle now": move the simulated clock to the next cycle's time and run it
        (`engine.sync`: refused with CycleRunningError, the clock unmoved, while another
        cycle runs)."""
        report = self.engine.sync(1, progress=progress)[0]
        self.flush_logs()
        return report

    def run_cycle(self, progress: Progress | None = None) -> dict[str, object]:
        """The UI's "Next cycle now": `next_cycle_now` run by the cycle process when there is
        one (this process's interpreter lock stays with the UI: keys are answered at once
        during a long cycle), else here. Its report as `CycleReport.to_dict`; refused with
        CycleRunningError while another cycle of the job runs."""
        if self.cycle_worker is None:
            return self.next_cycle_now(progress).to_dict()
        from sandbox.cycle_process import CycleRefused
        from sandbox.engine.sync.service import CycleRunningError

        if self.engine.local_ready is not None and self.engine.config().is_local:
            self.engine.local_ready()  # the child sends to this provider: it must answer
        try:
            report = self.cycle_worker.run(progress)
        except CycleRefused as refused:
            raise CycleRunningError(refused.pid) from None
        finally:
            self.engine.clock.reread()  # the child moved the stored clock
        self.flush_logs()
        return report

    # -- attribute mappings ---------------------------------------------------------------

    def set_mapping(
        self,
        target: str,
        source: str,
        kind: str = "Direct",
        *,
        default: str | None = None,
        create_only: bool = False,
        matching: int = 0,
        replacing: str | None = None,
    ) -> JobConfig:
        """Add or replace one user mapping (`replacing`: the target it had before an edit);
        a new target must be an attribute of the target's schema, and the whole set is
        validated as Entra's editor would before it is saved (the CLI's own function)."""
        from sandbox.engine.sync.mapping_edit import set_user_mapping

        return set_user_mapping(
            self.engine,
            target,
            source,
            kind=kind,
            default=default or None,
            create_only=create_only,
            matching=matching,
            replacing=replacing,
        ).config

    def remove_mapping(self, target: str) -> JobConfig:
        """Remove one user mapping (a required one is refused: `remove_user_mapping`)."""
        from sandbox.engine.sync.mapping_edit import remove_user_mapping

        return remove_user_mapping(self.engine, target)

    def set_group_mapping(
        self,
        target: str,
        source: str,
        kind: str = "Direct",
        *,
        default: str | None = None,
        create_only: bool = False,
        matching: int = 0,
        replacing: str | None = None,
    ) -> JobConfig:
        """Add or replace one group mapping (displayName, externalId or members), validated
        as Entra's editor would (`set_group_mapping`)."""
        from sandbox.engine.sync.mapping_edit import set_group_mapping

        return set_group_mapping(
            self.engine,
            target,
            source,
            kind=kind,
            default=default or None,
            create_only=create_only,
            matching=matching,
            replacing=replacing,
        )

    def remove_group_mapping(self, target: str) -> JobConfig:
        """Remove one group mapping (displayName is required: refused)."""
        from sandbox.engine.sync.mapping_edit import remove_group_mapping

        return remove_group_mapping(self.engine, target)

    def use_preset(self, name: str) -> JobConfig:
        """A ready-made user mapping set ("default" or "nulab")."""
        from sandbox.engine.mappings.presets import PRESETS

        if name not in PRESETS or PRESETS[name].object_type != "User":
            raise ConfigError(f"no user mapping preset {name!r}")
        return self.engine.configure(user_mappings=PRESETS[name].mappings, mapping_preset=name)

    # -- the tenant and the provider ----------------------------------------------------------

    def add_random_user(self) -> DirectoryUser:
        """A new seeded Faker tenant member (same database and seed, same user)."""
        from sandbox.engine.tenant.seed import add_random_user

        return add_random_user(
            self.engine.directory, seed=self.settings.seed, domain=self.engine.tenant_domain
        )

    def last_cycle_effects(self, scanned: int = 5000) -> tuple[int | None, list[Effect]]:
        """What the provider did to each object of the last cycle beyond the write itself
        (Nulab's org rules: a downgrade's team changes, a language kept, a seat refused...),
        as its responses told the engine (their X-Sandbox-Notes header): the cycle's number
        and one Effect per object the provider noted something for. Reads the provisioning
        log's records of that cycle and the newest `scanned` engine-side exchanges."""
        import json

        cycle = self.engine.state().last_cycle_id
        if cycle is None:
            return None, []
        self.flush_logs()
        records = self.engine.logs.query(cycle_id=cycle, limit=10_000)
        # An exchange's id (the engine's note on it) is reused by later cycles: the newest
        # exchange with the id is the last cycle's.
        notes_of: dict[str, list[str]] = {}
        for entry in self.engine.request_log.entries(limit=scanned, side="engine"):
            header = (entry.get("response_headers") or {}).get("x-sandbox-notes")
            for ref in entry.get("notes") or []:
                notes_of[ref] = json.loads(header) if header else []
        effects = []
        for record in records:
            noted = [n for ref in record.exchanges for n in notes_of.get(ref, [])]
            if noted:
                effects.append(Effect(record.source_name, record.action, tuple(noted)))
        return cycle, effects

    def issue_token(self, use_in_engine: bool = False) -> str:
        """Issue a new SCIM token as the current issuer (or the owner); the old one stops
        working. `use_in_engine` also enters it as the engine's secret token."""
        issuer = self.store.get_state("token_issuer") or self.store.get_state("owner_id")
        token = self.credentials.issue(format_timestamp(utc_now()), issuer)
        if use_in_engine:
            self.engine.configure(secret_token=token)
        return token
