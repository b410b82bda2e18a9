"""Provides the tokenizer of Entra's expression language (hand-written, one pass, with columns)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sandbox.errors import ExpressionSyntaxError

MAX_EXPRESSION_LENGTH = 10_000
"""Longest expression Entra accepts (Entra docs, functions reference: "10,000 characters")."""


class TokenKind(Enum):
    """The kinds of token the grammar knows."""

    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    ATTRIBUTE = "[attribute]"
    STRING = "string"
    NUMBER = "number"
    NAME = "name"
    OPERATOR = "operator"
    EOF = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, the raw source text, the decoded value and its 0-based offset."""

    kind: TokenKind
    text: str
    value: str
    pos: int

    def describe(self) -> str:
        """Say what the token is, for error messages."""
        if self.kind is TokenKind.EOF:
            return "the end of the expression"
        return repr(self.text) if len(self.text) <= 30 else repr(self.text[:27] + "...")


_PUNCTUATION = {"(": TokenKind.LPAREN, ")": TokenKind.RPAREN, ",": TokenKind.COMMA}
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_CURLY_QUOTES = frozenset("\u201c\u201d\u201e\u2033")


MAX_NUMBER_LENGTH = 64
"""The longest number literal read (a Double has at most 17 significant digits; longer ones
are a mistake, and past 4300 digits Python refuses to read them at all)."""


def _error(message: str, pos: int, source: str) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(message, pos + 1, source)


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens, ending with an EOF token.

    Raises ExpressionSyntaxError with the 1-based column of the first character it cannot read.
    """
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise _error(
            f"expression is {len(source):,} characters long; "
            f"Entra accepts at most {MAX_EXPRESSION_LENGTH:,}",
            MAX_EXPRESSION_LENGTH,
            source[: MAX_EXPRESSION_LENGTH + 1],
        )
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[ch], ch, ch, i))
            i += 1
        elif ch == '"':
            i = _string(source, i, tokens)
        elif ch == "[":
            end = source.find("]", i + 1)
            newline = source.find("\n", i + 1)
            if end < 0 or 0 <= newline < end:
                raise _error("unterminated attribute reference: expected ']'", i, source)
            name = source[i + 1 : end].strip()
            if not name:
                raise _error("empty attribute reference: expected a name inside [ ]", i, source)
            if "[" in name:
                raise _error("'[' inside an attribute reference: expected ']'", i, source)
            tokens.append(Token(TokenKind.ATTRIBUTE, source[i : end + 1], name, i))
            i = end + 1
        elif ch in _DIGITS or (ch == "-" and i + 1 < n and source[i + 1] in _DIGITS):
            j = i + 1
            while j < n and source[j] in _DIGITS:
                j += 1
            if j + 1 < n and source[j] == "." and source[j + 1] in _DIGITS:
                j += 1
                while j < n and source[j] in _DIGITS:
                    j += 1
            if j - i > MAX_NUMBER_LENGTH:
                raise _error(f"a number has at most {MAX_NUMBER_LENGTH} characters", i, source)
            tokens.append(Token(TokenKind.NUMBER, source[i:j], source[i:j], i))
            i = j
        elif ch == "&" and i + 1 < n and source[i + 1] in "Hh":
            j = i + 2
            while j < n and source[j] in _HEX:
                j += 1
            if j == i + 2:
                raise _error("hex literal needs digits after '&H' (like &HF7)", i, source)
            if j - i - 2 > 16:  # a 64-bit value, as .NET reads &H literals
                raise _error("a hex literal has at most 16 digits (64 bits)", i, source)
            tokens.append(Token(TokenKind.NUMBER, source[i:j], source[i:j], i))
            i = j
        elif ch in _NAME_START:
            j = i + 1
            while j < n and source[j] in _NAME_CHARS:
                j += 1
            tokens.append(Token(TokenKind.NAME, source[i:j], source[i:j], i))
            i = j
        elif ch in "=<>":
            op = source[i : i + 2] if source[i : i + 2] in ("<>", "<=", ">=") else ch
            tokens.append(Token(TokenKind.OPERATOR, op, op, i))
            i += len(op)
        elif ch in _CURLY_QUOTES:
            raise _error(
                f'curly quote {ch!r} does not start a string: use straight double quotes (")',
                i,
                source,
            )
        elif ch == "'":
            raise _error('strings take double quotes ("), not single quotes', i, source)
        else:
            raise _error(f"unexpected character {ch!r}", i, source)
    tokens.append(Token(TokenKind.EOF, "", "", n))
    return tokens


def _string(source: str, start: int, tokens: list[Token]) -> int:
    """Read a double-quoted literal starting at `start`; return the offset after it."""
    # Entra docs, syntax overview: '\"' is a quote and '\\' a backslash inside a literal; any
    # other backslash is kept as written (regex patterns such as "\d" keep working).
    chars: list[str] = []
    i, n = start + 1, len(source)
    while i < n:
        ch = source[i]
        if ch == "\\" and i + 1 < n and source[i + 1] in '"\\':
            chars.append(source[i + 1])
            i += 2
        elif ch == '"':
            tokens.append(Token(TokenKind.STRING, source[start : i + 1], "".join(chars), start))
            return i + 1
        else:
            chars.append(ch)
            i += 1
    raise _error('unterminated string: expected a closing double quote (")', start, source)
