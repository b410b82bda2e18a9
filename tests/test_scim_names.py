"""The names SCIM and Entra give things live in sandbox.scim_names, written once: the provider,
the engine's mappings, wire and passes take them from there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sandbox import scim_names
from sandbox.scim_names import quarantine_reason

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, "EncounteredQuarantineException"),  # the credentials were refused
        (404, "Unknown"),  # a SCIM-compliance failure
        (500, "Unknown"),
        (None, "Unknown"),  # no response at all
    ],
)
def test_the_quarantine_reason_follows_the_status(status, reason):
    assert quarantine_reason(status) == reason


def test_every_urn_and_the_app_name_are_written_once():
    names = {
        value: name
        for name, value in vars(scim_names).items()
        if name.isupper() and isinstance(value, str)
    }
    for path in sorted((ROOT / "sandbox").rglob("*.py")):
        if path.name == "scim_names.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        literals = {n.value for n in ast.walk(tree)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)
                    and id(n) not in docs}  # fmt: skip
        repeated = {names[v] for v in literals & set(names) if v not in ("Unknown",)}
        assert not repeated, f"{path.relative_to(ROOT)} writes {sorted(repeated)} again"


def test_the_provider_and_the_engine_share_the_names():
    from sandbox.engine.mappings import paths
    from sandbox.engine.scim import wire
    from sandbox.engine.sync import group_steps, user_steps
    from sandbox.provider import schema

    assert paths.CORE_USER_SCHEMA is schema.CORE_USER_SCHEMA is scim_names.CORE_USER_SCHEMA
    assert wire.PATCH_OP is scim_names.PATCH_OP
    assert user_steps.APP is group_steps.APP is scim_names.APP == "customappsso"
