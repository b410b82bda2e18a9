"""Provides TenantUrl: the Tenant URL of the provisioning job, read and changed in one place.

Entra's Admin Credentials take the target's SCIM base URL; appending the query parameter
``aadOptscim062020`` switches the job to the SCIM 2020 dialect (docs/entra-behaviour.md §3).
The flag is a parameter *name* (valueless in Microsoft's docs; any value, or case, still
names it); a parameter whose value is ``aadOptscim062020`` is not the flag. ``local`` is the
sandbox's own word for its embedded provider, resolved to its loopback URL at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, urlsplit, urlunsplit

FLAG = "aadOptscim062020"
"""The query parameter that switches the job to the SCIM 2020 dialect (§3)."""

LOCAL = "local"
"""The tenant URL meaning "the sandbox's own provider" (lower case, as typed)."""


class Dialect(StrEnum):
    """Which PATCH forms Entra sends: chosen by the ``aadOptscim062020`` flag (§3)."""

    LEGACY = "legacy"
    """No flag: ``Add``/``Replace``/``Remove``, ``active`` as "True"/"False", a path per op."""
    SCIM062020 = FLAG
    """Flag set: lower-case ops, boolean ``active``, path-less ``replace``/``add``."""


@dataclass(frozen=True, slots=True)
class TenantUrl:
    """A tenant URL as configured (`text`, kept as typed) and what it means."""

    text: str

    @classmethod
    def parse(cls, text: str) -> TenantUrl:
        """The tenant URL `text` (validation of http(s) URLs is the job configuration's)."""
        return cls(text)

    def __str__(self) -> str:
        return self.text

    @property
    def query(self) -> str:
        """What follows the first '?' ('' without one)."""
        return self.text.partition("?")[2]

    @property
    def is_local(self) -> bool:
        """Whether this is "local": the sandbox's own provider, wherever it runs."""
        return self.text.partition("?")[0].rstrip("/") == LOCAL

    @property
    def flagged(self) -> bool:
        """Whether a query parameter is named aadOptscim062020 (case-insensitively)."""
        names = {name.lower() for name, _ in parse_qsl(self.query, keep_blank_values=True)}
        return FLAG.lower() in names

    @property
    def dialect(self) -> Dialect:
        """The dialect this URL asks for: SCIM062020 when it carries the flag."""
        return Dialect.SCIM062020 if self.flagged else Dialect.LEGACY

    @property
    def base(self) -> str:
        """The URL without its query (the flag) and trailing slash: ``{base}/Users`` follows.

        Resource paths are appended to the Tenant URL (§2.1); whether Entra forwards the flag
        query on each request is UNCONFIRMED (§3), so the sandbox does not send it.
        """
        parts = urlsplit(self.text.strip())
        return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))

    def with_flag(self, on: bool) -> TenantUrl:
        """This URL with the flag added (last) or removed; its other parameters kept in order."""
        base, _, query = self.text.partition("?")
        params = [p for p in query.split("&") if p and p.split("=")[0].lower() != FLAG.lower()]
        if on:
            params.append(FLAG)
        return TenantUrl(base + ("?" + "&".join(params) if params else ""))

    def resolved(self, local_root: str) -> TenantUrl:
        """Where the engine sends: a "local" URL moved to `local_root` (its query kept)."""
        if not self.is_local:
            return self
        return TenantUrl(local_root + ("?" + self.query if "?" in self.text else ""))
