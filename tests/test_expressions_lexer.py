"""Tokenizer of Entra's expression language: tokens, escapes, literals and error columns."""

from __future__ import annotations

import pytest

from sandbox.errors import ExpressionSyntaxError
from sandbox.expressions.lexer import MAX_EXPRESSION_LENGTH, TokenKind, tokenize


def kinds(text: str) -> list[TokenKind]:
    return [t.kind for t in tokenize(text)]


def test_a_call_with_an_attribute_and_a_string_yields_each_token_in_order():
    tokens = tokenize('Append([userPrincipalName], ".test")')
    assert [(t.kind, t.value) for t in tokens] == [
        (TokenKind.NAME, "Append"),
        (TokenKind.LPAREN, "("),
        (TokenKind.ATTRIBUTE, "userPrincipalName"),
        (TokenKind.COMMA, ","),
        (TokenKind.STRING, ".test"),
        (TokenKind.RPAREN, ")"),
        (TokenKind.EOF, ""),
    ]


def test_tokens_carry_their_zero_based_offset():
    tokens = tokenize('Left( "John Doe", 3)')
    assert [t.pos for t in tokens] == [0, 4, 6, 16, 18, 19, 20]


@pytest.mark.parametrize(
    ("source", "decoded"),
    [
        (r'"Company name: \"Contoso\""', 'Company name: "Contoso"'),
        (r'"a\\b"', "a\\b"),
        (r'"\\+(?<isdCode>\\d* )"', r"\+(?<isdCode>\d* )"),
        (r'"\d"', r"\d"),  # unknown escapes keep their backslash
        ('""', ""),
        ('"ends with backslash \\\\"', "ends with backslash \\"),
    ],
)
def test_string_literals_decode_backslash_escapes_for_quote_and_backslash(source, decoded):
    token = tokenize(source)[0]
    assert token.kind is TokenKind.STRING
    assert token.value == decoded


@pytest.mark.parametrize("number", ["0", "3", "1000", "-10", "42568.75", "&HF", "&HF7", "&h1f"])
def test_integer_decimal_negative_and_hex_literals_are_numbers(number):
    token = tokenize(number)[0]
    assert (token.kind, token.text) == (TokenKind.NUMBER, number)


@pytest.mark.parametrize("op", ["=", "<>", ">", ">=", "<", "<="])
def test_comparison_operators_are_single_tokens(op):
    assert kinds(f"[a]{op}[b]") == [
        TokenKind.ATTRIBUTE,
        TokenKind.OPERATOR,
        TokenKind.ATTRIBUTE,
        TokenKind.EOF,
    ]
    assert tokenize(f"[a]{op}[b]")[1].value == op


def test_enum_identifiers_are_names():
    assert tokenize("vbBinaryCompare")[0].kind is TokenKind.NAME


def test_whitespace_and_newlines_between_tokens_are_skipped():
    assert kinds('Switch([Active], ,\n  "1", "True")') == kinds('Switch([Active],,"1","True")')


def test_attribute_names_are_trimmed_inside_brackets():
    assert tokenize("[ mail ]")[0].value == "mail"


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ('Append([mail], "x)', 16, "unterminated string"),
        ("Append([mail, 1)", 8, "expected ']'"),
        ("Left([], 1)", 6, "empty attribute"),
        ("Left([mail], 1) $", 17, "unexpected character '$'"),
        ("Switch([isSoftDeleted],, \u201cFalse\u201d)", 26, "curly quote"),
        ("Append([mail], 'x')", 16, "double quotes"),
        ("BitAnd(&H, 1)", 8, "hex literal"),
    ],
)
def test_unreadable_text_is_refused_with_the_1_based_column(source, column, fragment):
    with pytest.raises(ExpressionSyntaxError) as caught:
        tokenize(source)
    assert caught.value.column == column
    assert fragment in caught.value.message
    assert caught.value.expression == source


def test_an_expression_longer_than_entras_10000_characters_is_refused():
    text = 'Append("' + "x" * MAX_EXPRESSION_LENGTH + '", "")'
    with pytest.raises(ExpressionSyntaxError) as caught:
        tokenize(text)
    assert "10,000" in caught.value.message
    assert caught.value.column == MAX_EXPRESSION_LENGTH + 1


def test_an_expression_of_exactly_10000_characters_is_accepted():
    text = '"' + "x" * (MAX_EXPRESSION_LENGTH - 2) + '"'
    assert len(text) == MAX_EXPRESSION_LENGTH
    assert tokenize(text)[0].kind is TokenKind.STRING


def test_the_caret_points_at_the_offending_column():
    with pytest.raises(ExpressionSyntaxError) as caught:
        tokenize("Left([mail], 1) $")
    assert caught.value.caret().splitlines()[:2] == ["Left([mail], 1) $", " " * 16 + "^"]
