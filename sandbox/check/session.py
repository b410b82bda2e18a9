"""Provides Session: the throwaway Entra tenant and provisioning job one dialect is checked with.

The tenant, the enterprise app and the job live in an in-memory database made for the run;
objects are provisioned by the engine's own service (`Provisioning`: cycles and provision on
demand), and the endpoint's state is read back with plain GETs through a `Probe` (the engine's
SCIM client, sending as Entra sends), as Microsoft's validation suite does. Every exchange
goes to one request log, shared by all the sessions of a run, for the report and `--har`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import httpx

from sandbox.check.model import Exchange
from sandbox.engine.mappings.mapping import Mapping
from sandbox.engine.scim.target import ScimTarget
from sandbox.engine.scim.tenant_url import TenantUrl
from sandbox.engine.sync.cycle import CycleReport
from sandbox.engine.sync.logs import LogRecord
from sandbox.engine.sync.service import Provisioning
from sandbox.engine.tenant.model import DirectoryUser
from sandbox.requestlog import RequestLog
from sandbox.store import Store

DOMAIN = "scim-check.example"
"""The test users' domain (a reserved name: no real mailbox is ever addressed)."""

DIALECTS = ("legacy", "aadOptscim062020")


class Probe(ScimTarget):
    """The engine's SCIM client used for read-backs and direct SCIM checks: same headers,
    same transport, same request log as the engine's requests."""

    def send(
        self, method: str, path: str, query: str = "", body: dict[str, object] | None = None
    ) -> tuple[int, object, str]:
        """Send one request; (status, parsed JSON body or None, the body's text). Status 0:
        no answer."""
        response, exchange, _ = self._send(method, path, query, body)
        text = exchange.response_body or ""
        if response is None:
            return 0, None, exchange.error or ""
        try:
            parsed: object = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return response.status_code, parsed, text


class _WithoutCredentials(httpx.BaseTransport):
    """Sends each request without its Authorization header: a client with no credentials."""

    def __init__(self, inner: httpx.BaseTransport, owns: bool) -> None:
        self.inner = inner
        self.owns = owns

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        del request.headers["Authorization"]
        return self.inner.handle_request(request)

    def close(self) -> None:
        if self.owns:
            self.inner.close()


@dataclass(frozen=True)
class Target:
    """Where the checks send: the tenant URL (its query ignored), the token, a transport
    (None: real HTTP)."""

    url: str
    token: str
    transport: httpx.BaseTransport | None = None

    def base(self) -> str:
        return str(TenantUrl.parse(self.url).with_flag(False))


class Session:
    """One dialect's throwaway tenant, app and job against the target."""

    def __init__(
        self,
        target: Target,
        dialect: str,
        mappings: tuple[Mapping, ...],
        preset: str,
        groups: bool,
        log: RequestLog,
        run_id: str | None = None,
    ) -> None:
        self.target = target
        self.dialect = dialect
        self.log = log
        self.run_id = run_id or secrets.token_hex(3)
        self.store = Store(":memory:")
        self.engine = Provisioning(self.store, transport=target.transport, request_log=log, seed=1)
        url = str(TenantUrl.parse(target.url).with_flag(dialect == "aadOptscim062020"))
        self.engine.configure(
            tenant_url=url,
            secret_token=target.token,
            user_mappings=mappings,
            mapping_preset=preset,
            groups_enabled=groups,
            delete_threshold=None,  # a handful of test objects: never stage their deletion
            max_concurrency=1,
        )
        self.mappings = mappings
        self.probe = self._probe(target.token)
        self._users = 0
        self.last_report: CycleReport | None = None
        self.step_mark = 0
        """The request-log seq before the current check began."""

    def _probe(self, token: str, *, credentials: bool = True) -> Probe:
        transport = self.target.transport
        owns = transport is None
        if transport is None:
            from sandbox.engine.scim.transport import KeepAliveTransport, proxy_for

            proxy = proxy_for(self.target.url)  # as ScimTarget.over_http builds its transport
            transport = KeepAliveTransport() if proxy is None else httpx.HTTPTransport(proxy=proxy)
        if not credentials:  # through httpx's path, where the header can be taken off
            transport, owns = _WithoutCredentials(transport, owns), True
        return Probe(
            transport, self.target.base(), token, request_log=self.log, owns_transport=owns
        )

    def wrong_token_probe(self) -> Probe:
        """A probe that sends a token the endpoint cannot know."""
        return self._probe("not-a-valid-token-" + secrets.token_hex(8))

    def no_credentials_probe(self) -> Probe:
        """A probe that sends no Authorization header at all."""
        return self._probe("", credentials=False)

    def close(self) -> None:
        self.probe.close()
        self.store.close()

    # -- the tenant ----------------------------------------------------------------------

    def new_user(self, role: str | None = "USER", **props: object) -> DirectoryUser:
        """A tenant user with every commonly mapped property set, assigned to the app."""
        self._users += 1
        alias = f"scimcheck-{self.run_id}-{self.dialect[:3]}{self._users}"
        values: dict[str, object] = {
            "userPrincipalName": f"{alias}@{DOMAIN}",
            "mail": f"{alias}@{DOMAIN}",
            "mailNickname": alias,
            "displayName": f"Check User {self.dialect[:3]}{self._users} {self.run_id}",
            "givenName": "Check",
            "surname": f"User{self._users}",
            "jobTitle": "Engineer",
            "department": "Research",
            "employeeId": f"E{self._users:04d}",
            "preferredLanguage": "en-US",
            "country": "Netherlands",
            "city": "Amsterdam",
            "streetAddress": "1 Dam Square",
            "postalCode": "1012 JS",
            "state": "North Holland",
            "physicalDeliveryOfficeName": "Building 1",
            "telephoneNumber": "+31 20 555 0100",
            "mobile": "+31 6 5555 0100",
            **props,
        }
        user = self.engine.directory.add_user(**values)
        if role is not None:
            self.engine.app.assign(user.id, role)
        return user

    CHANGED = {
        "displayName": "Check User Renamed {n}",
        "givenName": "Checked",
        "surname": "Renamed{n}",
        "jobTitle": "Senior Engineer",
        "department": "Development",
        "employeeId": "F{n:04d}",
        "preferredLanguage": "ja-JP",
        "country": "Japan",
        "city": "Tokyo",
        "streetAddress": "2-1 Marunouchi",
        "postalCode": "100-0005",
        "state": "Tokyo",
        "physicalDeliveryOfficeName": "Building 2",
        "telephoneNumber": "+81 3 5555 0100",
        "mobile": "+81 90 5555 0100",
        "mailNickname": "{alias}x",
    }
    """What the update check changes: every mapped property but the user's identity (UPN, mail)."""

    def change_user(self, user: DirectoryUser) -> DirectoryUser:
        alias = user.user_principal_name.split("@")[0]
        n = self._users + 100
        changes = {k: v.format(n=n, alias=alias) for k, v in self.CHANGED.items()}
        return self.engine.directory.edit_user(user.id, **changes)

    def rename_group(self, group_id: str, name: str) -> None:
        """Rename a tenant group (the directory has no rename of its own yet): the change is
        recorded as an update of displayName, as the engine's change feed expects."""
        directory = self.engine.directory
        with self.store.write() as db:
            db.execute("UPDATE entra_groups SET display_name = ? WHERE id = ?", [name, group_id])
            directory.record_change(
                db, "Group", group_id, "update", {"properties": ["displayName"]}
            )

    # -- the engine ------------------------------------------------------------------------

    def sync(self) -> CycleReport:
        """One cycle now (the simulated clock moves to it)."""
        self.last_report = self.engine.sync(1)[0]
        return self.last_report

    def records(self, source_id: str, report: CycleReport | None = None) -> list[LogRecord]:
        """The provisioning-log records of one object in a cycle (the last one by default)."""
        report = report or self.last_report
        cycle = None if report is None else report.id
        return self.engine.logs.query(cycle_id=cycle, source=source_id)

    def target_id(self, object_type: str, source_id: str) -> str | None:
        link = self.engine.links.get(object_type, source_id)
        return None if link is None else link.target_id

    # -- the request log -------------------------------------------------------------------

    def mark(self) -> int:
        """The newest request-log seq: pass it to `exchanges_since`."""
        self.log.flush()
        return int(self.log.store.scalar("SELECT coalesce(max(seq), 0) FROM request_log") or 0)

    def exchanges_since(self, mark: int) -> list[Exchange]:
        """Every exchange logged after `mark`, oldest first."""
        return [Exchange.from_entry(e) for e in self.log.entries(limit=100_000, after=mark)]

    def exchanges_of(self, record: LogRecord) -> list[Exchange]:
        """The exchanges behind a provisioning-log record in the current check (a record
        names them by their note; notes are unique within one cycle's target)."""
        refs = set(record.exchanges)
        entries = self.log.entries(limit=100_000, after=self.step_mark)
        return [Exchange.from_entry(e) for e in entries if e["notes"] and e["notes"][0] in refs]

    def mapped(self, target: str) -> bool:
        """Whether some user mapping writes `target` (a name, or a URN-qualified one's tail)."""
        wanted = target.lower()
        return any(
            m.target.lower() == wanted or m.target.lower().endswith(":" + wanted)
            for m in self.mappings
        )
