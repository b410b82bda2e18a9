"""Provides FUNCTIONS, the registry of every function Microsoft documents, under its exact name.

Each entry is a FunctionSpec (parameters, arity, one-line doc, implementation). The bodies live in
the functions_* modules by theme; this module only gathers them and checks the names are unique.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sandbox.expressions import (
    functions_dates,
    functions_generated,
    functions_logic,
    functions_replace,
    functions_roles,
    functions_text,
)
from sandbox.expressions.spec import FunctionSpec


def _gather() -> dict[str, FunctionSpec]:
    registry: dict[str, FunctionSpec] = {}
    for module in (
        functions_dates,
        functions_generated,
        functions_logic,
        functions_replace,
        functions_roles,
        functions_text,
    ):
        for spec in module.SPECS:
            if spec.name in registry:
                raise RuntimeError(f"expression function {spec.name} registered twice")
            registry[spec.name] = spec
    return dict(sorted(registry.items(), key=lambda item: item[0].lower()))


FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(_gather())
"""Function name (case-sensitive, Microsoft's spelling) -> FunctionSpec, in alphabetical order."""

ENUM_IDENTIFIERS = frozenset({"vbTextCompare", "vbBinaryCompare"})
"""Bare identifiers the language knows (InStr's compareType)."""
