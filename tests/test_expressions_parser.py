"""Parser and static checks: trees, printing back to source, round trips and error columns."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.errors import ExpressionSyntaxError
from sandbox.expressions import (
    MAX_NESTING_DEPTH,
    Attribute,
    Call,
    Comparison,
    Empty,
    Identifier,
    NumberLiteral,
    StringLiteral,
    parse,
)
from sandbox.expressions.parser import parse_tree

DOCUMENTED_EXPRESSIONS = [
    'Append([userPrincipalName], ".test")',
    "BitAnd(&HF, &HF7)",
    "CBool([attribute1] = [attribute2])",
    'CDate("2021-06-30+08:00")',
    "Coalesce([mail],[userPrincipalName])",
    'ConvertToBase64("Hello world!")',
    'DateAdd("d", 7, CDate([StatusHireDate]))',
    'Switch([Active], , \n  "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", '
    '"True"), \n  "0", "False")',
    "DateFromNum(129699324000000000)",
    'Join("@", [mailNickname], DefaultDomain())',
    'FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")',
    'IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof."))',
    'IIF([country]="USA",IIF([state]="CA","True","False"),"False")',
    'InStr("repEated","e",3,vbBinaryCompare)',
    "Item([proxyAddresses], 1)",
    'Join(", ", "", [surname], [givenName])',
    'Left("John Doe", 3)',
    "Len(42568.75)",
    'IIF(Len([LastName]) <= 5, Left(Join ("",[LastName],[FirstName]),10), '
    'Join("", Mid([LastName],1,9), Mid([FirstName],1,1)))',
    'PCase([lastName]," \'-")',
    'RandomString(10,2,2,2,1,"?,")',
    "Redact(RandomString(6,3,0,0,3))",
    'Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )',
    'Replace([UserID],"<username>", , , , , "<username>@contoso.com")',
    'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", , '
    '"${phoneNumber}", , )',
    'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", '
    '"phoneNumber" , , [mobile], )',
    'Replace([mail], "@contoso.com", , ,"", ,)',
    'SelectUniqueValue(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [PreferredFirstName], '
    '[PreferredLastName]))), "contoso.com"), Join("@", Mid([PreferredFirstName], 1, 1), '
    '"contoso.com"))',
    'Split([extensionAttribute5], ",")',
    'Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")',
    'ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [PreferredFirstName], '
    '[PreferredLastName]))), "contoso.com"))',
    'Word("This,string!has&many separators",3,",!&#")',
    'Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))',
    'Split(Join(",", Append("smtp:", Join("@", [givenName], "contoso.onmicrosoft.com")), '
    'Append("SMTP:", Join("@", [givenName], "contoso.com"))), ",")',
]


def test_a_call_parses_into_frozen_slotted_nodes():
    tree = parse('Append([userPrincipalName], ".test")')
    assert tree == Call("Append", (Attribute("userPrincipalName"), StringLiteral(".test")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.name = "Join"  # type: ignore[misc]
    assert not hasattr(tree, "__dict__")


def test_empty_argument_slots_become_empty_nodes():
    tree = parse('Switch([x], , "a", "b")')
    assert tree == Call("Switch", (Attribute("x"), Empty(), StringLiteral("a"), StringLiteral("b")))


def test_trailing_empty_slots_are_kept():
    tree = parse('Replace([s], , "re", , "", , )')
    assert isinstance(tree, Call)
    assert [type(a).__name__ for a in tree.args] == [
        "Attribute", "Empty", "StringLiteral", "Empty", "StringLiteral", "Empty", "Empty",
    ]  # fmt: skip


def test_a_zero_argument_call_has_no_arguments():
    assert parse("Guid()") == Call("Guid", ())
    assert parse("Now( )") == Call("Now", ())


def test_comparisons_inside_iif_conditions_parse_into_comparison_nodes():
    tree = parse('IIF([country]="USA",[country],[department])')
    assert isinstance(tree, Call)
    assert tree.args[0] == Comparison("=", Attribute("country"), StringLiteral("USA"))


def test_numbers_hex_literals_and_enum_identifiers_keep_their_text():
    tree = parse('InStr("repEated", "e", &H3, vbBinaryCompare)')
    assert isinstance(tree, Call)
    assert tree.args[2] == NumberLiteral("&H3") and tree.args[2].value == 3
    assert tree.args[3] == Identifier("vbBinaryCompare")


def test_positions_are_ignored_by_equality_but_kept_on_nodes():
    a, b = parse('Left("x", 1)'), parse('Left(  "x",1 )')
    assert a == b
    assert isinstance(b, Call) and b.args[0].pos == 7


@pytest.mark.parametrize("source", DOCUMENTED_EXPRESSIONS)
def test_every_documented_expression_parses_and_prints_back_to_an_equal_tree(source):
    tree = parse(source)
    printed = str(tree)
    assert parse(printed) == tree
    assert str(parse(printed)) == printed


def test_printing_normalises_whitespace_and_keeps_empty_slots():
    assert str(parse('Replace([mail], "@contoso.com", , ,"", ,)')) == (
        'Replace([mail], "@contoso.com", , , "", , )'
    )
    assert str(parse('IIF([a]=[b],"x","y")')) == 'IIF([a] = [b], "x", "y")'


def test_printing_escapes_quotes_and_backslashes():
    tree = StringLiteral('say "hi" \\ bye')
    assert str(tree) == r'"say \"hi\" \\ bye"'
    assert parse_tree(str(tree)) == tree


# --- hypothesis: any tree prints to text that parses back to the same tree -------------------

_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_attr_names = st.from_regex(r"[A-Za-z0-9_.-]([A-Za-z0-9_. -]{0,10}[A-Za-z0-9_.-])?", fullmatch=True)
_numbers = st.one_of(
    st.integers(-(10**9), 10**12).map(str),
    st.integers(0, 2**32).map(lambda n: f"&H{n:X}"),
    st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 10**6), st.integers(0, 999)),
)
_operands = st.one_of(
    st.text(max_size=12).map(StringLiteral),
    _numbers.map(NumberLiteral),
    _attr_names.map(Attribute),
    _names.map(Identifier),
)


def _call(name: str, args: list) -> Call:
    if len(args) == 1 and isinstance(args[0], Empty):
        args = []  # "F()" is a call without arguments, never one empty argument
    return Call(name, tuple(args))


# Deferred recursion keeps the strategies' reprs small (filterwarnings = error).
_plain = st.deferred(lambda: st.one_of(_operands, _operands, _calls))
_comparisons = st.builds(
    Comparison, st.sampled_from(["=", "<>", ">", ">=", "<", "<="]), _operands, _plain
)
_calls = st.builds(
    _call, _names, st.lists(st.one_of(_plain, _comparisons, st.just(Empty())), max_size=4)
)
_trees = st.one_of(_plain, _comparisons)


@settings(max_examples=300, deadline=None)
@given(_trees)
def test_any_generated_tree_prints_to_source_that_parses_back_to_it(tree):
    printed = str(tree)
    reparsed = parse_tree(printed)
    assert reparsed == tree
    assert str(reparsed) == printed


# --- errors name the column and what was expected ---------------------------------------------


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("", 1, "empty expression"),
        ('Append([mail] ".test")', 15, "expected ',' or ')' after argument 1 of Append"),
        ('Join(" ", [a]', 14, "unclosed call to Join (opened at column 1)"),
        ("Left([a], 1) Left([a], 1)", 14, "expected the end of the expression"),
        ('IIF([a] = "x" = "y", "1", "2")', 15, "only one comparison"),
        ("IIF([a] = , 1, 2)", 11, "expected a function call, [attribute] or constant"),
        ("Left(,)", 6, "argument 1 (String) of Left is required"),
        ("tolower([mail])", 1, "names are case-sensitive: did you mean 'ToLower'?"),
        ("Frobnicate([mail])", 1, "unknown function 'Frobnicate'"),
        ('Left("x")', 1, "Left takes 2 arguments (Left(String, NumChars)), got 1"),
        ('Switch([x], "d", "a")', 1, "Switch takes 4 or more arguments"),
        ('Switch([x], "d", "a", "b", "c")', 1, "an even number of arguments, got 5"),
        ('Append([a] = [b], "x")', 8, "only allowed as the condition of IIF or CBool"),
        ("[a] = [b]", 1, "only allowed as the condition of IIF or CBool"),
        ('Append(mail, "x")', 8, "attributes need square brackets ([mail])"),
        ('Append(vbTextCompare, "x")', 8, "only meaningful as InStr's compareType"),
        ('Append(Guid, "x")', 8, "Guid is a function: call it with parentheses"),
        ('Append(SelectUniqueValue("a", "b"), "x")', 8, "cannot be nested"),
        ("Replace([s], , , , , , )", 1, "give oldValue with replacementValue or template"),
        ('Replace([s], , "(", , "", , )', 16, "argument 3 (regexPattern) is not a valid regular"),
        ('Replace([s], , "(?<a>x)", "b", "", , )', 27, "names no group of the pattern: 'b'"),
        (
            'IIF(IgnoreFlowIfNullOrEmpty([country]),[country],"Other")',
            5,
            "cannot be IgnoreFlowIfNullOrEmpty",
        ),
    ],
)
def test_faults_are_refused_with_the_column_and_what_was_expected(source, column, fragment):
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse(source)
    assert fragment in caught.value.message
    assert caught.value.column == column
    assert caught.value.expression == source


def test_unknown_attributes_are_refused_only_when_the_known_names_are_given():
    assert parse('Append([departmnet], "x")')
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse('Append([departmnet], "x")', known_attributes={"department", "mail"})
    assert caught.value.column == 8
    assert "unknown attribute [departmnet]; did you mean 'department'?" in caught.value.message


def test_attribute_names_match_the_known_names_case_insensitively():
    assert parse("Not([isSoftDeleted])", known_attributes={"IsSoftDeleted"})


def test_nesting_deeper_than_the_limit_is_refused_with_the_column_of_the_offending_call():
    depth = MAX_NESTING_DEPTH + 1
    source = "ToLower(" * depth + "[a]" + ")" * depth
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse(source)
    assert caught.value.column == MAX_NESTING_DEPTH * len("ToLower(") + 1
    assert f"nested more than {MAX_NESTING_DEPTH} deep" in caught.value.message


def test_nesting_up_to_the_limit_is_accepted():
    source = "ToLower(" * MAX_NESTING_DEPTH + "[a]" + ")" * MAX_NESTING_DEPTH
    assert parse(source)
