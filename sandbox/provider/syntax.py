"""Provides SCIM filter and PATCH-path parsing (RFC 7644 §3.4.2.2, RFC 7644 §3.5.2) through
scim2-models, loaded on first use: importing scim2-models costs about 0.6 s, which every CLI
command and the TUI's start would otherwise pay. Nodes are told apart by `kind(node)`, their class name.

Filters are parsed once per shape: the string literals are lifted out (with scim2-models' own
STRING token and decoding), the rest is parsed and kept, and each request's literals are put
back into a copy of the kept tree. Entra's matching filters (`userName eq "..."` for every
user of a cycle) differ only in their literal, and a parse cost more than the query it feeds.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields, is_dataclass, replace
from functools import lru_cache
from typing import Any

from sandbox.provider.wirejson import INT64
from sandbox.text import is_text

STRING = re.compile(r'"(?:[^"\\\x00-\x1F]|\\["\\\/bfnrt]|\\u[0-9A-Fa-f]{4})*"')
"""scim2-models' STRING terminal (its grammar.py), decoded as it decodes it: json.loads."""


def parse_filter_tree(text: str) -> Any:
    """The filter's syntax tree; raises scim2-models' InvalidFilterException on bad syntax."""
    literals: list[str] = []

    def lift(match: re.Match[str]) -> str:
        literals.append(json.loads(match.group(0)))
        return f'"{len(literals) - 1}"'

    try:
        template = STRING.sub(lift, text)
        return _fill(_parse_template(template), literals)
    except Exception:
        # Bad syntax: parse the text as written, so the error shows the client's own values.
        return _parse(text)


@lru_cache(maxsize=512)
def _parse_template(template: str) -> Any:
    return _parse(template)


def _parse(text: str) -> Any:
    from scim2_models import ScimFilter

    return ScimFilter(text).ast


def _fill(node: Any, literals: list[str]) -> Any:
    """A copy of a template's tree with the lifted literals back in place. Every string a
    comparison holds is a lifted one (all were lifted), named by its index."""
    if isinstance(node, tuple):
        return tuple(_fill(item, literals) for item in node)
    if not is_dataclass(node) or isinstance(node, type):
        return node
    tree: Any = node  # a frozen dataclass of scim2-models' filter tree
    if kind(tree) == "Comparison":
        value = tree.value
        return replace(tree, value=literals[int(value)]) if isinstance(value, str) else tree
    changes = {
        f.name: _fill(getattr(tree, f.name), literals)
        for f in fields(tree)
        if isinstance(getattr(tree, f.name), tuple) or is_dataclass(getattr(tree, f.name))
    }
    return replace(tree, **changes) if changes else tree


def holds_lone_surrogate(text: str) -> bool:
    """Whether a filter or path holds a lone UTF-16 surrogate, as written or as a string
    literal's escape (`"\\ud800"`): no UTF-8 text can carry one, so no comparison or stored
    value may (SQLite refuses to bind it)."""
    if not is_text(text):
        return True
    if "\\u" not in text:
        return False
    return any(not is_text(json.loads(match.group(0))) for match in STRING.finditer(text))


def huge_number(node: Any) -> int | None:
    """The first integer literal of a parsed filter or path past 64 bits, or None: SQLite
    binds no such integer, so a comparison with one is refused rather than guessed at."""
    if isinstance(node, tuple):
        return next((n for n in map(huge_number, node) if n is not None), None)
    if not is_dataclass(node) or isinstance(node, type):
        return None
    tree: Any = node
    if kind(tree) == "Comparison":
        value = tree.value
        huge = isinstance(value, int) and not isinstance(value, bool) and value not in INT64
        return value if huge else None
    return next(
        (n for n in (huge_number(getattr(tree, f.name)) for f in fields(tree)) if n is not None),
        None,
    )


def preload() -> None:
    """Load scim2-models and its grammars now (a server worker calls this as it starts, so
    its first filter does not wait for the import)."""
    parse_filter_tree('userName eq ""')
    parse_path_tree("userName")


def parse_path_tree(text: str) -> Any:
    """The PATCH path's syntax tree; raises scim2-models' InvalidPathException on bad syntax."""
    from scim2_models import Path

    return Path(text).ast


def kind(node: Any) -> str:
    """The node's kind: AttrPath, ValuePath, Comparison, Present, Not or LogicalExpr."""
    return type(node).__name__
