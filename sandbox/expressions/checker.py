"""Provides the static checks run after parsing: known names, arities, where things may appear.

Everything that can be known without a user is refused here, at save time, with the column of the
offending node: unknown or mis-cased functions, wrong argument counts, empty required arguments,
comparisons outside IIF/CBool conditions, bare words, and (when the caller knows them) unknown
attribute names.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

from sandbox.errors import ExpressionSyntaxError
from sandbox.expressions.functions import ENUM_IDENTIFIERS, FUNCTIONS
from sandbox.expressions.nodes import Attribute, Call, Comparison, Empty, Identifier, Node
from sandbox.expressions.values import ArgumentError

_CONDITION_FUNCTIONS = frozenset({"IIF", "CBool"})
_TOP_LEVEL_ONLY = frozenset({"SelectUniqueValue"})


def _suggest(name: str, candidates: Collection[str]) -> str:
    by_case = {c.lower(): c for c in candidates}
    if name.lower() in by_case:
        return f"; names are case-sensitive: did you mean {by_case[name.lower()]!r}?"
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Checker:
    def __init__(self, source: str, known_attributes: Collection[str] | None) -> None:
        self.source = source
        self.known = None if known_attributes is None else {a.lower(): a for a in known_attributes}

    def error(self, message: str, node: Node) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, node.pos + 1, self.source)

    def check(self, node: Node, *, parent: Call | None = None, index: int = -1) -> None:
        if isinstance(node, Call):
            self.call(node, parent)
        elif isinstance(node, Comparison):
            if parent is None or parent.name not in _CONDITION_FUNCTIONS or index != 0:
                raise self.error(
                    f"comparison {node.op!r} is only allowed as the condition of IIF or CBool",
                    node,
                )
            for side in (node.left, node.right):
                self.check(side, parent=parent, index=-1)
        elif isinstance(node, Identifier):
            self.identifier(node, parent, index)
        elif isinstance(node, Attribute) and self.known is not None:
            if node.name.lower() not in self.known:
                raise self.error(
                    f"unknown attribute [{node.name}]"
                    + _suggest(node.name, list(self.known.values())),
                    node,
                )

    def identifier(self, node: Identifier, parent: Call | None, index: int) -> None:
        if node.name in ENUM_IDENTIFIERS:
            if parent is not None and parent.name == "InStr" and index == 3:
                return
            raise self.error(f"{node.name} is only meaningful as InStr's compareType", node)
        if node.name in FUNCTIONS:
            raise self.error(
                f"{node.name} is a function: call it with parentheses, {node.name}()", node
            )
        raise self.error(
            f"unknown name {node.name!r}: attributes need square brackets ([{node.name}]) and "
            f'text needs double quotes ("{node.name}")'
            + _suggest(node.name, [*FUNCTIONS, *ENUM_IDENTIFIERS]),
            node,
        )

    def call(self, node: Call, parent: Call | None) -> None:
        spec = FUNCTIONS.get(node.name)
        if spec is None:
            raise self.error(
                f"unknown function {node.name!r}" + _suggest(node.name, FUNCTIONS), node
            )
        if parent is not None and node.name in _TOP_LEVEL_ONLY:
            raise self.error(f"{node.name} cannot be nested: it must be the whole expression", node)
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise self.error(
                f"{spec.name} takes {spec.arity} argument{'s' if spec.arity != '1' else ''} "
                f"({spec.signature}), got {count}",
                node,
            )
        for i, arg in enumerate(node.args):
            if isinstance(arg, Empty) and not spec.may_be_empty(i):
                raise self.error(
                    f"argument {i + 1} ({spec.param(i)}) of {spec.name} is required and cannot be "
                    "left empty",
                    arg,
                )
        if spec.check is not None:
            try:
                spec.check(node)
            except ArgumentError as exc:
                at = node.args[exc.index] if 0 <= exc.index < count else node
                where = (
                    f"argument {exc.index + 1} ({spec.param(exc.index)}) " if at is not node else ""
                )
                raise self.error(f"{spec.name}: {where}{exc.message}", at) from None
        for i, arg in enumerate(node.args):
            self.check(arg, parent=node, index=i)


def check(node: Node, source: str = "", known_attributes: Collection[str] | None = None) -> None:
    """Raise ExpressionSyntaxError (with a column) if the tree breaks a static rule.

    `known_attributes`, when given, is the set of source attribute names the tenant knows; an
    ``[attribute]`` outside it is refused. Without it, unknown attributes are simply NULL.
    """
    if isinstance(node, Comparison):
        raise ExpressionSyntaxError(
            f"comparison {node.op!r} is only allowed as the condition of IIF or CBool",
            node.pos + 1,
            source,
        )
    _Checker(source, known_attributes).check(node)
