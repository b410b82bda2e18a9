"""Provides the pytest plugin (entry point `pytest11`: `sandbox`): a throwaway Entra tenant and
provisioning engine pointed at the developer's own SCIM app, in process or at a URL.

Say what is under test with fixtures, and use `entra`:

    @pytest.fixture
    def scim_app():            # a WSGI (Flask...) or ASGI (FastAPI...) app, reached in process
        return create_app(token="t")

    @pytest.fixture
    def scim_token():
        return "t"

    def test_a_user_is_created(entra):
        user = entra.add_user()
        entra.assign(user)
        entra.sync()
        assert entra.log(user).action == "Create"

Without a `scim_app`, the engine sends real HTTP to `scim_url`. `entra.check()` runs the
whole `sandbox check` suite against the app and returns its report.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, TypeVar

import httpx
import pytest

if TYPE_CHECKING:  # the sandbox loads when a test first asks for `entra`, not with pytest
    from sandbox.check.model import CheckReport, Exchange
    from sandbox.engine.sync.cycle import CycleReport
    from sandbox.engine.sync.logs import LogRecord
    from sandbox.engine.sync.service import OnDemandResult
    from sandbox.engine.tenant.model import DirectoryGroup, DirectoryUser

T = TypeVar("T")

DEFAULT_URL = "http://testserver/scim/v2"
DEFAULT_TOKEN = "sandbox-test-token"


class ASGIBridge(httpx.BaseTransport):
    """A synchronous transport to an ASGI app (the engine is synchronous): each request runs
    on one event loop kept in a thread of its own, so the app's state lives on one loop."""

    def __init__(self, app: object) -> None:
        self._asgi = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _run(self, coroutine: Coroutine[object, object, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            request.read()
            response = await self._asgi.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._run(send())

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


def transport_for(app: object) -> httpx.BaseTransport:
    """An in-process transport to a WSGI or an ASGI app."""
    call = getattr(app, "__call__", None)  # noqa: B004  (an ASGI app's __call__ is async)
    if inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(call):
        return ASGIBridge(app)
    return httpx.WSGITransport(app=app)  # type: ignore[arg-type]


class EntraTenant:
    """A throwaway Entra tenant, enterprise app and provisioning job pointed at an endpoint.

    The engine is the sandbox's (the same requests Entra sends); `engine`, `directory` and
    `app` are its objects for anything the helpers do not cover."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        token: str = DEFAULT_TOKEN,
        *,
        app: object | None = None,
        flag: bool = False,
        mappings: str = "default",
        groups: bool = True,
    ) -> None:
        from sandbox.check.session import Session, Target
        from sandbox.engine.mappings.presets import PRESETS
        from sandbox.engine.scim.tenant_url import TenantUrl
        from sandbox.requestlog import RequestLog
        from sandbox.store import Store

        self.transport = transport_for(app) if app is not None else None
        self.target = Target(url, token, self.transport)
        self._log = RequestLog(Store(":memory:"), limit=1_000_000, background=False)
        dialect = "aadOptscim062020" if flag or TenantUrl.parse(url).flagged else "legacy"
        preset = PRESETS[mappings]
        self._session = Session(self.target, dialect, preset.mappings, mappings, groups, self._log)
        self.engine = self._session.engine
        self.directory = self.engine.directory
        self.app = self.engine.app

    def close(self) -> None:
        self._session.close()
        self._log.store.close()
        if self.transport is not None:
            self.transport.close()

    # -- the tenant ----------------------------------------------------------------------

    def add_user(self, assign: bool = False, **props: object) -> DirectoryUser:
        """A tenant user with the usual properties filled (override any by its Entra name,
        e.g. `userPrincipalName=...`, `jobTitle=...`); `assign` assigns it to the app."""
        return self._session.new_user(role="USER" if assign else None, **props)

    def add_group(self, name: str, *members: DirectoryUser) -> DirectoryGroup:
        group = self.directory.add_group(name)
        for member in members:
            self.directory.add_member(group.id, member.id)
        return group

    def assign(self, principal: DirectoryUser | DirectoryGroup, role: str = "USER") -> None:
        """Assign a user or a group to the app (it comes into scope)."""
        self.app.assign(principal.id, role)

    def unassign(self, principal: DirectoryUser | DirectoryGroup) -> None:
        self.app.unassign(principal.id)

    def configure(self, **changes: object) -> None:
        """Change the job (`groups_enabled`, `scope`, `delete`...; see JobConfig)."""
        self.engine.configure(**changes)  # type: ignore[arg-type]

    # -- provisioning -------------------------------------------------------------------

    def sync(self, cycles: int = 1) -> CycleReport:
        """Run cycles now; the last one's report."""
        return self.engine.sync(cycles)[-1]

    def provision_on_demand(self, user: DirectoryUser) -> OnDemandResult:
        return self.engine.provision_on_demand(user.id)

    def logs(self, principal: DirectoryUser | DirectoryGroup | None = None) -> list[LogRecord]:
        """Provisioning-log records, oldest first (one user's or group's)."""
        return self.engine.logs.query(source=principal.id if principal else None, limit=10_000)

    def log(self, principal: DirectoryUser | DirectoryGroup) -> LogRecord:
        """The newest record of one user or group."""
        records = self.logs(principal)
        assert records, f"no provisioning-log record for {principal.id}"
        return records[-1]

    def target_id(self, principal: DirectoryUser | DirectoryGroup) -> str | None:
        """The id the endpoint gave a provisioned user or group."""
        kind = "User" if hasattr(principal, "user_principal_name") else "Group"
        return self._session.target_id(kind, principal.id)

    def exchanges(self, method: str | None = None) -> list[Exchange]:
        """Every HTTP exchange the engine had with the endpoint, oldest first."""
        sent = self._session.exchanges_since(0)
        return [e for e in sent if method is None or e.method == method.upper()]

    def get(self, path: str, query: str = "") -> tuple[int, object]:
        """GET a path under the endpoint as Entra would: (status, parsed body)."""
        status, body, _ = self._session.probe.send("GET", path, query)
        return status, body

    def check(self, **options: object) -> CheckReport:
        """The whole `sandbox check` suite against the same endpoint (a tenant of its own)."""
        from sandbox.check import CheckOptions, run_checks

        return run_checks(
            CheckOptions(self.target.url, self.target.token, transport=self.transport, **options)  # type: ignore[arg-type]
        )


@pytest.fixture
def scim_app() -> object | None:
    """The SCIM app under test, reached in process (override it; None: use `scim_url`)."""
    return None


@pytest.fixture
def scim_url() -> str:
    """The SCIM base URL (Entra's Tenant URL); add ?aadOptscim062020 for the 2020 dialect."""
    return DEFAULT_URL


@pytest.fixture
def scim_token() -> str:
    """The bearer token the engine sends (Entra's Secret Token)."""
    return DEFAULT_TOKEN


@pytest.fixture
def entra(scim_app: object | None, scim_url: str, scim_token: str) -> Iterator[EntraTenant]:
    """A throwaway Entra tenant and job pointed at the app under test."""
    tenant = EntraTenant(scim_url, scim_token, app=scim_app)
    yield tenant
    tenant.close()
