"""Provides EngineEnv: the mock Entra engine over the sandbox's own provider (httpx's WSGI
transport: the same wire traffic, no socket), on a fresh copy of a seeded database per test,
with the requests the engine sent decoded for exact comparison.

Seeding the Nulab organization and the tenant costs a few hundred milliseconds, so it is done
once per process and rules ("nulab" or "core") and copied (`VACUUM INTO`) for every test.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from sandbox.config import Settings
from sandbox.engine.mappings.presets import PRESETS
from sandbox.engine.sync.service import Provisioning
from sandbox.provider.org import Organization
from sandbox.runtime import in_process_engine
from sandbox.store import Store

FLAG = "?aadOptscim062020"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DOMAIN = "contoso.onmicrosoft.com"

_templates: dict[str, Path] = {}
_workdir = tempfile.TemporaryDirectory(prefix="engine-env-")
atexit.register(_workdir.cleanup)


def _template(rules: str) -> Path:
    """A bootstrapped database (organization, tenant, engine configured "local")."""
    if rules not in _templates:
        folder = Path(_workdir.name) / rules
        folder.mkdir()
        settings = Settings(db_path=str(folder / "build.db"), rules=rules)
        store = Store(settings.db_path)
        engine = in_process_engine(settings, store)
        engine.request_log.flush()
        _close_provider_log(engine)
        target = folder / "sandbox.db"
        store.db.execute("VACUUM INTO ?", [str(target)])
        shutil.copy(settings.db_path + ".secrets", str(target) + ".secrets")
        store.close()
        _templates[rules] = target
    return _templates[rules]


def _close_provider_log(engine: Provisioning) -> None:
    transport = engine.transport
    app = getattr(transport, "app", None)
    if app is not None:
        app.extensions["sandbox"].request_log.close()


@dataclass(frozen=True)
class Request:
    """One request the engine sent: path below the tenant URL, decoded query, parsed body."""

    method: str
    path: str
    query: str
    body: Any
    status: int

    @property
    def line(self) -> tuple[str, str, str]:
        """(method, path, query)."""
        return self.method, self.path, self.query


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    """A PatchOp body."""
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def user_query(value: str, attribute: str = "userName") -> str:
    """The matching query as Entra writes it, decoded."""
    return f'filter={attribute} eq "{value}"'


class EngineEnv:
    """One test's engine, store and provider; `flagged` puts ?aadOptscim062020 on the URL."""

    def __init__(self, folder: Path, *, flagged: bool = False, rules: str = "nulab") -> None:
        template = _template(rules)
        db = folder / "sandbox.db"
        shutil.copy(template, db)
        shutil.copy(str(template) + ".secrets", str(db) + ".secrets")
        self.settings = Settings(db_path=str(db), rules=rules)
        self.store = Store(self.settings.db_path)
        self.engine = in_process_engine(self.settings, self.store)
        self.provider = self.engine.transport.app  # type: ignore[union-attr]
        """The sandbox's provider app (kept when a test points the engine elsewhere)."""
        self.flagged = flagged
        self.engine.configure(
            tenant_url="local" + (FLAG if flagged else ""), groups_enabled=False, max_concurrency=1
        )
        self._seen = self.last_seq()

    # -- set-up ----------------------------------------------------------------------------

    def preset(self, name: str) -> None:
        """Use a mapping preset ("default" or "nulab")."""
        self.engine.configure(user_mappings=PRESETS[name].mappings, mapping_preset=name)

    def add_user(self, alias: str, *, assign: bool = True, role: str = "USER", **props: Any) -> str:
        """A tenant user alias@contoso.onmicrosoft.com with a few fixed properties; its id."""
        values: dict[str, Any] = {
            "userPrincipalName": f"{alias}@{DOMAIN}",
            "mail": f"{alias}@{DOMAIN}",
            "displayName": alias.title(),
            "givenName": alias.title(),
            "surname": "Test",
            "department": "Engineering",
        }
        values.update(props)
        user = self.engine.directory.add_user(**{k: v for k, v in values.items() if v is not None})
        if assign:
            self.engine.app.assign(user.id, role)
        return user.id

    @property
    def org(self) -> Organization:
        return Organization(self.store)

    # -- running ---------------------------------------------------------------------------

    def cycle(self) -> Any:
        """Run one cycle; the requests it sent are then `self.sent()`."""
        self._seen = self.last_seq()
        return self.engine.run_cycle()

    def last_seq(self) -> int:
        entries = self.engine.request_log.entries(1, side="engine")
        return int(entries[-1]["seq"]) if entries else 0

    def mark(self) -> None:
        """Forget the requests sent so far."""
        self._seen = self.last_seq()

    def sent(self) -> list[Request]:
        """The requests the engine sent since the last cycle started (or `mark`)."""
        base = self.settings.base_path
        out = []
        for entry in self.engine.request_log.entries(10_000, side="engine", after=self._seen):
            path = entry["path"]
            body = entry["request_body"]
            out.append(
                Request(
                    entry["method"],
                    path[len(base) :] if path.startswith(base) else path,
                    unquote_plus(entry["query"] or ""),
                    json.loads(body) if body else None,
                    int(entry["status"]),
                )
            )
        return out

    def lines(self) -> list[tuple[str, str, str]]:
        """(method, path, query) of every request sent."""
        return [r.line for r in self.sent()]

    def target_id(self, user_id: str) -> str:
        link = self.engine.links.get("User", user_id)
        assert link is not None, f"{user_id} is not linked"
        return link.target_id

    def records(self, cycle_id: int | None = None, **filters: Any) -> list[Any]:
        return self.engine.logs.query(cycle_id=cycle_id, **filters)

    def active(self, value: bool) -> object:
        """`active` as this dialect writes it in a PATCH: "True"/"False" or a boolean."""
        if self.flagged:
            return value
        return "True" if value else "False"

    def op(self, name: str) -> str:
        """A PATCH op name in this dialect."""
        return name.lower() if self.flagged else name

    def close(self) -> None:
        self.engine.request_log.flush()
        self.provider.extensions["sandbox"].request_log.close()
        self.store.close()
