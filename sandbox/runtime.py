"""Provides the composition root: opening the database and building the provider, for CLI and TUI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from flask import Flask

from sandbox.config import Settings
from sandbox.provider import create_app
from sandbox.provider.auth import Credentials
from sandbox.provider.filters import format_datetime
from sandbox.provider.nulab import NulabRules, nulab_schema
from sandbox.provider.org import Organization
from sandbox.provider.seed import seed_organization
from sandbox.provider.users import utc_now
from sandbox.store import Store

if TYPE_CHECKING:  # the engine is imported lazily, to keep `sandbox serve` light
    from sandbox.engine.service import Provisioning

DEFAULT_MEMBERS = 24
"""Members of the organization a fresh sandbox starts with."""


def open_store(settings: Settings) -> Store:
    """Open (creating and migrating if needed) the database the settings name."""
    return Store(settings.db_path)


def build_provider(store: Store, settings: Settings) -> Flask:
    """The provider app over `store`, with the Nulab organization's rules in force (unless the
    settings ask for the plain SCIM core)."""
    if settings.rules == "core":
        return create_app(store, settings)
    return create_app(store, settings, rules=NulabRules(Organization(store)), schema=nulab_schema())


@dataclass(frozen=True)
class Bootstrap:
    """What a first start did: the token is shown once, then never again."""

    token: str | None


LOCAL_TARGET = "local"
"""The tenant URL meaning "the sandbox's own provider"; resolved to its loopback URL at run time."""

DEFAULT_TENANT_USERS = 40
"""Tenant users a fresh sandbox starts with (the organization's people and some more)."""


def bootstrap_provider(store: Store, settings: Settings) -> Bootstrap:
    """On a fresh database: seed the organization, enable provisioning and issue a token
    (its issuer the owner admin), so the provider works at once."""
    if store.get_state("bootstrapped", False):
        return Bootstrap(token=None)
    credentials = Credentials(store)
    token = None
    with store.write():
        if not store.scalar("SELECT count(*) FROM users"):
            seed_organization(store, seed=settings.seed, members=DEFAULT_MEMBERS)
        if not credentials.state().token_issued:  # never clobber a token issued by hand
            credentials.set_enabled(True)
            token = credentials.issue(format_datetime(utc_now()), store.get_state("owner_id"))
        store.set_state("bootstrapped", True)
    if token is not None:
        # The engine starts configured against the local provider, with this same token.
        from sandbox.engine.service import Provisioning

        engine = Provisioning(store, seed=settings.seed)
        if not engine.config().configured:
            engine.configure(tenant_url=LOCAL_TARGET, secret_token=token)
    return Bootstrap(token=token)


def bootstrap_tenant(store: Store, settings: Settings) -> bool:
    """On a fresh database, seed the mock tenant from the organization's people (their emails
    become users' mail; UPNs are on the tenant's domain, as in real tenants)."""
    from sandbox.engine.service import Provisioning

    engine = Provisioning(store, seed=settings.seed)
    if engine.directory.count():
        return False
    people = []
    for member in Organization(store).members():
        given, _, family = member.username.partition(" ")
        people.append((given or member.username, family or member.username, member.email))
    engine.directory.seed(seed=settings.seed, users=max(DEFAULT_TENANT_USERS, len(people)),
                          people=people)
    return True


def open_provisioning(settings: Settings, store: Store | None = None) -> Provisioning:
    """The mock Entra provisioning service over the settings' database (a fresh one seeded:
    organization, tenant, and the engine configured against the local provider)."""
    from sandbox.engine.service import Provisioning

    store = store or open_store(settings)
    bootstrap_provider(store, settings)
    bootstrap_tenant(store, settings)
    engine = Provisioning(store, seed=settings.seed)
    if not engine.config().configured:
        # Configured by hand before, or never: target the local provider with a fresh token.
        token = Credentials(store).issue(format_datetime(utc_now()), store.get_state("owner_id"))
        Credentials(store).set_enabled(True)
        engine.configure(tenant_url=LOCAL_TARGET, secret_token=token)
    return engine


@contextmanager
def running_engine(settings: Settings, store: Store | None = None) -> Iterator[Provisioning]:
    """The provisioning service, with the local provider served on a loopback port for the
    duration when the tenant URL is "local" (the engine reaches it over real HTTP)."""
    from sandbox.server import EmbeddedServer

    engine = open_provisioning(settings, store)
    url = engine.config().tenant_url
    if url.split("?")[0].rstrip("/") != LOCAL_TARGET:
        yield engine
        return
    server = EmbeddedServer(build_provider(engine.store, settings), threads=settings.threads)
    server.start()
    engine.url_override = server.url + settings.base_path
    try:
        yield engine
    finally:
        server.stop()
        engine.request_log.flush()


def in_process_engine(settings: Settings, store: Store) -> Provisioning:
    """The provisioning service reaching the local provider through httpx's WSGI transport
    (tests and scenarios: same wire traffic, no socket)."""
    engine = open_provisioning(settings, store)
    engine.transport = httpx.WSGITransport(app=build_provider(store, settings))
    engine.url_override = "http://sandbox.local" + settings.base_path
    return engine


def scim_url(host: str, port: int, settings: Settings) -> str:
    """The SCIM base URL (Entra's Tenant URL) of a provider listening on host:port."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{settings.base_path}"
