"""Shared fixtures: settings, a fresh store, the provider app, a client and a valid token."""

from __future__ import annotations

import compileall
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.config import Settings
from sandbox.provider import create_app
from sandbox.store import Store
from tests.live_servers import start_serve  # noqa: F401  (the tests import it from here)

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the project's modules once, before any test starts a process: many tests run
    the CLI, a provider's server and its workers as child processes, and where the
    environment sets PYTHONDONTWRITEBYTECODE (as CI machines and containers often do) each
    of them would compile every module again, about 0.1 s of CPU per process."""
    if hasattr(session.config, "workerinput") or not sys.dont_write_bytecode:
        return  # an xdist worker (the controller compiled), or Python writes them itself
    for package in ("sandbox", "tui"):
        compileall.compile_dir(ROOT / package, quiet=2)


CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Explicit settings: tests never see the developer's SANDBOX_* variables."""
    return Settings(db_path=str(tmp_path / "sandbox.db"))


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = Store(settings.db_path)
    yield store
    store.close()


@pytest.fixture
def app(store: Store, settings: Settings):
    app = create_app(store, settings)
    yield app
    app.extensions["sandbox"].request_log.close()


@pytest.fixture
def token(app) -> str:
    """Provisioning enabled and a token issued, as after the guide's steps 1 and 2."""
    credentials = app.extensions["sandbox"].credentials
    credentials.set_enabled(True)
    return credentials.issue("2026-01-01T00:00:00.000Z")


@pytest.fixture
def client(app, token):
    """A Flask test client that sends the bearer token on every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def user_body(user_name: str, **extra) -> dict:
    """A minimal valid POST /Users body."""
    return {"schemas": [CORE], "userName": user_name, **extra}


def patch_body(*operations: dict) -> dict:
    """A PatchOp envelope around operations."""
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def assert_scim_error(response, status: int, scim_type: str | None = None) -> dict:
    """The canonical RFC 7644 §3.12 error shape, with the expected status and scimType."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/scim+json"
    body = response.get_json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert isinstance(body["detail"], str) and body["detail"]
    if scim_type is not None:
        assert body.get("scimType") == scim_type
    return body


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
