"""`sandbox up --web`: the same UI in a real browser (headless Chromium loads the page; the
app's first screen, Directory, reaches it and is on the screenshot), loopback by default."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from tests.tui.browser import chromium, free_port, load

needs_chromium = pytest.mark.skipif(
    chromium() is None and not os.environ.get("CI"),
    reason="headless Chromium (Debian's chromium package) is not installed; .ci/run installs it",
)


def wait_for_page(url: str, server: subprocess.Popen[bytes], log: Path) -> str:
    for _ in range(300):
        assert server.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            asyncio.run(asyncio.sleep(0.1))
    raise AssertionError(f"{url} never answered")


@needs_chromium
def test_the_directory_screen_in_a_real_browser(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "up", "--web", "--port", str(port),
             "--db", str(tmp_path / "sandbox.db")],
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/"
        html = wait_for_page(url, server, log)
        assert "SCIM provisioning sandbox" in html
        assert f"ws://127.0.0.1:{port}/ws" in html  # the page's links: the address used
        screenshot = tmp_path / "directory.png"
        received = asyncio.run(load(url, screenshot, until=b"userPrincipalName"))
        # The app ran (its own `sandbox up` on this database) and drew the Directory screen
        # in the page: the mode bar, the users table and a seeded user.
        for text in (b"1 Directory", b"userPrincipalName", b"dennis.boone@contoso"):
            assert text in received, text
        assert screenshot.read_bytes().startswith(b"\x89PNG")
        assert screenshot.stat().st_size > 50_000  # a full screen of text, not the splash
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)


def test_web_listens_on_loopback_unless_told_and_warns_otherwise(tmp_path: Path) -> None:
    from sandbox.server import exposure_warning

    assert exposure_warning("127.0.0.1", "x") is None
    assert exposure_warning("::1", "x") is None
    warning = exposure_warning("0.0.0.0", "the sandbox's UI")
    assert warning is not None and "other machines" in warning
    runner = CliRunner()
    alone = runner.invoke(cli, ["up", "--host", "0.0.0.0"])
    assert alone.exit_code == 2 and "--host is the web page's address" in alone.output
    bad = runner.invoke(cli, ["--db", str(tmp_path / "s.db"), "up", "--web", "--host", "nope"])
    assert bad.exit_code == 1 and "--host must be an IP address" in bad.output
    assert "Traceback" not in bad.output


def test_serve_warns_before_listening_beyond_loopback(tmp_path: Path, monkeypatch) -> None:
    import sandbox.server

    ran: list[int] = []
    monkeypatch.setattr(sandbox.server, "run_server", lambda settings, workers: ran.append(1))
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "s.db"), "serve", "--host", "0.0.0.0", "--port",
              str(free_port())],
    )  # fmt: skip
    assert result.exit_code == 0 and ran == [1]
    assert "Warning: 0.0.0.0 is not a loopback address: the SCIM provider" in result.output
