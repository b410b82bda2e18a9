"""Provides the provider's provisioning switch and bearer token (issued once, stored as a hash)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sandbox.errors import ScimError
from sandbox.store import Store

TOKEN_BYTES = 32
"""Entropy of an issued token; with this much, a plain SHA-256 is a safe one-way store."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ProvisioningState:
    """What the provider's "User Provisioning" settings screen shows."""

    enabled: bool
    token_issued: bool
    token_issued_at: str | None
    token_issuer: str | None


class Credentials:
    """Enable/disable provisioning and issue/delete/check its bearer token."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def state(self) -> ProvisioningState:
        """The current switch and token status (never the token itself)."""
        return ProvisioningState(
            enabled=bool(self.store.get_state("provisioning_enabled", False)),
            token_issued=self.store.get_state("token_hash") is not None,
            token_issued_at=self.store.get_state("token_issued_at"),
            token_issuer=self.store.get_state("token_issuer"),
        )

    def set_enabled(self, enabled: bool) -> None:
        """Turn user provisioning on or off; off makes every SCIM request 401."""
        self.store.set_state("provisioning_enabled", enabled)

    def issue(self, issued_at: str, issuer: str | None = None) -> str:
        """Issue a new token, replacing any old one; the clear token is returned only here."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self.store.write():
            self.store.set_state("token_hash", _hash(token))
            self.store.set_state("token_issued_at", issued_at)
            self.store.set_state("token_issuer", issuer)
        return token

    def delete(self) -> None:
        """Delete the token; requests with it get 401 from now on."""
        with self.store.write():
            self.store.set_state("token_hash", None)
            self.store.set_state("token_issued_at", None)
            self.store.set_state("token_issuer", None)

    def is_current(self, token: str | None) -> bool:
        """Whether `token` is the token in force (what a request carrying it would pass with)."""
        stored = self.store.get_state("token_hash")
        if not token or stored is None:
            return False
        return hmac.compare_digest(_hash(token.strip()), stored)

    def check(self, authorization: str | None) -> None:
        """Raise 401 unless provisioning is on and the header carries the current token."""
        row = self.store.db.execute(
            "SELECT key, value FROM provider_state WHERE key IN "
            "('provisioning_enabled', 'token_hash')"
        ).fetchall()
        values = {k: v for k, v in row}
        if values.get("provisioning_enabled") != "true":
            raise _unauthorized("user provisioning is disabled for this organization")
        stored = values.get("token_hash")
        if stored in (None, "null"):
            raise _unauthorized("no SCIM token has been issued")
        if not authorization:
            raise _unauthorized("missing Authorization header (expected: Bearer <SCIM token>)")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("the Authorization header must be: Bearer <SCIM token>")
        # constant-time comparison of the hashes (the clear token is never stored)
        if not hmac.compare_digest(f'"{_hash(token.strip())}"', stored):
            raise _unauthorized("the SCIM token is not valid (deleted or reissued?)")


def _unauthorized(detail: str) -> ScimError:
    return ScimError(401, detail, headers={"WWW-Authenticate": 'Bearer realm="scim"'})
