"""Every documented function, table-driven from Microsoft's examples and the edge cases
docs/expressions.md describes.

Rows come from "Reference for writing expressions for attribute mappings in Microsoft Entra ID"
(functions-for-customizing-application-data, 2026 revision) unless marked as an edge case.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.errors import ExpressionEvaluationError, ExpressionSyntaxError
from sandbox.expressions import (
    FUNCTIONS,
    IGNORE_FLOW,
    Call,
    EvaluationContext,
    Redacted,
    display_value,
    evaluate,
    evaluate_text,
    parse,
    to_json,
    walk,
)

HIRE = {"StatusHireDate": "2012-03-16-07:00"}
JOHN_DOE = {"givenName": "John", "surname": "Doe"}
PROXIES = {
    "proxyAddresses": ["SMTP:john@contoso.com", "smtp:jd@contoso.com", "smtp:jd@contoso.com"]
}
ROLES_ONE = {"appRoleAssignments": [{"id": "r1", "value": "ADMIN", "displayName": "Admin"}]}
ROLES_TWO = {
    "appRoleAssignments": [
        {"id": "r1", "value": "Admin", "displayName": "Admin"},
        {"id": "r2", "value": "User", "displayName": "User"},
    ]
}
FIXED_NOW = datetime(2021, 7, 2, 15, 33, 38, tzinfo=UTC)


def _filetime(moment: datetime) -> int:
    delta = moment - datetime(1601, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 10_000_000


# (expression, source object, expected result)
EXAMPLES = [
    # Append
    ('Append([userPrincipalName], ".test")', {"userPrincipalName": "John.Doe@contoso.com"},
     "John.Doe@contoso.com.test"),
    ('Append([missing], ".test")', {}, ".test"),  # edge: NULL reads as ""
    # AppRoleAssignmentsComplex / AssertiveAppRoleAssignmentsComplex (customize-application-attributes)
    ("AppRoleAssignmentsComplex([appRoleAssignments])", ROLES_TWO, [
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin",
         "value": "Admin"},
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "User",
         "value": "User"},
    ]),
    ("AssertiveAppRoleAssignmentsComplex([appRoleAssignments])", ROLES_TWO, [
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": "Admin",
         "value": "Admin"},
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": "User",
         "value": "User"},
    ]),
    ("AppRoleAssignmentsComplex([appRoleAssignments])", {}, []),
    # BitAnd
    ("BitAnd(&HF, &HF7)", {}, 7),
    ("BitAnd(12, 10)", {}, 8),
    # CBool
    ("CBool([attribute1] = [attribute2])", {"attribute1": "a", "attribute2": "a"}, "True"),
    ("CBool([attribute1] = [attribute2])", {"attribute1": "a", "attribute2": "b"}, "False"),
    ("CBool(0)", {}, "False"),
    ("CBool(5)", {}, "True"),
    # CDate
    ("CDate([StatusHireDate])", {"StatusHireDate": "2020-03-16-07:00"}, "3/16/2020 7:00:00 AM"),
    ('CDate("2021-06-30+08:00")', {}, "6/29/2021 4:00:00 PM"),
    ('CDate("2009-06-15T01:45:30-07:00")', {}, "6/15/2009 8:45:30 AM"),
    ("CDate([missing])", {}, None),
    # Coalesce
    ("Coalesce([mail],[userPrincipalName])", {"userPrincipalName": "John.Doe@contoso.com"},
     "John.Doe@contoso.com"),
    ("Coalesce([mail],[userPrincipalName])", {"mail": "j@contoso.com", "userPrincipalName": "u"},
     "j@contoso.com"),
    ('Coalesce([mail], [otherMail], "none@contoso.com")', {}, "none@contoso.com"),
    ("Coalesce([mail], [otherMail])", {}, None),
    # ConvertToBase64 / ConvertToUTF8Hex
    ('ConvertToBase64("Hello world!")', {}, "SABlAGwAbABvACAAdwBvAHIAbABkACEA"),
    ('ConvertToUTF8Hex("Hello world!")', {}, "48656C6C6F20776F726C6421"),
    # Count
    ("Count([proxyAddresses])", PROXIES, 3),
    ("Count([proxyAddresses])", {}, 0),
    # CStr
    ("CStr([dn])", {"dn": "cn=Joe,dc=contoso,dc=com"}, "cn=Joe,dc=contoso,dc=com"),
    ("CStr(42)", {}, "42"),
    ("CStr([accountEnabled])", {"accountEnabled": True}, "True"),
    # DateAdd (table of Example 1)
    ('DateAdd("d", 7, CDate([StatusHireDate]))', HIRE, "3/23/2012 7:00:00 AM"),
    ('DateAdd("d", -10, CDate([StatusHireDate]))', HIRE, "3/6/2012 7:00:00 AM"),
    ('DateAdd("ww", 2, CDate([StatusHireDate]))', HIRE, "3/30/2012 7:00:00 AM"),
    ('DateAdd("m", 10, CDate([StatusHireDate]))', HIRE, "1/16/2013 7:00:00 AM"),
    ('DateAdd("yyyy", 2, CDate([StatusHireDate]))', HIRE, "3/16/2014 7:00:00 AM"),
    ('DateAdd("m", 1, CDate("2021-01-31"))', {}, "2/28/2021 12:00:00 AM"),  # edge: month end
    # DateDiff (table of Example 1)
    ('DateDiff("d", CDate([a]), CDate([b]))', {"a": "2021-08-18+08:00", "b": "2021-08-31+08:00"}, 13),
    ('DateDiff("d", CDate([a]), CDate([b]))', {"a": "8/25/2021 5:41:18 PM", "b": "2012-03-16-07:00"},
     -3449),
    ('DateDiff("ww", CDate([a]), CDate([b]))', {"a": "8/25/2021 5:41:18 PM", "b": "2012-03-16-07:00"},
     -493),
    ('DateDiff("m", CDate([a]), CDate([b]))', {"a": "8/25/2021 5:41:18 PM", "b": "2012-03-16-07:00"},
     -113),
    ('DateDiff("yyyy", CDate([a]), CDate([b]))',
     {"a": "8/25/2021 5:41:18 PM", "b": "2012-03-16-07:00"}, -9),
    ('DateDiff("d", CDate([a]), CDate([b]))', {"a": "2021-08-31+08:00", "b": "2021-08-31+08:00"}, 0),
    ('DateDiff("h", CDate([a]), CDate([b]))', {"a": "2021-08-24", "b": "2021-08-25"}, 24),
    ('DateDiff("n", CDate([a]), CDate([b]))', {"a": "2021-08-24", "b": "2021-08-25"}, 1440),
    ('DateDiff("s", CDate([a]), CDate([b]))', {"a": "2021-08-24", "b": "2021-08-25"}, 86400),
    # DateFromNum
    ("DateFromNum(129699324000000000)", {}, "1/1/2012 11:00:00 PM"),
    ("DateFromNum([lastLogonTimestamp])", {}, None),
    # FormatDateTime
    ('FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")',
     {"extensionAttribute1": "20150123105347.1Z"}, "2015-01-23"),
    ('FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd")',
     {"ContractEndDate": "2020-12-31-08:00"}, "2020-12-31"),
    ('FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")',
     {"endDate": "6/30/2021 11:59:59 PM"}, "2021-06-30"),
    ('FormatDateTime("2021-06-30", , "yyyy-MM-dd", "dddd, MMMM d yyyy")', {},
     "Wednesday, June 30 2021"),
    ('FormatDateTime([missing], , "yyyy", "yyyy")', {}, None),
    # IgnoreFlowIfNullOrEmpty
    ("IgnoreFlowIfNullOrEmpty([department])", {}, IGNORE_FLOW),
    ("IgnoreFlowIfNullOrEmpty([department])", {"department": ""}, IGNORE_FLOW),
    ("IgnoreFlowIfNullOrEmpty([department])", {"department": "Sales"}, "Sales"),
    ('IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", '
     '"Prof. Dr."))', {"prefix": "9999"}, IGNORE_FLOW),
    ('IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", '
     '"Prof. Dr."))', {"prefix": "3444"}, "Prof."),
    # IIF
    ('IIF([country]="USA",[country],[department])', {"country": "USA", "department": "Retail"},
     "USA"),
    ('IIF([country]="USA",[country],[department])', {"country": "Japan", "department": "Retail"},
     "Retail"),
    ('IIF([country]="USA",IIF([state]="CA","True","False"),"False")', {"country": "USA", "state": "CA"},
     "True"),
    ('IIF([country]="USA","True",IIF([state]="CA","True","False"))', {"country": "NL", "state": "CA"},
     "True"),
    ('IIF(Len([LastName]) <= 5, Left(Join("",[LastName],[FirstName]),10), '
     'Join("", Mid([LastName],1,9), Mid([FirstName],1,1)))',
     {"FirstName": "John", "LastName": "Smith"}, "SmithJohn"),
    ('IIF(Len([LastName]) <= 5, Left(Join("",[LastName],[FirstName]),10), '
     'Join("", Mid([LastName],1,9), Mid([FirstName],1,1)))',
     {"FirstName": "John", "LastName": "Parker"}, "ParkerJ"),
    ('IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True")',
     {"StatusHireDate": "2021-07-20"}, "False"),
    ('IIF(10 > 9, "numbers", "text")', {}, "numbers"),
    # InStr
    ('InStr("The quick brown fox","quick")', {}, 5),
    ('InStr("repEated","e",3,vbBinaryCompare)', {}, 7),
    ('InStr("repEated","e",3,vbTextCompare)', {}, 4),
    ('InStr("abc","z")', {}, 0),
    # IsNull / IsNullOrEmpty / IsPresent / IsString
    ("IsNull([displayName])", {}, "True"),
    ("IsNull([displayName])", {"displayName": ""}, "False"),
    ("IsNullOrEmpty([displayName])", {"displayName": ""}, "True"),
    ("IsNullOrEmpty([displayName])", {"displayName": "Ada"}, "False"),
    ("IsPresent([directManager])", {"directManager": "m1"}, "True"),
    ("IsPresent([directManager])", {"directManager": ""}, "False"),
    ("IsString([displayName])", {"displayName": "Ada"}, "True"),
    ("IsString(Count([proxyAddresses]))", PROXIES, "False"),
    # Item
    ("Item([proxyAddresses], 1)", PROXIES, "SMTP:john@contoso.com"),
    ("Item([proxyAddresses], 9)", PROXIES, None),
    # Join
    ('Join(" ", [givenName], [surname])', JOHN_DOE, "John Doe"),
    ('Join(", ", "", [surname], [givenName])', JOHN_DOE, "Doe, John"),
    ('Join(" ", [givenName], [middleName], [surname])', JOHN_DOE, "John Doe"),
    ('Join(";", [proxyAddresses], "x")', PROXIES,
     "SMTP:john@contoso.com;smtp:jd@contoso.com;smtp:jd@contoso.com;x"),
    ('Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))',
     # The page's sample output is for another object id; this is the one its input gives.
     {"objectId": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"},
     "100030306161303061612626231312636332322646433332343465653434656534346565"),
    # Left
    ('Left("John Doe", 3)', {}, "Joh"),
    ('Left("John Doe", 0)', {}, ""),
    ('Left("John Doe", -1)', {}, "John Doe"),
    ("Left([missing], 3)", {}, ""),
    ('Left("Jo", 3)', {}, "Jo"),
    # Len
    ('Len("John Doe")', {}, 8),
    ("Len(42568)", {}, 5),
    ("Len(42568.75)", {}, 8),
    ("Len([missing])", {}, 0),
    # Mid
    ("Mid([givenName], 1, 3)", JOHN_DOE, "Joh"),
    ("Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))", JOHN_DOE, "JohDoe"),
    ('Mid("John", 3, 10)', {}, "hn"),
    ('Mid("John", 9, 2)', {}, ""),
    # NormalizeDiacritics
    ("NormalizeDiacritics([givenName])", {"givenName": "Zoë"}, "Zoe"),
    ('NormalizeDiacritics("Straße")', {}, "Strasse"),
    ('NormalizeDiacritics("Æsir Øster Ǣ œ̄")', {}, "AEsir OEster AE oe"),
    ('NormalizeDiacritics("Łódź İstanbul ā́ Ṝ")', {}, "Lodz Istanbul a R"),
    ('NormalizeDiacritics("がぎ 漢字")', {}, "がぎ 漢字"),  # edge: only Latin letters change
    # Not
    ("Not([IsSoftDeleted])", {"IsSoftDeleted": "True"}, "False"),
    ("Not([IsSoftDeleted])", {"IsSoftDeleted": "False"}, "True"),
    ("Not([IsSoftDeleted])", {}, "True"),
    # Now (fixed clock)
    ("Now()", {}, "7/2/2021 3:33:38 PM"),
    # NumFromDate
    ('NumFromDate("2012-01-01T23:00:00Z")', {}, 129699324000000000),
    ('NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), '
     '" 23:59:59-08:00"))', {"ContractEndDate": "2020-12-31-08:00"},
     _filetime(datetime(2021, 1, 1, 7, 59, 59, tzinfo=UTC))),
    # PCase
    ("PCase([firstName])", {"firstName": "PABLO GONSALVES (SECOND)"}, "Pablo Gonsalves (Second)"),
    ("PCase([lastName],\" '-\")", {"lastName": "PINTO-DE'SILVA"}, "Pinto-De'Silva"),
    ('PCase(Join(" ",[firstName],[lastName]))', {"firstName": "GREGORY", "lastName": "JAMES"},
     "Gregory James"),
    # RemoveDuplicates
    ("RemoveDuplicates([proxyAddresses])", PROXIES, ["SMTP:john@contoso.com", "smtp:jd@contoso.com"]),
    # Replace (Examples 1-6 and "Strip known domain name")
    ('Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )',
     {"BusinessTitle": "Product Developer"}, "Software Engineer"),
    ('Replace([UserID],"<username>", , , , , "<username>@contoso.com")', {"UserID": "jsmith"},
     "jsmith@contoso.com"),
    ('Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", , '
     '"${phoneNumber}", , )', {"telephoneNumber": "+91 9998887777"}, "9998887777"),
    ('Replace([mobile], , "[()\\\\s-]+", , "", , )', {"mobile": "+1 (999) 888-7777"},
     "+19998887777"),
    ('Replace([AddressLineData], ,"(?<streetNumber>^\\\\d*)","streetNumber", "888", , )',
     {"AddressLineData": "545 Tremont Street"}, "888 Tremont Street"),
    ('Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )',
     {"userPrincipalName": "jsmith@contoso.com"}, "jsmith"),
    ('Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", '
     '"phoneNumber" , , [mobile], )', {"telephoneNumber": "", "mobile": "+91 8887779999"},
     "8887779999"),
    ('Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", '
     '"phoneNumber" , , [mobile], )', {"telephoneNumber": "555", "mobile": "+91 8887779999"}, "555"),
    ('Replace([mailNickname], , "[a-zA-Z_]*", , "", , )', {"mailNickname": "john_doe72"}, "72"),
    ('Replace([mail], "@contoso.com", , ,"", ,)', {"mail": "john.doe@contoso.com"}, "john.doe"),
    ('Replace([mail], "@CONTOSO.com", , ,"", ,)', {"mail": "john.doe@contoso.com"},
     "john.doe@contoso.com"),  # case-sensitive
    # SingleAppRoleAssignment
    ("SingleAppRoleAssignment([appRoleAssignments])", ROLES_ONE, "ADMIN"),
    ("SingleAppRoleAssignment([appRoleAssignments])", {}, None),
    # Split
    ('Split([extensionAttribute5], ",")', {"extensionAttribute5": "PermissionSetOne, PermissionSetTwo"},
     ["PermissionSetOne", "PermissionSetTwo"]),
    ('Split(Join(",", Append("smtp:", Join("@", NormalizeDiacritics(StripSpaces(Join(".", '
     '[givenName], [surname]))), "contoso.onmicrosoft.com")), Append("SMTP:", Join("@", '
     'NormalizeDiacritics(StripSpaces(Join(".", [givenName], [surname]))), "contoso.com"))), ",")',
     JOHN_DOE, ["smtp:John.Doe@contoso.onmicrosoft.com", "SMTP:John.Doe@contoso.com"]),
    ('Append("SMTP:", Join("@", Join(".", [givenName], [surname]), "contoso.com"))', JOHN_DOE,
     "SMTP:John.Doe@contoso.com"),
    # StripSpaces
    ('StripSpaces("John  Doe Smith")', {}, "JohnDoeSmith"),
    # Switch
    ('Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", '
     '"SA", "Australia/Adelaide")', {"state": "QLD"}, "Australia/Brisbane"),
    ('Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane")',
     {"state": "qld"}, "Australia/Sydney"),  # case-sensitive
    ('Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")', {"statusFlag": "TRUE"}, "1"),
    ('Switch([statusFlag], "Default Value", "true", "1", "", "0")', {}, "0"),
    ('Switch([statusFlag], "Default Value", "true", "1", "", "0")', {"statusFlag": "x"},
     "Default Value"),
    ('Switch([country],[country],"","Other")', {"country": ""}, "Other"),
    ('Switch([country],[country],"","Other")', {"country": "Japan"}, "Japan"),
    ('Switch([IsSoftDeleted], , "False", "True", "True", "False")', {"IsSoftDeleted": "False"},
     "True"),
    ('Switch([IsSoftDeleted], , "False", "True", "True", "False")', {"IsSoftDeleted": "True"},
     "False"),
    ('Switch([IsSoftDeleted], , "False", "True", "True", "False")', {"IsSoftDeleted": "maybe"}, None),
    ('Switch([x], "d", [a], "from a", [b], "from b")', {"x": "2", "a": "1", "b": "2"}, "from b"),
    # ToLower / ToUpper
    ('ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], '
     '[PreferredLastName]))), "contoso.com"))', {"PreferredFirstName": "John", "PreferredLastName":
     "Smith"}, "john.smith@contoso.com"),
    ('ToLower("TITLE", "tr-TR")', {}, "tıtle"),
    ('ToUpper("title")', {}, "TITLE"),
    ('ToUpper("title", "tr-TR")', {}, "TİTLE"),
    # Word
    ('Word("The quick brown fox",3," ")', {}, "brown"),
    ('Word("This,string!has&many separators",3,",!&#")', {}, "has"),
    ('Word("The quick brown fox",0," ")', {}, ""),
    ('Word("The quick brown fox",9," ")', {}, ""),
    ('Word([missing],1," ")', {}, ""),
    # DefaultDomain (tenant contoso.com)
    ('Join("@", [mailNickname], DefaultDomain())', {"mailNickname": "ada"}, "ada@contoso.com"),
    # Redact keeps the value (only logs hide it)
    ("Redact([userPrincipalName])", {"userPrincipalName": "ada@contoso.com"}, "ada@contoso.com"),
]  # fmt: skip


def _context(**overrides: object) -> EvaluationContext:
    options = {"clock": lambda: FIXED_NOW, "rng": random.Random(7), "tenant_domain": "contoso.com"}
    options.update(overrides)
    return EvaluationContext(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "user", "expected"), EXAMPLES, ids=[e[0][:60] for e in EXAMPLES]
)
def test_documented_examples_give_the_documented_output(source, user, expected):
    assert evaluate_text(source, user, _context()) == expected


def test_every_registered_function_has_at_least_one_example_row():
    used = {n.name for source, _, _ in EXAMPLES for n in walk(parse(source)) if isinstance(n, Call)}
    covered_elsewhere = {"Guid", "RandomString", "SelectUniqueValue"}  # random or context-bound
    assert set(FUNCTIONS) - used - covered_elsewhere == set()


def test_the_registry_holds_microsofts_exact_names_with_arity_and_a_doc():
    assert len(FUNCTIONS) == 46
    for name, spec in FUNCTIONS.items():
        assert spec.name == name
        assert spec.doc and spec.doc.endswith(".")
        assert spec.arity
    assert FUNCTIONS["Switch"].arity == "4 or more"
    assert FUNCTIONS["Left"].signature == "Left(String, NumChars)"


def test_every_registered_function_is_listed_in_the_user_docs():
    docs = (Path(__file__).parents[1] / "docs" / "expressions.md").read_text(encoding="utf-8")
    missing = [name for name in FUNCTIONS if not re.search(rf"`{name}\(", docs)]
    assert missing == []


def test_attribute_references_are_case_insensitive():
    assert evaluate_text("Not([isSoftDeleted])", {"IsSoftDeleted": "True"}) == "False"


def test_graph_booleans_read_as_true_false_strings():
    assert evaluate_text("Not([accountEnabled])", {"accountEnabled": False}) == "True"


# --- context-bound functions: reproducible from the seed --------------------------------------


def test_guid_comes_from_the_context_rng_so_the_same_seed_gives_the_same_guid():
    first = evaluate_text("Guid()", {}, _context(rng=random.Random(42)))
    again = evaluate_text("Guid()", {}, _context(rng=random.Random(42)))
    other = evaluate_text("Guid()", {}, _context(rng=random.Random(43)))
    assert first == again != other
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first
    )


def test_random_string_6_3_0_0_3_has_three_digits_and_three_lower_case_letters():
    value = evaluate_text("RandomString(6,3,0,0,3)", {}, _context())
    assert len(value) == 6
    assert sum(c.isdigit() for c in value) == 3 and sum(c.islower() for c in value) == 3


def test_random_string_honours_minimums_and_characters_to_avoid():
    for seed in range(50):
        value = evaluate_text(
            'RandomString(10,2,2,2,1,"?,")', {}, _context(rng=random.Random(seed))
        )
        assert len(value) == 10
        assert sum(c.isdigit() for c in value) >= 2
        assert sum(not c.isalnum() for c in value) >= 2
        assert sum(c.isupper() for c in value) >= 2 and sum(c.islower() for c in value) >= 1
        assert "?" not in value and "," not in value


def test_random_string_is_reproducible_from_the_seed():
    one = evaluate_text("RandomString(12,2,2,2,2)", {}, _context(rng=random.Random(1)))
    two = evaluate_text("RandomString(12,2,2,2,2)", {}, _context(rng=random.Random(1)))
    assert one == two


def test_now_reads_the_context_clock():
    later = FIXED_NOW + timedelta(hours=9)
    assert evaluate_text("Now()", {}, _context(clock=lambda: later)) == "7/3/2021 12:33:38 AM"


def test_select_unique_value_returns_the_first_value_the_target_does_not_have():
    taken = {"John.Smith@contoso.com"}
    source = (
        'SelectUniqueValue(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [PreferredFirstName],'
        ' [PreferredLastName]))), "contoso.com"), Join("@", NormalizeDiacritics(StripSpaces(Join(".",'
        ' Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), "contoso.com"))'
    )
    user = {"PreferredFirstName": "John", "PreferredLastName": "Smith"}
    context = _context(is_unique=lambda value: value not in taken)
    assert evaluate_text(source, user, context) == "J.Smith@contoso.com"


def test_select_unique_value_is_refused_for_apps_without_a_uniqueness_check():
    with pytest.raises(ExpressionEvaluationError, match="not for SCIM apps"):
        evaluate_text('SelectUniqueValue("a", "b")', {})


def test_default_domain_fails_when_the_tenant_has_no_default_domain():
    with pytest.raises(ExpressionEvaluationError, match="no default verified domain"):
        evaluate_text("DefaultDomain()", {}, _context(tenant_domain=None))


# --- values for logs and JSON -----------------------------------------------------------------


def test_redact_keeps_the_value_but_logs_show_redact():
    value = evaluate_text("Redact([userPrincipalName])", {"userPrincipalName": "ada@contoso.com"})
    assert isinstance(value, Redacted)
    assert display_value(value) == "[Redact]"
    assert display_value(value, redact=False) == "ada@contoso.com"
    assert to_json(value) == "ada@contoso.com"


def test_ignore_flow_is_a_sentinel_shown_as_dropped_and_null_in_json():
    assert "dropped" in display_value(IGNORE_FLOW)
    assert to_json(IGNORE_FLOW) is None


# --- evaluation errors name the function, the argument and its column -------------------------


@pytest.mark.parametrize(
    ("source", "user", "column", "fragment"),
    [
        ('Left("John", "x")', {}, 14, "Left: argument 2 (NumChars) must be a whole number, got 'x'"),
        ('Mid("John", 0, 2)', {}, 13, "Mid: argument 2 (start) is 1-based"),
        ("Item([proxyAddresses], 0)", PROXIES, 24, "Item: argument 2 (index) is 1-based"),
        ('DateAdd("q", 1, Now())', {}, 9, "must be one of yyyy, m, d, ww, h, n, s"),
        ('CDate("not a date")', {}, 7, "is not a date Entra can read"),
        ('RandomString(300, 0, 0, 0, 0)', {}, 14, "must be between 1 and 256"),
        ("RandomString(4, 2, 2, 2, 0)", {}, 1, "minimums add up to 6, more than Length 4"),
        ('InStr("a", "b", 1, "vbSometimes")', {}, 20, "must be vbTextCompare or vbBinaryCompare"),
        ('IIF([country]="USA",[country],[department])', {"department": "R"}, 5,
         "refers to [country], which is null or empty"),
        ('IIF([country]="",[country],"Other")', {"country": ""}, 5, "Entra fails the condition"),
        ('IIF(IsPresent([country]),[country],"Other")', {}, 5, "Entra fails the condition"),
        ('IIF([a], "x", "y")', {"a": "maybe"}, 5, "must be True or False, got 'maybe'"),
        ('Join(" ", Item([proxyAddresses], 1), [proxyAddresses], Left([proxyAddresses], 2))', PROXIES,
         61, "Left: argument 1 (String) expects a single value, got 3 values"),
        ('DateAdd("yyyy", 100000, Now())', {}, 1, "DateAdd failed: a value is out of range"),
    ],
)  # fmt: skip
def test_evaluation_errors_name_the_function_argument_and_column(source, user, column, fragment):
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate_text(source, user, _context())
    assert fragment in caught.value.message
    assert caught.value.column == column
    assert caught.value.expression == source
    assert caught.value.caret().splitlines()[1] == " " * (column - 1) + "^"


def test_single_app_role_assignment_with_two_roles_fails_with_entras_message():
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate_text("SingleAppRoleAssignment([appRoleAssignments])", ROLES_TWO)
    assert caught.value.message == (
        "An error occured while evaluating this function: 'SingleAppRoleAssignment.' No more than "
        "one app role assignment was expected, but this many where found: 2"
    )


def test_evaluate_takes_a_parsed_tree_and_a_source_mapping():
    tree = parse('Join(" ", [givenName], [surname])')
    assert evaluate(tree, JOHN_DOE) == "John Doe"
    assert evaluate(tree, {}) == ""


# --- robustness: whatever a valid expression meets, only ExpressionErrors come out ------------

_SAMPLE_USER = {
    "mail": "ada@contoso.com",
    "givenName": "Ada",
    "empty": "",
    "number": "42",
    "date": "2021-06-30+08:00",
    "flag": "True",
    "proxyAddresses": ["SMTP:a@contoso.com", "smtp:b@contoso.com"],
    "appRoleAssignments": [{"id": "1", "value": "ADMIN", "displayName": "Admin"}],
}
_leaves = st.one_of(
    st.sampled_from(sorted(_SAMPLE_USER) + ["absent"]).map(lambda n: f"[{n}]"),
    st.sampled_from(['""', '"x"', '"True"', '"yyyy-MM-dd"', '"d"', '"(?<g>a)"', '"g"', '","']),
    st.sampled_from(["0", "1", "-1", "3", "300", "&HF", "2.5"]),
)


@st.composite
def _calls(draw: st.DrawFn, depth: int = 0) -> str:
    spec = draw(st.sampled_from(list(FUNCTIONS.values())))
    top = spec.max_args if spec.max_args is not None else spec.min_args + 3
    count = draw(st.integers(spec.min_args, max(spec.min_args, top)))
    args = [
        draw(_calls(depth + 1)) if depth < 2 and draw(st.booleans()) else draw(_leaves)
        for _ in range(count)
    ]
    return f"{spec.name}({', '.join(args)})"


@settings(max_examples=400, deadline=None)
@given(_calls())
def test_evaluation_never_raises_a_bare_python_exception(source):
    try:
        tree = parse(source)
    except ExpressionSyntaxError:
        return  # refused before evaluation: fine
    try:
        evaluate(tree, _SAMPLE_USER, _context(is_unique=lambda value: True))
    except ExpressionEvaluationError as exc:
        assert exc.message and exc.column >= 1
