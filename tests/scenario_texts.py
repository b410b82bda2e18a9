"""Provides small scenario texts the scenario tests share."""

from __future__ import annotations

from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"

ASSIGN_ADA = """\
name = "minimal"
seed = 5

[organization]
[[organization.member]]
email = "owner@example.com"
role = "ADMIN"
owner = true

[tenant]
users = 0
from_organization = false

[[tenant.user]]
upn = "ada@contoso.onmicrosoft.com"
mail = "ada@example.com"
display_name = "Ada"

[provisioning]
mappings = "nulab"
groups = false

[[step]]
action = "assign"
principal = "ada@contoso.onmicrosoft.com"
"""
"""One owner, one tenant user (Ada), the Nulab mappings, and a step assigning Ada."""

MINIMAL = (
    ASSIGN_ADA
    + """
[[step]]
action = "sync"
"""
)
"""ASSIGN_ADA then a cycle."""
