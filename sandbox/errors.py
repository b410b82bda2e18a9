"""Provides the one exception tree of the sandbox; each edge (HTTP, CLI, TUI) translates it once."""

from __future__ import annotations


class SandboxError(Exception):
    """Root of every error the sandbox raises on purpose (a user mistake or a refused action)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(SandboxError):
    """A setting has a value the sandbox cannot use."""


class StoreError(SandboxError):
    """The database cannot be opened, migrated or written."""


class UniquenessError(StoreError):
    """A write would break a uniqueness rule (raised from sqlite3.IntegrityError at the store)."""


class NotFoundError(SandboxError):
    """A named object (user, assignment, mapping...) does not exist."""


class ScimError(SandboxError):
    """An RFC 7644 §3.12 error: an HTTP status, an optional scimType and a human detail."""

    def __init__(
        self, status: int, detail: str, scim_type: str | None = None, headers: dict | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.scim_type = scim_type
        self.detail = detail
        self.headers = headers or {}


class ExpressionError(SandboxError):
    """An attribute-mapping expression is wrong; `column` is 1-based (0 when unknown)."""

    def __init__(self, message: str, column: int = 0, expression: str = "") -> None:
        super().__init__(message)
        self.column = column
        self.expression = expression

    def caret(self) -> str:
        """Return the expression with a caret under the offending column (for the CLI)."""
        if not self.expression or self.column < 1:
            return self.message
        return f"{self.expression}\n{' ' * (self.column - 1)}^\n{self.message}"


class ExpressionSyntaxError(ExpressionError):
    """The expression text does not follow Entra's grammar."""


class ExpressionEvaluationError(ExpressionError):
    """The expression parsed but failed on the given source object (Entra's evaluation error)."""


class MappingError(SandboxError):
    """An attribute mapping is refused (invalid target path, bad expression, required attribute)."""


class MappingEvaluationError(ExpressionEvaluationError):
    """A mapping's expression failed for one directory object; `target` names the mapped attribute."""

    def __init__(
        self, message: str, column: int = 0, expression: str = "", target: str = ""
    ) -> None:
        super().__init__(message, column, expression)
        self.target = target
