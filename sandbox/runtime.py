"""Provides the composition root: opening the database and building the provider, for CLI and TUI."""

from __future__ import annotations

from dataclasses import dataclass

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
    return Bootstrap(token=token)


def scim_url(host: str, port: int, settings: Settings) -> str:
    """The SCIM base URL (Entra's Tenant URL) of a provider listening on host:port."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{settings.base_path}"
