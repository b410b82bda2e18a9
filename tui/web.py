"""Provides serve_in_browser: the same terminal UI served to web browsers (textual-serve), for
`sandbox up --web`; every browser tab runs its own `sandbox up` on the same database."""

from __future__ import annotations

import shlex
from typing import Any

from textual_serve.server import Server

TITLE = "SCIM provisioning sandbox"


class SandboxServer(Server):
    """textual-serve's server, with the page's links (its websocket's among them) on the
    address the browser used: a trainer serving on 0.0.0.0 hands students the machine's
    own address, which the page must then use too."""

    async def handle_index(self, request: Any) -> Any:
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)


def serve_in_browser(command: list[str], host: str, port: int) -> None:
    """Serve the UI that `command` starts (a `sandbox up` line) on http://host:port until
    Ctrl+C; each browser tab that opens the page starts its own process of it."""
    SandboxServer(shlex.join(command), host=host, port=port, title=TITLE).serve()
