"""Provides the `sandbox` command: thin click commands that call the runtime and print.

Commands are grouped by the side of the guide they act on: `sandbox provider ...` (the
service provider, Nulab's side) and `sandbox entra ...` (the mock Entra ID); each group
lives in its own module and registers itself on the root group.
"""

from sandbox.cli import (  # noqa: F401  (importing a module registers its commands)
    check,
    entra,
    entra_app,
    entra_directory,
    entra_graph,
    entra_provisioning,
    evaluate,
    provider,
    scenario,
    serve,
    up,
)
from sandbox.cli.root import cli

__all__ = ["cli"]
