"""Fixtures for the UI tests: a seeded sandbox on a temporary database and the app over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.config import Settings
from sandbox.runtime import Sandbox
from tui.app import SandboxApp


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A fresh seeded sandbox with its provider on a free loopback port, served by a thread of
    this process (`sandbox up` serves it from a child process: test_tui_provider_process.py)."""
    sandbox = Sandbox.open(Settings(db_path=str(tmp_path / "sandbox.db")), port=0, in_thread=True)
    yield sandbox
    sandbox.close()


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[Sandbox]:
    """A fresh seeded sandbox whose provider is reached in process (no port in the UI, so
    snapshots are the same on every run)."""
    sandbox = Sandbox.open(Settings(db_path=str(tmp_path / "sandbox.db")), serve=False)
    yield sandbox
    sandbox.close()


@pytest.fixture
def app(sandbox: Sandbox) -> SandboxApp:
    """The UI without its scheduler: cycles run only when a test presses n."""
    return SandboxApp(sandbox, scheduler=False)
