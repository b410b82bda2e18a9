"""Provides Settings, the sandbox's one settings object, read once from SANDBOX_* variables."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from sandbox.errors import ConfigError

ENV_PREFIX = "SANDBOX_"

FLAGS = {"db_path": "--db"}
"""The command option of a setting, where it is not `--` and the field's name with dashes
(host: --host): how an error names a value that came from the command line."""

BASE_PATH = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@-]+)*")
"""A base path the provider can be mounted at: "" (the server's root) or segments each
starting with "/", none empty, and no "/" at the end (it is joined with "/Users"); only
characters a URL path holds as they are, so none a route would read as a variable (<, >)."""


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
    """Server worker processes for `sandbox serve` (at most 64); 0 means one per CPU core."""

    threads: int = 4
    """Threads of the embedded server, which serves the provider from a thread of the
    command's own process (an in-memory database, and tests)."""

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
    """Where the SCIM API is mounted on the server: a path such as /scim/v2 (no "/" at the
    end), or "" for the server's root."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read SANDBOX_<FIELD> variables (e.g. SANDBOX_DB_PATH), then apply explicit overrides
        (the command's options: an error names the option, --db, --port..., for a value of
        theirs, and the variable for one read from the environment)."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(env_name(f.name))
            if raw is None:
                continue
            if f.type in ("int", int):
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise ConfigError(
                        f"{env_name(f.name)} must be an integer, got {raw!r}"
                    ) from None
            else:
                values[f.name] = raw
        given = {k: v for k, v in overrides.items() if v is not None}
        values.update(given)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check({name: option_name(name) for name in given})
        return settings

    def to_env(self) -> dict[str, str]:
        """Every setting as the SANDBOX_<FIELD> variable `from_env` reads back to the same
        value: how a server's worker processes are handed the settings of their parent."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if not self.db_path.startswith((":memory:", "file:")):  # a child may run elsewhere
            values["db_path"] = os.path.abspath(self.db_path)
        return {ENV_PREFIX + name.upper(): str(value) for name, value in values.items()}

    def check(self, names: Mapping[str, str] | None = None) -> None:
        """Refuse values the sandbox cannot work with, with a message naming the setting as
        the user gave it: `names` maps a field to the option it came from (--port), and every
        other field is named by its variable (SANDBOX_PORT)."""

        def name(field: str) -> str:
            return (names or {}).get(field) or env_name(field)

        if not self.db_path.strip():
            raise ConfigError("the database path is empty: give --db PATH (or SANDBOX_DB_PATH)")
        if self.patch_status not in (200, 204):
            raise ConfigError(f"{name('patch_status')} must be 200 or 204, got {self.patch_status}")
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            raise ConfigError(
                f"{name('host')} must be an IP address of this machine (127.0.0.1, 0.0.0.0, "
                f"::1...), not {self.host!r}"
            ) from None
        if not 0 < self.port < 65536:
            raise ConfigError(f"{name('port')} must be between 1 and 65535, got {self.port}")
        if self.rules not in ("nulab", "core"):
            raise ConfigError(f"{name('rules')} must be nulab or core, got {self.rules!r}")
        if not 0 <= self.workers <= 64:
            raise ConfigError(
                f"{name('workers')} must be between 0 (one per core) and 64, got {self.workers}"
            )
        if self.threads < 1:
            raise ConfigError(f"{name('threads')} must be at least 1, got {self.threads}")
        if self.max_results < 1:
            raise ConfigError(f"{name('max_results')} must be at least 1, got {self.max_results}")
        if not BASE_PATH.fullmatch(self.base_path):
            raise ConfigError(
                f"{name('base_path')} must be a path such as /scim/v2 (starting with /, not "
                "ending with /, no empty segment, only letters, digits and -._~!$&'()*+,;=:@), "
                f"or empty for the server's root; got {self.base_path!r}"
            )


def env_name(field: str) -> str:
    """The environment variable of a setting: SANDBOX_ and the field's name (SANDBOX_PORT)."""
    return ENV_PREFIX + field.upper()


def option_name(field: str) -> str:
    """The command option of a setting (--port, --db)."""
    return FLAGS.get(field) or "--" + field.replace("_", "-")
