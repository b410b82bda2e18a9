"""The docs keep up with the code: every CLI command and every expression function is documented."""

from __future__ import annotations

from pathlib import Path

import click

from sandbox.cli import cli
from sandbox.expressions import FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent


def commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from commands(command, path)
        else:
            yield path, command


def test_every_cli_command_is_in_the_readme_with_help_text():
    readme = (ROOT / "README.md").read_text()
    for path, command in commands(cli):
        assert f"sandbox {' '.join(path)}" in readme, f"README lacks `sandbox {' '.join(path)}`"
        assert command.help and command.help.strip()


def test_every_expression_function_is_in_the_expression_docs():
    docs = (ROOT / "docs" / "expressions.md").read_text()
    for name in FUNCTIONS:
        assert f"`{name}" in docs or f"{name}(" in docs, f"docs/expressions.md lacks {name}"
