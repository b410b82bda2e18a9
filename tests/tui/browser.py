"""A headless Chromium driven over the DevTools protocol (aiohttp's websocket client): load a
page, collect what its websockets receive, take a screenshot. For the `sandbox up --web` test."""

from __future__ import annotations

import asyncio
import base64
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import aiohttp


def chromium() -> str | None:
    """The Chromium binary (Debian's package), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Page:
    """One DevTools page session: calls, and the websocket frames the page received."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.calls = 0
        self.received = bytearray()
        """Every websocket frame's payload the page received, in order."""

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.calls += 1
        mine = self.calls
        await self.ws.send_json({"id": mine, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json()
            if message.get("method") == "Network.webSocketFrameReceived":
                response = message["params"]["response"]
                data = response["payloadData"]
                # opcode 2: a binary frame, base64 in the protocol
                self.received += (
                    base64.b64decode(data) if response["opcode"] == 2 else data.encode()
                )
            if message.get("id") == mine:
                return dict(message.get("result") or {})


async def load(url: str, screenshot: Path, until: bytes, seconds: float = 60) -> bytes:
    """Open `url` in headless Chromium (1400x900), wait until the page's websockets have
    received `until` (at most `seconds`), save a PNG screenshot; return what they received."""
    binary = chromium()
    assert binary is not None
    port = free_port()
    profile = tempfile.mkdtemp()
    browser = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
         f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            targets: list[dict[str, Any]] = []
            for _ in range(200):
                try:
                    targets = await (await http.get(f"http://127.0.0.1:{port}/json")).json()
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            target = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                await page.call("Network.enable")
                await page.call("Page.navigate", url=url)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + seconds
                while until not in page.received and loop.time() < deadline:
                    await page.call("Runtime.evaluate", expression="1")  # reads the events
                    await asyncio.sleep(0.2)
                await asyncio.sleep(0.5)  # the last frame drawn
                shot = await page.call("Page.captureScreenshot", format="png")
                screenshot.write_bytes(base64.b64decode(shot["data"]))
                return bytes(page.received)
    finally:
        browser.terminate()
        browser.wait(10)
        shutil.rmtree(profile, ignore_errors=True)
