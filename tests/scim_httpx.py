"""Provides HttpxSCIMClient: scim2-client's sync client over a plain httpx.Client.

scim2-client 0.13 ships its network engine for httpx2 only (an extra we do not install);
this is the same few lines over httpx 0.28, which the project already depends on, so
the client (request building, response validation) is scim2-client's own code.
"""

from __future__ import annotations

from typing import Any

import httpx
from scim2_client import BaseSyncSCIMClient, RequestNetworkException


class HttpxSCIMClient(BaseSyncSCIMClient):
    """scim2-client's BaseSyncSCIMClient sending its requests through an httpx.Client."""

    def __init__(self, client: httpx.Client, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client

    def _stays_under_base_url(self, endpoint: str) -> bool:
        base = self.client.base_url
        try:
            url = self.client.build_request("GET", endpoint).url
        except httpx.InvalidURL:
            return False
        same_origin = (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)
        return same_origin and url.raw_path.startswith(base.raw_path)

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.RequestError as exc:
            error = RequestNetworkException()
            error.add_note(str(exc))
            raise error from exc


def scim_client(base_url: str, token: str, **kwargs: Any) -> tuple[httpx.Client, HttpxSCIMClient]:
    """An httpx client carrying the bearer token, and the scim2-client wrapped around it."""
    http = httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kwargs
    )
    return http, HttpxSCIMClient(http)
