"""Provides the recursive-descent parser that turns expression text into an immutable tree.

Grammar (Entra docs, "Reference for writing expressions for attribute mappings"):

    expression := argument EOF
    argument   := operand [ ("=" | "<>" | ">" | ">=" | "<" | "<=") operand ]
    operand    := NAME "(" [ slot ("," slot)* ] ")"    function call, names case-sensitive
                | "[" attribute "]"                    source attribute
                | STRING | NUMBER | "&H" HEX           constants
                | NAME                                 enum identifier (vbTextCompare)
    slot       := argument | <nothing>                 an omitted argument: F(a, , b)

This module only checks shape; names, arities and where comparisons may appear are checked by
`sandbox.expressions.checker` against the function registry.
"""

from __future__ import annotations

from sandbox.errors import ExpressionSyntaxError
from sandbox.expressions.lexer import Token, TokenKind, tokenize
from sandbox.expressions.nodes import (
    Attribute,
    Call,
    Comparison,
    Empty,
    Identifier,
    Node,
    NumberLiteral,
    StringLiteral,
)

MAX_NESTING_DEPTH = 50
"""Deepest function nesting accepted.

Entra publishes no nesting limit, only the 10,000-character cap; real mappings nest fewer than ten
calls. The cap keeps the recursive parser and evaluator far from Python's recursion limit, so a
pathological expression fails with a syntax error naming the column instead of a RecursionError.
"""


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, token: Token | None = None) -> ExpressionSyntaxError:
        token = token or self.current
        return ExpressionSyntaxError(message, token.pos + 1, self.source)

    def parse(self) -> Node:
        if self.current.kind is TokenKind.EOF:
            raise self.error("empty expression: expected a function call, [attribute] or constant")
        node = self.argument()
        if self.current.kind is not TokenKind.EOF:
            raise self.error(
                f"expected the end of the expression after {node_kind(node)}, "
                f"found {self.current.describe()}"
            )
        return node

    def argument(self) -> Node:
        left = self.operand()
        if self.current.kind is TokenKind.OPERATOR:
            op_token = self.advance()
            if self.current.kind is TokenKind.OPERATOR:
                raise self.error(f"expected a value after {op_token.text!r}")
            right = self.operand()
            if self.current.kind is TokenKind.OPERATOR:
                raise self.error(
                    "only one comparison per condition: there is no AND/OR, nest IIF instead"
                )
            return Comparison(op_token.text, left, right, left.pos)
        return left

    def operand(self) -> Node:
        token = self.current
        kind = token.kind
        if kind is TokenKind.STRING:
            self.advance()
            return StringLiteral(token.value, token.pos)
        if kind is TokenKind.NUMBER:
            self.advance()
            return NumberLiteral(token.text, token.pos)
        if kind is TokenKind.ATTRIBUTE:
            self.advance()
            return Attribute(token.value, token.pos)
        if kind is TokenKind.NAME:
            self.advance()
            if self.current.kind is TokenKind.LPAREN:
                return self.call(token)
            return Identifier(token.text, token.pos)
        if kind is TokenKind.EOF:
            raise self.error(
                "unexpected end of the expression: expected a function call, [attribute] or "
                "constant"
            )
        raise self.error(
            f"expected a function call, [attribute] or constant, found {token.describe()}"
        )

    def call(self, name: Token) -> Call:
        self.depth += 1
        if self.depth > MAX_NESTING_DEPTH:
            raise self.error(f"functions nested more than {MAX_NESTING_DEPTH} deep", name)
        self.advance()  # "("
        args: list[Node] = []
        if self.current.kind is TokenKind.RPAREN:
            self.advance()
            self.depth -= 1
            return Call(name.text, (), name.pos)
        while True:
            token = self.current
            if token.kind in (TokenKind.COMMA, TokenKind.RPAREN):
                args.append(Empty(token.pos))
            else:
                args.append(self.argument())
            token = self.current
            if token.kind is TokenKind.COMMA:
                self.advance()
                continue
            if token.kind is TokenKind.RPAREN:
                self.advance()
                break
            if token.kind is TokenKind.EOF:
                raise self.error(
                    f"unclosed call to {name.text} (opened at column {name.pos + 1}): "
                    "expected ',' or ')'"
                )
            raise self.error(
                f"expected ',' or ')' after argument {len(args)} of {name.text}, "
                f"found {token.describe()}"
            )
        self.depth -= 1
        return Call(name.text, tuple(args), name.pos)


def node_kind(node: Node) -> str:
    """Describe a node for messages ("a call to Join", "[mail]", "a string")."""
    if isinstance(node, Call):
        return f"the call to {node.name}"
    if isinstance(node, Attribute):
        return str(node)
    if isinstance(node, Comparison):
        return "the comparison"
    if isinstance(node, StringLiteral):
        return "the string"
    if isinstance(node, NumberLiteral):
        return "the number"
    return repr(str(node))


def parse_tree(source: str) -> Node:
    """Parse text into a tree without checking names against the registry."""
    return _Parser(source).parse()
