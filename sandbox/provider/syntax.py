"""Provides SCIM filter and PATCH-path parsing (RFC 7644 §3.4.2.2, §3.5.2) through scim2-models,
loaded on first use: importing scim2-models costs about 0.6 s, which every CLI command and the
TUI's start would otherwise pay. Nodes are told apart by `kind(node)`, their class name."""

from __future__ import annotations

from typing import Any


def parse_filter_tree(text: str) -> Any:
    """The filter's syntax tree; raises scim2-models' InvalidFilterException on bad syntax."""
    from scim2_models import ScimFilter

    return ScimFilter(text).ast


def parse_path_tree(text: str) -> Any:
    """The PATCH path's syntax tree; raises scim2-models' InvalidPathException on bad syntax."""
    from scim2_models import Path

    return Path(text).ast


def kind(node: Any) -> str:
    """The node's kind: AttrPath, ValuePath, Comparison, Present, Not or LogicalExpr."""
    return type(node).__name__
