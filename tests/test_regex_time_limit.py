"""A pattern that backtracks catastrophically fails within the sandbox's time limit instead of
hanging: in Replace (the expression language), in a scoping filter's REGEX MATCH (one user's
record fails, the cycle goes on, nothing is disabled or deleted for it) and in the Graph
surface's parseExpression."""

from __future__ import annotations

import time

import pytest

from sandbox.engine.mappings.scoping import ScopingError, ScopingFilter, clause_holds, make_clause
from sandbox.errors import ExpressionEvaluationError, SandboxError
from sandbox.expressions import REGEX_TIME_LIMIT_S, evaluate_text
from tests.engine_env import EngineEnv

EVIL = "(a|aa)+$"
LONG = "a" * 60 + "!"


@pytest.fixture
def env(tmp_path):
    env = EngineEnv(tmp_path)
    yield env
    env.close()


def test_replace_with_a_catastrophic_pattern_fails_within_the_limit():
    started = time.monotonic()
    with pytest.raises(ExpressionEvaluationError, match="took longer than 0.5 s"):
        evaluate_text(f'Replace([mail], , "{EVIL}", , "x", , )', {"mail": LONG})
    assert time.monotonic() - started < REGEX_TIME_LIMIT_S * 6


def test_replace_keeps_dotnet_named_groups_and_substitutions():
    expr = 'Replace([mail], , "(?<user>[^@]+)@(?<domain>.+)", , "${domain}/${user}", , )'
    assert evaluate_text(expr, {"mail": "ada@example.com"}) == "example.com/ada"
    expr = 'Replace([mail], , "(?<c>a)\\k<c>", , "b", , )'
    assert evaluate_text(expr, {"mail": "xaax"}) == "xbx"


def test_scoping_takes_a_dotnet_pattern_and_refuses_a_broken_one():
    clause = make_clause("mail", "REGEX MATCH", r"^(?<alias>[a-z]+)@contoso\.com$")
    assert clause_holds(clause, {"mail": "ada@contoso.com"})
    assert not clause_holds(clause, {"mail": "ada@fabrikam.com"})
    negated = make_clause("mail", "NOT REGEX MATCH", "^ada")
    assert clause_holds(negated, {"mail": "bob@contoso.com"})
    with pytest.raises(SandboxError, match="invalid regular expression"):
        make_clause("mail", "REGEX MATCH", "(unclosed")


def test_a_scoping_clause_past_the_limit_is_an_error_not_an_answer():
    clause = make_clause("department", "REGEX MATCH", EVIL)
    started = time.monotonic()
    with pytest.raises(ScopingError, match="took longer than"):
        clause_holds(clause, {"department": LONG})
    assert time.monotonic() - started < REGEX_TIME_LIMIT_S * 6


def test_a_cycle_fails_only_the_user_whose_scoping_times_out(env):
    fine = env.add_user("ada", department="Engineering")
    slow = env.add_user("bob", department=LONG)
    pattern = f"^Engineering$|{EVIL}"
    env.engine.configure(
        scoping_filters=(ScopingFilter((make_clause("department", "REGEX MATCH", pattern),)),)
    )
    report = env.cycle()
    assert env.engine.links.get("User", fine) is not None
    assert env.engine.links.get("User", slow) is None
    [record] = env.records(report.id, source=slow)
    assert record.status == "Failure" and "took longer than" in record.reason
    assert record.error_code == "MappingEvaluationFailed"
    # linked, then its scoping times out: it fails again, and nothing is sent for it
    env.engine.configure(scoping_filters=())
    env.engine.directory.edit_user(slow, displayName="Bob")
    env.cycle()
    assert env.engine.links.get("User", slow) is not None
    env.engine.configure(
        scoping_filters=(ScopingFilter((make_clause("department", "REGEX MATCH", pattern),)),)
    )
    env.engine.directory.edit_user(slow, displayName="Bob Again")
    env.mark()
    report = env.cycle()
    assert [r.status for r in env.records(report.id, source=slow)] == ["Failure"]
    bob = env.target_id(slow)
    assert [line for line in env.lines() if bob in line[1] or line[0] != "GET"] == []
