"""Provides the `sandbox entra` group: the mock Entra ID's side of the guide.

Its commands live in their own modules and register on this group (tenant users, groups and
the app's assignments in entra_directory.py; provisioning in its own module).
"""

from __future__ import annotations

from sandbox.cli.root import SandboxGroup, cli


@cli.group(cls=SandboxGroup)
def entra() -> None:
    """The mock Entra ID (the IdP's side): tenant users and groups, the app's assignments,
    provisioning."""
