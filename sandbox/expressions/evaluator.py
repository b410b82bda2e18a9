"""Provides the evaluator: compiles a checked tree once into closures, then runs it per user.

Compiling turns every node into a small Python closure ``fn(source, context)``; running a mapping
for 100k users is then a chain of plain calls, with no tree walking or name lookups per user.
`source` is the directory object with its keys lower-cased (Entra resolves ``[attribute]``
references case-insensitively), built once per object by `lower_source`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sandbox.errors import ExpressionError, ExpressionEvaluationError
from sandbox.expressions.functions import FUNCTIONS
from sandbox.expressions.functions_dates import to_datetime
from sandbox.expressions.nodes import (
    Attribute,
    Call,
    Comparison,
    Empty,
    Identifier,
    Node,
    NumberLiteral,
    StringLiteral,
    walk,
)
from sandbox.expressions.spec import Compiled, EvaluationContext, FunctionSpec
from sandbox.expressions.values import (
    IGNORE_FLOW,
    ArgumentError,
    IgnoreFlowSignal,
    bool_str,
    format_datetime,
    text,
)


def lower_source(source: Mapping[str, object]) -> dict[str, object]:
    """Return the source object keyed by lower-cased property names, ready for compiled code."""
    return {key.lower(): value for key, value in source.items()}


def _constant(value: object) -> Compiled:
    def constant(source: Mapping[str, object], ctx: EvaluationContext) -> object:
        return value

    return constant


def _attribute(name: str) -> Compiled:
    key = name.lower()

    def attribute(source: Mapping[str, object], ctx: EvaluationContext) -> object:
        value = source.get(key)
        if value.__class__ is bool:  # Graph booleans (accountEnabled) read as "True"/"False"
            return "True" if value else "False"
        return value

    return attribute


def argument_error(spec: FunctionSpec, call: Call, exc: ArgumentError) -> ExpressionEvaluationError:
    """Turn a function's ArgumentError into an evaluation error naming the argument's column."""
    if exc.verbatim:
        return ExpressionEvaluationError(exc.message, call.pos + 1)
    if 0 <= exc.index < len(call.args):
        where = call.args[exc.index].pos + 1
        message = f"{spec.name}: argument {exc.index + 1} ({spec.param(exc.index)}) {exc.message}"
    else:
        where = call.pos + 1
        message = f"{spec.name}: {exc.message}"
    return ExpressionEvaluationError(message, where)


def _plain(error: Exception) -> str:
    """What went wrong in words, without Python's exception names."""
    text = str(error).strip()
    if "out of range" in text or isinstance(error, OverflowError):
        return "a value is out of range"
    return text or "the arguments cannot be evaluated"


def _guard(spec: FunctionSpec, call: Call, body: Compiled) -> Compiled:
    """Wrap a function body so that nothing but an ExpressionError ever leaves it."""

    def guarded(source: Mapping[str, object], ctx: EvaluationContext) -> object:
        try:
            return body(source, ctx)
        except ArgumentError as exc:
            raise argument_error(spec, call, exc) from None
        except (ExpressionError, IgnoreFlowSignal):
            raise
        except OverflowError as exc:  # a date or number past what the function can hold
            raise ExpressionEvaluationError(
                f"{spec.name} failed: a value is out of range", call.pos + 1
            ) from exc
        except Exception as exc:  # never let a bare Python error escape an evaluation
            raise ExpressionEvaluationError(
                f"{spec.name} failed: {_plain(exc)}", call.pos + 1
            ) from exc

    return guarded


def _eager(spec: FunctionSpec, call: Call, fns: list[Compiled]) -> Compiled:
    impl = spec.impl
    assert impl is not None
    if len(fns) == 0:

        def body(source: Mapping[str, object], ctx: EvaluationContext) -> object:
            return impl(ctx)

    elif len(fns) == 1:
        (f0,) = fns

        def body(source: Mapping[str, object], ctx: EvaluationContext) -> object:
            return impl(ctx, f0(source, ctx))

    elif len(fns) == 2:
        f0, f1 = fns

        def body(source: Mapping[str, object], ctx: EvaluationContext) -> object:
            return impl(ctx, f0(source, ctx), f1(source, ctx))

    elif len(fns) == 3:
        f0, f1, f2 = fns

        def body(source: Mapping[str, object], ctx: EvaluationContext) -> object:
            return impl(ctx, f0(source, ctx), f1(source, ctx), f2(source, ctx))

    else:

        def body(source: Mapping[str, object], ctx: EvaluationContext) -> object:
            return impl(ctx, *[f(source, ctx) for f in fns])

    return _guard(spec, call, body)


def _compare(op: str, left: object, right: object) -> bool:
    """Compare two values the way IIF conditions do: numbers as numbers, dates as dates."""
    a: Any
    b: Any
    if isinstance(left, datetime) or isinstance(right, datetime):
        a, b = to_datetime(left, 0), to_datetime(right, 1)
    elif isinstance(left, (int, float)) or isinstance(right, (int, float)):
        try:
            a, b = float(text(left) or ""), float(text(right) or "")
        except ValueError:
            a, b = text(left) or "", text(right) or ""
    else:
        a, b = text(left) or "", text(right) or ""
    if op == "=":
        return a == b
    if op == "<>":
        return a != b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "<":
        return a < b
    return a <= b


def _comparison(node: Comparison) -> Compiled:
    lf, rf, op = compile_node(node.left), compile_node(node.right), node.op

    def comparison(source: Mapping[str, object], ctx: EvaluationContext) -> object:
        try:
            return bool_str(_compare(op, lf(source, ctx), rf(source, ctx)))
        except ArgumentError as exc:
            raise ExpressionEvaluationError(
                f"cannot compare with {op!r}: {exc.message}", node.pos + 1
            ) from None
        except TypeError:
            raise ExpressionEvaluationError(
                f"cannot compare these values with {op!r}", node.pos + 1
            ) from None

    return comparison


def compile_node(node: Node) -> Compiled:
    """Compile one (checked) node into a closure ``fn(lowered_source, context) -> value``."""
    if isinstance(node, Attribute):
        return _attribute(node.name)
    if isinstance(node, StringLiteral):
        return _constant(node.value)
    if isinstance(node, NumberLiteral):
        return _constant(node.value)
    if isinstance(node, Identifier):
        return _constant(node.name)
    if isinstance(node, Empty):
        return _constant(None)
    if isinstance(node, Comparison):
        return _comparison(node)
    spec = FUNCTIONS.get(node.name)
    if spec is None:  # only reachable with an unchecked, hand-built tree
        raise ExpressionEvaluationError(f"unknown function {node.name!r}", node.pos + 1)
    fns = [compile_node(arg) for arg in node.args]
    if spec.compile_hook is not None:
        return _guard(spec, node, spec.compile_hook(node, fns))
    return _eager(spec, node, fns)


class CompiledExpression:
    """A parsed expression compiled once; call it with a source object to evaluate it."""

    __slots__ = ("node", "text", "_run")

    def __init__(self, node: Node, text: str = "") -> None:
        self.node = node
        self.text = text
        self._run = self._build(node, text)

    @staticmethod
    def _build(
        node: Node, source_text: str
    ) -> Callable[[Mapping[str, object], EvaluationContext], object]:
        fn = compile_node(node)
        if isinstance(node, Attribute | StringLiteral | NumberLiteral):
            return fn  # cannot fail, cannot yield a date: no wrapper on the hot path

        def run(source: Mapping[str, object], ctx: EvaluationContext) -> object:
            try:
                value = fn(source, ctx)
            except IgnoreFlowSignal:
                return IGNORE_FLOW
            except ExpressionEvaluationError as exc:
                if not exc.expression:
                    exc.expression = source_text
                raise
            if value.__class__ is datetime:
                return format_datetime(value)  # type: ignore[arg-type]
            return value

        return run

    def run_lowered(self, source: Mapping[str, object], context: EvaluationContext) -> object:
        """Evaluate against a source already passed through `lower_source` (the fast path)."""
        return self._run(source, context)

    def __call__(
        self, source: Mapping[str, object], context: EvaluationContext | None = None
    ) -> object:
        """Evaluate against a directory object keyed by Entra property names."""
        return self._run(lower_source(source), context or EvaluationContext())

    @property
    def uses_ignore_flow(self) -> bool:
        """True when the expression can drop its attribute (IgnoreFlowIfNullOrEmpty)."""
        return any(
            isinstance(n, Call) and n.name == "IgnoreFlowIfNullOrEmpty" for n in walk(self.node)
        )
