"""Provides the composition root: opening the database and building the provider, for CLI and TUI."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from sandbox.config import Settings
from sandbox.provider import create_app
from sandbox.provider.auth import Credentials
from sandbox.provider.filters import format_datetime
from sandbox.provider.users import utc_now
from sandbox.store import Store


def open_store(settings: Settings) -> Store:
    """Open (creating and migrating if needed) the database the settings name."""
    return Store(settings.db_path)


def build_provider(store: Store, settings: Settings) -> Flask:
    """The provider app over `store`, with the organization rules in force."""
    return create_app(store, settings)


@dataclass(frozen=True)
class Bootstrap:
    """What a first start did: the token is shown once, then never again."""

    token: str | None


def bootstrap_provider(store: Store) -> Bootstrap:
    """On a fresh database, enable provisioning and issue a token, so the provider works at once."""
    if store.get_state("bootstrapped", False):
        return Bootstrap(token=None)
    credentials = Credentials(store)
    with store.write():
        credentials.set_enabled(True)
        token = credentials.issue(format_datetime(utc_now()))
        store.set_state("bootstrapped", True)
    return Bootstrap(token=token)


def scim_url(host: str, port: int, settings: Settings) -> str:
    """The SCIM base URL (Entra's Tenant URL) of a provider listening on host:port."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{settings.base_path}"
