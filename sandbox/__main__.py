"""Provides `python -m sandbox`, the same as the `sandbox` command."""

from sandbox.cli import cli

if __name__ == "__main__":
    cli()
