"""Provides FunctionSpec, the registry entry of one expression function, and EvaluationContext."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Compiled = Callable[[Mapping[str, object], "EvaluationContext"], object]
"""A compiled node: takes the lower-cased source object and the context, returns a value."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _seeded_rng() -> random.Random:
    return random.Random(0)


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    """Everything an evaluation may need beyond the source object; passed in by the caller.

    Guid, RandomString and Now take their randomness and clock from here, so a seeded `rng` and a
    fixed `clock` make every result reproducible. The default `rng` is seeded with 0.
    """

    clock: Callable[[], datetime] = _utc_now
    """Returns the current time (aware, UTC) for Now()."""

    rng: random.Random = field(default_factory=_seeded_rng)
    """Source of randomness for Guid() and RandomString()."""

    tenant_domain: str | None = None
    """The tenant's default verified domain, returned by DefaultDomain()."""

    is_unique: Callable[[str], bool] | None = None
    """Uniqueness probe used by SelectUniqueValue (None: the app does not support it)."""


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One registered function: Microsoft's exact name, parameters, arity, a one-line doc.

    `impl(ctx, *values)` receives evaluated arguments (None for NULL and omitted ones). A
    `compile_hook(call, compiled_args)` instead builds the closure itself, for functions that
    must not evaluate every argument (IIF, Switch, Coalesce, Replace's modes...).
    """

    name: str
    params: tuple[str, ...]
    doc: str
    impl: Callable[..., Any] | None = None
    min_args: int = 0
    max_args: int | None = None
    optional: frozenset[int] = frozenset()
    compile_hook: Callable[..., Compiled] | None = None
    check: Callable[..., None] | None = None
    """Extra static check `check(call)`; raises ArgumentError(index, message)."""

    example: str = ""

    @property
    def arity(self) -> str:
        """The accepted number of arguments in words ("2", "1 to 3", "2 or more")."""
        if self.max_args is None:
            return f"{self.min_args} or more"
        if self.min_args == self.max_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"

    @property
    def signature(self) -> str:
        """The call signature as Microsoft documents it, e.g. ``Left(String, NumChars)``."""
        return f"{self.name}({', '.join(self.params)})"

    def param(self, index: int) -> str:
        """The name of the parameter at a 0-based position (the last one repeats)."""
        if not self.params:
            return f"argument {index + 1}"
        name = self.params[min(index, len(self.params) - 1)]
        return name.rstrip("?.").strip()

    def may_be_empty(self, index: int) -> bool:
        """True when the argument at `index` may be left empty (``F(a, , b)``)."""
        if index < len(self.params):
            return index in self.optional
        return (len(self.params) - 1) in self.optional


def make_spec(
    name: str,
    params: str,
    doc: str,
    impl: Callable[..., Any] | None = None,
    *,
    min_args: int | None = None,
    max_args: int | None = -1,
    compile_hook: Callable[..., Compiled] | None = None,
    check: Callable[..., None] | None = None,
    example: str = "",
) -> FunctionSpec:
    """Build a spec from a compact parameter list: ``"source, culture?"``, ``"separator, source..."``.

    A trailing ``?`` marks an optional parameter (may be empty or left off at the end); a trailing
    ``...`` marks the last parameter as repeating.
    """
    names = tuple(p.strip() for p in params.split(",")) if params.strip() else ()
    optional = frozenset(i for i, p in enumerate(names) if p.rstrip(".").endswith("?"))
    variadic = bool(names) and names[-1].endswith("...")
    if min_args is None:
        required = [i for i in range(len(names)) if i not in optional]
        min_args = (max(required) + 1) if required else 0
    if max_args == -1:
        max_args = None if variadic else len(names)
    return FunctionSpec(
        name=name,
        params=names,
        doc=doc,
        impl=impl,
        min_args=min_args,
        max_args=max_args,
        optional=optional,
        compile_hook=compile_hook,
        check=check,
        example=example,
    )
