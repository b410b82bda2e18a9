"""Provides the immutable syntax tree of an expression; each node prints back to its source.

Nodes are frozen slotted dataclasses. `pos` is the 0-based offset of the node in the text it was
parsed from; it is left out of equality so that ``parse(str(parse(s))) == parse(s)`` holds even
though printing normalises whitespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StringLiteral:
    """A double-quoted string constant; `value` is the decoded text."""

    value: str
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        # Entra docs, syntax overview: backslash and quote are escaped with a backslash.
        return '"' + self.value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, slots=True)
class NumberLiteral:
    """An integer (``3``, ``-10``), decimal (``42568.75``) or VBA hex (``&HF``) literal."""

    text: str
    pos: int = field(default=0, compare=False, repr=False)

    @property
    def value(self) -> int | float:
        """The number the literal denotes."""
        if self.text[:2] in ("&H", "&h"):
            return int(self.text[2:], 16)
        if "." in self.text:
            return float(self.text)
        return int(self.text)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Attribute:
    """A source attribute reference ``[name]``; lookup is case-insensitive on the name."""

    name: str
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return f"[{self.name}]"


@dataclass(frozen=True, slots=True)
class Identifier:
    """A bare enum identifier such as ``vbTextCompare`` or ``vbBinaryCompare``."""

    name: str
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Empty:
    """An omitted argument: the empty slot in ``Switch([x], , "a", "b")``."""

    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class Call:
    """A function call ``Name(arg1, ..., argN)``; names are case-sensitive."""

    name: str
    args: tuple[Node, ...] = ()
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(arg) for arg in self.args)})"


@dataclass(frozen=True, slots=True)
class Comparison:
    """``left op right`` with op one of ``= <> > >= < <=``; only inside IIF / CBool conditions."""

    op: str
    left: Node
    right: Node
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


Node = StringLiteral | NumberLiteral | Attribute | Identifier | Empty | Call | Comparison
"""Any expression node."""

COMPARISON_OPERATORS = ("=", "<>", ">", ">=", "<", "<=")
"""The comparison operators Entra documents for IIF conditions."""


def walk(node: Node) -> Iterator[Node]:
    """Yield the node and every node below it, depth first, in source order."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Call):
            stack.extend(reversed(current.args))
        elif isinstance(current, Comparison):
            stack.extend((current.right, current.left))


def attributes(node: Node) -> list[Attribute]:
    """Return every attribute reference in the tree, in source order."""
    return [n for n in walk(node) if isinstance(n, Attribute)]
