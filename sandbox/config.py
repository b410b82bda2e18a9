"""Provides Settings, the sandbox's one settings object, read once from SANDBOX_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from sandbox.errors import ConfigError

ENV_PREFIX = "SANDBOX_"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the sandbox can be told from outside; built once and passed down."""

    db_path: str = "sandbox.db"
    """The SQLite file holding the provider, the tenant and the logs (":memory:" for tests)."""

    host: str = "127.0.0.1"
    """Address `sandbox serve` binds to; loopback unless told otherwise."""

    port: int = 8000
    """Port `sandbox serve` listens on."""

    workers: int = 0
    """Server worker processes for `sandbox serve`; 0 means two per CPU core."""

    threads: int = 4
    """Threads of the embedded (in-process) server used by `sandbox up` and tests."""

    seed: int = 1
    """Seed for every random thing (Faker tenant and organization, ids in scenarios)."""

    patch_status: int = 200
    """Status of a successful PATCH: 200 with the resource (default) or 204 without a body."""

    max_results: int = 1000
    """Largest page a list or search returns (ServiceProviderConfig filter.maxResults)."""

    max_payload_bytes: int = 1_048_576
    """Largest request body accepted; larger ones get 413 (ServiceProviderConfig bulk/maxPayloadSize)."""

    request_log_limit: int = 10_000
    """How many HTTP exchanges the bounded request log keeps."""

    rules: str = "nulab"
    """The organization's rules in front of the SCIM core: "nulab" (Nulab Pass) or "core"
    (a plain RFC 7643/7644 provider with no organization rules)."""

    base_path: str = "/scim/v2"
    """Where the SCIM API is mounted on the server."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read SANDBOX_<FIELD> variables (e.g. SANDBOX_DB_PATH), then apply explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.type in ("int", int):
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise ConfigError(
                        f"{ENV_PREFIX}{f.name.upper()} must be an integer, got {raw!r}"
                    ) from None
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def to_env(self) -> dict[str, str]:
        """Every setting as the SANDBOX_<FIELD> variable `from_env` reads back to the same
        value: how a server's worker processes are handed the settings of their parent."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if not self.db_path.startswith((":memory:", "file:")):  # a child may run elsewhere
            values["db_path"] = os.path.abspath(self.db_path)
        return {ENV_PREFIX + name.upper(): str(value) for name, value in values.items()}

    def check(self) -> None:
        """Refuse values the sandbox cannot work with, with a message naming the setting."""
        if not self.db_path.strip():
            raise ConfigError("the database path is empty: give --db PATH (or SANDBOX_DB_PATH)")
        if self.patch_status not in (200, 204):
            raise ConfigError("patch_status must be 200 or 204")
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be between 1 and 65535, got {self.port}")
        if self.rules not in ("nulab", "core"):
            raise ConfigError(f"rules must be nulab or core, got {self.rules!r}")
        if self.max_results < 1:
            raise ConfigError("max_results must be at least 1")
