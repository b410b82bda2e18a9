"""Provides Entra ID's attribute-mapping expression language: parse, check, compile, evaluate.

    >>> from sandbox.expressions import evaluate_text
    >>> evaluate_text('Join(" ", [givenName], [surname])', {"givenName": "Ada", "surname": "Lovelace"})
    'Ada Lovelace'

The package is pure: it imports only the standard library, `regex` (.NET-like patterns with a
time limit) and `sandbox.errors`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sandbox.errors import ExpressionError, ExpressionEvaluationError, ExpressionSyntaxError
from sandbox.expressions.checker import check
from sandbox.expressions.evaluator import CompiledExpression, lower_source
from sandbox.expressions.functions import ENUM_IDENTIFIERS, FUNCTIONS
from sandbox.expressions.functions_replace import (
    REGEX_TIME_LIMIT_S,
    compile_dotnet_regex,
)
from sandbox.expressions.lexer import MAX_EXPRESSION_LENGTH
from sandbox.expressions.nodes import (
    Attribute,
    Call,
    Comparison,
    Empty,
    Identifier,
    Node,
    NumberLiteral,
    StringLiteral,
    attributes,
    walk,
)
from sandbox.expressions.parser import MAX_NESTING_DEPTH, parse_tree
from sandbox.expressions.spec import EvaluationContext, FunctionSpec
from sandbox.expressions.values import (
    IGNORE_FLOW,
    Redacted,
    display_value,
    to_json,
)

__all__ = [
    "REGEX_TIME_LIMIT_S",
    "compile_dotnet_regex",
    "ENUM_IDENTIFIERS",
    "FUNCTIONS",
    "IGNORE_FLOW",
    "MAX_EXPRESSION_LENGTH",
    "MAX_NESTING_DEPTH",
    "Attribute",
    "Call",
    "Comparison",
    "CompiledExpression",
    "Empty",
    "EvaluationContext",
    "ExpressionError",
    "ExpressionEvaluationError",
    "ExpressionSyntaxError",
    "FunctionSpec",
    "Identifier",
    "Node",
    "NumberLiteral",
    "Redacted",
    "StringLiteral",
    "attributes",
    "compile_expression",
    "display_value",
    "evaluate",
    "evaluate_text",
    "lower_source",
    "parse",
    "to_json",
    "walk",
]


def parse(text: str, *, known_attributes: Collection[str] | None = None) -> Node:
    """Parse and check an expression; raise ExpressionSyntaxError with the column on any fault.

    With `known_attributes` (the tenant's attribute names) an unknown ``[attribute]`` is an error;
    without it, attributes absent from the source object are NULL at evaluation.
    """
    node = parse_tree(text)
    check(node, text, known_attributes)
    return node


def compile_expression(node: Node, text: str = "") -> CompiledExpression:
    """Compile a parsed tree once for many evaluations; `text` is used in error carets."""
    return CompiledExpression(node, text)


def evaluate(
    node: Node, source: Mapping[str, object], context: EvaluationContext | None = None
) -> object:
    """Evaluate a parsed tree against a directory object (a dict keyed by Entra property names).

    Returns a str, int, list, dict list (complex roles), None (NULL) or IGNORE_FLOW; dates come
    back as Entra's ``M/d/yyyy h:mm:ss tt`` strings. Raises ExpressionEvaluationError, never a bare
    Python exception.
    """
    return CompiledExpression(node)(source, context)


def evaluate_text(
    text: str,
    source: Mapping[str, object] | None = None,
    context: EvaluationContext | None = None,
    *,
    known_attributes: Collection[str] | None = None,
) -> object:
    """Parse and evaluate in one step (what ``sandbox eval`` calls).

    Raises ExpressionSyntaxError or ExpressionEvaluationError; both are ExpressionError, whose
    ``caret()`` prints the expression with a caret under the offending column.
    """
    node = parse(text, known_attributes=known_attributes)
    return CompiledExpression(node, text)(source or {}, context)
