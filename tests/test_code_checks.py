"""The project's own code checks run with the tests, so the README's test command and CI agree:
the formatter leaves every file as it is, the linter and the type checker find nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [["ruff", "format", "--check", "."], ["ruff", "check", "."], ["mypy"]],
    ids=["ruff-format", "ruff-check", "mypy"],
)
def test_code_check_passes(command):
    if shutil.which(command[0]) is None:
        pytest.fail(
            f"{command[0]} is not installed: install the dev extras (pip install -e '.[dev]')"
        )
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
