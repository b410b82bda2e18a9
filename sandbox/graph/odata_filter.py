"""Provides OData $filter for the Graph surface: a parser into a small tree, checked against a
resource's filterable properties, and its evaluation over the resource's JSON form.

Microsoft Graph, "Use the $filter query parameter": `eq`, `ne`, `gt`, `ge`, `lt`, `le`, `in`,
`and`, `or`, `not`, and the functions `startsWith`, `endsWith` and `contains`; strings are
single-quoted with `''` for a quote; dates, GUIDs, numbers, `true`, `false` and `null` are
bare. Property paths may name a nested property with `/` (`statusInfo/status`). String
comparisons ignore case, as the directory's do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sandbox.graph.errors import BAD_REQUEST, UNSUPPORTED_QUERY, GraphError

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
FUNCTIONS = ("startswith", "endswith", "contains")
FUNCTION_NAMES = {"startswith": "startsWith", "endswith": "endsWith", "contains": "contains"}

Value = str | bool | int | float | datetime | None

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
    | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Comparison:
    """`path op value` (op one of COMPARISONS)."""

    path: str
    op: str
    value: Value


@dataclass(frozen=True)
class Function:
    """`startsWith(path, 'text')`, `endsWith(...)` or `contains(...)` (name lower-case)."""

    name: str
    path: str
    value: Value


@dataclass(frozen=True)
class In:
    """`path in ('a', 'b')`."""

    path: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Logical:
    """`left and right`, `left or right`."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    """`not expr`."""

    operand: Node


Node = Comparison | Function | In | Logical | Not


def invalid(detail: str) -> GraphError:
    """A 400 for a $filter Graph cannot parse."""
    return GraphError(400, BAD_REQUEST, f"Invalid filter clause: {detail}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise invalid(f"syntax error at position {pos + 1} in '{text}'.")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.at = 0
        self.text = text

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.at += 1
        return token

    def keyword(self, *words: str) -> str | None:
        kind, text = self.peek()
        if kind == "word" and text.lower() in words:
            self.at += 1
            return text.lower()
        return None

    def expect(self, punct: str) -> None:
        kind, text = self.take()
        if kind != "punct" or text != punct:
            found = text or "the end of the clause"
            raise invalid(f"expected '{punct}' but found '{found}' in '{self.text}'.")

    def parse(self) -> Node:
        if not self.tokens:
            raise invalid("the filter is empty.")
        node = self.or_()
        if self.peek()[0] != "end":
            raise invalid(f"unexpected '{self.peek()[1]}' in '{self.text}'.")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.keyword("or"):
            node = Logical("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.unary()
        while self.keyword("and"):
            node = Logical("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.keyword("not"):
            return Not(self.unary())
        kind, text = self.peek()
        if kind == "punct" and text == "(":
            self.take()
            node = self.or_()
            self.expect(")")
            return node
        if kind == "word" and text.lower() in FUNCTIONS and self._next_is("("):
            self.take()
            self.expect("(")
            path = self.path()
            self.expect(",")
            value = self.literal()
            self.expect(")")
            return Function(text.lower(), path, value)
        path = self.path()
        op = self.keyword(*COMPARISONS, "in")
        if op is None:
            found = self.peek()[1] or "the end of the clause"
            raise invalid(f"expected an operator after '{path}' but found '{found}'.")
        if op == "in":
            self.expect("(")
            values = [self.literal()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.literal())
            self.expect(")")
            return In(path, tuple(values))
        return Comparison(path, op, self.literal())

    def _next_is(self, punct: str) -> bool:
        nxt = self.tokens[self.at + 1] if self.at + 1 < len(self.tokens) else ("end", "")
        return nxt == ("punct", punct)

    def path(self) -> str:
        kind, text = self.take()
        if kind != "word":
            raise invalid(f"expected a property name but found '{text or 'the end'}'.")
        return text

    def literal(self) -> Value:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "datetime":
            try:
                return datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise invalid(f"'{text}' is not a valid DateTimeOffset.") from None
        if kind == "guid":
            return text.lower()
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "word" and text in ("true", "false"):
            return text == "true"
        if kind == "word" and text == "null":
            return None
        raise invalid(f"expected a value but found '{text or 'the end of the clause'}'.")


def parse_filter(text: str) -> Node:
    """The tree of a $filter expression; a GraphError 400 (Request_BadRequest) naming what is
    wrong when it does not parse, or nests deeper than MAX_DEPTH."""
    try:
        node = _Parser(text).parse()
    except RecursionError:
        raise invalid(f"the filter nests deeper than {MAX_DEPTH} levels") from None
    if _depth(node) > MAX_DEPTH:
        raise invalid(f"the filter nests deeper than {MAX_DEPTH} levels")
    return node


MAX_DEPTH = 100
"""The deepest $filter taken (parentheses, not, and/or chains): deeper ones are a 400."""


def _depth(node: Node) -> int:
    """How deep `node`'s tree is, without recursion (a long and-chain is deep too)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(current, Logical):
            stack += [(current.left, level + 1), (current.right, level + 1)]
        elif isinstance(current, Not):
            stack.append((current.operand, level + 1))
    return deepest


@dataclass(frozen=True)
class Filterable:
    """How a property may be filtered: its kind ("string", "bool", "datetime", "guid",
    "number") and the operators and functions allowed on it."""

    kind: str
    ops: frozenset[str]


STRING_OPS = frozenset({"eq", "ne", "in", "startswith"})
"""What the directory allows on most string properties (Graph's users reference: "Supports
$filter (eq, ne, not, in, startsWith)")."""

EQUALITY_OPS = frozenset({"eq", "ne", "in"})
"""What the directory allows on booleans, ids and enumerations."""


def check_filter(node: Node, filterable: Mapping[str, Filterable], entity: str) -> None:
    """Refuse a filter on a property or with an operator the resource does not support: Graph's
    400 Request_UnsupportedQuery naming the property and the resource."""
    if isinstance(node, Logical):
        check_filter(node.left, filterable, entity)
        check_filter(node.right, filterable, entity)
        return
    if isinstance(node, Not):
        check_filter(node.operand, filterable, entity)
        return
    op = node.op if isinstance(node, Comparison) else "in" if isinstance(node, In) else node.name
    spec = filterable.get(node.path)
    if spec is None or op not in spec.ops:
        raise GraphError(
            400,
            UNSUPPORTED_QUERY,
            f"Unsupported or invalid query filter clause specified for property '{node.path}' "
            f"of resource '{entity}'.",
        )
    values = node.values if isinstance(node, In) else (node.value,)
    for value in values:
        _check_type(node.path, spec.kind, value)


def _check_type(path: str, kind: str, value: Value) -> None:
    if value is None:
        return
    expected: tuple[type, ...] = {
        "string": (str,),
        "guid": (str,),
        "bool": (bool,),
        "datetime": (datetime,),
        "number": (int, float),
    }[kind]
    if isinstance(value, bool) and kind != "bool" or not isinstance(value, expected):
        found = (
            "Edm.Boolean"
            if isinstance(value, bool)
            else "Edm.DateTimeOffset"
            if isinstance(value, datetime)
            else "Edm.String"
            if isinstance(value, str)
            else "Edm.Double"
        )
        wanted = {
            "string": "Edm.String",
            "guid": "Edm.String",
            "bool": "Edm.Boolean",
            "datetime": "Edm.DateTimeOffset",
            "number": "Edm.Int64",
        }[kind]
        raise GraphError(
            400,
            BAD_REQUEST,
            f"A binary operator with incompatible types was detected. Found operand types "
            f"'{wanted}' and '{found}' for the property '{path}'.",
        )


def _lookup(item: Mapping[str, object], path: str) -> object:
    value: object = item
    for part in path.split("/"):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _comparable(value: object, fold: bool = True) -> object:
    """A value in the form comparisons use: strings folded (unless `fold` is false),
    timestamps parsed."""
    if isinstance(value, str):
        if re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", value):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
        return value.casefold() if fold else value
    return value


def _compare(op: str, left: object, right: Value, fold: bool = True) -> bool:
    a, b = _comparable(left, fold), _comparable(right, fold)
    if op == "eq":
        return a == b
    if op == "ne":
        return a != b
    if a is None or b is None:
        return False
    try:
        if op == "gt":
            return a > b  # type: ignore[operator]
        if op == "ge":
            return a >= b  # type: ignore[operator]
        if op == "lt":
            return a < b  # type: ignore[operator]
        return a <= b  # type: ignore[operator]
    except TypeError:  # a timestamp against a plain string: no match
        return False


def matcher(node: Node, case_sensitive: bool = False) -> Callable[[Mapping[str, object]], bool]:
    """A predicate over a resource's JSON form that is true where `node` holds; strings are
    compared without case unless `case_sensitive` (the provisioning logs' filters are)."""
    fold = not case_sensitive

    def test(item: Mapping[str, object], node: Node = node) -> bool:
        if isinstance(node, Logical):
            if node.op == "and":
                return test(item, node.left) and test(item, node.right)
            return test(item, node.left) or test(item, node.right)
        if isinstance(node, Not):
            return not test(item, node.operand)
        value = _lookup(item, node.path)
        if isinstance(node, In):
            return any(_compare("eq", value, v, fold) for v in node.values)
        if isinstance(node, Comparison):
            return _compare(node.op, value, node.value, fold)
        if not isinstance(value, str) or not isinstance(node.value, str):
            return False
        text, needle = (value.casefold(), node.value.casefold()) if fold else (value, node.value)
        if node.name == "startswith":
            return text.startswith(needle)
        if node.name == "endswith":
            return text.endswith(needle)
        return needle in text

    return test
